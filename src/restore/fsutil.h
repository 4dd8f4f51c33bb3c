/*
 * fsutil.h - small file helpers for writing into a data directory (which is
 * not a repository: it does not go through storage/).
 */
#ifndef DD_RESTORE_FSUTIL_H
#define DD_RESTORE_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"
#include "common/mem.h"

/* Read a whole file; *found=false (and true returned) if it does not exist. */
DD_MUST_CHECK bool fs_read_file(const char *path, Buf *out, bool *found);

/* Replace path atomically and durably (temp file, fsync, rename, fsync dir). */
DD_MUST_CHECK bool fs_write_file(const char *path, const void *data, size_t len, mode_t mode);

/* Remove a file; a missing one is fine. */
DD_MUST_CHECK bool fs_remove(const char *path);

/* fsync a directory. */
DD_MUST_CHECK bool fs_fsync_dir(const char *dir);

#endif
