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

static bool lock_take(const char *repo_path, const char *kind, const char *command, bool shared,
                      RepoLock **out);

bool repo_lock_acquire(const char *repo_path, const char *kind, const char *command, RepoLock **out)
{
    return lock_take(repo_path, kind, command, false, out);
}

bool repo_lock_acquire_shared(const char *repo_path, const char *kind, const char *command,
                              RepoLock **out)
{
    return lock_take(repo_path, kind, command, true, out);
}

/*
 * The pids holding a flock on the file open as fd, from /proc/locks (the
 * kernel's word, so never stale): "FLOCK ADVISORY WRITE 1234 08:01:5678 ...".
 */
static size_t lock_pids(int fd, long *pids, size_t max)
{
    struct stat st;
    FILE *f = fstat(fd, &st) == 0 ? fopen("/proc/locks", "re") : NULL;
    size_t n = 0;
    char line[256];
    while (f && n < max && fgets(line, sizeof(line), f)) {
        char type[16], mode[16];
        long pid;
        unsigned long long ino;
        if (sscanf(line, "%*s %15s %*s %15s %ld %*x:%*x:%llu", type, mode, &pid, &ino) == 4 &&
            strcmp(type, "FLOCK") == 0 && ino == (unsigned long long)st.st_ino && pid > 0)
            pids[n++] = pid;
        (void)mode;
    }
    if (f)
        fclose(f);
    return n;
}

/*
 * Who holds the lock, for the message: the holder's own line (pid, host,
 * command, since) when the kernel says that pid holds it; else the pids the
 * kernel names (shared holders write no line, and an exclusive holder may
 * not have written its line yet; the file may still name an older holder).
 */
static void lock_holder(int fd, char *out, size_t len)
{
    long pids[4];
    size_t np = 0;
    char text[256] = "";
    for (int i = 0; i < 20; i++) { /* an exclusive holder writes its line right after flock */
        np = lock_pids(fd, pids, 4);
        ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
        text[n > 0 ? n : 0] = '\0';
        text[strcspn(text, "\n")] = '\0';
        long pid = 0;
        if (sscanf(text, "pid %ld ", &pid) == 1)
            for (size_t j = 0; j < np; j++)
                if (pids[j] == pid) {
                    snprintf(out, len, "%s", text);
                    return;
                }
        if (np > 0 && i >= 4)
            break;
        time_sleep(0.005);
    }
    if (np == 0) {
        snprintf(out, len, "%s", text[0] ? text : "another process (its pid is not known)");
        return;
    }
    int w = snprintf(out, len, "pid%s %ld", np > 1 ? "s" : "", pids[0]);
    for (size_t j = 1; j < np && w > 0 && (size_t)w < len; j++)
        w += snprintf(out + w, len - (size_t)w, ", %ld", pids[j]);
}

static bool lock_take(const char *repo_path, const char *kind, const char *command, bool shared,
                      RepoLock **out)
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
    if (flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
        int saved = errno;
        if (saved != EWOULDBLOCK && saved != EAGAIN) {
            errno = saved;
            err_errno("could not lock \"%s\"", path);
            close(fd);
            goto done;
        }
        char holder[320];
        lock_holder(fd, holder, sizeof(holder));
        close(fd);
        err_set(DD_EXIT_LOCKED, "repository \"%s\" is locked for %s by %s", repo_path, kind,
                holder);
        err_hint("wait for that process to finish or stop it; the lock goes with its process");
        goto done;
    }
    if (shared)
        goto hold; /* several holders: none of them names itself in the file */
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
hold:;
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
