/*
 * fsutil.h - small file helpers for writing outside the repository (a data
 * directory, pg_wal), which does not go through storage/.
 */
#ifndef DD_COMMON_FSUTIL_H
#define DD_COMMON_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "common/mem.h"

/*
 * The one temporary-name rule: a file being written is "<final>.dd-tmp.<pid>.<n>"
 * in its final directory (n counts this process's writes), so that listings
 * skip it, and cleanup can tell a dead writer's file (its pid is gone) from a
 * live one's. fs_temp_name returns a new string; fs_temp_name_pid returns the
 * writer's pid, or 0 for a name that is not temporary.
 */
#define FS_TEMP_TAG ".dd-tmp."
char *fs_temp_name(const char *final_path);
bool fs_is_temp_name(const char *name);
long fs_temp_name_pid(const char *name);

/*
 * The one atomic-write routine: begin creates the temporary file (parents
 * must exist), the caller writes to fd, then commit makes it the final file
 * (rename; or link with exclusive, so that an existing file is never
 * replaced: DD_EXIT_CONFLICT) and, when durable, fsyncs the file before and
 * its directory after; abort removes the temporary file. Both free it.
 */
typedef struct {
    char *path; /* final */
    char *tmp;
    int fd;
    mode_t mode;
} FsAtomic;

typedef struct {
    bool durable;
    bool exclusive;
} FsCommitOpts;

/* errno is kept from open() on failure, so a caller can create parents on ENOENT. */
DD_MUST_CHECK bool fs_atomic_begin(FsAtomic *f, const char *path, mode_t mode);
DD_MUST_CHECK bool fs_atomic_commit(FsAtomic *f, FsCommitOpts opts);
void fs_atomic_abort(FsAtomic *f);

/* Read a whole file; *found=false (and true returned) if it does not exist. */
DD_MUST_CHECK bool fs_read_file(const char *path, Buf *out, bool *found);

/* Replace path atomically and durably (temp file, fsync, rename, fsync dir). */
DD_MUST_CHECK bool fs_write_file(const char *path, const void *data, size_t len, mode_t mode);

/*
 * Replace path atomically (temp file, rename); durably (fsync of the file
 * and its directory) only when durable is set. wal-fetch is not: PostgreSQL
 * reads the segment at once, and one lost in a crash is fetched again.
 */
DD_MUST_CHECK bool fs_replace_file(const char *path, const void *data, size_t len, mode_t mode,
                                   bool durable);

/* Writes a file's content to fd; path names the file in errors. */
typedef bool (*FsFillFn)(int fd, const char *path, void *arg);

/* As fs_replace_file, with the content written by fill (streamed, not in one buffer). */
DD_MUST_CHECK bool fs_replace_file_with(const char *path, mode_t mode, bool durable, FsFillFn fill,
                                        void *arg);

/* Write all len bytes to fd (retrying short writes and EINTR); path names it in errors. */
DD_MUST_CHECK bool fs_write_all(int fd, const void *data, size_t len, const char *path);

/*
 * Positional reads and writes, looping over short transfers and EINTR.
 * fs_pread_full() reads up to len bytes at off, fewer only at the end of
 * the file (*got says how many); fs_pwrite_all() writes all len bytes at off.
 * path names the file in errors.
 */
DD_MUST_CHECK bool fs_pread_full(int fd, void *buf, size_t len, uint64_t off, size_t *got,
                                 const char *path);
DD_MUST_CHECK bool fs_pwrite_all(int fd, const void *data, size_t len, uint64_t off,
                                 const char *path);

/* Remove a file; a missing one is fine. */
DD_MUST_CHECK bool fs_remove(const char *path);

/* fsync a directory. */
DD_MUST_CHECK bool fs_fsync_dir(const char *dir);
/* fsync the directory that holds path. */
DD_MUST_CHECK bool fs_fsync_parent(const char *path);

#endif
