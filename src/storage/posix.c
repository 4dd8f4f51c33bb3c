/*
 * posix.c - the storage driver for a local directory.
 *
 * A write goes to "<path>.dd-tmp.<pid>.<n>" in the target's own directory,
 * is fsync'd, then renamed over the target (or linked, for an exclusive
 * put, so that an existing object is never replaced), and the directory is
 * fsync'd. A crash leaves at most a temporary file, which lists skip and
 * cleanup removes. Missing parent directories are created (and their
 * parents fsync'd) on first write.
 */
#include "storage/posix.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"

typedef struct {
    Storage base;
} PosixStorage;

typedef struct {
    const StorageDriver *driver; /* first: see storage.c */
    char *path;                  /* full final path */
    char *tmp;                   /* full temporary path */
    int fd;
} PosixWrite;

typedef struct {
    const StorageDriver *driver;
    char *path;
    int fd;
} PosixRead;

static atomic_uint posix_tmp_counter;

static char *posix_full(const Storage *s, const char *path)
{
    return xasprintf("%s/%s", s->root, path);
}

static bool posix_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return err_errno("could not open directory \"%s\"", dir);
    if (fsync(fd) != 0) {
        err_errno("could not fsync directory \"%s\"", dir);
        close(fd);
        return false;
    }
    close(fd);
    return true;
}

static bool posix_fsync_parent(const char *path)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    bool ok = posix_fsync_dir(slash ? dir : ".");
    free(dir);
    return ok;
}

/* mkdir -p of the directory holding path, fsyncing each new directory's parent. */
static bool posix_make_parents(const char *path)
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
    bool ok = posix_make_parents(dir);
    if (ok && mkdir(dir, 0750) != 0 && errno != EEXIST)
        ok = err_errno("could not create directory \"%s\"", dir);
    if (ok)
        ok = posix_fsync_parent(dir);
    free(dir);
    return ok;
}

static StorageWrite *posix_write_begin(Storage *s, const char *path)
{
    PosixWrite *w = xcalloc(1, sizeof(*w));
    w->driver = s->driver;
    w->path = posix_full(s, path);
    w->tmp = xasprintf("%s.dd-tmp.%d.%u", w->path, (int)getpid(),
                       atomic_fetch_add(&posix_tmp_counter, 1));
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (w->fd < 0 && errno == ENOENT && posix_make_parents(w->path))
        w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (w->fd < 0) {
        if (errno)
            err_errno("could not create file \"%s\"", w->tmp);
        free(w->path);
        free(w->tmp);
        free(w);
        return NULL;
    }
    return (StorageWrite *)w;
}

static bool posix_write_append(StorageWrite *sw, const void *data, size_t len)
{
    PosixWrite *w = (PosixWrite *)sw;
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = write(w->fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return err_errno("could not write file \"%s\"", w->tmp);
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static void posix_write_free(PosixWrite *w)
{
    if (w->fd >= 0)
        close(w->fd);
    free(w->path);
    free(w->tmp);
    free(w);
}

static bool posix_write_commit(StorageWrite *sw, StoragePutOpts opts)
{
    PosixWrite *w = (PosixWrite *)sw;
    bool ok = true;
    if (fsync(w->fd) != 0)
        ok = err_errno("could not fsync file \"%s\"", w->tmp);
    if (ok && close(w->fd) != 0)
        ok = err_errno("could not close file \"%s\"", w->tmp);
    w->fd = -1;
    if (ok && opts.exclusive) {
        /* link() fails with EEXIST rather than replacing: first writer wins. */
        if (link(w->tmp, w->path) != 0) {
            if (errno == EEXIST)
                ok = err_set(DD_EXIT_CONFLICT, "file \"%s\" already exists", w->path);
            else
                ok = err_errno("could not link \"%s\" to \"%s\"", w->tmp, w->path);
        }
        unlink(w->tmp);
    } else if (ok && rename(w->tmp, w->path) != 0) {
        ok = err_errno("could not rename \"%s\" to \"%s\"", w->tmp, w->path);
    }
    if (!ok)
        unlink(w->tmp);
    if (ok)
        ok = posix_fsync_parent(w->path);
    posix_write_free(w);
    return ok;
}

static void posix_write_abort(StorageWrite *sw)
{
    PosixWrite *w = (PosixWrite *)sw;
    unlink(w->tmp);
    posix_write_free(w);
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
        ok = posix_fsync_parent(full);
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
            storage_is_temp_name(e->d_name))
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
static bool posix_remove_orphans(Storage *s, const char *dir, size_t *removed)
{
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
        const char *tag = strstr(e->d_name, ".dd-tmp.");
        if (!tag)
            continue;
        long pid = strtol(tag + 8, NULL, 10);
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

static void posix_free(Storage *s)
{
    free(s->root);
    free(s);
}

static const StorageDriver posix_driver = {
    .name = "posix",
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
};

Storage *storage_posix_new(const char *root)
{
    PosixStorage *s = xcalloc(1, sizeof(*s));
    s->base.driver = &posix_driver;
    s->base.root = xstrdup(root);
    size_t n = strlen(s->base.root);
    while (n > 1 && s->base.root[n - 1] == '/')
        s->base.root[--n] = '\0';
    if (storage_test_hook)
        storage_test_hook(&s->base);
    return &s->base;
}
