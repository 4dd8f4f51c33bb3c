/*
 * fsutil.c - see fsutil.h.
 */
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
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

static bool fsync_parent(const char *path)
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

bool fs_replace_file_with(const char *path, mode_t mode, bool durable, FsFillFn fill, void *arg)
{
    char *tmp = xasprintf("%s.dd-tmp.%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    bool ok = fd >= 0 || err_errno("could not create file \"%s\"", tmp);
    ok = ok && fill(fd, tmp, arg);
    if (ok && fchmod(fd, mode) != 0)
        ok = err_errno("could not set the mode of file \"%s\"", tmp);
    if (ok && durable && fsync(fd) != 0)
        ok = err_errno("could not fsync file \"%s\"", tmp);
    if (fd >= 0 && close(fd) != 0 && ok)
        ok = err_errno("could not close file \"%s\"", tmp);
    if (ok && rename(tmp, path) != 0)
        ok = err_errno("could not rename \"%s\" to \"%s\"", tmp, path);
    if (!ok)
        unlink(tmp);
    free(tmp);
    return ok && (!durable || fsync_parent(path));
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
