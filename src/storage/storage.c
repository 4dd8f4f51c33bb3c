/*
 * storage.c - the driver-independent half of the storage interface.
 */
#include "storage/storage.h"

#include <stdlib.h>
#include <string.h>

#include "storage/posix.h"
#include "storage/s3.h"

void (*storage_test_hook)(Storage *s);

bool storage_open(const StorageConfig *cfg, Storage **out)
{
    switch (cfg->type) {
    case STORAGE_POSIX:
        *out = storage_posix_new(cfg->path);
        break;
    case STORAGE_S3:
        if (!storage_s3_open(cfg, out))
            return false;
        break;
    default:
        return err_set(DD_EXIT_CONFIG, "unknown storage type %d", (int)cfg->type);
    }
    if (storage_test_hook)
        storage_test_hook(*out);
    return true;
}

char *storage_config_name(const StorageConfig *cfg)
{
    if (cfg->type == STORAGE_S3)
        return xasprintf("s3://%s%s%s", cfg->s3.bucket, cfg->s3.prefix[0] ? "/" : "",
                         cfg->s3.prefix);
    return xstrdup(cfg->path);
}

void storage_free(Storage *s)
{
    if (s)
        s->driver->free(s);
}

const char *storage_root(const Storage *s)
{
    return s->root;
}

bool storage_put(Storage *s, const char *path, const void *data, size_t len, StoragePutOpts opts)
{
    StorageWrite *w = storage_write_begin(s, path);
    if (!w)
        return false;
    if (!storage_write_append(w, data, len)) {
        storage_write_abort(w);
        return false;
    }
    return storage_write_commit(w, opts);
}

bool storage_get(Storage *s, const char *path, Buf *out, bool *found)
{
    StorageRead *r = storage_read_open(s, path, found);
    if (!r)
        return *found ? false : true;
    for (;;) {
        buf_reserve(out, 1 << 16);
        size_t got = 0;
        if (!storage_read(r, out->data + out->len, out->cap - out->len, &got)) {
            storage_read_close(r);
            return false;
        }
        if (got == 0)
            break;
        out->len += got;
    }
    storage_read_close(r);
    return true;
}

bool storage_exists(Storage *s, const char *path, bool *exists)
{
    StorageInfo info;
    return s->driver->info(s, path, exists, &info);
}

bool storage_info(Storage *s, const char *path, bool *found, StorageInfo *info)
{
    return s->driver->info(s, path, found, info);
}

bool storage_remove(Storage *s, const char *path)
{
    return s->driver->remove(s, path);
}

bool storage_remove_many(Storage *s, const StrList *paths)
{
    if (s->driver->remove_many)
        return s->driver->remove_many(s, paths);
    for (size_t i = 0; i < paths->len; i++)
        if (!s->driver->remove(s, paths->items[i]))
            return false;
    return true;
}

bool storage_list(Storage *s, const char *dir, StrList *out)
{
    if (!s->driver->list(s, dir, out))
        return false;
    strlist_sort(out);
    return true;
}

StorageWrite *storage_write_begin(Storage *s, const char *path)
{
    return s->driver->write_begin(s, path);
}

bool storage_write_append(StorageWrite *w, const void *data, size_t len)
{
    /* The driver is reachable from the write through its first member. */
    const StorageDriver *d = *(const StorageDriver **)w;
    return d->write_append(w, data, len);
}

bool storage_write_commit(StorageWrite *w, StoragePutOpts opts)
{
    const StorageDriver *d = *(const StorageDriver **)w;
    return d->write_commit(w, opts);
}

void storage_write_abort(StorageWrite *w)
{
    if (!w)
        return;
    const StorageDriver *d = *(const StorageDriver **)w;
    d->write_abort(w);
}

StorageRead *storage_read_open(Storage *s, const char *path, bool *found)
{
    return s->driver->read_open(s, path, found);
}

bool storage_read(StorageRead *r, void *buf, size_t len, size_t *got)
{
    const StorageDriver *d = *(const StorageDriver **)r;
    return d->read(r, buf, len, got);
}

bool storage_read_at(StorageRead *r, uint64_t offset, void *buf, size_t len)
{
    const StorageDriver *d = *(const StorageDriver **)r;
    return d->read_at(r, offset, buf, len);
}

void storage_read_close(StorageRead *r)
{
    if (!r)
        return;
    const StorageDriver *d = *(const StorageDriver **)r;
    d->read_close(r);
}

bool storage_remove_orphans(Storage *s, const char *dir, double min_age, size_t *removed)
{
    return s->driver->remove_orphans(s, dir, min_age, removed);
}

bool storage_root_state(Storage *s, bool *exists, bool *empty)
{
    return s->driver->root_state(s, exists, empty);
}

bool storage_root_create(Storage *s)
{
    return s->driver->root_create(s);
}

bool storage_lock(Storage *s, const char *name, bool shared, const char *owner, StorageLock **out,
                  bool *busy, char *holder, size_t holder_len)
{
    *out = NULL;
    *busy = false;
    holder[0] = '\0';
    return s->driver->lock(s, name, shared, owner, out, busy, holder, holder_len);
}

const char *storage_lock_hint(const Storage *s)
{
    return s->driver->lock_hint;
}

bool storage_lock_check(StorageLock *l)
{
    return l->driver->lock_check(l);
}

void storage_unlock(StorageLock *l)
{
    if (l)
        l->driver->unlock(l);
}

bool storage_exclusive_atomic(Storage *s)
{
    return !s->driver->exclusive_atomic || s->driver->exclusive_atomic(s);
}

bool storage_remote(const Storage *s)
{
    return s->driver->remote;
}
