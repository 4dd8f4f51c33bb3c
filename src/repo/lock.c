/*
 * lock.c - see lock.h.
 */
#include "repo/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/timeutil.h"

struct RepoLock {
    int fd;
};

bool repo_lock_acquire(const char *repo_path, const char *kind, const char *command, RepoLock **out)
{
    char *dir = xasprintf("%s/locks", repo_path);
    char *path = xasprintf("%s/%s.lock", dir, kind);
    bool ok = false;
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        err_errno("could not create lock directory \"%s\"", dir);
        goto done;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        err_errno("could not open lock file \"%s\"", path);
        goto done;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char holder[256] = "";
        ssize_t n = pread(fd, holder, sizeof(holder) - 1, 0);
        holder[n > 0 ? n : 0] = '\0';
        holder[strcspn(holder, "\n")] = '\0';
        close(fd);
        if (errno != EWOULDBLOCK && errno != EAGAIN) {
            err_errno("could not lock \"%s\"", path);
            goto done;
        }
        err_set(DD_EXIT_LOCKED, "repository \"%s\" is locked for %s by %s", repo_path, kind,
                holder[0] ? holder : "another process");
        err_hint("wait for that process to finish or stop it; the lock goes with its process");
        goto done;
    }
    char host[128] = "unknown";
    gethostname(host, sizeof(host) - 1);
    char since[64];
    time_format(time_wall(), since, sizeof(since));
    char *text = xasprintf("pid %d on host %s (drydock %s, since %s)\n", (int)getpid(), host,
                           command, since);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, strlen(text), 0) < 0) {
        err_errno("could not write lock file \"%s\"", path);
        free(text);
        close(fd);
        goto done;
    }
    free(text);
    RepoLock *lock = xcalloc(1, sizeof(*lock));
    lock->fd = fd;
    *out = lock;
    ok = true;
    /* Test hook: hold the lock for a while so tests can race a second writer. */
    const char *hold = getenv("DRYDOCK_TEST_LOCK_HOLD");
    if (hold)
        time_sleep(atof(hold));
done:
    free(dir);
    free(path);
    return ok;
}

void repo_lock_release(RepoLock *lock)
{
    if (!lock)
        return;
    /* Closing drops the flock; the file stays (removing it would race a new holder). */
    close(lock->fd);
    free(lock);
}
