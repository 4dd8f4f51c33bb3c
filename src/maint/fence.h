/*
 * fence.h - what becomes of the old primary after a switchover: it is
 * stopped, or demoted to a streaming standby of the new primary.
 *
 * Both run PostgreSQL's own tools from [cluster] bin as the current user
 * (they refuse root: drydock runs as the cluster's owner, e.g. postgres):
 *
 *   stop    pg_ctl stop -m fast -w           (a server already stopped is fine)
 *   demote  stop, then
 *           the recovery settings below written (pg_rewind reads restore_command
 *           from them), then
 *           pg_rewind --source-server NEW --restore-target-wal
 *                   (the old primary wrote at least its shutdown checkpoint after
 *                   the fork, and that checkpoint may have recycled the WAL before
 *                   it: it comes back from the archive; "no rewind required" is
 *                   fine too)
 *           the configuration files pg_rewind copied from the source are put
 *           back (postgresql.conf, postgresql.auto.conf, pg_hba.conf,
 *           pg_ident.conf: the old primary keeps its own port and settings),
 *           standby.signal + primary_conninfo + restore_command through
 *           "drydock wal-fetch" + recovery_target_timeline = 'latest'
 *           (restore/recovery.h), then
 *           pg_ctl start -w -l DATA/log/drydock-start.log
 *
 * The password of the new primary's conninfo goes to pg_rewind through
 * PGPASSWORD, never on its command line. A tool's failure becomes the error
 * with the last line it printed.
 */
#ifndef DD_MAINT_FENCE_H
#define DD_MAINT_FENCE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "common/mem.h"

typedef struct {
    const char *bin;          /* PostgreSQL binaries */
    const char *datadir;      /* the old primary's data directory */
    const char *new_primary;  /* conninfo of the new primary (demote) */
    const char *drydock_path; /* absolute, for restore_command (demote) */
    const char *config_path;  /* absolute, for restore_command (demote) */
    const StrList *sets;      /* demote: "name=value" settings after the recovery block, or NULL */
} FenceOpts;

/* Whether bin holds pg_ctl (and pg_rewind) and datadir looks like a data directory. */
DD_MUST_CHECK bool fence_check(const FenceOpts *o, bool demote);

/* Stop the old primary; detail says what happened. */
DD_MUST_CHECK bool fence_stop(const FenceOpts *o, char *detail, size_t len);

/* Stop, rewind, reconfigure and start the old primary as a standby of the new one. */
DD_MUST_CHECK bool fence_demote(const FenceOpts *o, char *detail, size_t len);

/*
 * A conninfo without its password, and the password (NULL when none), both
 * new strings. For handing a conninfo to a child process's command line.
 */
char *fence_conninfo_split(const char *conninfo, char **password);

#endif
