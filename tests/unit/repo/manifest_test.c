/*
 * manifest_test.c - manifests: round trip, listing, missing and damaged
 * manifests, structural checks (chunk sums, paths, order) in both formats
 * (2, binary, written; 1, JSON, still read), a truncated binary one.
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

#include "repo/manifest.h"
#include "unit/testrepo.h"

static Manifest *sample(const char *id)
{
    Manifest *m = xcalloc(1, sizeof(*m));
    m->id = xstrdup(id);
    m->source_node = xstrdup("standby");
    m->system_id = 42; /* testrepo.h's repository */
    m->pg_version = 150004;
    m->tli = 2;
    m->start_lsn = 0x100000028ull;
    m->stop_lsn = 0x100000138ull;
    m->start_time = 1795597200.25;
    m->stop_time = 1795597203.5;
    m->backup_label = xstrdup("START WAL LOCATION: 1/28 (file 000000020000000100000000)\n\"q\"\\");
    m->tablespace_map = xstrdup("16384 /srv/ts1\n");
    m->chunk_size = 131072;
    m->bytes_logical = 139264;
    m->bytes_new = 100;
    m->bytes_stored = 50;
    m->duration = 3.25;
    m->full_read_reason = xstrdup("no previous backup");
    m->ntablespaces = 1;
    m->tablespaces = xcalloc(1, sizeof(ManifestTablespace));
    m->tablespaces[0].oid = 16384;
    m->tablespaces[0].location = xstrdup("/srv/ts1");
    m->nfiles = 3;
    m->files = xcalloc(3, sizeof(ManifestFile));
    m->files[0] = (ManifestFile){xstrdup("base"), S_IFDIR | 0700, 0, 1795597100.0, NULL, 0};
    m->files[1] = (ManifestFile){xstrdup("base/1/1259"),
                                 S_IFREG | 0600,
                                 139264,
                                 1795597101.5,
                                 xcalloc(2, sizeof(ManifestChunk)),
                                 2};
    m->files[1].chunks[0].len = 131072;
    memset(m->files[1].chunks[0].sha256, 0x11, SHA256_LEN);
    m->files[1].chunks[1].len = 8192;
    memset(m->files[1].chunks[1].sha256, 0x22, SHA256_LEN);
    m->files[2] = (ManifestFile){xstrdup("global/pg_control"), S_IFREG | 0600, 0, 1.0, NULL, 0};
    return m;
}

static void test_round_trip(void **state)
{
    (void)state;
    Repo *repo;
    assert_true(repo_open(&cfg, &repo));
    Manifest *m = sample("20261125T090000Z");
    assert_true(manifest_save(repo, m));
    assert_false(manifest_save(repo, m)); /* never overwritten */
    assert_int_equal(err_code(), DD_EXIT_CONFLICT);
    Manifest *m2 = sample("20261125T080000Z");
    assert_true(manifest_save(repo, m2));
    StrList ids = {0};
    assert_true(manifest_list(repo, &ids));
    assert_int_equal(ids.len, 2);
    assert_string_equal(ids.items[0], "20261125T080000Z");
    assert_string_equal(ids.items[1], "20261125T090000Z");
    strlist_free(&ids);

    Manifest *l;
    assert_true(manifest_load(repo, "20261125T090000Z", &l));
    assert_string_equal(l->source_node, "standby");
    assert_true(l->system_id == m->system_id);
    assert_int_equal(l->pg_version, 150004);
    assert_int_equal(l->tli, 2);
    assert_true(l->start_lsn == m->start_lsn && l->stop_lsn == m->stop_lsn);
    assert_true(l->start_time == m->start_time && l->duration == 3.25);
    assert_string_equal(l->backup_label, m->backup_label);
    assert_string_equal(l->tablespace_map, m->tablespace_map);
    assert_int_equal(l->ntablespaces, 1);
    assert_string_equal(l->tablespaces[0].location, "/srv/ts1");
    assert_int_equal(l->nfiles, 3);
    assert_string_equal(l->files[1].path, "base/1/1259");
    assert_int_equal(l->files[1].mode, S_IFREG | 0600);
    assert_int_equal(l->files[1].nchunks, 2);
    assert_memory_equal(l->files[1].chunks[1].sha256, m->files[1].chunks[1].sha256, SHA256_LEN);
    assert_true(l->files[0].mode == (S_IFDIR | 0700));
    assert_false(l->guided);
    assert_string_equal(l->full_read_reason, "no previous backup");
    assert_int_equal(l->nread_whole, 0);
    manifest_free(l);
    /* a guided one: files read where changed, and read whole by reason */
    Manifest *g = sample("20261125T100000Z");
    ManifestCount whole[] = {{"created", 3}, {"free space or visibility map", 238}};
    g->guided = true;
    g->files_guided = 553;
    g->read_whole = whole;
    g->nread_whole = 2;
    assert_true(manifest_save(repo, g));
    g->read_whole = NULL;
    g->nread_whole = 0;
    assert_true(manifest_load(repo, "20261125T100000Z", &l));
    assert_true(l->guided && l->full_read_reason == NULL);
    assert_int_equal(l->files_guided, 553);
    assert_int_equal(l->nread_whole, 2);
    uint64_t n = 0;
    for (size_t i = 0; i < l->nread_whole; i++)
        n += strcmp(l->read_whole[i].name, "created") == 0 ? l->read_whole[i].n * 1000
                                                           : l->read_whole[i].n;
    assert_int_equal(n, 3238);
    manifest_free(l);
    manifest_free(g);
    assert_true(manifest_remove(repo, "20261125T100000Z"));

    assert_true(manifest_remove(repo, "20261125T080000Z"));
    assert_true(manifest_list(repo, &ids));
    assert_int_equal(ids.len, 1);
    strlist_free(&ids);
    manifest_free(m);
    manifest_free(m2);
    repo_close(repo);
}

/* Store m as format 1 JSON, as drydock wrote it before format 2. */
static bool save_v1(Repo *repo, const Manifest *m)
{
    char *text = manifest_json(m);
    char *path = xasprintf("backups/%s.manifest", m->id);
    bool ok = text &&
              repo_object_put(repo, path, text, strlen(text), (StoragePutOpts){.exclusive = true});
    free(path);
    free(text);
    return ok;
}

static bool save_v2(Repo *repo, const Manifest *m)
{
    return manifest_save(repo, m);
}

typedef bool (*SaveFn)(Repo *repo, const Manifest *m);
static const SaveFn savers[] = {save_v2, save_v1};

/* Both formats load to the same manifest (compared through its format 1 JSON). */
static void test_formats(void **state)
{
    (void)state;
    Repo *repo;
    assert_true(repo_open(&cfg, &repo));
    Manifest *m1 = sample("20261126T010000Z"), *m2 = sample("20261126T020000Z");
    assert_true(save_v1(repo, m1));
    Manifest *l1 = NULL, *l2 = NULL;
    assert_true(manifest_load(repo, "20261126T010000Z", &l1));
    assert_true(save_v2(repo, m2));
    assert_true(manifest_load(repo, "20261126T020000Z", &l2));
    free(l2->id);
    l2->id = xstrdup(l1->id);
    char *j1 = manifest_json(l1), *j2 = manifest_json(l2), *j0 = manifest_json(m1);
    assert_string_equal(j1, j2);
    assert_string_equal(j0, j2);
    assert_true(l2->files[1].mtime == 1795597101.5);
    free(j0);
    free(j1);
    free(j2);
    manifest_free(l1);
    manifest_free(l2);
    manifest_free(m1);
    manifest_free(m2);
    repo_close(repo);
}

/* A binary manifest cut anywhere, or with a byte too many, is refused whole. */
static void test_binary_truncated(void **state)
{
    (void)state;
    Repo *repo;
    assert_true(repo_open(&cfg, &repo));
    Manifest *m = sample("20261126T030000Z");
    assert_true(manifest_save(repo, m));
    Buf raw = {0};
    bool found = false;
    assert_true(repo_object_get(repo, "backups/20261126T030000Z.manifest", &raw, &found) && found);
    assert_memory_equal(raw.data, "DDMF", 4);
    Manifest *l = NULL;
    assert_true(manifest_parse((const char *)raw.data, raw.len, 42, &l));
    manifest_free(l);
    for (size_t cut = 8; cut < raw.len; cut++) {
        l = NULL;
        if (manifest_parse((const char *)raw.data, cut, 42, &l))
            fail_msg("cut at %zu of %zu: loaded", cut, raw.len);
        assert_int_equal(err_code(), DD_EXIT_CORRUPT);
    }
    buf_append(&raw, "", 1);
    assert_false(manifest_parse((const char *)raw.data, raw.len, 42, &l));
    assert_string_equal(err_message(), "1 bytes follow its file list");
    raw.data[4] = 3; /* format 3 */
    assert_false(manifest_parse((const char *)raw.data, raw.len, 42, &l));
    assert_int_equal(err_code(), DD_EXIT_REPO);
    buf_free(&raw);
    manifest_free(m);
    repo_close(repo);
}

static void test_missing(void **state)
{
    (void)state;
    Repo *repo;
    assert_true(repo_open(&cfg, &repo));
    Manifest *l = NULL;
    assert_false(manifest_load(repo, "20200101T000000Z", &l));
    assert_int_equal(err_code(), DD_EXIT_USAGE);
    char *expect =
        xasprintf("backup \"20200101T000000Z\" does not exist in repository \"%s\"", cfg.repo_path);
    assert_string_equal(err_message(), expect);
    free(expect);
    assert_false(manifest_load(repo, "../drydock", &l));
    assert_int_equal(err_code(), DD_EXIT_USAGE);
    repo_close(repo);
}

static void test_corrupt(void **state)
{
    (void)state;
    Repo *repo;
    assert_true(repo_open(&cfg, &repo));
    Manifest *m = sample("20261125T100000Z");
    assert_true(manifest_save(repo, m));
    char *path = xasprintf("%s/backups/20261125T100000Z.manifest", cfg.repo_path);
    assert_true(testrepo_flip(path, 80, 0x08));
    Manifest *l = NULL;
    assert_false(manifest_load(repo, "20261125T100000Z", &l));
    assert_int_equal(err_code(), DD_EXIT_CORRUPT);
    assert_non_null(strstr(err_message(), "20261125T100000Z.manifest"));
    free(path);
    manifest_free(m);
    repo_close(repo);
}

typedef struct {
    const char *title;
    void (*spoil)(Manifest *m);
    const char *message; /* expected substring */
} BadCase;

static void spoil_sum(Manifest *m)
{
    m->files[1].size = 1;
}

static void spoil_path(Manifest *m)
{
    free(m->files[2].path);
    m->files[2].path = xstrdup("global/../../etc/passwd");
}

static void spoil_order(Manifest *m)
{
    free(m->files[0].path);
    m->files[0].path = xstrdup("zzz");
}

/* What restore relies on (issue 16: verify passed these, restore refused them). */
static void spoil_lsn(Manifest *m)
{
    m->stop_lsn = 0x28;
}

static void spoil_sysid(Manifest *m)
{
    m->system_id = 7311234567890123456ull;
}

static void spoil_under_file(Manifest *m)
{
    free(m->files[2].path);
    m->files[2].path = xstrdup("base/1/1259/x");
    m->files[2].mode = S_IFDIR | 0700;
}

static void spoil_empty(Manifest *m)
{
    for (size_t i = 0; i < m->nfiles; i++) {
        free(m->files[i].path);
        free(m->files[i].chunks);
    }
    m->nfiles = 0;
}

static void spoil_tablespace(Manifest *m)
{
    free(m->tablespaces[0].location);
    m->tablespaces[0].location = xstrdup("srv/ts1");
}

static void spoil_label(Manifest *m)
{
    m->backup_label[0] = '\0';
}

static void test_structure(void **state)
{
    (void)state;
    const BadCase cases[] = {
        {"stop before start", spoil_lsn, "its WAL range 1/28 to 0/28 is not a range"},
        {"another cluster", spoil_sysid,
         "it is of the cluster with system identifier 7311234567890123456, the repository's is "
         "42"},
        {"a directory under a file", spoil_under_file,
         "\"base/1/1259/x\" is listed under \"base/1/1259\", which is a file"},
        {"no file", spoil_empty, "it lists no file"},
        {"relative tablespace", spoil_tablespace,
         "tablespace 16384 has location \"srv/ts1\", not an absolute path"},
        {"no backup_label", spoil_label, "it has no backup_label"},
        {"chunks do not add up", spoil_sum,
         "the chunks of file \"base/1/1259\" add up to 139264 bytes, not 1"},
        {"path escapes", spoil_path,
         "file path \"global/../../etc/passwd\" is not a relative path"},
        {"out of order", spoil_order, "file \"base/1/1259\" is out of order or listed twice"},
    };
    Repo *repo;
    assert_true(repo_open(&cfg, &repo));
    for (size_t fmt = 0; fmt < 2; fmt++)
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            char id[32];
            snprintf(id, sizeof(id), "2026%02zu%02zuT000000Z", fmt + 10, i + 10);
            Manifest *m = sample(id);
            cases[i].spoil(m);
            assert_true(savers[fmt](repo, m));
            Manifest *l = NULL;
            if (manifest_load(repo, id, &l))
                fail_msg("%s (format %zu): loaded", cases[i].title, 2 - fmt);
            if (!strstr(err_message(), cases[i].message))
                fail_msg("%s (format %zu): got \"%s\"", cases[i].title, 2 - fmt, err_message());
            assert_int_equal(err_code(), DD_EXIT_CORRUPT);
            manifest_free(m);
        }
    repo_close(repo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip), cmocka_unit_test(test_missing),
        cmocka_unit_test(test_corrupt),    cmocka_unit_test(test_structure),
        cmocka_unit_test(test_formats),    cmocka_unit_test(test_binary_truncated),
    };
    return cmocka_run_group_tests(tests, testrepo_setup, testrepo_teardown);
}
