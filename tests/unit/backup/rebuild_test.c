/*
 * rebuild_test.c - the copy of a WAL-guided backup (copy.h): a chunk whose
 * changed pages the guide names is rebuilt from the previous backup's chunk
 * with only those pages read; a chunk with more than half of its pages named
 * is read whole; a chunk with none is taken unread. The proof that only the
 * named pages were read: a page changed behind the guide's back (no WAL)
 * stays as the previous backup had it, in a rebuilt chunk and a reused one
 * (PostgreSQL never does that; the test does, to see what was read).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/copy.h"
#include "backup/guide.h"
#include "common/fsutil.h"
#include "pg/datadir.h"
#include "repo/chunkstore.h"
#include "unit/testrepo.h"

#define CHUNK_SIZE (64u * 1024) /* 8 pages */
#define PAGES      24           /* base/1/2000: three chunks */
#define FILE_LEN   (PAGES * PG_BLCKSZ)

static uint8_t before[FILE_LEN], after[FILE_LEN];

static char *write_datadir(const uint8_t *rel)
{
    char *dir = xasprintf("%s/data", testrepo_root);
    const char *dirs[] = {"", "/global", "/base", "/base/1"};
    for (size_t i = 0; i < 4; i++) {
        char *d = xasprintf("%s%s", dir, dirs[i]);
        mkdir(d, 0700);
        free(d);
    }
    char *path = xasprintf("%s/base/1/2000", dir);
    assert_true(fs_write_file(path, rel, FILE_LEN, 0600));
    free(path);
    path = xasprintf("%s/PG_VERSION", dir);
    assert_true(fs_write_file(path, "15\n", 3, 0600));
    free(path);
    return dir;
}

static void copy(ChunkStore *cs, const char *dir, const Manifest *prev, const BackupGuide *g,
                 BackupCopyResult *cr)
{
    DatadirList dl = {0};
    assert_true(datadir_walk(dir, &dl));
    assert_true(backup_copy(
        &dl, cs, (BackupCopyOpts){.jobs = 2, .chunk_size = CHUNK_SIZE, .prev = prev, .guide = g},
        cr));
    assert_true(chunkstore_flush(cs));
    datadir_list_free(&dl);
}

static const ManifestFile *find(const BackupCopyResult *cr, const char *path)
{
    for (size_t i = 0; i < cr->nfiles; i++)
        if (strcmp(cr->files[i].path, path) == 0)
            return &cr->files[i];
    fail_msg("%s is not in the copy", path);
    return NULL;
}

/* Chunk ci of base/1/2000 as the store has it equals want's bytes there. */
static void expect_chunk(ChunkStore *cs, const ManifestFile *f, uint32_t ci, const uint8_t *want)
{
    Buf raw = {0};
    assert_true(chunkstore_get(cs, f->chunks[ci].sha256, &raw));
    assert_int_equal(raw.len, CHUNK_SIZE);
    if (memcmp(raw.data, want + (size_t)ci * CHUNK_SIZE, CHUNK_SIZE) != 0)
        fail_msg("chunk %u is not what was expected", ci);
    buf_free(&raw);
}

static void test_rebuild(void **state)
{
    (void)state;
    for (size_t i = 0; i < FILE_LEN; i++)
        before[i] = (uint8_t)(i * 31 + i / 8192 * 7 + i / 977);
    char *dir = write_datadir(before);
    Repo *repo = NULL;
    ChunkStore *cs = NULL;
    assert_true(repo_open(&cfg, &repo) && chunkstore_open(repo, &cs));
    BackupCopyResult first = {0};
    copy(cs, dir, NULL, NULL, &first);
    assert_int_equal(first.bytes_read, FILE_LEN + 3);

    /* pages 3 and 16..21 changed (in the WAL); 5 and 12 without WAL */
    memcpy(after, before, FILE_LEN);
    uint32_t named[] = {3, 16, 17, 18, 19, 20, 21};
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        memset(after + named[i] * PG_BLCKSZ + 100, 0xA5, 50);
    after[5 * PG_BLCKSZ + 9] ^= 0xFF;
    after[12 * PG_BLCKSZ + 7] ^= 0xFF;
    free(write_datadir(after));
    WalSumFork fork = {{1663, 1, 2000}, WALREC_FORK_MAIN, 7, named};
    WalSum s = {.nforks = 1, .forks = &fork, .complete = true};
    BackupGuide *g = backup_guide_new();
    backup_guide_merge(g, &s);
    backup_guide_seal(g);
    Manifest prev = {.chunk_size = CHUNK_SIZE, .files = first.files, .nfiles = first.nfiles};
    BackupCopyResult second = {0};
    copy(cs, dir, &prev, g, &second);

    assert_int_equal(second.chunks_rebuilt, 1); /* chunk 0: page 3 */
    assert_int_equal(second.chunks_reused, 1);  /* chunk 1: nothing named */
    /* page 3, chunk 2 whole (6 of 8 pages named), PG_VERSION (not a relation) */
    assert_int_equal(second.bytes_read, PG_BLCKSZ + CHUNK_SIZE + 3);
    const ManifestFile *f = find(&second, "base/1/2000");
    assert_int_equal(f->nchunks, 3);
    uint8_t *seen = xmalloc(FILE_LEN); /* what the guide vouches for: page 12 as before */
    memcpy(seen, after, FILE_LEN);
    seen[5 * PG_BLCKSZ + 9] = before[5 * PG_BLCKSZ + 9];
    seen[12 * PG_BLCKSZ + 7] = before[12 * PG_BLCKSZ + 7];
    for (uint32_t ci = 0; ci < 3; ci++)
        expect_chunk(cs, f, ci, seen);
    assert_memory_not_equal(f->chunks[0].sha256, find(&first, "base/1/2000")->chunks[0].sha256,
                            SHA256_LEN);
    assert_memory_equal(f->chunks[1].sha256, find(&first, "base/1/2000")->chunks[1].sha256,
                        SHA256_LEN);
    assert_true(chunkstore_delta_count(cs) >= 1); /* the rebuilt chunk is a delta of its base */
    free(seen);
    backup_guide_free(g);
    backup_copy_result_free(&second);
    backup_copy_result_free(&first);
    chunkstore_close(cs);
    repo_close(repo);
    free(dir);
}

/* The pages of a chunk the guide names, as bits: the lookup the rebuild uses. */
static void test_chunk_pages(void **state)
{
    (void)state;
    uint32_t blocks[] = {1, 15, 16, 63, 64, 130, 131072 + 2};
    WalSumFork fork = {{1663, 5, 100}, WALREC_FORK_MAIN, 7, blocks};
    WalSum s = {.nforks = 1, .forks = &fork, .complete = true};
    BackupGuide *g = backup_guide_new();
    backup_guide_merge(g, &s);
    backup_guide_seal(g);
    const struct {
        const char *path;
        uint32_t segno;
        uint64_t offset;
        uint32_t len;
        uint32_t n;
        uint64_t word0, word1;
    } cases[] = {
        {"base/5/100", 0, 0, 128 * 1024, 2, 1ull << 1 | 1ull << 15, 0},
        {"base/5/100", 0, 128 * 1024, 128 * 1024, 1, 1, 0}, /* block 16 */
        {"base/5/100", 0, 0, 1024 * 1024, 5, 1ull << 1 | 1ull << 15 | 1ull << 16 | 1ull << 63, 1},
        {"base/5/100", 0, 1024 * 1024, 1024 * 1024, 1, 1ull << 2, 0}, /* block 130 */
        {"base/5/100", 0, 2 * 8192, 8192, 0, 0, 0},
        {"base/5/100", 0, 15 * 8192, 3 * 8192 + 1, 2, 1 | 1ull << 1, 0}, /* 15, 16 (17, 18: no) */
        {"base/5/100.1", 1, 0, 128 * 1024, 1, 1ull << 2, 0},
        {"base/5/100_vm", 0, 0, 128 * 1024, 0, 0, 0},
        {"base/5/101", 0, 0, 128 * 1024, 0, 0, 0},
        {"base/5/PG_VERSION", 0, 0, 3 * 8192, 3, 7, 0}, /* not a relation: every page */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        DatadirEntry e = {.path = (char *)cases[i].path, .segno = cases[i].segno};
        uint64_t pages[GUIDE_CHUNK_PAGES_MAX / 64];
        uint32_t n = backup_guide_chunk_pages(g, &e, cases[i].offset, cases[i].len, pages);
        if (n != cases[i].n || pages[0] != cases[i].word0 || pages[1] != cases[i].word1)
            fail_msg("case %zu (%s at %llu): %u pages, words %llx %llx", i, cases[i].path,
                     (unsigned long long)cases[i].offset, n, (unsigned long long)pages[0],
                     (unsigned long long)pages[1]);
        bool changed = backup_guide_chunk_changed(g, &e, cases[i].offset, cases[i].len);
        if (strstr(cases[i].path, "PG_VERSION") == NULL && changed != (n > 0))
            fail_msg("case %zu: chunk_changed disagrees with chunk_pages", i);
    }
    backup_guide_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rebuild, testrepo_setup, testrepo_teardown),
        cmocka_unit_test(test_chunk_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
