/*
 * lock.c - see lock.h.
 */
#include "repo/lock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/timeutil.h"

struct RepoLock {
    StorageLock *lock;
};

static const struct {
    const char *name;
    bool shared;
} lock_kinds[] = {
    [REPO_LOCK_ARCHIVE] = {"archive", false}, [REPO_LOCK_BACKUP] = {"backup", false},
    [REPO_LOCK_CHUNKS] = {"chunks", false},   [REPO_LOCK_CHUNKS_SHARED] = {"chunks", true},
    [REPO_LOCK_RATES] = {"rates", false},
};

bool repo_lock(Repo *repo, RepoLockKind kind, const char *command, RepoLock **out)
{
    const char *name = lock_kinds[kind].name;
    bool shared = lock_kinds[kind].shared;
    char host[128] = "unknown";
    gethostname(host, sizeof(host) - 1);
    char since[64];
    time_format(time_wall(), since, sizeof(since));
    char *owner =
        xasprintf("pid %d on host %s (drydock %s, since %s)", (int)getpid(), host, command, since);
    StorageLock *sl = NULL;
    bool busy = false;
    char holder[256];
    bool ok =
        storage_lock(repo_storage(repo), name, shared, owner, &sl, &busy, holder, sizeof(holder));
    free(owner);
    if (!ok && busy) {
        err_set(DD_EXIT_LOCKED, "repository \"%s\" is locked for %s by %s", repo_path(repo), name,
                holder[0] ? holder
                : shared  ? "a process that needs it alone"
                          : "another process");
        err_hint("%s", storage_lock_hint(repo_storage(repo)));
    }
    if (!ok)
        return false;
    RepoLock *lock = xcalloc(1, sizeof(*lock));
    lock->lock = sl;
    *out = lock;
    /* Test hook: hold the lock for a while so tests can race a second writer. */
    const char *hold = getenv("DRYDOCK_TEST_LOCK_HOLD");
    if (hold)
        time_sleep(atof(hold));
    return true;
}

bool repo_lock_wait(Repo *repo, RepoLockKind kind, const char *command, double timeout,
                    RepoLock **out)
{
    double t0 = time_mono(), pause = 0.01;
    for (;;) {
        if (repo_lock(repo, kind, command, out))
            return true;
        if (err_code() != DD_EXIT_LOCKED || time_mono() - t0 + pause > timeout)
            return false;
        err_clear();
        time_sleep(pause);
        pause = pause * 2 < 0.25 ? pause * 2 : 0.25;
    }
}

bool repo_lock_check(RepoLock *lock)
{
    return storage_lock_check(lock->lock);
}

void repo_lock_release(RepoLock *lock)
{
    if (!lock)
        return;
    storage_unlock(lock->lock);
    free(lock);
}
