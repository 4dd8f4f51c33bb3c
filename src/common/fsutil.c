/*
 * fsutil.c - see fsutil.h.
 */
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool fs_read_file(const char *path, Buf *out, bool *found)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    *found = fd >= 0;
    if (fd < 0)
        return errno == ENOENT ? true : err_errno("could not open file \"%s\"", path);
    for (;;) {
        buf_reserve(out, 1 << 16);
        ssize_t n = read(fd, out->data + out->len, out->cap - out->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err_errno("could not read file \"%s\"", path);
            close(fd);
            return false;
        }
        if (n == 0)
            break;
        out->len += (size_t)n;
    }
    close(fd);
    return true;
}

bool fs_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return err_errno("could not open directory \"%s\"", dir);
    bool ok = fsync(fd) == 0 || err_errno("could not fsync directory \"%s\"", dir);
    close(fd);
    return ok;
}

bool fs_fsync_parent(const char *path)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    bool ok;
    if (slash == dir)
        ok = fs_fsync_dir("/");
    else if (slash) {
        *slash = '\0';
        ok = fs_fsync_dir(dir);
    } else
        ok = fs_fsync_dir(".");
    free(dir);
    return ok;
}

/* Write all len bytes: at off with pwrite, or where the file is with write when off < 0. */
static bool fs_write_loop(int fd, const void *data, size_t len, int64_t off, const char *path)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = off < 0 ? write(fd, p, len) : pwrite(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_errno("could not write file \"%s\"", path);
        p += n;
        len -= (size_t)n;
        if (off >= 0)
            off += n;
    }
    return true;
}

bool fs_write_all(int fd, const void *data, size_t len, const char *path)
{
    return fs_write_loop(fd, data, len, -1, path);
}

bool fs_pread_full(int fd, void *buf, size_t len, uint64_t off, size_t *got, const char *path)
{
    uint8_t *p = buf;
    *got = 0;
    while (*got < len) {
        ssize_t n = pread(fd, p + *got, len - *got, (off_t)(off + *got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_errno("could not read file \"%s\"", path);
        if (n == 0)
            break;
        *got += (size_t)n;
    }
    return true;
}

bool fs_pwrite_all(int fd, const void *data, size_t len, uint64_t off, const char *path)
{
    return fs_write_loop(fd, data, len, (int64_t)off, path);
}

static atomic_uint fs_temp_counter;

char *fs_temp_name(const char *final_path)
{
    return xasprintf("%s" FS_TEMP_TAG "%d.%u", final_path, (int)getpid(),
                     atomic_fetch_add(&fs_temp_counter, 1));
}

bool fs_is_temp_name(const char *name)
{
    return strstr(name, FS_TEMP_TAG) != NULL;
}

long fs_temp_name_pid(const char *name)
{
    const char *tag = strstr(name, FS_TEMP_TAG);
    if (!tag)
        return 0;
    long pid = strtol(tag + strlen(FS_TEMP_TAG), NULL, 10);
    return pid > 0 ? pid : 0;
}

bool fs_atomic_begin(FsAtomic *f, const char *path, mode_t mode)
{
    f->path = xstrdup(path);
    f->tmp = fs_temp_name(path);
    f->mode = mode;
    f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (f->fd >= 0)
        return true;
    int saved = errno;
    err_errno("could not create file \"%s\"", f->tmp);
    free(f->path);
    free(f->tmp);
    f->path = f->tmp = NULL;
    errno = saved;
    return false;
}

static void fs_atomic_free(FsAtomic *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    free(f->path);
    free(f->tmp);
    f->path = f->tmp = NULL;
}

bool fs_atomic_commit(FsAtomic *f, FsCommitOpts opts)
{
    bool ok =
        fchmod(f->fd, f->mode) == 0 || err_errno("could not set the mode of file \"%s\"", f->tmp);
    if (ok && opts.durable && fsync(f->fd) != 0)
        ok = err_errno("could not fsync file \"%s\"", f->tmp);
    if (close(f->fd) != 0 && ok)
        ok = err_errno("could not close file \"%s\"", f->tmp);
    f->fd = -1;
    if (ok && opts.exclusive) {
        /* link() fails with EEXIST rather than replacing: first writer wins. */
        if (link(f->tmp, f->path) != 0)
            ok = errno == EEXIST ? err_set(DD_EXIT_CONFLICT, "file \"%s\" already exists", f->path)
                                 : err_errno("could not link \"%s\" to \"%s\"", f->tmp, f->path);
        unlink(f->tmp);
    } else if (ok && rename(f->tmp, f->path) != 0) {
        ok = err_errno("could not rename \"%s\" to \"%s\"", f->tmp, f->path);
    }
    if (!ok)
        unlink(f->tmp);
    if (ok && opts.durable)
        ok = fs_fsync_parent(f->path);
    fs_atomic_free(f);
    return ok;
}

void fs_atomic_abort(FsAtomic *f)
{
    if (f->tmp)
        unlink(f->tmp);
    fs_atomic_free(f);
}

bool fs_replace_file_with(const char *path, mode_t mode, bool durable, FsFillFn fill, void *arg)
{
    FsAtomic f;
    if (!fs_atomic_begin(&f, path, mode))
        return false;
    if (!fill(f.fd, f.tmp, arg)) {
        fs_atomic_abort(&f);
        return false;
    }
    return fs_atomic_commit(&f, (FsCommitOpts){.durable = durable});
}

typedef struct {
    const void *data;
    size_t len;
} FsBytes;

static bool fill_bytes(int fd, const char *path, void *arg)
{
    const FsBytes *b = arg;
    return fs_write_all(fd, b->data, b->len, path);
}

bool fs_replace_file(const char *path, const void *data, size_t len, mode_t mode, bool durable)
{
    FsBytes b = {data, len};
    return fs_replace_file_with(path, mode, durable, fill_bytes, &b);
}

bool fs_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
    return fs_replace_file(path, data, len, mode, true);
}

bool fs_remove(const char *path)
{
    if (unlink(path) != 0 && errno != ENOENT)
        return err_errno("could not remove file \"%s\"", path);
    return true;
}
