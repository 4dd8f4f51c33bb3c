/*
 * walsum_test.c - WAL summaries: built from a real segment, the byte format
 * round trip and every invariant its decoder checks, stored and read back.
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

#include "common/endian.h"
#include "repo/walsum.h"
#include "unit/testrepo.h"

#define SEG_SIZE (16u * 1024 * 1024)
#define SEG_NAME "000000010000000000000002" /* tests/unit/pg/data/walrec_segment.name */

static uint8_t *load_segment(void)
{
    char path[512];
    const char *slash = strrchr(__FILE__, '/');
    snprintf(path, sizeof(path), "%.*s/../pg/data/walrec_segment.zst", (int)(slash - __FILE__),
             __FILE__);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("could not open \"%s\"", path);
    static char z[1 << 20];
    size_t zlen = fread(z, 1, sizeof(z), f);
    fclose(f);
    uint8_t *seg = xmalloc(SEG_SIZE);
    assert_int_equal(ZSTD_decompress(seg, SEG_SIZE, z, zlen), SEG_SIZE);
    return seg;
}

static void assert_same(const WalSum *a, const WalSum *b)
{
    assert_int_equal(a->start_lsn, b->start_lsn);
    assert_int_equal(a->end_lsn, b->end_lsn);
    assert_int_equal(a->tli, b->tli);
    assert_int_equal(a->complete, b->complete);
    assert_int_equal(a->unknown, b->unknown);
    assert_int_equal(a->records, b->records);
    assert_int_equal(a->nforks, b->nforks);
    assert_int_equal(a->nevents, b->nevents);
    for (size_t i = 0; i < a->nevents; i++) { /* field by field: structs have padding */
        const WalEvent *x = &a->events[i], *y = &b->events[i];
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->lsn, y->lsn);
        assert_memory_equal(&x->node, &y->node, sizeof(WalRelNode));
        assert_int_equal(x->fork, y->fork);
        assert_int_equal(x->block, y->block);
        assert_int_equal(x->extra, y->extra);
    }
    for (size_t i = 0; i < a->nforks; i++) {
        assert_memory_equal(&a->forks[i].node, &b->forks[i].node, sizeof(WalRelNode));
        assert_int_equal(a->forks[i].fork, b->forks[i].fork);
        assert_int_equal(a->forks[i].nblocks, b->forks[i].nblocks);
        assert_memory_equal(a->forks[i].blocks, b->forks[i].blocks,
                            a->forks[i].nblocks * sizeof(uint32_t));
    }
}

static void test_real_segment_round_trip(void **state)
{
    (void)state;
    uint8_t *seg = load_segment();
    WalSum s, back;
    assert_true(walsum_from_segment(seg, SEG_SIZE, SEG_SIZE, 1, &s));
    assert_true(s.complete);
    assert_false(s.unknown);
    assert_true(s.nforks > 10 && s.nevents > 10);
    size_t total = 0;
    for (size_t i = 0; i < s.nforks; i++) {
        for (uint32_t j = 1; j < s.forks[i].nblocks; j++)
            assert_true(s.forks[i].blocks[j] > s.forks[i].blocks[j - 1]); /* invariant 2 */
        total += s.forks[i].nblocks;
    }
    assert_int_equal(total, 297 - 0); /* the distinct "B" lines of walrec_expected.txt */
    Buf b = {0};
    walsum_encode(&s, &b);
    /* a few bytes a block: the varints, plus the fixed-size fork and event entries */
    assert_true(b.len <= 48 + s.nevents * 32 + s.nforks * 20 + total * 3);
    assert_true(walsum_decode(b.data, b.len, &back));
    assert_same(&s, &back);
    walsum_free(&back);
    buf_free(&b);
    walsum_free(&s);
    free(seg);
}

/* A small summary to damage: two forks, two events. */
static void small_summary(Buf *b)
{
    uint32_t b1[] = {0, 1, 2, 300, 70000}, b2[] = {5};
    WalSumFork forks[] = {{{1663, 5, 100}, 0, 5, b1}, {{1663, 5, 100}, 2, 1, b2}};
    WalEvent ev[] = {{WALREC_EV_CREATE, 0x100, {1663, 5, 101}, 0, 0, 0},
                     {WALREC_EV_TRUNCATE, 0x200, {1663, 5, 100}, 0, 3, 7}};
    WalSum s = {0x1000000, 0x2000000, 1, true, false, 9, 2, forks, 2, ev};
    walsum_encode(&s, b);
}

typedef struct {
    const char *title;
    size_t off; /* byte to change */
    int set;    /* new value; -1: cut the summary at off instead */
    const char *message;
} DamageCase;

static void test_damage(void **state)
{
    (void)state;
    const size_t ev0 = 48, fk0 = 48 + 64, fk1 = fk0 + 20;
    const DamageCase cases[] = {
        {"bad magic", 0, 'X', "WAL summary is damaged: not a summary"},
        {"unknown format", 4, 2, "WAL summary is damaged: unknown format"},
        {"unknown flag bit", 28, 5, "WAL summary is damaged: bad header"},
        {"unknown flag without an unknown event", 28, 3,
         "WAL summary is damaged: unknown flag disagrees with the events"},
        {"more events than bytes", 36, 200,
         "WAL summary is damaged: counts larger than the summary"},
        {"event kind out of range", ev0, 99, "WAL summary is damaged: bad event"},
        {"forks out of order", fk1 + 12, 0, "WAL summary is damaged: forks out of order"},
        {"fork number 9", fk0 + 12, 9, "WAL summary is damaged: bad fork entry"},
        {"fork without blocks", fk0 + 16, 0, "WAL summary is damaged: bad fork entry"},
        {"cut inside the block list", fk1 + 20 + 3, -1,
         "WAL summary is damaged: truncated block list"},
        {"cut in the header", 20, -1, "WAL summary is damaged: not a summary"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        Buf b = {0};
        small_summary(&b);
        WalSum s;
        assert_true(walsum_decode(b.data, b.len, &s)); /* the undamaged one is fine */
        assert_int_equal(s.forks[0].blocks[4], 70000);
        walsum_free(&s);
        size_t len = b.len;
        if (cases[i].set < 0)
            len = cases[i].off;
        else
            b.data[cases[i].off] = (uint8_t)cases[i].set;
        if (walsum_decode(b.data, len, &s))
            fail_msg("%s: decoded", cases[i].title);
        if (err_code() != DD_EXIT_CORRUPT || strcmp(err_message(), cases[i].message) != 0)
            fail_msg("%s: \"%s\"", cases[i].title, err_message());
        err_clear();
        buf_free(&b);
    }
    Buf b = {0};
    small_summary(&b);
    buf_append(&b, "", 1);
    WalSum s;
    assert_false(walsum_decode(b.data, b.len, &s));
    assert_string_equal(err_message(), "WAL summary is damaged: trailing bytes");
    err_clear();
    buf_free(&b);
}

static void test_store_and_load(void **state)
{
    (void)state;
    Repo *repo;
    assert_true(repo_open(&cfg, &repo));
    uint8_t *seg = load_segment();
    WalSum s, back;
    bool found;
    assert_true(walsum_load(repo, SEG_NAME, &back, &found));
    assert_false(found); /* a gap */
    assert_true(walsum_store(repo, SEG_NAME, seg, SEG_SIZE));
    assert_true(walsum_store(repo, SEG_NAME, seg, SEG_SIZE)); /* again: already there */
    assert_true(walsum_load(repo, SEG_NAME, &back, &found));
    assert_true(found);
    assert_true(walsum_from_segment(seg, SEG_SIZE, SEG_SIZE, 1, &s));
    assert_same(&s, &back);
    char *path = walsum_path(SEG_NAME);
    assert_string_equal(path, "wal/0000000100000000/000000010000000000000002.sum");
    free(path);
    /* not a segment: the store fails, which wal-push only logs */
    memset(seg, 0, 64);
    assert_false(walsum_store(repo, "000000010000000000000003", seg, SEG_SIZE));
    assert_int_equal(err_code(), DD_EXIT_CORRUPT);
    err_clear();
    walsum_free(&s);
    walsum_free(&back);
    free(seg);
    repo_close(repo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_segment_round_trip),
        cmocka_unit_test(test_damage),
        cmocka_unit_test_setup_teardown(test_store_and_load, testrepo_setup, testrepo_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
