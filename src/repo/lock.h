/*
 * lock.h - one writer of each kind per repository.
 *
 * A lock is locks/<kind>.lock under the repository, held with flock(2), so
 * that the kernel releases it when the holder dies (kill -9 included): a
 * stale lock cannot exist. The holder writes "pid host command since" into
 * the file; a loser fails at once (DD_EXIT_LOCKED) with that text.
 *
 * Kinds: "archive" (wal-push), "backup" (backup, expire), and "chunks":
 * expire holds it alone while it removes manifests and chunks; restore and
 * verify share it, so that what they read cannot be collected under them.
 * A shared holder does not write its name into the file (there may be many);
 * an exclusive loser then says "a process that needs it alone".
 */
#ifndef DD_REPO_LOCK_H
#define DD_REPO_LOCK_H

#include <stdbool.h>

#include "common/error.h"

typedef struct RepoLock RepoLock;

DD_MUST_CHECK bool repo_lock_acquire(const char *repo_path, const char *kind, const char *command,
                                     RepoLock **out);
/* The same lock taken in shared mode: any number of shared holders, no exclusive one. */
DD_MUST_CHECK bool repo_lock_acquire_shared(const char *repo_path, const char *kind,
                                            const char *command, RepoLock **out);

void repo_lock_release(RepoLock *lock);

#endif
