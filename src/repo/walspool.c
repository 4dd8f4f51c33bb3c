/*
 * walspool.c - see walspool.h.
 */
#include "repo/walspool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "pg/wal.h"
#include "repo/walarchive.h"

#define SPOOL_LOCK WALSPOOL_DIR "/prefetch.lock"

bool walspool_next_name(const char *name, uint32_t seg_size, unsigned ahead, char *out)
{
    WalFileName wn;
    if (!wal_name_parse(name, &wn) || wn.kind != WAL_FILE_SEGMENT) {
        err_clear();
        return false;
    }
    uint64_t per_log = (1ull << 32) / seg_size;
    uint64_t segno = wal_segno(&wn, seg_size) + ahead;
    if (segno / per_log > UINT32_MAX)
        return false;
    wal_segment_name(wn.tli, segno, seg_size, out);
    return true;
}

bool walspool_is_segment(const char *entry)
{
    if (strlen(entry) != WAL_NAME_LEN)
        return false;
    for (const char *p = entry; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'F')))
            return false;
    return true;
}

bool walspool_applies(const char *name)
{
    WalFileName wn;
    if (!wal_name_parse(name, &wn)) {
        err_clear();
        return false;
    }
    struct stat st;
    return wn.kind == WAL_FILE_SEGMENT && stat("pg_wal", &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * Whether a prefetcher holds the spool lock and is fetching name: its lock
 * file names its timeline and segment range (log and seg as one 16-hex-digit
 * number, which orders like the segment number for any segment size).
 */
static bool prefetcher_fetching(const char *name)
{
    int fd = open(SPOOL_LOCK, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool busy = false;
    if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
        char text[64] = {0};
        ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
        char tli[9] = {0}, first[17] = {0}, last[17] = {0};
        busy = n > 0 && sscanf(text, "%8s %16s %16s", tli, first, last) == 3 &&
               strncmp(name, tli, 8) == 0 && strcmp(name + 8, first) >= 0 &&
               strcmp(name + 8, last) <= 0;
    }
    close(fd);
    return busy;
}

bool walspool_take(const char *name, const char *dest_path, bool *served)
{
    char *path = xasprintf("%s/%s", WALSPOOL_DIR, name);
    *served = false;
    struct timespec pause = {0, 2 * 1000 * 1000};
    for (long waited = 0; waited <= WALSPOOL_WAIT_MS; waited += 2) {
        if (rename(path, dest_path) == 0) {
            *served = true;
            break;
        }
        if (errno != ENOENT) {
            /* Another file system (EXDEV) or anything odd: fetch it directly. */
            log_debug("could not move spooled \"%s\" to \"%s\": %s", path, dest_path,
                      strerror(errno));
            break;
        }
        if (!prefetcher_fetching(name)) {
            /* It may have finished between the rename and the lock test. */
            *served = rename(path, dest_path) == 0;
            break;
        }
        nanosleep(&pause, NULL);
    }
    free(path);
    return true;
}

void walspool_prune(const char *name)
{
    DIR *d = opendir(WALSPOOL_DIR);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (walspool_is_segment(e->d_name) && strcmp(e->d_name + 8, name + 8) < 0)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

/* Remove what a killed prefetcher left half written (the caller holds the lock). */
static void remove_temp_files(void)
{
    DIR *d = opendir(WALSPOOL_DIR);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strlen(e->d_name) > WAL_NAME_LEN && fs_is_temp_name(e->d_name))
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

static bool spooled(const char *name)
{
    char *path = xasprintf("%s/%s", WALSPOOL_DIR, name);
    bool there = access(path, F_OK) == 0;
    free(path);
    return there;
}

/* The prefetcher's work, in the detached process holding the lock. */
static void prefetch_run(Repo *repo, const char *name)
{
    remove_temp_files();
    uint32_t seg_size = repo_wal_seg_size(repo);
    char next[32];
    for (unsigned i = 1; i <= WALSPOOL_AHEAD; i++) {
        if (!walspool_next_name(name, seg_size, i, next))
            return;
        if (spooled(next))
            continue;
        char *dest = xasprintf("%s/%s", WALSPOOL_DIR, next);
        bool found = false;
        /* walarchive_fetch verifies before it renames into dest (invariant 1). */
        bool ok = walarchive_fetch(repo, next, dest, &found);
        free(dest);
        if (!ok || !found)
            return; /* the end of the archive, or damage the foreground will report */
    }
}

/*
 * Detach: double fork and setsid, so the prefetch survives restore_command's
 * exit. The prefetcher adds its pid to the lock file's line (text), so that
 * the end of recovery can stop it.
 */
static void prefetch_spawn(Repo *repo, const char *name, int lock_fd, const char *text)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        log_debug("could not start the WAL prefetch: %s", strerror(errno));
        return;
    }
    if (pid > 0) {
        waitpid(pid, NULL, 0);
        return;
    }
    setsid();
    if (fork() != 0)
        _exit(0);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO)
            close(null);
    }
    char line[96];
    int len =
        snprintf(line, sizeof(line), "%.*s %d\n", (int)strcspn(text, "\n"), text, (int)getpid());
    if (pwrite(lock_fd, line, (size_t)len, 0) == len)
        prefetch_run(repo, name);
    close(lock_fd);
    _exit(0);
}

void walspool_prefetch_start(Repo *repo, const char *name)
{
    uint32_t seg_size = repo_wal_seg_size(repo);
    char first[32], last[32], next[32];
    bool missing = false;
    for (unsigned i = 1; i <= WALSPOOL_AHEAD && !missing; i++)
        missing = walspool_next_name(name, seg_size, i, next) && !spooled(next);
    if (!missing)
        return;
    if (mkdir(WALSPOOL_DIR, 0700) != 0 && errno != EEXIST) {
        log_debug("could not create \"%s\": %s", WALSPOOL_DIR, strerror(errno));
        return;
    }
    int fd = open(SPOOL_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd); /* one prefetcher at a time: it is running */
        return;
    }
    if (!walspool_next_name(name, seg_size, 1, first))
        goto done;
    unsigned n = WALSPOOL_AHEAD;
    while (n > 1 && !walspool_next_name(name, seg_size, n, last))
        n--;
    char text[64];
    int len = snprintf(text, sizeof(text), "%.8s %s %s\n", first, first + 8, last + 8);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)len, 0) != len)
        goto done;
    prefetch_spawn(repo, name, fd, text);
done:
    close(fd); /* the prefetcher keeps its copy of the lock */
}

/*
 * Stop the prefetcher holding the lock on fd: nothing it fetches is needed
 * any more, and PostgreSQL waits for recovery_end_command. A killed
 * prefetcher leaves at most a temporary file, which the caller removes.
 */
static bool stop_prefetcher(int fd)
{
    for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) != 0; waited += 5) {
        if (errno != EWOULDBLOCK && errno != EINTR)
            return err_errno("could not lock \"%s\"", SPOOL_LOCK);
        /* Its line is "<tli> <first> <last> <pid>" once it runs (the lock proves it alive). */
        char text[96] = {0};
        int pid = 0;
        if (pread(fd, text, sizeof(text) - 1, 0) > 0 && sscanf(text, "%*s %*s %*s %d", &pid) == 1 &&
            pid > 1)
            kill(pid, SIGTERM);
        if (waited >= WALSPOOL_WAIT_MS) {
            err_set(DD_EXIT_TIMEOUT, "the WAL prefetcher holding \"%s\" did not stop in %d s",
                    SPOOL_LOCK, WALSPOOL_WAIT_MS / 1000);
            err_hint("the spool may be deleted by hand once no drydock process uses it");
            return false;
        }
        nanosleep(&(struct timespec){.tv_nsec = 5 * 1000 * 1000}, NULL);
    }
    return true;
}

bool walspool_cleanup(void)
{
    int fd = open(SPOOL_LOCK, O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT)
        return err_errno("could not open \"%s\"", SPOOL_LOCK);
    if (fd >= 0 && !stop_prefetcher(fd)) {
        close(fd);
        return false;
    }
    DIR *d = opendir(WALSPOOL_DIR);
    bool ok = d != NULL || errno == ENOENT;
    if (!ok)
        err_errno("could not open directory \"%s\"", WALSPOOL_DIR);
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
            unlinkat(dirfd(d), e->d_name, 0) != 0 && errno != ENOENT && ok)
            ok = err_errno("could not remove \"%s/%s\"", WALSPOOL_DIR, e->d_name);
    }
    if (d)
        closedir(d);
    if (d && ok && rmdir(WALSPOOL_DIR) != 0 && errno != ENOENT)
        ok = err_errno("could not remove directory \"%s\"", WALSPOOL_DIR);
    if (fd >= 0)
        close(fd); /* the lock file is gone; a later prefetcher starts afresh */
    return ok;
}
