/*
 * lock.h - one writer of each kind per repository.
 *
 * The lock lives in the repository's storage (storage_lock): a flock(2)'d
 * file under locks/ for a directory, so that the kernel releases it when
 * the holder dies (kill -9 included); an object with an owner and a lease
 * for a bucket, so that it holds across hosts (storage/s3.c). The holder's
 * owner text is "pid N on host H (drydock COMMAND, since T)"; a loser fails
 * at once (DD_EXIT_LOCKED) with that text.
 *
 * Kinds: archive (wal-push, when walpush.h says), backup (backup, expire), and chunks: expire
 * holds it alone while it removes manifests and chunks; restore and verify
 * share it (REPO_LOCK_CHUNKS_SHARED), so that what they read cannot be
 * collected under them. A shared holder does not name itself (there may be
 * many); an exclusive loser then says "a process that needs it alone".
 */
#ifndef DD_REPO_LOCK_H
#define DD_REPO_LOCK_H

#include <stdbool.h>

#include "common/error.h"
#include "repo/repo.h"

typedef enum {
    REPO_LOCK_ARCHIVE,
    REPO_LOCK_BACKUP,
    REPO_LOCK_CHUNKS,
    REPO_LOCK_CHUNKS_SHARED,
    REPO_LOCK_RATES, /* the measured rates (maint/estimate.c): a brief read-modify-write */
} RepoLockKind;

typedef struct RepoLock RepoLock;

/* Take the lock of that kind for command (named to a loser). */
DD_MUST_CHECK bool repo_lock(Repo *repo, RepoLockKind kind, const char *command, RepoLock **out);

/*
 * As repo_lock, but a lock that is taken is tried again for up to timeout
 * seconds (every 10 ms at first, growing to every 250 ms): for commands that
 * run beside a working archiver (repo-copy, repo-rekey, wal-push itself:
 * walpush.h), whose wal-push holds the archive lock for a moment at a time.
 */
DD_MUST_CHECK bool repo_lock_wait(Repo *repo, RepoLockKind kind, const char *command,
                                  double timeout, RepoLock **out);

/*
 * Is the lock still held? Always for a directory; for a bucket, false (with
 * an error) once the lease could not be renewed: the holder must stop before
 * its next commit (a manifest, a WAL segment).
 */
DD_MUST_CHECK bool repo_lock_check(RepoLock *lock);

void repo_lock_release(RepoLock *lock);

#endif
