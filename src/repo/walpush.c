/*
 * walpush.c - see walpush.h.
 */
#include "repo/walpush.h"

#include <libgen.h>
#include <stdlib.h>

#include "common/mem.h"
#include "repo/lock.h"

bool walpush_needs_lock(Repo *repo, const char *name)
{
    if (!storage_remote(repo_storage(repo)))
        return true;
    char key[32];
    walarchive_key_name(name, key, sizeof(key));
    return repo_key_needs_storage(repo, key);
}

bool walpush_file(Repo *repo, const char *path, const char *command, double lock_wait,
                  WalPushResult *result)
{
    char *copy = xstrdup(path);
    bool need = walpush_needs_lock(repo, basename(copy));
    free(copy);
    RepoLock *lock = NULL;
    bool ok = !need || repo_lock_wait(repo, REPO_LOCK_ARCHIVE, command, lock_wait, &lock);
    ok = ok && walarchive_push(repo, path, result);
    repo_lock_release(lock);
    return ok;
}
