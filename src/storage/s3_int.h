/*
 * s3_int.h - what s3.c and s3lock.c share; private to storage/s3*.c.
 */
#ifndef DD_STORAGE_S3_INT_H
#define DD_STORAGE_S3_INT_H

#include "storage/s3req.h"
#include "storage/storage.h"

typedef enum { S3_COND_UNKNOWN, S3_COND_YES, S3_COND_NO } S3Cond;

typedef struct {
    Storage base;
    S3Client client;
    double lock_lease; /* seconds */
    char *state_dir;   /* or NULL (s3cond.c) */
    S3Cond cond;       /* does the service honour If-None-Match on PUT? (s3cond.c) */
} S3Storage;

/* One object of a listing. */
typedef struct {
    char *key; /* relative to the storage's prefix */
    uint64_t size;
    double last_modified;
} S3Object;

typedef struct {
    S3Object *items;
    size_t len;
    StrList dirs; /* common prefixes, relative, without their trailing '/' */
    double server_date;
} S3Listing;

/* Every object under prefix (relative to the storage's), with delimiter '/' when dirs. */
DD_MUST_CHECK bool s3_list_objects(S3Storage *s, const char *prefix, bool dirs, S3Listing *out);
void s3_listing_free(S3Listing *l);

/* The lock operations of the driver (s3lock.c). */
bool s3_lock(Storage *s, const char *name, bool shared, const char *owner, StorageLock **out,
             bool *busy, char *holder, size_t holder_len);
bool s3_lock_check(StorageLock *l);
void s3_unlock(StorageLock *l);

/*
 * Conditional puts (s3cond.c). s3_cond_put: does the service honour them?
 * Asked once per host and service, remembered in the state directory.
 * s3_put_if_absent: one PUT with If-None-Match: * (412: the key is taken).
 */
bool s3_cond_put(Storage *s);
DD_MUST_CHECK bool s3_put_if_absent(S3Storage *s, const char *key, const void *data, size_t len,
                                    S3Resp *resp);

#endif
