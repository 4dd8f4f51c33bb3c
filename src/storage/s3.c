/*
 * s3.c - the S3 storage driver (next commit).
 */
#include "storage/s3.h"

bool storage_s3_open(const StorageConfig *cfg, Storage **out)
{
    (void)cfg;
    *out = NULL;
    return err_set(DD_EXIT_CONFIG, "S3 storage is not available in this build");
}
