/*
 * posix.h - the local-directory storage driver; its constructor is
 * storage_posix_new() in storage.h.
 */
#ifndef DD_STORAGE_POSIX_H
#define DD_STORAGE_POSIX_H

#include "storage/storage.h"

#endif
