/*
 * storage.h - the narrow interface every repository byte goes through.
 *
 * Paths are relative to the storage's root and use '/'. A driver (POSIX now,
 * S3 later) implements StorageDriver; everything above this layer is written
 * once against these functions.
 *
 * Invariants every driver keeps:
 *  1. A write is invisible until committed, and then complete: a reader sees
 *     the old object, or no object, or the whole new one, never a part.
 *  2. A committed write is durable: it survives a crash or power loss.
 *  3. storage_list() never returns an uncommitted (temporary) object.
 *  4. "Not found" is not an error: getters report it through *found.
 */
#ifndef DD_STORAGE_STORAGE_H
#define DD_STORAGE_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/mem.h"

typedef struct Storage Storage;
typedef struct StorageWrite StorageWrite;
typedef struct StorageRead StorageRead;

typedef struct {
    /* Fail with DD_EXIT_CONFLICT if the object already exists (no overwrite). */
    bool exclusive;
} StoragePutOpts;

typedef struct {
    uint64_t size;
    double mtime;
} StorageInfo;

typedef struct {
    const char *name;
    void (*free)(Storage *s);
    StorageWrite *(*write_begin)(Storage *s, const char *path);
    bool (*write_append)(StorageWrite *w, const void *data, size_t len);
    bool (*write_commit)(StorageWrite *w, StoragePutOpts opts);
    void (*write_abort)(StorageWrite *w);
    StorageRead *(*read_open)(Storage *s, const char *path, bool *found);
    bool (*read)(StorageRead *r, void *buf, size_t len, size_t *got);
    bool (*read_at)(StorageRead *r, uint64_t offset, void *buf, size_t len);
    void (*read_close)(StorageRead *r);
    bool (*info)(Storage *s, const char *path, bool *found, StorageInfo *info);
    bool (*remove)(Storage *s, const char *path);
    bool (*list)(Storage *s, const char *dir, StrList *out);
    bool (*remove_orphans)(Storage *s, const char *dir, size_t *removed);
} StorageDriver;

/* What every Storage starts with; drivers embed it first. */
struct Storage {
    const StorageDriver *driver;
    char *root;
};

/* A storage on a local directory (which must exist). */
Storage *storage_posix_new(const char *root);

/*
 * Tests only: when set, every storage made afterwards is handed to it as it
 * is made (tests/unit/faultstore.h wraps it in a fault-injecting driver).
 * NULL in drydock itself.
 */
extern void (*storage_test_hook)(Storage *s);
void storage_free(Storage *s);
const char *storage_root(const Storage *s);

/* Whole-object helpers. put is atomic and durable; parents are created. */
DD_MUST_CHECK bool storage_put(Storage *s, const char *path, const void *data, size_t len,
                               StoragePutOpts opts);
DD_MUST_CHECK bool storage_get(Storage *s, const char *path, Buf *out, bool *found);
DD_MUST_CHECK bool storage_exists(Storage *s, const char *path, bool *exists);
DD_MUST_CHECK bool storage_info(Storage *s, const char *path, bool *found, StorageInfo *info);
/* Remove an object; removing a missing one succeeds. */
DD_MUST_CHECK bool storage_remove(Storage *s, const char *path);
/* Names (not paths) of the objects and folders in dir, sorted; a missing dir is empty. */
DD_MUST_CHECK bool storage_list(Storage *s, const char *dir, StrList *out);

/* Streaming write: begin, append..., then commit (atomic, durable) or abort. */
StorageWrite *storage_write_begin(Storage *s, const char *path); /* NULL + error */
DD_MUST_CHECK bool storage_write_append(StorageWrite *w, const void *data, size_t len);
DD_MUST_CHECK bool storage_write_commit(StorageWrite *w, StoragePutOpts opts); /* frees w */
void storage_write_abort(StorageWrite *w);                                     /* frees w */

/* Streaming read. read_open returns NULL with *found=false for a missing object. */
StorageRead *storage_read_open(Storage *s, const char *path, bool *found);
/* Read up to len bytes; *got == 0 at the end. */
DD_MUST_CHECK bool storage_read(StorageRead *r, void *buf, size_t len, size_t *got);
/* Read exactly len bytes at offset; a short object is DD_EXIT_CORRUPT. */
DD_MUST_CHECK bool storage_read_at(StorageRead *r, uint64_t offset, void *buf, size_t len);
void storage_read_close(StorageRead *r);

/*
 * Remove from dir the temporary objects of writers that died (a kill -9 in
 * the middle of a write); adds their number to *removed. Never touches a
 * write in progress.
 */
DD_MUST_CHECK bool storage_remove_orphans(Storage *s, const char *dir, size_t *removed);

/* True for the temporary names writers use (never listed, removable by cleanup). */
bool storage_is_temp_name(const char *name);

#endif
