/*
 * target.h - recovery targets: where a point-in-time recovery stops.
 *
 * A restore has at most one target; without one it replays every archived
 * segment ("end of the archive") and promotes. Options, as the command line
 * spells them:
 *
 *   --target-time TIMESTAMP   stop before the first commit after this time
 *   --target-lsn X/Y          stop at this WAL location
 *   --target-xid XID          stop at the commit of this transaction
 *   --target-name NAME        stop at a restore point (pg_create_restore_point)
 *   --target immediate        stop as soon as the backup is consistent
 *   --target-exclusive        stop just before the time, LSN or xid instead of after
 *   --target-action promote|pause|shutdown   what the server does at the target
 *
 * target_option() takes them one at a time and refuses two targets, a value
 * of the wrong form, or options that make no sense together; every failure is
 * DD_EXIT_USAGE with a one-line message that names the option.
 */
#ifndef DD_RESTORE_TARGET_H
#define DD_RESTORE_TARGET_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "common/mem.h"

typedef enum {
    TARGET_END = 0, /* end of the archive */
    TARGET_TIME,
    TARGET_LSN,
    TARGET_XID,
    TARGET_NAME,
    TARGET_IMMEDIATE
} TargetKind;

typedef enum {
    TARGET_ACTION_PROMOTE = 0,
    TARGET_ACTION_PAUSE,
    TARGET_ACTION_SHUTDOWN
} TargetAction;

/* restore_point names are at most 63 bytes (MAXFNAMELEN - 1). */
#define TARGET_NAME_MAX 63

typedef struct {
    TargetKind kind;
    double time;                    /* TARGET_TIME: seconds since the epoch */
    uint64_t lsn;                   /* TARGET_LSN */
    uint32_t xid;                   /* TARGET_XID */
    char name[TARGET_NAME_MAX + 1]; /* TARGET_NAME */
    bool exclusive;                 /* --target-exclusive */
    TargetAction action;
    bool action_set; /* --target-action was given */
} RecoveryTarget;

/*
 * Apply one command-line option (its long name without "--", e.g.
 * "target-time") with its value (NULL for --target-exclusive).
 */
DD_MUST_CHECK bool target_option(RecoveryTarget *t, const char *option, const char *value);

/* Check the combination once every option is in (e.g. --target-action needs a target). */
DD_MUST_CHECK bool target_validate(const RecoveryTarget *t);

/* Parse "X/Y" (hex, as PostgreSQL prints LSNs); false if malformed. */
bool target_parse_lsn(const char *s, uint64_t *lsn);

/* Format an LSN as PostgreSQL does ("16/B374D848"); out >= 20 bytes. */
void target_format_lsn(uint64_t lsn, char *out, size_t len);

/* A short description for messages and info: "time 2026-...+00", "end of the archive". */
void target_describe(const RecoveryTarget *t, char *out, size_t len);

/*
 * Which timeline recovery follows: TARGET_TIMELINE_LATEST renders 'latest',
 * TARGET_TIMELINE_CURRENT 'current' (stay on the backup's timeline).
 */
typedef enum { TARGET_TIMELINE_LATEST = 0, TARGET_TIMELINE_CURRENT } TargetTimeline;

/*
 * Append the recovery_target_* settings, one "name = 'value'" a line, to out:
 * recovery_target_time/lsn/xid/name or recovery_target = 'immediate',
 * recovery_target_inclusive (for time, lsn and xid), recovery_target_action
 * (for any target) and recovery_target_timeline.
 */
void target_render(const RecoveryTarget *t, TargetTimeline timeline, Buf *out);

/*
 * Append one postgresql.conf line "name = 'value'\n", the value quoted as the
 * configuration file parser reads it (' doubled, \ escaped).
 */
void target_conf_setting(Buf *out, const char *name, const char *value);

#endif
