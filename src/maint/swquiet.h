/*
 * swquiet.h - keep drydock's own recovery_end_command out of a switchover's
 * hold.
 *
 * PostgreSQL runs recovery_end_command at a promotion and accepts writes
 * only once it has returned; "drydock restore" sets it to "drydock
 * wal-fetch --cleanup" (removing the WAL prefetch spool, walspool.h). That
 * is a shell, an exec of drydock and its configuration read, inside the
 * clients' hold: 10-40 ms here, more on a loaded host. Likewise its
 * restore_command ("drydock wal-fetch %f %p", set by restore and by a
 * demotion): at the promotion PostgreSQL probes the archive through it for
 * timeline history files, one drydock process each. The target streams
 * (the switchover's checks demand it), so neither is needed until the
 * switch has ended. Before the pause, swquiet_begin() clears each on the
 * target (ALTER SYSTEM, reload; the value is kept) when it is drydock's
 * command and nothing else, and swquiet_end(), after the hold, puts them
 * back and, if the target was promoted, runs the cleanup itself in the
 * target's data directory. Any other command is the operator's and is
 * left alone.
 */
#ifndef DD_MAINT_SWQUIET_H
#define DD_MAINT_SWQUIET_H

#include <stdbool.h>

#include "pg/libpq.h"

#define SWQUIET_N 2 /* recovery_end_command, restore_command */

typedef struct {
    char *saved[SWQUIET_N]; /* the values cleared; NULL: not that one */
} SwQuiet;

/*
 * Whether a recovery_end_command or restore_command is one drydock restore
 * writes (restore/recovery.c: DRYDOCK [--config FILE] wal-fetch --cleanup,
 * or wal-fetch %f %p; words maybe shell-quoted) and nothing more: no other
 * command chained to it.
 */
bool swquiet_is_ours(const char *value);

/* Best effort: a failure is logged at debug level and leaves things as they were. */
void swquiet_begin(SwQuiet *q, PGconn *target);

/*
 * Put the value back on the target (its own connection: the switchover's
 * may be unusable after a timeout; best effort, warned) and, when promoted
 * and the data directory and drydock_path are known, run "drydock_path
 * wal-fetch --cleanup" there. Frees q; nothing to do when nothing was cleared.
 */
void swquiet_end(SwQuiet *q, const char *target_conninfo, bool promoted, const char *target_data,
                 const char *drydock_path);

#endif
