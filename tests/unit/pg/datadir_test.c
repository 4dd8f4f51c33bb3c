/*
 * datadir_test.c - the base-backup exclusion rules (a pure function of the
 * path), relation segment recognition, and a walk over a fake data directory
 * with an unlogged relation and a tablespace.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/mem.h"
#include "pg/datadir.h"

typedef struct {
    const char *path;
    bool is_dir;
    DatadirRule rule;
} RuleCase;

static void test_rules(void **state)
{
    (void)state;
    const RuleCase cases[] = {
        {"postmaster.pid", false, DATADIR_SKIP},
        {"postmaster.opts", false, DATADIR_SKIP},
        {"backup_label", false, DATADIR_SKIP},
        {"tablespace_map", false, DATADIR_SKIP},
        {"standby.signal", false, DATADIR_SKIP},
        {"recovery.signal", false, DATADIR_SKIP},
        {"postgresql.auto.conf.tmp", false, DATADIR_SKIP},
        {"postgresql.auto.conf", false, DATADIR_KEEP},
        {"postgresql.conf", false, DATADIR_KEEP},
        {"PG_VERSION", false, DATADIR_KEEP},
        {"global/pg_control", false, DATADIR_KEEP},
        {"global/pg_internal.init", false, DATADIR_SKIP},
        {"base/5/pg_internal.init", false, DATADIR_SKIP},
        {"base/5/16384", false, DATADIR_KEEP},
        {"base/5/t3_16384", false, DATADIR_SKIP},
        {"base/5/t3_16384_fsm.1", false, DATADIR_SKIP},
        {"base/pgsql_tmp", true, DATADIR_SKIP},
        {"base/pgsql_tmp/pgsql_tmp123.0", false, DATADIR_SKIP},
        {"pg_wal", true, DATADIR_KEEP},
        {"pg_wal/000000010000000000000001", false, DATADIR_SKIP},
        {"pg_wal/archive_status", true, DATADIR_KEEP_EMPTY_DIR},
        {"pg_wal/archive_status/000000010000000000000001.done", false, DATADIR_SKIP},
        {"pg_replslot", true, DATADIR_KEEP_EMPTY_DIR},
        {"pg_replslot/slot1", true, DATADIR_SKIP},
        {"pg_dynshmem", true, DATADIR_KEEP_EMPTY_DIR},
        {"pg_notify", true, DATADIR_KEEP_EMPTY_DIR},
        {"pg_serial", true, DATADIR_KEEP_EMPTY_DIR},
        {"pg_snapshots", true, DATADIR_KEEP_EMPTY_DIR},
        {"pg_stat_tmp", true, DATADIR_KEEP_EMPTY_DIR},
        {"pg_stat_tmp/global.stat", false, DATADIR_SKIP},
        {"pg_subtrans", true, DATADIR_KEEP_EMPTY_DIR},
        {"pg_subtrans/0000", false, DATADIR_SKIP},
        {"pg_stat", true, DATADIR_KEEP},
        {"pg_xact/0000", false, DATADIR_KEEP},
        {"pg_multixact/offsets/0000", false, DATADIR_KEEP},
        {"pg_tblspc/16384/PG_15_202209061/5/16390", false, DATADIR_KEEP},
        {"pg_tblspc/16384/PG_15_202209061/5/t4_16390", false, DATADIR_SKIP},
        {"log/postmaster.pid", false, DATADIR_KEEP}, /* only at the top */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        DatadirRule r = datadir_rule(cases[i].path, cases[i].is_dir);
        if (r != cases[i].rule)
            fail_msg("\"%s\": rule %d, expected %d", cases[i].path, r, cases[i].rule);
    }
}

typedef struct {
    const char *path;
    bool relation;
    uint32_t segno;
} RelCase;

static void test_relation_segments(void **state)
{
    (void)state;
    const RelCase cases[] = {
        {"base/5/16384", true, 0},       {"base/5/16384.3", true, 3},
        {"base/5/16384_fsm", true, 0},   {"base/5/16384_vm.1", true, 1},
        {"base/5/16384_init", true, 0},  {"global/1262", true, 0},
        {"global/pg_control", false, 0}, {"global/pg_filenode.map", false, 0},
        {"base/5/PG_VERSION", false, 0}, {"base/5/16384_foo", false, 0},
        {"base/5/16384.", false, 0},     {"pg_tblspc/16384/PG_15_202209061/5/16390.2", true, 2},
        {"pg_xact/0000", false, 0},      {"16384", false, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t seg = 99;
        bool rel = datadir_relation_segment(cases[i].path, &seg);
        if (rel != cases[i].relation || (rel && seg != cases[i].segno))
            fail_msg("\"%s\": %d seg %u", cases[i].path, rel, seg);
    }
}

static void touch(const char *root, const char *rel, size_t size)
{
    char *p = xasprintf("%s/%s", root, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    for (size_t i = 0; i < size; i++)
        fputc('x', f);
    fclose(f);
    free(p);
}

static void test_walk(void **state)
{
    (void)state;
    char root[] = "/tmp/drydock-datadir-test-XXXXXX";
    assert_non_null(mkdtemp(root));
    char *cmd = xasprintf("cd %s && mkdir -p d/base/5 d/global d/pg_wal/archive_status "
                          "d/pg_stat_tmp d/pg_tblspc ts/PG_15_x/5 && ln -s %s/ts d/pg_tblspc/16400",
                          root, root);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    char *d = xasprintf("%s/d", root);
    char *ts = xasprintf("%s/ts", root);
    touch(d, "PG_VERSION", 3);
    touch(d, "postmaster.pid", 10);
    touch(d, "global/pg_control", 8192);
    touch(d, "base/5/1000", 8192);
    touch(d, "base/5/2000", 16384); /* unlogged: main, fsm, init */
    touch(d, "base/5/2000_fsm", 8192);
    touch(d, "base/5/2000_init", 0);
    touch(d, "base/5/t2_3000", 8192);
    touch(d, "pg_wal/000000010000000000000001", 100);
    touch(d, "pg_wal/archive_status/000000010000000000000001.done", 0);
    touch(d, "pg_stat_tmp/x.stat", 10);
    touch(ts, "PG_15_x/5/4000.1", 8192);
    DatadirList l;
    assert_true(datadir_walk(d, &l));
    const char *expect[] = {
        "PG_VERSION",
        "base",
        "base/5",
        "base/5/1000",
        "base/5/2000_init",
        "global",
        "global/pg_control",
        "pg_stat_tmp",
        "pg_tblspc",
        "pg_tblspc/16400",
        "pg_tblspc/16400/PG_15_x",
        "pg_tblspc/16400/PG_15_x/5",
        "pg_tblspc/16400/PG_15_x/5/4000.1",
        "pg_wal",
        "pg_wal/archive_status",
    };
    size_t n = sizeof(expect) / sizeof(expect[0]);
    for (size_t i = 0; i < l.n && i < n; i++)
        if (strcmp(l.entries[i].path, expect[i]) != 0)
            fail_msg("entry %zu: \"%s\", expected \"%s\"", i, l.entries[i].path, expect[i]);
    assert_int_equal(l.n, n);
    assert_int_equal(l.ntablespaces, 1);
    assert_int_equal(l.tablespaces[0].oid, 16400);
    assert_string_equal(l.tablespaces[0].location, ts);
    assert_true(l.entries[3].relation);
    assert_true(l.entries[12].relation && l.entries[12].segno == 1);
    assert_false(l.entries[6].relation); /* pg_control */
    assert_int_equal(l.total_bytes, 3 + 8192 + 8192 + 8192);
    datadir_list_free(&l);
    cmd = xasprintf("rm -rf %s", root);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(d);
    free(ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_relation_segments),
        cmocka_unit_test(test_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
