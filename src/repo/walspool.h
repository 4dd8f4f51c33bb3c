/*
 * walspool.h - the prefetch spool of wal-fetch (restore_command).
 *
 * PostgreSQL calls restore_command once per segment, one after another, so
 * recovery waits for every fetch. Like pgBackRest's asynchronous
 * archive-get, a fetch of segment N that came from the archive starts a
 * detached prefetcher that fetches N+1 .. N+WALSPOOL_AHEAD of the same
 * timeline into a spool while PostgreSQL replays N; the next fetches are then
 * a rename.
 *
 * Layout, relative to the data directory (restore_command's working
 * directory; %p is relative to it):
 *
 *   pg_wal/drydock-spool/<segment name>            a verified segment
 *   pg_wal/drydock-spool/<segment name>.dd-tmp.<pid>.<n>  being written, never trusted
 *                          (fsutil.h's temporary-name rule)
 *   pg_wal/drydock-spool/prefetch.lock             flock(2) held by the one
 *                          prefetcher; holds "<timeline> <first> <last>\n",
 *                          the hex segment numbers it is fetching, and then
 *                          " <pid>" before the newline once it runs
 *
 * pg_wal is on the data directory's file system, so a spooled segment is
 * renamed into place; base backups leave pg_wal's contents out (drydock's
 * and pg_basebackup's), and PostgreSQL ignores a directory there.
 *
 * Invariants:
 *  1. A spooled segment is verified (object.h) before it is renamed to its
 *     final name; a name that is not exactly a segment name is never served.
 *  2. The prefetcher writes nothing outside the spool directory.
 *  3. At most one prefetcher per spool (the flock); it stops at the first
 *     segment the archive lacks (the end of the archive) or cannot verify
 *     (that fetch is then made, and fails loudly, in the foreground).
 *  4. Spooled segments numbered below the one PostgreSQL asks for are
 *     deleted: recovery never asks for them again.
 *  5. Only plain segments use the spool; .history, .partial and .backup
 *     files, and a working directory without pg_wal/, bypass it.
 */
#ifndef DD_REPO_WALSPOOL_H
#define DD_REPO_WALSPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "repo/repo.h"

#define WALSPOOL_DIR "pg_wal/drydock-spool"

/*
 * Segments fetched ahead: 8 x 16 MiB = 128 MiB of spool at most, enough to
 * keep ahead of replay (pgBackRest's archive-get-queue-max defaults to 128 MiB).
 */
#define WALSPOOL_AHEAD 8

/* How long a fetch waits for a running prefetcher to deliver its segment. */
#define WALSPOOL_WAIT_MS 60000

/*
 * The segment ahead segments after name (a plain segment name) on the same
 * timeline, into out (>= 25 bytes); false (no error) past the last segment.
 */
bool walspool_next_name(const char *name, uint32_t seg_size, unsigned ahead, char *out);

/* Whether a spool directory entry is a complete, trusted segment (invariant 1). */
bool walspool_is_segment(const char *entry);

/* Whether name may use the spool here (invariant 5). */
bool walspool_applies(const char *name);

/*
 * Serve name from the spool: rename it to dest_path. Waits while a running
 * prefetcher is still fetching it. *served=false when the caller must fetch
 * it itself.
 */
DD_MUST_CHECK bool walspool_take(const char *name, const char *dest_path, bool *served);

/*
 * Delete spooled segments numbered below name's, whatever their timeline
 * (invariant 4). Best effort. (Temporary files a killed prefetcher left are
 * removed by the next prefetcher, which holds the lock.)
 */
void walspool_prune(const char *name);

/*
 * Recovery has ended (recovery_end_command runs "wal-fetch --cleanup"): stop
 * a running prefetcher (SIGTERM, waiting up to WALSPOOL_WAIT_MS for its
 * lock), then remove the spool directory and everything in it. No spool is
 * success.
 */
DD_MUST_CHECK bool walspool_cleanup(void);

/*
 * Start a detached prefetcher (double fork, setsid, stdio on /dev/null) of
 * the WALSPOOL_AHEAD segments after name, unless one is running or they are
 * all spooled. Best effort: a failure is logged at debug level only.
 */
void walspool_prefetch_start(Repo *repo, const char *name);

#endif
