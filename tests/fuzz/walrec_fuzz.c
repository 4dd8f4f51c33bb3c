/*
 * walrec_fuzz.c - libFuzzer target for the WAL record decoder (pg/walrec.h):
 * wal-push decodes whatever bytes it is handed. The input is decoded as one
 * record and, behind a valid long page header, as the pages of a small
 * (1 MiB) segment; and, split in two, as a record cut at the end of a whole
 * segment of valid pages and continued at the start of the next one.
 */
#include <stdbool.h>
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

static void page_header(uint8_t *p, uint16_t info, uint64_t addr, uint32_t rem_len, bool first)
{
    le_put16(p, 0xD110);
    le_put16(p + 2, (uint16_t)(info | (first ? 0x0002 : 0)));
    le_put64(p + 8, addr);
    le_put32(p + 16, rem_len);
    if (first) {
        le_put32(p + 32, 1024 * 1024);
        le_put32(p + 36, 8192);
    }
}

/* The first half of the input ends segment 3 (all its pages valid), the rest starts segment 4. */
static void fuzz_across(const uint8_t *data, size_t size, const WalRecSink *sink)
{
    const uint32_t seg_size = 1024 * 1024, page = 8192;
    if (size < 4)
        return;
    size_t half = (size - 4) / 2 > page - 24 ? page - 24 : (size - 4) / 2;
    size_t rest = size - 4 - half > seg_size - 40 ? seg_size - 40 : size - 4 - half;
    uint8_t *a = xcalloc(1, seg_size), *b = xcalloc(1, seg_size);
    for (uint32_t i = 0; i < seg_size / page; i++)
        page_header(a + (size_t)i * page, 0, 3ull * seg_size + (uint64_t)i * page, 0, i == 0);
    memcpy(a + seg_size - half, data + 4, half);
    page_header(b, (uint16_t)(data[0] & 1), 4ull * seg_size, le_get16(data + 1), true);
    memcpy(b + 40, data + 4 + half, rest);
    uint64_t lsn = 4ull * seg_size - half + (data[3] & 7u) * 8u;
    (void)walrec_decode_across(a, seg_size, b, 40 + rest, seg_size, lsn, sink);
    free(a);
    free(b);
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
    fuzz_across(data, size, &sink);
    return 0;
}
