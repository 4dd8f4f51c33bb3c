/*
 * walpush.h - one WAL push with the archive lock only where it is needed:
 * what wal-push and wal-receive call.
 *
 * Invariant 1 of walarchive.h (an archived file is never replaced; the same
 * content again succeeds, other content fails with DD_EXIT_CONFLICT) rests
 * on the exclusive put. The archive lock (lock.h) adds that repo-copy and
 * repo-rekey, which hold it, see no push in the middle of their work. When
 * a push takes it:
 *  1. In a directory, always: it is a flock(2), a system call.
 *  2. In a bucket, a lock is four requests (s3lock.c), more than the push
 *     itself, so a push goes without it, except when it must read or create
 *     the data key of its WAL period (an encrypted repository whose key is
 *     not in the key cache): a key created under an old key-encryption key
 *     while repo-rekey runs would be lost with that generation. A cached key
 *     already exists in the bucket, so repo-rekey rewraps it.
 *  3. Two pushers of one name in a bucket (archive_command and wal-receive,
 *     or two hosts) are settled by the exclusive put: a conditional PUT
 *     where the service honours it (storage_exclusive_atomic: one wins, the
 *     other compares and succeeds or fails with DD_EXIT_CONFLICT). On a
 *     service that does not (Swift's s3api), the put is HEAD then PUT: two
 *     pushers of one name with different content in the same few
 *     milliseconds could both succeed, the later one replacing the other.
 *     That needs two clusters with one system identifier (segments of
 *     another cluster are refused before any put) pushing at once; Swift's
 *     lagging listings did not let the lock exclude it either (s3lock.c).
 * A held lock is waited for, up to lock_wait seconds (polling every 10 ms,
 * growing to 250 ms), then the push fails with DD_EXIT_LOCKED naming the
 * holder; PostgreSQL tries archive_command again later.
 */
#ifndef DD_REPO_WALPUSH_H
#define DD_REPO_WALPUSH_H

#include <stdbool.h>

#include "common/error.h"
#include "repo/repo.h"
#include "repo/walarchive.h"

/* How long wal-push waits for a held archive lock, in seconds. */
#define WALPUSH_LOCK_WAIT 10.0

/* Push the WAL file at path (walarchive_push), taking the archive lock as above for command. */
DD_MUST_CHECK bool walpush_file(Repo *repo, const char *path, const char *command, double lock_wait,
                                WalPushResult *result);

/* Would walpush_file take the archive lock for the file called name? */
bool walpush_needs_lock(Repo *repo, const char *name);

#endif
