/*
 * reload_test.c - a reload-only maintenance (maint/reload.h) and the verify
 * step's checks (steps_verify_changes) against a scripted libpq
 * (unit/fakepq.h), on data directories in a temporary folder:
 *
 *   apply   refused without a node's data directory (nothing saved); the
 *           copies saved first (a file that did not exist as NAME.absent),
 *           then the files written, ALTER SYSTEM (quoted by the server) and
 *           pg_reload_conf() on each node, primary first; a missing source
 *           file and a node that cannot be reached fail, naming them
 *   undo    without copies nothing to do; else each node's files put back
 *           (an .absent one removed), each node reloaded (one that cannot
 *           be is a warning: its files are back), the copies removed
 *   verify  each kind of change not in effect is a one-line error naming
 *           the node, with the maintenance file's line in the hint
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

#include "common/fsutil.h"
#include "maint/reload.h"
#include "maint/steps_int.h"
#include "unit/fakepq.h"
#include "unit/testdir.h"

#define ROW(n, ...)                                                                                \
    {                                                                                              \
        PGRES_TUPLES_OK, 1, (n), {__VA_ARGS__}, NULL                                               \
    }
#define OK_CMD                                                                                     \
    {                                                                                              \
        PGRES_COMMAND_OK, 0, 0, {0}, NULL                                                          \
    }
#define FAIL(msg)                                                                                  \
    {                                                                                              \
        PGRES_FATAL_ERROR, 0, 0, {0}, (msg)                                                        \
    }

static char root[64];
static Config cfg;
static MaintFile mf;
static MaintChange changes[2];
static MaintCtx ctx;
static char *primary_data, *standby_data, *saved_dir, *new_hba;
static int created_calls;

static char *at(const char *name)
{
    return xasprintf("%s/%s", root, name);
}

static void put(const char *path, const char *text)
{
    assert_true(fs_write_file(path, text, strlen(text), 0600));
}

/* The file's content, or "(absent)". */
static char *get(const char *dir, const char *name)
{
    char *p = xasprintf("%s/%s", dir, name);
    Buf b = {0};
    bool found = false;
    assert_true(fs_read_file(p, &b, &found));
    free(p);
    if (!found)
        return xstrdup("(absent)");
    buf_append(&b, "", 1);
    return (char *)b.data;
}

static void expect_file(const char *dir, const char *name, const char *want)
{
    char *have = get(dir, name);
    if (strcmp(have, want) != 0)
        fail_msg("%s/%s is [%s], expected [%s]", dir, name, have, want);
    free(have);
}

static void on_created(MaintCtx *c, PlanStepId step, MaintCreatedType type, const char *what,
                       int port)
{
    (void)c;
    (void)port;
    assert_int_equal(step, PSTEP_APPLY_RELOAD);
    assert_int_equal(type, MCREATED_DIR);
    assert_string_equal(what, saved_dir);
    created_calls++;
}

static int setup(void **state)
{
    (void)state;
    fakepq_reset();
    err_clear();
    assert_int_equal(testdir_make(root, sizeof(root), "reload"), 0);
    primary_data = at("primary");
    standby_data = at("standby");
    saved_dir = at("saved");
    new_hba = at("new_hba.conf");
    assert_int_equal(mkdir(primary_data, 0700), 0);
    assert_int_equal(mkdir(standby_data, 0700), 0);
    char *p = xasprintf("%s/postgresql.auto.conf", primary_data);
    put(p, "work_mem = '4MB'\n");
    free(p);
    p = xasprintf("%s/postgresql.auto.conf", standby_data);
    put(p, "# standby\n");
    free(p);
    p = xasprintf("%s/pg_hba.conf", primary_data);
    put(p, "local all all trust\n");
    free(p);
    /* The standby has no pg_hba.conf of its own. */
    put(new_hba, "# new rules\nlocal all all peer\nhost all all 10.0.0.0/8 scram-sha-256\n");

    memset(&cfg, 0, sizeof(cfg));
    changes[0] = (MaintChange){.type = MCHANGE_SET,
                               .name = "work_mem",
                               .value = "'64MB'",
                               .line = 7,
                               .kind = MKIND_RELOAD};
    changes[1] =
        (MaintChange){.type = MCHANGE_FILE, .name = "pg_hba.conf", .value = new_hba, .line = 8};
    memset(&mf, 0, sizeof(mf));
    mf.file = "/etc/drydock/m.ini";
    mf.changes = changes;
    mf.nchanges = 2;
    ctx = (MaintCtx){.cfg = &cfg,
                     .mf = &mf,
                     .primary = "host=p",
                     .primary_data = primary_data,
                     .standby = "host=s",
                     .standby_data = standby_data,
                     .saved_dir = saved_dir,
                     .on_created = on_created};
    created_calls = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(testdir_remove(root), 0);
    free(primary_data);
    free(standby_data);
    free(saved_dir);
    free(new_hba);
    return fakepq_teardown(state); /* nothing left open */
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* What a node answers to its changes: the quoted ALTER SYSTEM, its result, the reload. */
static void script_apply_node(void)
{
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW(1, "ALTER SYSTEM SET work_mem = '64MB'");
    fakepq.exec[fakepq.n_exec++] = (FakeResult)OK_CMD;
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW(1, "t");
}

static void test_apply_then_undo(void **state)
{
    (void)state;
    script_apply_node();
    script_apply_node();
    assert_true(reload_apply(&ctx));
    assert_int_equal(created_calls, 1);
    /* The copies, as the files were. */
    expect_file(saved_dir, "primary-postgresql.auto.conf", "work_mem = '4MB'\n");
    expect_file(saved_dir, "primary-pg_hba.conf", "local all all trust\n");
    expect_file(saved_dir, "standby-postgresql.auto.conf", "# standby\n");
    expect_file(saved_dir, "standby-pg_hba.conf.absent", "");
    /* The changes, on both nodes, primary first. */
    expect_file(primary_data, "pg_hba.conf",
                "# new rules\nlocal all all peer\nhost all all 10.0.0.0/8 scram-sha-256\n");
    expect_file(standby_data, "pg_hba.conf",
                "# new rules\nlocal all all peer\nhost all all 10.0.0.0/8 scram-sha-256\n");
    assert_int_equal(fakepq.n_sql, 6);
    assert_string_equal(fakepq.sql[0],
                        "SELECT format('ALTER SYSTEM SET %I = %L', $1::text, $2::text) | "
                        "work_mem | 64MB");
    assert_string_equal(fakepq.sql[1], "ALTER SYSTEM SET work_mem = '64MB'");
    assert_string_equal(fakepq.sql[2], "SELECT pg_reload_conf()");
    assert_non_null(strstr(fakepq.conn_params, "dbname=host=s ")); /* the last one: standby */

    /* Undo: the files back, both reloaded; the standby cannot be: a warning only. */
    fakepq_reset();
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW(1, "t");
    fakepq.exec[fakepq.n_exec++] = (FakeResult)FAIL("FATAL:  the database system is shutting "
                                                    "down\n");
    assert_true(reload_undo(&ctx));
    assert_int_equal(err_code(), DD_EXIT_OK);
    assert_int_equal(fakepq.n_sql, 2);
    assert_string_equal(fakepq.sql[1], "SELECT pg_reload_conf()");
    expect_file(primary_data, "pg_hba.conf", "local all all trust\n");
    expect_file(primary_data, "postgresql.auto.conf", "work_mem = '4MB'\n");
    expect_file(standby_data, "pg_hba.conf", "(absent)");
    expect_file(standby_data, "postgresql.auto.conf", "# standby\n");
    assert_false(exists(saved_dir));

    /* Again: nothing saved, nothing to do, no server asked. */
    fakepq_reset();
    assert_true(reload_undo(&ctx));
    assert_int_equal(fakepq.n_sql, 0);
    assert_string_equal(fakepq.conn_params, "");
}

static void test_undo_unchanged_node(void **state)
{
    (void)state;
    /* Copies of the primary only (the apply stopped before the standby's): only it is reloaded. */
    assert_int_equal(mkdir(saved_dir, 0700), 0);
    char *p = xasprintf("%s/primary-postgresql.auto.conf", saved_dir);
    put(p, "work_mem = '4MB'\n");
    free(p);
    p = xasprintf("%s/standby.tmp", saved_dir); /* not a node's copy */
    put(p, "x");
    free(p);
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW(1, "t");
    assert_true(reload_undo(&ctx));
    assert_int_equal(fakepq.n_sql, 1);
    assert_non_null(strstr(fakepq.conn_params, "dbname=host=p "));
    assert_false(exists(saved_dir));
}

static void test_refusals(void **state)
{
    (void)state;
    /* No standby data directory: refused before anything is saved. */
    ctx.standby_data = NULL;
    assert_false(reload_apply(&ctx));
    assert_int_equal(err_code(), DD_EXIT_CONFIG);
    assert_string_equal(err_message(), "a reload-only maintenance needs the standby's data "
                                       "directory: [cluster] standby-data is not set");
    assert_non_null(strstr(err_hint_text(), "an abort can put them back"));
    err_clear();
    assert_false(exists(saved_dir));
    assert_int_equal(created_calls, 0);
    assert_false(reload_verify(&ctx));
    assert_int_equal(err_code(), DD_EXIT_CONFIG);
    err_clear();
    /* The undo refuses too once there are copies it could not put back. */
    assert_int_equal(mkdir(saved_dir, 0700), 0);
    assert_false(reload_undo(&ctx));
    assert_int_equal(err_code(), DD_EXIT_CONFIG);
    err_clear();
    ctx.standby_data = standby_data;

    /* A source file that is gone: nothing sent to a server. */
    changes[1].value = "/nonexistent/hba.conf";
    assert_false(reload_apply(&ctx));
    assert_int_equal(err_code(), DD_EXIT_USAGE);
    assert_string_equal(err_message(),
                        "file \"/nonexistent/hba.conf\" for pg_hba.conf does not exist");
    err_clear();
    assert_int_equal(fakepq.n_sql, 0);
    expect_file(saved_dir, "primary-pg_hba.conf", "local all all trust\n");
    changes[1].value = new_hba;

    /* The standby cannot be reached: the primary's changes are made, the error names the standby.
     */
    script_apply_node();
    fakepq.exec[fakepq.n_exec++] =
        (FakeResult)FAIL("ERROR:  cannot execute ALTER SYSTEM in a read-only transaction\n");
    assert_false(reload_apply(&ctx));
    assert_int_equal(err_code(), DD_EXIT_PG);
    assert_string_equal(err_message(),
                        "applying the changes on the standby: query failed on server "
                        "\"db1:5432\": ERROR:  cannot execute ALTER SYSTEM in a read-only "
                        "transaction");
    err_clear();
}

typedef struct {
    const char *title;
    MaintChange change;
    FakeResult answers[2];
    int nanswers;
    const char *message; /* NULL: in effect */
} VerifyCase;

#define HBA_RULES 2 /* of new_hba */

static const VerifyCase verify_cases[] = {
    {"a setting in effect",
     {.type = MCHANGE_SET, .name = "work_mem", .value = "'64MB'", .line = 7},
     {ROW(5, "65536", "kB", "integer", "f", "64MB")},
     1,
     NULL},
    {"a setting with another value",
     {.type = MCHANGE_SET, .name = "work_mem", .value = "'64MB'", .line = 7},
     {ROW(5, "4096", "kB", "integer", "f", "4MB")},
     1,
     "work_mem is 4MB on the standby, not 64MB"},
    {"a setting pending a restart",
     {.type = MCHANGE_SET, .name = "shared_buffers", .value = "1GB", .line = 7},
     {ROW(5, "131072", "8kB", "integer", "t", "1GB")},
     1,
     "shared_buffers on the standby is pending a restart"},
    {"a setting the server does not have",
     {.type = MCHANGE_SET, .name = "wrk_mem", .value = "1", .line = 7},
     {{PGRES_TUPLES_OK, 0, 5, {0}, NULL}},
     1,
     "the standby has no setting \"wrk_mem\""},
    {"a setting the server cannot be asked about",
     {.type = MCHANGE_SET, .name = "work_mem", .value = "1", .line = 7},
     {FAIL("ERROR:  permission denied\n")},
     1,
     "query failed on server \"db1:5432\": ERROR:  permission denied"},
    {"an impossible change is not checked",
     {.type = MCHANGE_SET,
      .name = "wal_level",
      .value = "minimal",
      .line = 7,
      .kind = MKIND_IMPOSSIBLE},
     {{0}},
     0,
     NULL},
    {"checksums on",
     {.type = MCHANGE_CHECKSUMS, .value = "enable", .line = 7},
     {ROW(1, "on")},
     1,
     NULL},
    {"checksums still on",
     {.type = MCHANGE_CHECKSUMS, .value = "disable", .line = 7},
     {ROW(1, "on")},
     1,
     "data_checksums is on on the standby, not off"},
    {"checksums unknown",
     {.type = MCHANGE_CHECKSUMS, .value = "enable", .line = 7},
     {FAIL("ERROR:  gone\n")},
     1,
     "query failed on server \"db1:5432\": ERROR:  gone"},
    {"sql-after is not checked before the switch",
     {.type = MCHANGE_SQL_AFTER, .value = "/x.sql", .line = 7},
     {{0}},
     0,
     NULL},
};

static void test_verify_changes(void **state)
{
    (void)state;
    ctx.verify_node = "standby";
    for (size_t i = 0; i < sizeof(verify_cases) / sizeof(verify_cases[0]); i++) {
        const VerifyCase *c = &verify_cases[i];
        fakepq_reset();
        for (int k = 0; k < c->nanswers; k++)
            fakepq.exec[fakepq.n_exec++] = c->answers[k];
        mf.changes = (MaintChange *)&c->change;
        mf.nchanges = 1;
        bool ok = steps_verify_changes(&ctx, FAKEPQ_CONN);
        if (ok != (c->message == NULL))
            fail_msg("%s: %s [%s]", c->title, ok ? "passed" : "failed", err_message());
        if (!ok && strcmp(err_message(), c->message) != 0)
            fail_msg("%s: [%s]", c->title, err_message());
        if (!ok && !strstr(err_hint_text(), "line 7 of \"/etc/drydock/m.ini\""))
            fail_msg("%s: hint [%s]", c->title, err_hint_text());
        if (fakepq.next_exec != c->nanswers)
            fail_msg("%s: %d queries, expected %d", c->title, fakepq.next_exec, c->nanswers);
        err_clear();
    }
}

/* The file checks: the copy in the data directory, the server's path to it, its rules. */
static void test_verify_file(void **state)
{
    (void)state;
    ctx.verify_node = NULL; /* the green primary of a run */
    ctx.green_data = standby_data;
    mf.changes = &changes[1];
    mf.nchanges = 1;
    char *dest = xasprintf("%s/pg_hba.conf", standby_data);
    char *count = xasprintf("%d", HBA_RULES);

    /* Not copied yet. */
    assert_false(steps_verify_changes(&ctx, FAKEPQ_CONN));
    char *want = xasprintf("\"%s\" on the green primary is not a copy of \"%s\"", dest, new_hba);
    assert_string_equal(err_message(), want);
    free(want);
    err_clear();

    /* Copied; the server reads another file. */
    Buf b = {0};
    bool found;
    assert_true(fs_read_file(new_hba, &b, &found));
    assert_true(fs_write_file(dest, b.data, b.len, 0600));
    buf_free(&b);
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW(1, "/etc/postgresql/15/main/pg_hba.conf");
    assert_false(steps_verify_changes(&ctx, FAKEPQ_CONN));
    want = xasprintf("the green primary reads hba_file \"/etc/postgresql/15/main/pg_hba.conf\", "
                     "not \"%s\"",
                     dest);
    assert_string_equal(err_message(), want);
    free(want);
    err_clear();

    /* It reads it, and one rule is in error. */
    fakepq_reset();
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW(1, dest);
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW(2, count, "1");
    assert_false(steps_verify_changes(&ctx, FAKEPQ_CONN));
    want = xasprintf("pg_hba_file_rules on the green primary has %d rules (1 in error), not the "
                     "%d of \"%s\"",
                     HBA_RULES, HBA_RULES, dest);
    assert_string_equal(err_message(), want);
    assert_string_equal(fakepq.sql[1], "SELECT count(*), count(error) FROM pg_hba_file_rules");
    free(want);
    err_clear();

    /* It cannot be asked. */
    fakepq_reset();
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW(1, dest);
    fakepq.exec[fakepq.n_exec++] = (FakeResult)FAIL("ERROR:  permission denied for view\n");
    assert_false(steps_verify_changes(&ctx, FAKEPQ_CONN));
    assert_string_equal(err_message(),
                        "query failed on server \"db1:5432\": ERROR:  permission denied for view");
    err_clear();

    /* In effect. */
    fakepq_reset();
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW(1, dest);
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW(2, count, "0");
    assert_true(steps_verify_changes(&ctx, FAKEPQ_CONN));

    /* pg_ident.conf: its own setting and view. */
    fakepq_reset();
    MaintChange ident = {
        .type = MCHANGE_FILE, .name = "pg_ident.conf", .value = new_hba, .line = 9};
    char *idest = xasprintf("%s/pg_ident.conf", standby_data);
    assert_true(fs_read_file(new_hba, &b, &found));
    assert_true(fs_write_file(idest, b.data, b.len, 0600));
    buf_free(&b);
    mf.changes = &ident;
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW(1, idest);
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW(2, count, "0");
    assert_true(steps_verify_changes(&ctx, FAKEPQ_CONN));
    assert_string_equal(fakepq.sql[0], "SHOW ident_file");
    free(idest);
    free(dest);
    free(count);
}

/* reload_verify on both nodes: in effect at once; a node that cannot be reached. */
static void test_verify(void **state)
{
    (void)state;
    mf.changes = &changes[0];
    mf.nchanges = 1;
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW(5, "65536", "kB", "integer", "f", "64MB");
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW(5, "65536", "kB", "integer", "f", "64MB");
    assert_true(reload_verify(&ctx));
    assert_int_equal(fakepq.n_sql, 2);

    fakepq_reset();
    fakepq.status = CONNECTION_BAD;
    fakepq.error = "connection refused\n";
    assert_false(reload_verify(&ctx));
    assert_int_equal(err_code(), DD_EXIT_PG);
    assert_string_equal(err_message(), "could not connect to the primary (host=p): connection "
                                       "refused");
    err_clear();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_apply_then_undo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_undo_unchanged_node, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
