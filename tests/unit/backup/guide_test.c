/*
 * guide_test.c - the merge of WAL summaries across segments and what it
 * vouches for: which relation files may be guided, which are read whole and
 * why, and which chunks hold a changed block.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/stat.h>

#include "backup/guide.h"

static BackupGuide *two_segments(void)
{
    /* segment 1 */
    uint32_t main1[] = {0, 20}, vm1[] = {0};
    WalSumFork f1[] = {{{1663, 5, 100}, 0, 2, main1}, {{1663, 5, 100}, 2, 1, vm1}};
    WalEvent e1[] = {{WALREC_EV_CREATE, 0x10, {1663, 5, 200}, 0, 0, 0},
                     {WALREC_EV_DB_COPY, 0x20, {1663, 7, 0}, 0, 0, 1}};
    WalSum s1 = {.nforks = 2, .forks = f1, .nevents = 2, .events = e1, .complete = true};
    /* segment 2: block 20 again, and a block in the third 1 GiB file */
    uint32_t main2[] = {20, 2 * 131072 + 5}, g2[] = {3};
    WalSumFork f2[] = {{{1663, 5, 100}, 0, 2, main2}, {{1664, 0, 1262}, 0, 1, g2}};
    WalEvent e2[] = {{WALREC_EV_TRUNCATE, 0x30, {1663, 5, 300}, 0, 4, 7},
                     {WALREC_EV_TBLSPC_CREATE, 0x40, {16400, 0, 0}, 0, 0, 0},
                     {WALREC_EV_DROP, 0x50, {16500, 5, 400}, 0, 0, 0}};
    WalSum s2 = {.nforks = 2, .forks = f2, .nevents = 3, .events = e2, .complete = true};
    BackupGuide *g = backup_guide_new();
    backup_guide_merge(g, &s2); /* any order */
    backup_guide_merge(g, &s1);
    backup_guide_seal(g);
    return g;
}

typedef struct {
    const char *path;
    uint64_t size, prev_size; /* prev_size 0: not in the previous backup */
    bool guided;
    GuideReason reason;
} FileCase;

static void test_files(void **state)
{
    (void)state;
    BackupGuide *g = two_segments();
    const FileCase cases[] = {
        {"base/5/100", 81920, 81920, true, GUIDE_READ_CHANGED},
        {"base/5/100.2", 8192, 8192, true, GUIDE_READ_CHANGED},
        {"base/5/100", 163840, 81920, true, GUIDE_READ_CHANGED}, /* grew: the tail is read */
        {"base/5/100", 8192, 81920, false, GUIDE_WHOLE_SHRANK},
        {"base/5/101", 8192, 0, false, GUIDE_WHOLE_NEW},
        {"base/5/100_fsm", 24576, 24576, false, GUIDE_WHOLE_MAPS},
        {"base/5/100_vm", 8192, 8192, false, GUIDE_WHOLE_MAPS},
        {"base/5/100_init", 0, 0, false, GUIDE_WHOLE_NEW},
        {"base/5/200", 8192, 8192, false, GUIDE_WHOLE_CREATED},
        {"base/5/200_vm", 8192, 8192, false, GUIDE_WHOLE_CREATED},
        {"base/5/300.1", 8192, 8192, false, GUIDE_WHOLE_TRUNCATED},
        {"base/7/1259", 8192, 8192, false, GUIDE_WHOLE_DATABASE},
        {"pg_tblspc/16400/PG_15_202209061/5/16401", 8192, 8192, false, GUIDE_WHOLE_TABLESPACE},
        {"pg_tblspc/16500/PG_15_202209061/5/400", 8192, 8192, false, GUIDE_WHOLE_DROPPED},
        {"pg_tblspc/16500/PG_15_202209061/5/401", 8192, 8192, true, GUIDE_READ_CHANGED},
        {"global/1262", 8192, 8192, true, GUIDE_READ_CHANGED},
        {"global/pg_control", 8192, 8192, false, GUIDE_READ_CHANGED}, /* not a relation */
        {"base/5/PG_VERSION", 3, 3, false, GUIDE_READ_CHANGED},
        {"base/5/pg_filenode.map", 512, 512, false, GUIDE_READ_CHANGED},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const FileCase *c = &cases[i];
        DatadirEntry e = {.path = (char *)c->path, .mode = S_IFREG | 0600, .size = c->size};
        ManifestFile pf = {.path = (char *)c->path, .mode = S_IFREG | 0600, .size = c->prev_size};
        GuideReason why;
        bool guided = backup_guide_file(g, &e, c->prev_size ? &pf : NULL, &why);
        if (guided != c->guided || why != c->reason)
            fail_msg("%s (size %llu, before %llu): guided %d reason %s", c->path,
                     (unsigned long long)c->size, (unsigned long long)c->prev_size, guided,
                     guide_reason_name(why));
    }
    uint64_t segs, blocks;
    backup_guide_stats(g, &segs, &blocks);
    assert_int_equal(blocks, 5); /* 0, 20, 2*131072+5, vm 0, global 3: 20 once */
    backup_guide_free(g);
}

typedef struct {
    const char *path;
    uint32_t segno;
    uint64_t offset;
    uint32_t len;
    bool changed;
} ChunkCase;

static void test_chunks(void **state)
{
    (void)state;
    BackupGuide *g = two_segments();
    const uint32_t K128 = 128 * 1024;
    const ChunkCase cases[] = {
        {"base/5/100", 0, 0, K128, true},             /* blocks 0..15: 0 */
        {"base/5/100", 0, K128, K128, true},          /* 16..31: 20 */
        {"base/5/100", 0, 2 * K128, K128, false},     /* 32..47 */
        {"base/5/100", 0, 160 * 1024, 8192, true},    /* block 20 alone */
        {"base/5/100", 0, 21 * 8192, 8192, false},    /* block 21 */
        {"base/5/100", 0, 19 * 8192, 8192, false},    /* block 19 */
        {"base/5/100", 0, 19 * 8192, 8192 + 1, true}, /* 19 and a byte of 20 */
        {"base/5/100.2", 2, 0, K128, true},           /* block 2*131072+5 */
        {"base/5/100.1", 1, 0, K128, false},
        {"base/5/100_vm", 0, 0, 8192, true},
        {"base/5/101", 0, 0, K128, false},
        {"global/1262", 0, 0, K128, true},
        {"base/6/100", 0, 0, K128, false}, /* another database */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const ChunkCase *c = &cases[i];
        DatadirEntry e = {.path = (char *)c->path, .segno = c->segno, .relation = true};
        if (backup_guide_chunk_changed(g, &e, c->offset, c->len) != c->changed)
            fail_msg("%s segment %u offset %llu len %u: expected %s", c->path, c->segno,
                     (unsigned long long)c->offset, c->len, c->changed ? "changed" : "unchanged");
    }
    backup_guide_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
