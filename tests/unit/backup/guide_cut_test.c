/*
 * guide_cut_test.c - a guide over a segment whose last record, a DROP TABLE
 * commit, is cut at the segment's end (the real WAL of
 * tests/unit/pg/data/make_walrec_cut.sh): decoded across the boundary from
 * the archive or pg_wal, or ignored when outside [previous start, start).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zstd.h>

#include "backup/guide.h"
#include "common/endian.h"
#include "common/fsutil.h"
#include "common/mem.h"
#include "config/config.h"
#include "pg/wal.h"
#include "repo/manifest.h"
#include "repo/repo.h"
#include "repo/walarchive.h"
#include "unit/testdata.h"

#define CUT_SEG_SIZE (1024u * 1024)

static char root[64];
static Config cfg;
static uint8_t *seg[2];
static uint64_t cut_lsn, seg_lsn;
static uint32_t cut_rel;
static char names[2][WAL_NAME_LEN + 1];

static int setup(void **state)
{
    (void)state;
    size_t n;
    char *txt = testdata_read(__FILE__, "../pg/data/walrec_cut.txt", &n);
    unsigned hi, lo;
    assert_int_equal(sscanf(txt, "%X/%X %u", &hi, &lo, &cut_rel), 3);
    free(txt);
    cut_lsn = (uint64_t)hi << 32 | lo;
    seg[0] = testdata_zst(__FILE__, "../pg/data/walrec_cut_a.zst", CUT_SEG_SIZE, &n);
    seg[1] = testdata_zst(__FILE__, "../pg/data/walrec_cut_b.zst", CUT_SEG_SIZE, &n);
    seg_lsn = le_get64(seg[0] + 8);
    for (int i = 0; i < 2; i++)
        wal_segment_name(1, seg_lsn / CUT_SEG_SIZE + (uint64_t)i, CUT_SEG_SIZE, names[i]);
    snprintf(root, sizeof(root), "/tmp/drydock-unit-cut-XXXXXX");
    assert_non_null(mkdtemp(root));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(seg[0]);
    free(seg[1]);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    return system(cmd);
}

/* A fresh repository archiving the segments in mask (bit i: segment i, with its summary). */
static Repo *repo_with(int run, int mask)
{
    char *tmp = xasprintf("%s/in%d", root, run);
    assert_int_equal(mkdir(tmp, 0700), 0);
    cfg = (Config){0};
    cfg.repo_path = xasprintf("%s/repo%d", root, run);
    cfg.compress = CODEC_ZSTD;
    cfg.compress_level = 3;
    cfg.file = "test";
    assert_true(repo_create(&cfg, (RepoCreateOpts){.system_id = le_get64(seg[0] + 24),
                                                   .wal_seg_size = CUT_SEG_SIZE,
                                                   .pg_version = 150000}));
    Repo *repo;
    assert_true(repo_open(&cfg, &repo));
    for (int i = 0; i < 2; i++) {
        if (!(mask & 1 << i))
            continue;
        char *path = xasprintf("%s/%s", tmp, names[i]);
        assert_true(fs_write_file(path, seg[i], CUT_SEG_SIZE, 0600));
        WalPushResult r;
        if (!walarchive_push(repo, path, &r))
            fail_msg("push: %s", err_message());
        free(path);
    }
    free(tmp);
    return repo;
}

/* A data directory whose pg_wal holds the second segment. */
static char *datadir_with_b(int run)
{
    char *dd = xasprintf("%s/data%d", root, run);
    char *wal = xasprintf("%s/pg_wal", dd);
    assert_int_equal(mkdir(dd, 0700), 0);
    assert_int_equal(mkdir(wal, 0700), 0);
    char *path = xasprintf("%s/%s", wal, names[1]);
    assert_true(fs_write_file(path, seg[1], CUT_SEG_SIZE, 0600));
    free(path);
    free(wal);
    return dd;
}

static void test_guides(void **state)
{
    (void)state;
    const struct {
        const char *what;
        int archived;        /* bit i: segment i archived */
        bool pg_wal_b;       /* the second segment in the data directory's pg_wal */
        int64_t prev, start; /* LSNs, relative to the cut commit's */
        bool guided;         /* a guide, which reads the dropped relation whole */
    } cases[] = {
        {"both archived", 3, false, -(int64_t)(CUT_SEG_SIZE - 48), 8192, true},
        {"the next one only in pg_wal", 1, true, -(int64_t)(CUT_SEG_SIZE - 48), 8192, true},
        {"the next one nowhere", 1, false, -(int64_t)(CUT_SEG_SIZE - 48), 8, false},
        {"the commit at this backup's start", 1, false, -(int64_t)(CUT_SEG_SIZE - 48), 0, true},
        {"the commit before the previous start", 1, false, 8, 16, true},
        {"the commit at the previous start", 1, false, 0, 16, false},
    };
    for (int i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
        Repo *repo = repo_with(i, cases[i].archived);
        char *dd = cases[i].pg_wal_b ? datadir_with_b(i) : NULL;
        Manifest prev = {.tli = 1,
                         .start_lsn = (uint64_t)((int64_t)cut_lsn + cases[i].prev),
                         .data_checksums = 0,
                         .full_read_time = 1e9};
        GuideOpts o = {.prev = &prev,
                       .tli = 1,
                       .start_lsn = (uint64_t)((int64_t)cut_lsn + cases[i].start),
                       .datadir = dd,
                       .now = 1e9 + 60};
        char why[256] = "";
        BackupGuide *g = backup_guide_open(repo, &o, why, sizeof(why));
        if ((g != NULL) != cases[i].guided)
            fail_msg("%s: guided %d, expected %d (%s)", cases[i].what, g != NULL, cases[i].guided,
                     why);
        if (!g)
            assert_non_null(strstr(why, "has a record drydock cannot vouch for"));
        /* the dropped relation's file node, if reused, is read whole only
         * when the commit was decoded (it is in the range) */
        char *rel = xasprintf("base/5/%u", cut_rel);
        DatadirEntry e = {.path = rel, .size = 8192};
        ManifestFile pf = {.mode = S_IFREG | 0600, .size = 8192};
        GuideReason reason;
        bool in_range = cases[i].prev <= 0 && cases[i].start > 0;
        if (g) {
            assert_int_equal(backup_guide_file(g, &e, &pf, &reason), !in_range);
            assert_int_equal(reason, in_range ? GUIDE_WHOLE_DROPPED : GUIDE_READ_CHANGED);
        }
        free(rel);
        backup_guide_free(g);
        free(dd);
        repo_close(repo);
        free(cfg.repo_path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_guides)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
