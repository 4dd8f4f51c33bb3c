/*
 * posix.c - the storage driver for a local directory.
 *
 * A write is fsutil.h's atomic write: "<path>.dd-tmp.<pid>.<n>" in the
 * target's own directory, fsync'd, then renamed over the target (or linked,
 * for an exclusive put, so that an existing object is never replaced), and
 * the directory fsync'd. A crash leaves at most a temporary file, which lists skip and
 * cleanup removes. Missing parent directories are created (and their
 * parents fsync'd) on first write.
 */
#include "storage/posix.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/timeutil.h"

typedef struct {
    Storage base;
} PosixStorage;

typedef struct {
    const StorageDriver *driver; /* first: see storage.c */
    FsAtomic file;
} PosixWrite;

typedef struct {
    const StorageDriver *driver;
    char *path;
    int fd;
} PosixRead;

static char *posix_full(const Storage *s, const char *path)
{
    return xasprintf("%s/%s", s->root, path);
}

/* mkdir -p of the directory holding path, fsyncing each new directory's parent. */
/*
 * What root creates in a repository that is not root's (a lock file of a
 * verify run from root's cron, the object where verify records its result,
 * a directory for it) is given to the repository's owner, or that owner
 * could not open or replace it again. Writers run as root are refused
 * (posix_check_writer); this is for what readers leave.
 */
static void posix_give_to_owner(Storage *s, const char *path)
{
    struct stat st;
    if (geteuid() != 0 || stat(s->root, &st) != 0 || st.st_uid == 0)
        return;
    if (chown(path, st.st_uid, st.st_gid) != 0)
        log_debug("could not give \"%s\" to the repository's owner: %s", path, strerror(errno));
}

static bool posix_make_parents(Storage *s, const char *path)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) {
        free(dir);
        return true;
    }
    *slash = '\0';
    struct stat st;
    if (stat(dir, &st) == 0) {
        free(dir);
        return true;
    }
    bool ok = posix_make_parents(s, dir);
    bool made = ok && mkdir(dir, 0750) == 0;
    if (ok && !made && errno != EEXIST)
        ok = err_errno("could not create directory \"%s\"", dir);
    if (made)
        posix_give_to_owner(s, dir);
    if (ok)
        ok = fs_fsync_parent(dir);
    free(dir);
    return ok;
}

static StorageWrite *posix_write_begin(Storage *s, const char *path)
{
    PosixWrite *w = xcalloc(1, sizeof(*w));
    w->driver = s->driver;
    char *full = posix_full(s, path);
    bool ok = fs_atomic_begin(&w->file, full, 0640);
    if (!ok && errno == ENOENT && posix_make_parents(s, full))
        ok = fs_atomic_begin(&w->file, full, 0640);
    free(full);
    if (ok)
        posix_give_to_owner(s, w->file.tmp); /* the rename keeps the owner */
    if (!ok) {
        free(w);
        return NULL;
    }
    return (StorageWrite *)w;
}

static bool posix_write_append(StorageWrite *sw, const void *data, size_t len)
{
    PosixWrite *w = (PosixWrite *)sw;
    return fs_write_all(w->file.fd, data, len, w->file.tmp);
}

static bool posix_write_commit(StorageWrite *sw, StoragePutOpts opts)
{
    PosixWrite *w = (PosixWrite *)sw;
    bool ok = fs_atomic_commit(
        &w->file, (FsCommitOpts){.durable = !opts.not_durable, .exclusive = opts.exclusive});
    free(w);
    return ok;
}

static void posix_write_abort(StorageWrite *sw)
{
    PosixWrite *w = (PosixWrite *)sw;
    fs_atomic_abort(&w->file);
    free(w);
}

static StorageRead *posix_read_open(Storage *s, const char *path, bool *found)
{
    char *full = posix_full(s, path);
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *found = false;
        if (errno != ENOENT) {
            *found = true; /* it may exist, but we cannot read it: an error */
            err_errno("could not open file \"%s\"", full);
        }
        free(full);
        return NULL;
    }
    *found = true;
    PosixRead *r = xcalloc(1, sizeof(*r));
    r->driver = s->driver;
    r->path = full;
    r->fd = fd;
    return (StorageRead *)r;
}

static bool posix_read(StorageRead *sr, void *buf, size_t len, size_t *got)
{
    PosixRead *r = (PosixRead *)sr;
    for (;;) {
        ssize_t n = read(r->fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_errno("could not read file \"%s\"", r->path);
        *got = (size_t)n;
        return true;
    }
}

static bool posix_read_at(StorageRead *sr, uint64_t offset, void *buf, size_t len)
{
    PosixRead *r = (PosixRead *)sr;
    size_t got = 0;
    if (!fs_pread_full(r->fd, buf, len, offset, &got, r->path))
        return false;
    if (got < len)
        return err_set(DD_EXIT_CORRUPT,
                       "file \"%s\" is shorter than expected (%zu bytes "
                       "missing at offset %llu)",
                       r->path, len - got, (unsigned long long)(offset + got));
    return true;
}

static void posix_read_close(StorageRead *sr)
{
    PosixRead *r = (PosixRead *)sr;
    close(r->fd);
    free(r->path);
    free(r);
}

static bool posix_info(Storage *s, const char *path, bool *found, StorageInfo *info)
{
    char *full = posix_full(s, path);
    struct stat st;
    bool ok = true;
    *found = false;
    if (stat(full, &st) == 0) {
        *found = true;
        info->size = (uint64_t)st.st_size;
        info->mtime = (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9;
    } else if (errno != ENOENT && errno != ENOTDIR) {
        ok = err_errno("could not stat \"%s\"", full);
    }
    free(full);
    return ok;
}

static bool posix_remove(Storage *s, const char *path)
{
    char *full = posix_full(s, path);
    bool ok = true;
    bool removed = false;
    if (unlink(full) == 0) {
        removed = true;
    } else if (errno == EISDIR || errno == EPERM) {
        if (rmdir(full) == 0)
            removed = true;
        else if (errno != ENOENT && errno != ENOTEMPTY)
            ok = err_errno("could not remove directory \"%s\"", full);
    } else if (errno != ENOENT) {
        ok = err_errno("could not remove file \"%s\"", full);
    }
    if (ok && removed)
        ok = fs_fsync_parent(full);
    free(full);
    return ok;
}

static bool posix_list(Storage *s, const char *dir, StrList *out)
{
    char *full = dir && dir[0] ? posix_full(s, dir) : xstrdup(s->root);
    DIR *d = opendir(full);
    if (!d) {
        bool ok = errno == ENOENT ? true : err_errno("could not open directory \"%s\"", full);
        free(full);
        return ok;
    }
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            fs_is_temp_name(e->d_name))
            continue;
        strlist_push(out, e->d_name);
    }
    bool ok = errno == 0 ? true : err_errno("could not read directory \"%s\"", full);
    closedir(d);
    free(full);
    return ok;
}

/*
 * Remove the temporary files of writers that died: the name carries the
 * writer's pid (".dd-tmp.<pid>.<n>"), and a pid that no longer exists on
 * this host cannot finish its write. A live writer's file is left alone.
 */
static bool posix_remove_orphans(Storage *s, const char *dir, double min_age, size_t *removed)
{
    (void)min_age;
    char *full = dir && dir[0] ? posix_full(s, dir) : xstrdup(s->root);
    DIR *d = opendir(full);
    if (!d) {
        bool ok = errno == ENOENT ? true : err_errno("could not open directory \"%s\"", full);
        free(full);
        return ok;
    }
    bool ok = true;
    struct dirent *e;
    while (ok && (e = readdir(d)) != NULL) {
        long pid = fs_temp_name_pid(e->d_name);
        if (pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char *path = xasprintf("%s/%s", full, e->d_name);
        if (unlink(path) == 0)
            (*removed)++;
        else if (errno != ENOENT)
            ok = err_errno("could not remove temporary file \"%s\"", path);
        free(path);
    }
    closedir(d);
    free(full);
    return ok;
}

static bool posix_root_state(Storage *s, bool *exists, bool *empty)
{
    DIR *d = opendir(s->root);
    *exists = d != NULL;
    *empty = true;
    if (!d)
        return errno == ENOENT ? true : err_errno("could not open directory \"%s\"", s->root);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            *empty = false;
    closedir(d);
    return true;
}

static bool posix_root_create(Storage *s)
{
    if (mkdir(s->root, 0750) != 0 && errno != EEXIST)
        return err_errno("could not create directory \"%s\"", s->root);
    return true;
}

/*
 * Locks are locks/<name>.lock under the root, held with flock(2): the kernel
 * releases one when its holder dies (kill -9 included), so a stale lock
 * cannot exist. An exclusive holder writes its owner text into the file; a
 * shared holder does not (there may be many). The file stays after release:
 * removing it would race a new holder.
 */
typedef struct {
    StorageLock base;
    int fd;
} PosixLock;

/*
 * The pids holding a flock on the file open as fd, from /proc/locks (the
 * kernel's word, so never stale): "FLOCK ADVISORY WRITE 1234 08:01:5678 ...".
 */
static size_t posix_lock_pids(int fd, long *pids, size_t max)
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
static void posix_lock_holder(int fd, char *out, size_t len)
{
    long pids[4];
    size_t np = 0;
    char text[256] = "";
    for (int i = 0; i < 20; i++) { /* an exclusive holder writes its line right after flock */
        np = posix_lock_pids(fd, pids, 4);
        ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
        text[n > 0 ? n : 0] = '\0';
        text[strcspn(text, "\n")] = '\0';
        long pid = 0;
        if (text[0] && sscanf(text, "pid %ld ", &pid) != 1) {
            snprintf(out, len, "%s", text); /* an owner text of another form: say it as it is */
            return;
        }
        if (pid > 0)
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

/*
 * A writer must be the repository's owner. Run as anyone else (root, most
 * often) it would leave files that owner cannot read or replace, and the
 * next verify would take them for damage. Writers are those that take an
 * exclusive lock; readers (restore, verify, info) need only read access.
 */
static bool posix_check_writer(Storage *s)
{
    struct stat st;
    if (stat(s->root, &st) != 0)
        return err_errno("could not stat repository \"%s\"", s->root);
    uid_t me = geteuid();
    if (st.st_uid == me)
        return true;
    char owner[64], self[64];
    struct passwd *pw = getpwuid(st.st_uid);
    bool named = pw != NULL;
    if (named)
        snprintf(owner, sizeof(owner), "%s", pw->pw_name);
    else
        snprintf(owner, sizeof(owner), "uid %u", (unsigned)st.st_uid);
    pw = getpwuid(me);
    if (pw)
        snprintf(self, sizeof(self), "%s", pw->pw_name);
    else
        snprintf(self, sizeof(self), "uid %u", (unsigned)me);
    err_set(DD_EXIT_IO, "repository \"%s\" belongs to %s, and this command would write it as %s",
            s->root, owner, self);
    if (named)
        err_hint("run it as %s (runuser -u %s -- drydock ...), so that what it writes stays "
                 "readable to every drydock command",
                 owner, owner);
    else
        err_hint("run it as the repository's owner, so that what it writes stays readable to "
                 "every drydock command");
    return false;
}

static bool posix_lock(Storage *s, const char *name, bool shared, const char *owner,
                       StorageLock **out, bool *busy, char *holder, size_t holder_len)
{
    if (!shared && !posix_check_writer(s))
        return false;
    char *dir = posix_full(s, "locks");
    char *path = xasprintf("%s/%s.lock", dir, name);
    bool made = mkdir(dir, 0750) == 0;
    bool ok = made || errno == EEXIST || err_errno("could not create lock directory \"%s\"", dir);
    if (made)
        posix_give_to_owner(s, dir);
    int fd = ok ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640) : -1;
    if (ok && fd < 0)
        ok = err_errno("could not open lock file \"%s\"", path);
    if (ok)
        posix_give_to_owner(s, path);
    if (ok && flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
        int saved = errno;
        if (saved == EWOULDBLOCK || saved == EAGAIN) {
            *busy = true;
            posix_lock_holder(fd, holder, holder_len);
        }
        errno = saved;
        ok = *busy ? false : err_errno("could not lock \"%s\"", path);
    }
    if (ok && !shared) {
        char *text = xasprintf("%s\n", owner);
        if (ftruncate(fd, 0) != 0 || pwrite(fd, text, strlen(text), 0) < 0)
            ok = err_errno("could not write lock file \"%s\"", path);
        free(text);
    }
    if (ok) {
        PosixLock *l = xcalloc(1, sizeof(*l));
        l->base.driver = s->driver;
        l->fd = fd;
        *out = &l->base;
    } else if (fd >= 0) {
        close(fd);
    }
    free(dir);
    free(path);
    return ok;
}

static bool posix_lock_check(StorageLock *l)
{
    (void)l;
    return true;
}

static void posix_unlock(StorageLock *sl)
{
    PosixLock *l = (PosixLock *)sl;
    close(l->fd); /* drops the flock */
    free(l);
}

static void posix_free(Storage *s)
{
    free(s->root);
    free(s);
}

static const StorageDriver posix_driver = {
    .name = "posix",
    .lock_hint = "wait for that process to finish or stop it; the lock goes with its process",
    .free = posix_free,
    .write_begin = posix_write_begin,
    .write_append = posix_write_append,
    .write_commit = posix_write_commit,
    .write_abort = posix_write_abort,
    .read_open = posix_read_open,
    .read = posix_read,
    .read_at = posix_read_at,
    .read_close = posix_read_close,
    .info = posix_info,
    .remove = posix_remove,
    .list = posix_list,
    .remove_orphans = posix_remove_orphans,
    .root_state = posix_root_state,
    .root_create = posix_root_create,
    .lock = posix_lock,
    .lock_check = posix_lock_check,
    .unlock = posix_unlock,
};

Storage *storage_posix_new(const char *root)
{
    PosixStorage *s = xcalloc(1, sizeof(*s));
    s->base.driver = &posix_driver;
    s->base.root = xstrdup(root);
    size_t n = strlen(s->base.root);
    while (n > 1 && s->base.root[n - 1] == '/')
        s->base.root[--n] = '\0';
    return &s->base;
}
