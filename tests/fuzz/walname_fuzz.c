/*
 * walname_fuzz.c - libFuzzer target for WAL file names and segment headers
 * (pg/wal.h), the two things wal-push and wal-fetch take from outside.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "pg/wal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *name = xstrndup((const char *)data, size < 64 ? size : 64);
    WalFileName n;
    if (!wal_name_parse(name, &n))
        err_clear();
    free(name);
    WalSegmentHeader h;
    if (!wal_segment_header(data, size, &h))
        err_clear();
    return 0;
}
