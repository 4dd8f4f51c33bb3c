/*
 * walrec_fuzz.c - libFuzzer target for the WAL record decoder (pg/walrec.h):
 * wal-push decodes whatever bytes it is handed. The input is decoded as one
 * record and, behind a valid long page header, as the pages of a small
 * (1 MiB) segment.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/endian.h"
#include "common/mem.h"
#include "pg/walrec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_block(void *arg, const WalBlockRef *r)
{
    *(uint64_t *)arg += r->block;
}

static void on_event(void *arg, const WalEvent *e)
{
    *(uint64_t *)arg += e->kind;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t sum = 0, blocks = 0;
    WalRecSink sink = {on_block, on_event, &sum};
    (void)walrec_decode_record(data, size, 0x1000000, &sink, &blocks);

    const uint32_t seg_size = 1024 * 1024;
    size_t len = size + 40 > seg_size ? seg_size : size + 40;
    uint8_t *seg = xcalloc(1, len);
    memcpy(seg + 40, data, len - 40);
    le_put16(seg, 0xD110);
    le_put16(seg + 2, 0x0002 | (size ? data[0] & 1 : 0));
    le_put64(seg + 8, 3ull * seg_size);
    le_put32(seg + 16, size > 1 ? data[1] : 0);
    le_put32(seg + 32, seg_size);
    le_put32(seg + 36, 8192);
    WalRecResult r;
    if (!walrec_decode_segment(seg, len, seg_size, &sink, &r))
        err_clear();
    free(seg);
    return 0;
}
