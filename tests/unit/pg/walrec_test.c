/*
 * walrec_test.c - the WAL record decoder against real PostgreSQL 15 WAL.
 *
 * data/walrec_segment.zst is one segment written by a throwaway cluster
 * under a mixed load (data/make_walrec_segment.sh regenerates it), and
 * data/walrec_expected.txt is what pg_waldump reads in it: every distinct
 * block reference, and every record that changes files outside them. The
 * decoder must find exactly the same. Synthetic records cover the cases a
 * healthy cluster does not write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "common/crc32c.h"
#include "common/endian.h"
#include "common/mem.h"
#include "pg/walrec.h"
#include "unit/testdata.h"

#define SEG_SIZE (16u * 1024 * 1024)

typedef struct {
    Buf blocks; /* "B spc/db/rel fork blk\n" lines */
    Buf events; /* "E ..." lines as the expected file words them */
    int unknown;
} Collected;

static const char *fork_name(uint8_t f)
{
    static const char *names[] = {"main", "fsm", "vm", "init"};
    return f < 4 ? names[f] : "?";
}

static void path_of(Buf *b, WalRelNode n, uint8_t fork)
{
    if (n.spc == 1663)
        buf_printf(b, "base/%u/%u", n.db, n.rel);
    else
        buf_printf(b, "pg_tblspc/%u/PG_15_202209061/%u/%u", n.spc, n.db, n.rel);
    if (fork)
        buf_printf(b, "_%s", fork_name(fork));
}

static void on_block(void *arg, const WalBlockRef *r)
{
    Collected *c = arg;
    buf_printf(&c->blocks, "B %u/%u/%u %s %u\n", r->node.spc, r->node.db, r->node.rel,
               fork_name(r->fork), r->block);
}

static void on_event(void *arg, const WalEvent *e)
{
    Collected *c = arg;
    Buf *b = &c->events;
    static uint64_t drop_lsn = 0;
    switch (e->kind) {
    case WALREC_EV_CREATE:
        buf_printf(b, "E Storage CREATE ");
        path_of(b, e->node, e->fork);
        break;
    case WALREC_EV_TRUNCATE:
        buf_printf(b, "E Storage TRUNCATE ");
        path_of(b, e->node, 0);
        buf_printf(b, " to %u blocks flags %u", e->block, e->extra);
        break;
    case WALREC_EV_DROP: /* one line per record: "rels: a b c" */
        if (drop_lsn == e->lsn) {
            b->len--; /* continue the line */
            buf_printf(b, " ");
        } else
            buf_printf(b, "E Transaction rels: ");
        drop_lsn = e->lsn;
        path_of(b, e->node, 0);
        break;
    case WALREC_EV_DB_COPY:
        buf_printf(b, "E Database CREATE_FILE_COPY copy dir 1663/%u to %u/%u", e->extra,
                   e->node.spc, e->node.db);
        break;
    case WALREC_EV_DB_CREATE:
        buf_printf(b, "E Database CREATE_WAL_LOG create dir %u/%u", e->node.spc, e->node.db);
        break;
    case WALREC_EV_DB_DROP:
        buf_printf(b, "E Database DROP dir %u/%u", e->node.spc, e->node.db);
        break;
    case WALREC_EV_TBLSPC_CREATE:
    case WALREC_EV_TBLSPC_DROP:
        buf_printf(b, "E Tablespace %s %u", e->kind == WALREC_EV_TBLSPC_CREATE ? "CREATE" : "DROP",
                   e->node.spc);
        break;
    case WALREC_EV_RELMAP:
        buf_printf(b, "E RelMap UPDATE database %u tablespace %u", e->node.db, e->node.spc);
        break;
    case WALREC_EV_UNKNOWN:
        c->unknown++;
        buf_printf(b, "E unknown rmgr %u info %u", e->extra >> 8, e->extra & 0xFF);
        break;
    }
    buf_printf(b, "\n");
}

static uint8_t *load_segment(void)
{
    size_t zlen;
    char *z = testdata_read(__FILE__, "data/walrec_segment.zst", &zlen);
    uint8_t *seg = xmalloc(SEG_SIZE);
    size_t n = ZSTD_decompress(seg, SEG_SIZE, z, zlen);
    assert_int_equal(n, SEG_SIZE);
    free(z);
    return seg;
}

/* Sort the block lines so that they compare with `sort -u` output. */
static int cmp_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *sorted_unique(Buf *b)
{
    buf_append(b, "", 1);
    size_t n = 0, cap = 1024;
    char **lines = xmalloc(cap * sizeof(char *));
    for (char *save, *l = strtok_r((char *)b->data, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
        if (n == cap)
            lines = xrealloc(lines, (cap *= 2) * sizeof(char *));
        lines[n++] = l;
    }
    qsort(lines, n, sizeof(char *), cmp_lines);
    Buf out = {0};
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(lines[i], lines[i - 1]) != 0)
            buf_printf(&out, "%s\n", lines[i]);
    free(lines);
    buf_append(&out, "", 1);
    return (char *)out.data;
}

static void test_real_segment(void **state)
{
    (void)state;
    uint8_t *seg = load_segment();
    Collected c = {0};
    WalRecSink sink = {on_block, on_event, &c};
    WalRecResult r;
    assert_true(walrec_decode_segment(seg, SEG_SIZE, SEG_SIZE, &sink, &r));
    assert_true(r.complete);
    assert_string_equal(r.stop, "");
    assert_int_equal(r.end_lsn - r.start_lsn, SEG_SIZE);
    assert_true(r.records > 1000);
    assert_int_equal(c.unknown, 0);

    size_t elen;
    char *expected = testdata_read(__FILE__, "data/walrec_expected.txt", &elen);
    char *eev = strstr(expected, "\nE ");
    assert_non_null(eev);
    eev[0] = '\0';
    char *got_blocks = sorted_unique(&c.blocks);
    /* expected blocks: lines up to the first event, each ending in \n */
    Buf eb = {0};
    buf_printf(&eb, "%s\n", expected);
    buf_append(&eb, "", 1);
    assert_string_equal(got_blocks, (char *)eb.data);
    buf_append(&c.events, "", 1);
    assert_string_equal((char *)c.events.data, eev + 1);
    free(got_blocks);
    buf_free(&c.blocks);
    buf_free(&eb);
    buf_free(&c.events);
    free(expected);
    free(seg);
}

/* ---- synthetic records -------------------------------------------------- */

typedef struct {
    const char *title;
    uint8_t rmid, info;
    uint8_t body[96]; /* headers and data after the 24-byte XLogRecord */
    size_t body_len;
    size_t avail_cut; /* 0: the whole record; else only this many bytes are there */
    bool ok;
    int blocks;
    const char *events; /* expected event lines */
} RecCase;

#define NODE(s, d, r) (s) & 0xFF, (s) >> 8, 0, 0, d, 0, 0, 0, r, 0, 0, 0

static const RecCase rec_cases[] = {
    {"heap record with two blocks, the second SAME_REL",
     10,
     0x00,
     {0, 0x20, 2, 0, NODE(1663, 5, 99), 7, 0, 0, 0, 1, 0xA0, 1, 0, 8, 0, 0, 0, 0xAA, 0xBB, 0xCC},
     4 + 12 + 4 + 4 + 4 + 3,
     0,
     true,
     2,
     ""},
    {"smgr truncate",
     2,
     0x20 | 0x01,
     {0xFF, 20, 10, 0, 0, 0, NODE(1663, 5, 77), 7, 0, 0, 0},
     22,
     0,
     true,
     0,
     "E Storage TRUNCATE base/5/77 to 10 blocks flags 7\n"},
    {"unknown smgr op",
     2,
     0x30,
     {0xFF, 4, 0, 0, 0, 0},
     6,
     0,
     true,
     0,
     "E unknown rmgr 2 info 48\n"},
    {"custom resource manager",
     130,
     0x00,
     {0xFF, 1, 0},
     3,
     0,
     true,
     0,
     "E unknown rmgr 130 info 0\n"},
    {"heap record flagged XLR_SPECIAL_REL_UPDATE",
     10,
     0x01,
     {0xFF, 1, 0},
     3,
     0,
     true,
     0,
     "E unknown rmgr 10 info 1\n"},
    {"block ids out of order",
     10,
     0x00,
     {1, 0x00, 0, 0, NODE(1663, 5, 99), 7, 0, 0, 0, 0, 0x80, 0, 0, 8, 0, 0, 0},
     40,
     0,
     false,
     0,
     ""},
    {"SAME_REL without an earlier block",
     10,
     0x00,
     {0, 0x80, 0, 0, 7, 0, 0, 0},
     8,
     0,
     false,
     0,
     ""},
    {"data length without HAS_DATA",
     10,
     0x00,
     {0, 0x00, 5, 0, NODE(1663, 5, 99), 7, 0, 0, 0},
     20,
     0,
     false,
     0,
     ""},
    {"lengths that do not add up", 10, 0x00, {0xFF, 9, 1, 2}, 4, 0, false, 0, ""},
    {"abort dropping two relations",
     1,
     0x20 | 0x80,
     {0xFF,
      8 + 4 + 4 + 24,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      4,
      0,
      0,
      0,
      2,
      0,
      0,
      0,
      NODE(1663, 5, 10),
      NODE(1663, 5, 11)},
     2 + 8 + 4 + 4 + 24,
     0,
     true,
     0,
     "E Transaction rels: base/5/10 base/5/11\n"},
    {"commit cut before its main data (next segment)",
     1,
     0x00 | 0x80,
     {0xFF, 8 + 4 + 4 + 12, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, NODE(1663, 5, 10)},
     2 + 8 + 4 + 4 + 12,
     24 + 10,
     true,
     0,
     "E unknown rmgr 1 info 128\n"},
    {"record cut inside its block headers",
     10,
     0x00,
     {0, 0x20, 2, 0, NODE(1663, 5, 99), 7, 0, 0, 0, 0xAA, 0xBB},
     22,
     24 + 6,
     true,
     0,
     "E unknown rmgr 10 info 0\n"},
    {"database copy",
     4,
     0x00,
     {0xFF, 16, 0x10, 0x40, 0, 0, 0x7F, 6, 0, 0, 1, 0, 0, 0, 0x7F, 6, 0, 0},
     18,
     0,
     true,
     0,
     "E Database CREATE_FILE_COPY copy dir 1663/1 to 1663/16400\n"},
};

static size_t rec_build(uint8_t *out, const RecCase *c)
{
    uint32_t tot = (uint32_t)(24 + c->body_len);
    memset(out, 0, 24);
    le_put32(out, tot);
    out[16] = c->info;
    out[17] = c->rmid;
    memcpy(out + 24, c->body, c->body_len);
    uint32_t crc = crc32c_update(crc32c_init(), out + 24, tot - 24);
    le_put32(out + 20, crc32c_final(crc32c_update(crc, out, 20)));
    return tot;
}

static void test_records(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rec_cases) / sizeof(rec_cases[0]); i++) {
        const RecCase *rc = &rec_cases[i];
        uint8_t rec[128];
        size_t tot = rec_build(rec, rc);
        Collected c = {0};
        WalRecSink sink = {on_block, on_event, &c};
        uint64_t blocks = 0;
        bool ok = walrec_decode_record(rec, rc->avail_cut ? rc->avail_cut : tot, 0x1000 + i, &sink,
                                       &blocks);
        buf_append(&c.events, "", 1);
        if (ok != rc->ok || (int)blocks != rc->blocks ||
            strcmp((char *)c.events.data, rc->events) != 0)
            fail_msg("%s: ok %d blocks %d events \"%s\"", rc->title, ok, (int)blocks,
                     (char *)c.events.data);
        buf_free(&c.events);
        buf_free(&c.blocks);
    }
}

/* ---- damaged segments --------------------------------------------------- */

static void test_partial_and_damaged(void **state)
{
    (void)state;
    uint8_t *seg = load_segment();
    WalRecResult full, r;
    assert_true(walrec_decode_segment(seg, SEG_SIZE, SEG_SIZE, NULL, &full));

    /* a .partial: the first 64 pages only */
    assert_true(walrec_decode_segment(seg, 64 * 8192, SEG_SIZE, NULL, &r));
    assert_false(r.complete);
    assert_non_null(strstr(r.stop, "end of WAL"));
    assert_true(r.end_lsn > r.start_lsn && r.end_lsn <= r.start_lsn + 64 * 8192);
    assert_true(r.records < full.records);

    /* one flipped byte in a record in the middle of page 10 */
    seg[10 * 8192 + 4000] ^= 0x55;
    assert_true(walrec_decode_segment(seg, SEG_SIZE, SEG_SIZE, NULL, &r));
    assert_false(r.complete);
    assert_true(strstr(r.stop, "incorrect record checksum") || strstr(r.stop, "end of WAL"));
    assert_true(r.end_lsn <= r.start_lsn + 10 * 8192 + 4000);
    seg[10 * 8192 + 4000] ^= 0x55;

    /* a page from an older cycle of this file (recycled segment): the WAL ends there */
    le_put64(seg + 20 * 8192 + 8, le_get64(seg + 20 * 8192 + 8) - SEG_SIZE);
    assert_true(walrec_decode_segment(seg, SEG_SIZE, SEG_SIZE, NULL, &r));
    assert_false(r.complete);
    assert_true(r.end_lsn <= r.start_lsn + 21 * 8192);

    /* not a WAL segment at all */
    memset(seg, 0, 8192);
    assert_false(walrec_decode_segment(seg, SEG_SIZE, SEG_SIZE, NULL, &r));
    assert_int_equal(err_code(), DD_EXIT_CORRUPT);
    err_clear();
    free(seg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_segment),
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_partial_and_damaged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
