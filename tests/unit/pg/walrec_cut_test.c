/*
 * walrec_cut_test.c - a record cut at a segment's end, decoded across the
 * boundary (walrec_decode_across) from real PostgreSQL 15 WAL.
 *
 * data/walrec_cut_a.zst and walrec_cut_b.zst are two consecutive 1 MiB
 * segments (data/make_walrec_cut.sh regenerates them) in which the commit of
 * a DROP TABLE starts 48 bytes before the first one's end: its header is in
 * the first segment, its dropped-relation list in the second.
 * data/walrec_cut.txt holds the commit's LSN and the dropped relfilenode.
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

#include "common/mem.h"
#include "pg/walrec.h"
#include "unit/testdata.h"

#define CUT_SEG_SIZE (1024u * 1024)

typedef struct {
    int drops, unknown, other;
    WalEvent drop;
    uint64_t unknown_lsn;
} Seen;

static void on_event(void *arg, const WalEvent *e)
{
    Seen *s = arg;
    if (e->kind == WALREC_EV_DROP) {
        s->drops++;
        s->drop = *e;
    } else if (e->kind == WALREC_EV_UNKNOWN) {
        s->unknown++;
        s->unknown_lsn = e->lsn;
    } else
        s->other++;
}

typedef struct {
    uint8_t *a, *b;
    size_t alen, blen;
    uint64_t lsn;
    uint32_t rel;
} Fixture;

static int setup(void **state)
{
    Fixture *f = xcalloc(1, sizeof(*f));
    size_t n;
    char *txt = testdata_read(__FILE__, "data/walrec_cut.txt", &n);
    unsigned hi, lo, rel;
    assert_int_equal(sscanf(txt, "%X/%X %u", &hi, &lo, &rel), 3);
    free(txt);
    f->lsn = (uint64_t)hi << 32 | lo;
    f->rel = rel;
    f->a = testdata_zst(__FILE__, "data/walrec_cut_a.zst", CUT_SEG_SIZE, &f->alen);
    f->b = testdata_zst(__FILE__, "data/walrec_cut_b.zst", CUT_SEG_SIZE, &f->blen);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fixture *f = *state;
    free(f->a);
    free(f->b);
    free(f);
    return 0;
}

/* The segment alone cannot vouch for the commit; with the next one it can. */
static void test_commit_across(void **state)
{
    Fixture *f = *state;
    assert_int_equal(f->lsn % CUT_SEG_SIZE, CUT_SEG_SIZE - 48);
    Seen s = {0};
    WalRecSink sink = {NULL, on_event, &s};
    WalRecResult r;
    assert_true(walrec_decode_segment(f->a, f->alen, CUT_SEG_SIZE, &sink, &r));
    assert_true(r.complete);
    assert_int_equal(s.unknown, 1);
    assert_int_equal(s.unknown_lsn, f->lsn);
    assert_int_equal(s.drops, 0);

    memset(&s, 0, sizeof(s));
    assert_true(walrec_decode_across(f->a, f->alen, f->b, f->blen, CUT_SEG_SIZE, f->lsn, &sink));
    assert_int_equal(s.unknown, 0);
    assert_int_equal(s.drops, 1);
    assert_int_equal(s.drop.lsn, f->lsn);
    assert_int_equal(s.drop.node.spc, 1663);
    assert_int_equal(s.drop.node.db, 5);
    assert_int_equal(s.drop.node.rel, f->rel);
}

/* Whatever does not prove the record whole emits nothing and returns false. */
static void test_refused(void **state)
{
    Fixture *f = *state;
    uint8_t *b2 = xmalloc(f->blen);
    const struct {
        const char *what;
        int b;             /* 0: b, 1: a as b, 2: b with a byte of the commit changed */
        size_t blen;       /* 0: whole */
        int64_t lsn_delta; /* from the commit's LSN */
        uint32_t seg_size; /* 0: 1 MiB */
    } cases[] = {
        {"the next segment is not the next one", 1, 0, 0, 0},
        {"a byte of the continuation changed (CRC)", 2, 0, 0, 0},
        {"the next segment is only its page header", 0, 40, 0, 0},
        {"the LSN is not the cut record's", 0, 0, -8, 0},
        {"the LSN is inside the page header", 0, 0, -(int64_t)(CUT_SEG_SIZE - 48) + 8, 0},
        {"another segment size", 0, 0, 0, 2 * CUT_SEG_SIZE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(b2, f->b, f->blen);
        b2[40 + 100] ^= 0x01; /* inside the commit's continuation (421 bytes) */
        const uint8_t *b = cases[i].b == 1 ? f->a : cases[i].b == 2 ? b2 : f->b;
        Seen s = {0};
        WalRecSink sink = {NULL, on_event, &s};
        bool ok = walrec_decode_across(f->a, f->alen, b, cases[i].blen ? cases[i].blen : f->blen,
                                       cases[i].seg_size ? cases[i].seg_size : CUT_SEG_SIZE,
                                       (uint64_t)((int64_t)f->lsn + cases[i].lsn_delta), &sink);
        if (ok || s.drops || s.unknown || s.other)
            fail_msg("%s: decoded (%d) or emitted events", cases[i].what, ok);
    }
    free(b2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_across),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
