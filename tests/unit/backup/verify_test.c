/*
 * verify_test.c - verify over a repository built here (issue 16): a damaged
 * index whose pack held only a delta is still named as what breaks the
 * backup (a delta's envelope names its payload, not the chunk, so the scan
 * of the pack cannot), and a truncated pack is one line.
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
#include <unistd.h>

#include "backup/verify.h"
#include "repo/chunkstore.h"
#include "repo/manifest.h"
#include "unit/testrepo.h"

enum { LEN = 4 * 8192 };

/* A one-file manifest naming chunk sha (LEN bytes). */
static Manifest *one_file(const char *id, const uint8_t sha[SHA256_LEN])
{
    Manifest *m = xcalloc(1, sizeof(*m));
    m->id = xstrdup(id);
    m->source_node = xstrdup("primary");
    m->system_id = 42;
    m->pg_version = 150004;
    m->tli = 1;
    m->start_lsn = 0x2000028;
    m->stop_lsn = 0x2000138;
    m->backup_label = xstrdup("START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n");
    m->tablespace_map = xstrdup("");
    m->chunk_size = 131072;
    m->tablespaces = xcalloc(1, sizeof(ManifestTablespace));
    m->nfiles = 1;
    m->files = xcalloc(1, sizeof(ManifestFile));
    m->files[0] = (ManifestFile){
        xstrdup("base/1/1259"), S_IFREG | 0600, LEN, 1.0, xcalloc(1, sizeof(ManifestChunk)), 1};
    m->files[0].chunks[0].len = LEN;
    memcpy(m->files[0].chunks[0].sha256, sha, SHA256_LEN);
    return m;
}

/* Whether some problem line holds all of the given parts. */
static bool has_problem(const VerifyReport *r, const char *a, const char *b)
{
    for (size_t i = 0; i < r->problems.len; i++)
        if (strstr(r->problems.items[i], a) && strstr(r->problems.items[i], b))
            return true;
    return false;
}

static void test_damaged_delta_pack(void **state)
{
    (void)state;
    Repo *repo;
    ChunkStore *cs;
    assert_true(repo_open(&cfg, &repo));
    assert_true(chunkstore_open(repo, &cs));
    static uint8_t base[LEN], next[LEN];
    for (size_t i = 0; i < LEN; i++)
        base[i] = (uint8_t)(i * 7 + (i >> 11));
    memcpy(next, base, LEN);
    next[8192 + 3] ^= 0x11;
    uint8_t sb[SHA256_LEN], sn[SHA256_LEN];
    sha256(base, LEN, sb);
    sha256(next, LEN, sn);
    uint64_t stored;
    assert_true(chunkstore_put(cs, sb, base, LEN, &stored));
    assert_true(chunkstore_flush(cs));
    assert_true(chunkstore_put_delta(cs, sn, next, LEN, sb, &stored));
    assert_true(chunkstore_flush(cs));
    char *dname = xstrdup(chunkstore_pack_name(cs, chunkstore_npacks(cs) - 1));
    chunkstore_close(cs);
    Manifest *a = one_file("20261130T100000Z", sb), *b = one_file("20261130T110000Z", sn);
    assert_true(manifest_save(repo, a) && manifest_save(repo, b));
    manifest_free(a);
    manifest_free(b);
    repo_close(repo);

    char *idx = xasprintf("%s/packs/%s.index", cfg.repo_path, dname);
    assert_true(testrepo_flip(idx, 70, 0x01));
    VerifyReport r;
    assert_true(repo_open(&cfg, &repo));
    assert_true(verify_run(repo, NULL, &r));
    repo_close(repo);
    if (!has_problem(&r,
                     "backup 20261130T110000Z cannot be restored: 1 chunks it needs are "
                     "missing; pack",
                     dname)) {
        for (size_t i = 0; i < r.problems.len; i++)
            print_message("%s\n", r.problems.items[i]);
        fail_msg("the damaged delta pack %s is not named for the backup", dname);
    }
    assert_false(has_problem(&r, "20261130T100000Z", "chunk")); /* its chunk is fine */
    verify_report_free(&r);
    free(idx);
    free(dname);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_damaged_delta_pack),
    };
    return cmocka_run_group_tests(tests, testrepo_setup, testrepo_teardown);
}
