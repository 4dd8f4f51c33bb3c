/*
 * lock.h - one writer of each kind per repository.
 *
 * A lock is locks/<kind>.lock under the repository, held with flock(2), so
 * that the kernel releases it when the holder dies (kill -9 included): a
 * stale lock cannot exist. The holder writes "pid host command since" into
 * the file; a loser fails at once (DD_EXIT_LOCKED) with that text.
 *
 * Kinds: "archive" (wal-push), "backup" (backup, expire), "restore-<dir>"
 * is not needed: restore only reads.
 */
#ifndef DD_REPO_LOCK_H
#define DD_REPO_LOCK_H

#include <stdbool.h>

#include "common/error.h"

typedef struct RepoLock RepoLock;

DD_MUST_CHECK bool repo_lock_acquire(const char *repo_path, const char *kind, const char *command,
                                     RepoLock **out);
void repo_lock_release(RepoLock *lock);

#endif
