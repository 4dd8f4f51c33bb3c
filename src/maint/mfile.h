/*
 * mfile.h - the maintenance file: what should change, in INI (as the config).
 *
 *   [maintenance]
 *   title = Enable data checksums, raise shared_buffers
 *   description = The database will pause for about a second at the switch.
 *   window-start = 2026-12-05 22:00 Europe/Paris   ; explicit time zone required
 *   window-length = 1h                              ; s, min, h suffixes
 *   pause-timeout = 10                              ; seconds (default [proxy] pause-timeout)
 *   keep-old-primary = 7d                           ; how long maint finish may wait
 *   standby-lag-limit = 64MB                        ; lint: the standby's lag allowed (kB, MB, GB)
 *   text-scheduled = ...                            ; status-page text overrides
 *   text-in-progress = ... / text-verifying = ... / text-completed = ...
 *
 *   [green]
 *   data = /var/lib/postgresql/15/green
 *   port = 5442
 *   standby-data = /var/lib/postgresql/15/green-standby   ; optional, with standby-port
 *   standby-port = 5443
 *   tablespace-map = 16385=/srv/ts-green                  ; as restore --tablespace-map
 *
 *   [change]                      ; repeatable keys, in order
 *   set = shared_buffers = 256MB
 *   set = max_connections = 200
 *   file = pg_hba.conf = /etc/drydock/new_pg_hba.conf
 *   data-checksums = enable
 *   sql-after = /etc/drydock/after.sql
 *
 * Every key is validated in mfile.c, in one table; an error names the file,
 * the line and the key (DD_EXIT_CONFIG), as config.c does.
 */
#ifndef DD_MAINT_MFILE_H
#define DD_MAINT_MFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

typedef enum {
    MCHANGE_SET = 0,   /* set = NAME = VALUE */
    MCHANGE_FILE,      /* file = pg_hba.conf = PATH */
    MCHANGE_CHECKSUMS, /* data-checksums = enable | disable */
    MCHANGE_SQL_AFTER, /* sql-after = PATH */
} MaintChangeType;

/* What a change needs, decided by classify (plan.h) from the live server. */
typedef enum {
    MKIND_UNKNOWN = 0,
    MKIND_RELOAD,      /* reload-only: no new cluster needed */
    MKIND_RESTART,     /* done on the new cluster before it starts */
    MKIND_OFFLINE,     /* offline rewrite on the stopped new cluster (pg_checksums) */
    MKIND_POST_SWITCH, /* run on the new primary right after the switch (sql-after) */
    MKIND_IMPOSSIBLE,  /* cannot be done on a physical copy: refused */
} MaintChangeKind;

typedef struct {
    MaintChangeType type;
    char *name;  /* setting name; file name ("pg_hba.conf"); "data_checksums"; "sql-after" */
    char *value; /* setting value; source path; "enable"/"disable"; SQL file path */
    int line;    /* in the maintenance file */
    /* Filled by the classifier: */
    MaintChangeKind kind;
    char *reason;  /* why that kind, in words ("context postmaster: needs a restart") */
    char *current; /* the live primary's value, when there is one */
} MaintChange;

typedef struct {
    char *file; /* path it was read from */

    /* [maintenance] */
    char *title;
    char *description;
    double window_start;        /* seconds since the epoch (UTC); 0: no window */
    char *window_zone;          /* the IANA zone the start was given in */
    double window_length;       /* seconds; 0: none */
    int pause_timeout;          /* seconds; 0: the config's */
    double keep_old_primary;    /* seconds; 0: until "maint finish" */
    uint64_t standby_lag_limit; /* bytes; 0: the default (lint.h) */
    char *text_scheduled, *text_in_progress, *text_verifying, *text_completed; /* or NULL */

    /* [green] */
    char *green_data;
    int green_port;
    char *green_standby_data; /* or NULL */
    int green_standby_port;   /* 0 when there is no standby */
    char *tablespace_map;     /* restore's --tablespace-map syntax, or NULL */

    /* [change], in file order */
    MaintChange *changes;
    size_t nchanges;
} MaintFile;

/* Read and validate a maintenance file. */
DD_MUST_CHECK bool mfile_load(const char *path, MaintFile *out);
/* The same from text (tests, fuzzing); name is used in messages. */
DD_MUST_CHECK bool mfile_parse_string(const char *text, const char *name, MaintFile *out);
void mfile_free(MaintFile *m);

const char *mfile_kind_name(MaintChangeKind k); /* "reload", "restart", "offline", ... */
/* "2026-12-05 22:00 Europe/Paris (2026-12-05 21:00 UTC)", or "none", into out (>= 64 bytes). */
void mfile_window_local(const MaintFile *m, char *out, size_t len);
/* "set", "file", "data-checksums", "sql-after" (the JSON "type"). */
const char *mfile_change_type_name(MaintChangeType t);

#endif
