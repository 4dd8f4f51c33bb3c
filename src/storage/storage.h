/*
 * storage.h - the narrow interface every repository byte goes through.
 *
 * Paths are relative to the storage's root and use '/'. A driver (POSIX, S3)
 * implements StorageDriver; storage_open() is the one place that picks it,
 * and everything above this layer is written once against these functions
 * (nothing above storage/ opens, stats or creates a repository path).
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
typedef struct StorageLock StorageLock;

typedef enum { STORAGE_POSIX = 0, STORAGE_S3 = 1 } StorageType;

/* Where a storage lives; the fields of the other types are ignored. */
typedef struct {
    StorageType type;
    const char *path; /* posix: the directory */
    struct {
        const char *endpoint; /* http[s]://host[:port] */
        const char *bucket;
        const char *region;
        const char *prefix;           /* "" or "a/b": every object is under it */
        bool host_style;              /* bucket.host rather than host/bucket */
        const char *credentials_file; /* 0600; NULL: the AWS_* environment */
        const char *ca_file;          /* NULL: the system's */
        bool no_verify_tls;           /* off only when asked */
        double retry_timeout;         /* seconds of retries before a request fails; 0: 60 */
        double lock_lease;            /* seconds a lock lives without renewal; 0: 60 */
        const char *state_dir; /* where s3cond.c caches what the service honours; NULL: none */
    } s3;
} StorageConfig;

typedef struct {
    /* Fail with DD_EXIT_CONFLICT if the object already exists (no overwrite). */
    bool exclusive;
    /* Skip the fsyncs (POSIX): only for derived data whose loss or tearing in
     * a crash is detected (a checksummed object) and harmless, e.g. WAL
     * summaries (repo/walsum.h). Object stores ignore it. */
    bool not_durable;
} StoragePutOpts;

typedef struct {
    uint64_t size;
    double mtime;
} StorageInfo;

typedef struct {
    const char *name;
    const char *lock_hint; /* what a loser of storage_lock() is told to do */
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
    bool (*remove_many)(Storage *s, const StrList *paths); /* NULL: remove one by one */
    bool (*list)(Storage *s, const char *dir, StrList *out);
    bool (*remove_orphans)(Storage *s, const char *dir, double min_age, size_t *removed);
    bool (*root_state)(Storage *s, bool *exists, bool *empty);
    bool (*root_create)(Storage *s);
    bool (*lock)(Storage *s, const char *name, bool shared, const char *owner, StorageLock **out,
                 bool *busy, char *holder, size_t holder_len);
    bool (*lock_check)(StorageLock *l);
    void (*unlock)(StorageLock *l);
    /* Does an exclusive put settle a race by itself? NULL: yes (posix: link(2)). */
    bool (*exclusive_atomic)(Storage *s);
    bool remote; /* each call crosses a network (s3): a lock costs requests */
} StorageDriver;

/* What every Storage and StorageLock start with; drivers embed it first. */
struct Storage {
    const StorageDriver *driver;
    char *root; /* the directory, or "s3://bucket/prefix": for messages */
};

struct StorageLock {
    const StorageDriver *driver;
};

/*
 * Open the storage cfg describes: the one place that picks a driver. A posix
 * root need not exist yet (storage_root_create makes it); an S3 bucket must.
 */
DD_MUST_CHECK bool storage_open(const StorageConfig *cfg, Storage **out);

/*
 * Tests only: when set, every storage storage_open() makes is handed to it
 * as it is made (tests/unit/faultstore.h wraps it in a fault-injecting
 * driver). NULL in drydock itself.
 */
extern void (*storage_test_hook)(Storage *s);
void storage_free(Storage *s);
const char *storage_root(const Storage *s);
/* What storage_root() of the storage cfg describes will be ("s3://bucket/prefix"); caller frees. */
char *storage_config_name(const StorageConfig *cfg);

/* Does the root exist, and does it hold anything? (repo-create refuses a non-empty one.) */
DD_MUST_CHECK bool storage_root_state(Storage *s, bool *exists, bool *empty);
/* Create the root if it does not exist (posix: the directory; s3: nothing to do). */
DD_MUST_CHECK bool storage_root_create(Storage *s);

/*
 * Take the lock called name, exclusive or shared (any number of shared
 * holders, no exclusive one with them). owner ("pid N on host H (...)") is
 * what a loser is told. A loser fails at once: false, *busy set, and the
 * holder's text in holder ("" when unknown); other failures set the error
 * and leave *busy false. posix: flock(2), released by the kernel when the holder dies. s3:
 * an object with a lease (s3.c says how, and its limits).
 */
DD_MUST_CHECK bool storage_lock(Storage *s, const char *name, bool shared, const char *owner,
                                StorageLock **out, bool *busy, char *holder, size_t holder_len);
/* The driver's advice to a process that found a lock taken. */
const char *storage_lock_hint(const Storage *s);
/* Is the lock still ours? false + error when its lease was lost (s3); posix: always. */
DD_MUST_CHECK bool storage_lock_check(StorageLock *l);
void storage_unlock(StorageLock *l);

/*
 * Does an exclusive put settle a race between two writers of one name by
 * itself (exactly one wins, the other gets DD_EXIT_CONFLICT)? posix: yes;
 * s3: when the service honours If-None-Match (s3cond.c finds out once and
 * remembers). Never fails: a service that cannot be asked is a "no".
 */
bool storage_exclusive_atomic(Storage *s);
/* Is each call a network round trip (s3), so that a lock costs requests? */
bool storage_remote(const Storage *s);

/* Whole-object helpers. put is atomic and durable; parents are created. */
DD_MUST_CHECK bool storage_put(Storage *s, const char *path, const void *data, size_t len,
                               StoragePutOpts opts);
DD_MUST_CHECK bool storage_get(Storage *s, const char *path, Buf *out, bool *found);
DD_MUST_CHECK bool storage_exists(Storage *s, const char *path, bool *exists);
DD_MUST_CHECK bool storage_info(Storage *s, const char *path, bool *found, StorageInfo *info);
/* Remove an object; removing a missing one succeeds. */
DD_MUST_CHECK bool storage_remove(Storage *s, const char *path);
/* Remove many objects (in batches where the driver can: S3 DeleteObjects); missing ones are fine.
 */
DD_MUST_CHECK bool storage_remove_many(Storage *s, const StrList *paths);
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
 * the middle of a write); adds their number to *removed. posix: the files
 * whose writer's pid is gone, so never a write in progress. s3: the
 * unfinished multipart uploads started more than min_age seconds ago (S3
 * does not say who started one): a caller that holds the lock of every
 * writer of dir passes 0.
 */
DD_MUST_CHECK bool storage_remove_orphans(Storage *s, const char *dir, double min_age,
                                          size_t *removed);

#endif
