/*
 * s3_int.h - what s3.c and s3lock.c share; private to storage/s3*.c.
 */
#ifndef DD_STORAGE_S3_INT_H
#define DD_STORAGE_S3_INT_H

#include "storage/s3req.h"
#include "storage/storage.h"

typedef struct {
    Storage base;
    S3Client client;
    double lock_lease; /* seconds */
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

#endif
