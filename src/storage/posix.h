/*
 * posix.h - the local-directory storage driver. Only storage_open() calls
 * its constructor.
 */
#ifndef DD_STORAGE_POSIX_H
#define DD_STORAGE_POSIX_H

#include "storage/storage.h"

/* A storage on a local directory (created by storage_root_create if missing). */
Storage *storage_posix_new(const char *root);

#endif
