/*
 * s3.h - the S3 storage driver (s3.c). Only storage_open() calls it.
 */
#ifndef DD_STORAGE_S3_H
#define DD_STORAGE_S3_H

#include "storage/storage.h"

DD_MUST_CHECK bool storage_s3_open(const StorageConfig *cfg, Storage **out);

#endif
