/*
 * recovery.h - the recovery configuration of a restored cluster.
 *
 * After the files are laid down, a restore appends one block to the data
 * directory's postgresql.auto.conf and writes one signal file:
 *
 *   point-in-time recovery (the default)   recovery.signal
 *     restore_command = '<drydock> --config <file> wal-fetch %f %p'
 *     recovery_end_command = '<drydock> --config <file> wal-fetch --cleanup'
 *     recovery_target_* (target.h)
 *     archive_mode = 'off'
 *   streaming standby (standby_of set)     standby.signal
 *     restore_command, recovery_end_command = (as above: it catches up
 *       from the archive first; the spool goes at promotion)
 *     primary_conninfo = '<conninfo>'
 *     recovery_target_timeline = 'latest'
 *   both: port = 'N' (when given), then every --set name = 'value'.
 *
 * Rules:
 *  1. A restored cluster inherits archive_mode and archive_command from the
 *     backup. A PITR clone must not push a new timeline into the live
 *     repository, so it gets archive_mode = off; whoever promotes it to be
 *     the new primary turns archiving on (or passes --set archive_mode=on).
 *     A standby keeps archive_mode: with 'on' a standby does not archive.
 *  2. Lines of the old file that set a parameter the block sets are removed,
 *     so that the file says each thing once (and ALTER SYSTEM keeps working);
 *     a PITR clone also loses primary_conninfo and primary_slot_name
 *     inherited from a standby, a standby its old primary_slot_name.
 *  3. --set comes last and wins over what drydock would write.
 *  4. The file is replaced atomically, mode 0600 (primary_conninfo may hold a
 *     password); the other signal file is removed.
 */
#ifndef DD_RESTORE_RECOVERY_H
#define DD_RESTORE_RECOVERY_H

#include <stdbool.h>

#include "common/error.h"
#include "common/mem.h"
#include "restore/target.h"

typedef struct {
    const char *drydock_path; /* absolute path of the drydock binary */
    const char *config_path;  /* absolute path of its configuration file */
    const RecoveryTarget *target;
    TargetTimeline timeline;
    int port;               /* 0: keep the backup's */
    const StrList *sets;    /* "name=value" each, checked by recovery_set_check() */
    const char *standby_of; /* conninfo of the primary to stream from; NULL: PITR */
} RecoveryOpts;

/* Check one --set argument: "name=value", a parameter name, no line break (DD_EXIT_USAGE). */
DD_MUST_CHECK bool recovery_set_check(const char *arg);

/* The block of settings (rule 1 and 3), as appended to postgresql.auto.conf. */
void recovery_render(const RecoveryOpts *o, Buf *out);

/*
 * Rewrite datadir/postgresql.auto.conf (rules 2 and 4) with the block
 * appended, and write the signal file.
 */
DD_MUST_CHECK bool recovery_write(const char *datadir, const RecoveryOpts *o);

#endif
