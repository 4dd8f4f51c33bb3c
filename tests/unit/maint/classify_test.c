/*
 * classify_test.c - the change classifier as a pure function over rows of a
 * PostgreSQL 15 pg_settings (copied from a real server): each kind, each
 * refusal with its finding, units and ranges, and the ride-along rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maint/classify.h"

/* name, setting, unit, context, vartype, min, max, enumvals, pending_restart */
static const PgSettingRow rows[] = {
    {"shared_buffers", "16384", "8kB", "postmaster", "integer", "16", "1073741823", NULL, false},
    {"max_connections", "100", NULL, "postmaster", "integer", "1", "262143", NULL, false},
    {"max_worker_processes", "8", NULL, "postmaster", "integer", "0", "262143", NULL, false},
    {"max_locks_per_transaction", "64", NULL, "postmaster", "integer", "10", "2147483647", NULL,
     false},
    {"work_mem", "4096", "kB", "user", "integer", "64", "2147483647", NULL, false},
    {"wal_level", "replica", NULL, "postmaster", "enum", NULL, NULL, "{minimal,replica,logical}",
     false},
    {"log_min_duration_statement", "-1", "ms", "superuser", "integer", "-1", "2147483647", NULL,
     false},
    {"ssl", "off", NULL, "sighup", "bool", NULL, NULL, NULL, false},
    {"data_checksums", "off", NULL, "internal", "bool", NULL, NULL, NULL, false},
    {"block_size", "8192", NULL, "internal", "integer", "8192", "8192", NULL, false},
    {"log_line_prefix", "%m [%p] ", NULL, "sighup", "string", NULL, NULL, NULL, false},
    {"checkpoint_completion_target", "0.9", NULL, "sighup", "real", "0", "1", NULL, false},
    {"max_wal_size", "1024", "MB", "sighup", "integer", "2", "2147483647", NULL, false},
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

typedef struct {
    const char *title;
    MaintChangeType type;
    const char *name, *value;
    MaintChangeKind kind;
    const char *finding; /* code of the one finding expected, or NULL for none */
    const char *message; /* its message (NULL: not checked) */
    const char *reason;  /* a substring of the reason, or NULL */
} ClassCase;

static void run_case(const ClassCase *c, MaintChange *extra, size_t nextra)
{
    MaintChange ch[4] = {
        {.type = c->type, .name = strdup(c->name), .value = strdup(c->value), .line = 7}};
    for (size_t i = 0; i < nextra; i++)
        ch[1 + i] = (MaintChange){.type = extra[i].type,
                                  .name = strdup(extra[i].name),
                                  .value = strdup(extra[i].value),
                                  .line = 8};
    MaintFile mf = {.title = "t", .changes = ch, .nchanges = 1 + nextra};
    Plan p = {.mf = &mf};
    classify_changes(&mf, rows, NROWS, &p);
    if (ch[0].kind != c->kind)
        fail_msg("case \"%s\": kind %s, expected %s (%s)", c->title, mfile_kind_name(ch[0].kind),
                 mfile_kind_name(c->kind), ch[0].reason);
    if (c->reason && (!ch[0].reason || !strstr(ch[0].reason, c->reason)))
        fail_msg("case \"%s\": reason \"%s\" lacks \"%s\"", c->title, ch[0].reason, c->reason);
    if (!c->finding && p.nfindings)
        fail_msg("case \"%s\": unexpected finding %s: %s", c->title, p.findings[0].code,
                 p.findings[0].message);
    if (c->finding) {
        if (p.nfindings != 1 || strcmp(p.findings[0].code, c->finding) != 0)
            fail_msg("case \"%s\": %zu findings, the first %s; expected one %s", c->title,
                     p.nfindings, p.nfindings ? p.findings[0].code : "-", c->finding);
        if (c->message && strcmp(p.findings[0].message, c->message) != 0)
            fail_msg("case \"%s\":\n got      %s\n expected %s", c->title, p.findings[0].message,
                     c->message);
        if (!p.findings[0].hint[0])
            fail_msg("case \"%s\": no hint", c->title);
    }
    for (size_t i = 0; i < mf.nchanges; i++) {
        free(ch[i].name);
        free(ch[i].value);
        free(ch[i].reason);
        free(ch[i].current);
    }
    plan_free(&p);
}

static void test_kinds(void **state)
{
    (void)state;
    const ClassCase cases[] = {
        {"postmaster: restart", MCHANGE_SET, "shared_buffers", "256MB", MKIND_RESTART, NULL, NULL,
         "context postmaster"},
        {"user: reload", MCHANGE_SET, "work_mem", "64MB", MKIND_RELOAD, NULL, NULL, "context user"},
        {"superuser: reload", MCHANGE_SET, "log_min_duration_statement", "250ms", MKIND_RELOAD,
         NULL, NULL, "context superuser"},
        {"sighup bool: reload", MCHANGE_SET, "ssl", "on", MKIND_RELOAD, NULL, NULL, NULL},
        {"quoted string", MCHANGE_SET, "log_line_prefix", "'%t '", MKIND_RELOAD, NULL, NULL, NULL},
        {"real in range", MCHANGE_SET, "checkpoint_completion_target", "0.5", MKIND_RELOAD, NULL,
         NULL, NULL},
        {"enum", MCHANGE_SET, "wal_level", "Logical", MKIND_RESTART, NULL, NULL, NULL},
        {"raising a standby minimum", MCHANGE_SET, "max_connections", "200", MKIND_RESTART, NULL,
         NULL, NULL},
        {"lowering max_connections", MCHANGE_SET, "max_connections", "50", MKIND_IMPOSSIBLE,
         "hot-standby-minimum",
         "setting \"max_connections\" cannot go from 100 down to 50 on a physical copy",
         "a hot standby needs max_connections >= its primary's (100)"},
        {"lowering max_worker_processes", MCHANGE_SET, "max_worker_processes", "4",
         MKIND_IMPOSSIBLE, "hot-standby-minimum", NULL, NULL},
        {"lowering max_locks_per_transaction", MCHANGE_SET, "max_locks_per_transaction", "32",
         MKIND_IMPOSSIBLE, "hot-standby-minimum", NULL, NULL},
        {"unknown setting", MCHANGE_SET, "shared_bufers", "1GB", MKIND_IMPOSSIBLE,
         "unknown-setting", "setting \"shared_bufers\" does not exist on the primary", NULL},
        {"custom setting", MCHANGE_SET, "myapp.mode", "x", MKIND_RELOAD, NULL, NULL, "custom"},
        {"internal setting", MCHANGE_SET, "block_size", "16384", MKIND_IMPOSSIBLE,
         "internal-setting", "setting \"block_size\" cannot be changed (context internal)", NULL},
        {"data_checksums as a set", MCHANGE_SET, "data_checksums", "on", MKIND_IMPOSSIBLE,
         "internal-setting", NULL, NULL},
        {"bad unit", MCHANGE_SET, "shared_buffers", "256ms", MKIND_RESTART, "invalid-value",
         "setting \"shared_buffers\": unit \"ms\" is not valid for shared_buffers (its unit is "
         "8kB)",
         NULL},
        {"unit on a unitless setting", MCHANGE_SET, "max_connections", "200MB", MKIND_RESTART,
         "invalid-value",
         "setting \"max_connections\": max_connections takes no unit, got \"200MB\"", NULL},
        {"below min", MCHANGE_SET, "shared_buffers", "64kB", MKIND_RESTART, "invalid-value",
         "setting \"shared_buffers\": 64kB is outside the range 16 to 1073741823 8kB", NULL},
        {"above max", MCHANGE_SET, "checkpoint_completion_target", "1.5", MKIND_RELOAD,
         "invalid-value",
         "setting \"checkpoint_completion_target\": 1.5 is outside the range 0 to 1", NULL},
        {"not in enumvals", MCHANGE_SET, "wal_level", "archive", MKIND_RESTART, "invalid-value",
         "setting \"wal_level\": \"archive\" is not one of {minimal,replica,logical}", NULL},
        {"not a boolean", MCHANGE_SET, "ssl", "maybe", MKIND_RELOAD, "invalid-value", NULL, NULL},
        {"not a number", MCHANGE_SET, "work_mem", "lots", MKIND_RELOAD, "invalid-value",
         "setting \"work_mem\": \"lots\" is not an integer", NULL},
        {"same value in other units", MCHANGE_SET, "shared_buffers", "128MB", MKIND_RESTART,
         "change-no-op", "setting \"shared_buffers\" is already 128MB on the primary", NULL},
        {"fractional unit rounds", MCHANGE_SET, "max_wal_size", "1.5GB", MKIND_RELOAD, NULL, NULL,
         NULL},
        {"checksums", MCHANGE_CHECKSUMS, "data_checksums", "enable", MKIND_OFFLINE, NULL, NULL,
         "pg_checksums --enable"},
        {"checksums already off", MCHANGE_CHECKSUMS, "data_checksums", "disable", MKIND_OFFLINE,
         "change-no-op", "data checksums are already disabled on the primary", NULL},
        {"sql-after", MCHANGE_SQL_AFTER, "sql-after", "/x.sql", MKIND_POST_SWITCH, NULL, NULL,
         NULL},
        {"pg_hba alone: reload", MCHANGE_FILE, "pg_hba.conf", "/x", MKIND_RELOAD, NULL, NULL,
         "pg_hba.conf is read again on a reload"},
        {"certificate: reload", MCHANGE_FILE, "server.crt", "/x", MKIND_RELOAD, NULL, NULL, NULL},
        {"other file: restart", MCHANGE_FILE, "conf.d/extra.conf", "/x", MKIND_RESTART, NULL, NULL,
         NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(&cases[i], NULL, 0);
}

static void test_hint_suggests(void **state)
{
    (void)state;
    MaintChange ch = {
        .type = MCHANGE_SET, .name = strdup("shared_bufers"), .value = strdup("1"), .line = 9};
    MaintFile mf = {.changes = &ch, .nchanges = 1};
    Plan p = {.mf = &mf};
    classify_changes(&mf, rows, NROWS, &p);
    assert_int_equal(p.nfindings, 1);
    assert_int_equal(p.findings[0].severity, FINDING_ERROR);
    assert_string_equal(p.findings[0].hint, "did you mean \"shared_buffers\"? (line 9)");
    free(ch.name), free(ch.value), free(ch.reason), free(ch.current);
    plan_free(&p);
}

static void test_ride_along(void **state)
{
    (void)state;
    /* pg_hba.conf alone: reload only; with a restart change it rides along. */
    const ClassCase hba = {"pg_hba with shared_buffers",
                           MCHANGE_FILE,
                           "pg_hba.conf",
                           "/x",
                           MKIND_RELOAD,
                           NULL,
                           NULL,
                           "applied on the new cluster with the others"};
    MaintChange sb = {.type = MCHANGE_SET, .name = "shared_buffers", .value = "256MB"};
    run_case(&hba, &sb, 1);

    MaintChange ch[2] = {
        {.type = MCHANGE_SET, .name = strdup("work_mem"), .value = strdup("8MB")},
        {.type = MCHANGE_SQL_AFTER, .name = strdup("sql-after"), .value = strdup("/x")}};
    MaintFile mf = {.changes = ch, .nchanges = 2};
    Plan p = {.mf = &mf};
    classify_changes(&mf, rows, NROWS, &p);
    assert_true(classify_reload_only(&mf));
    assert_null(strstr(ch[0].reason, "new cluster"));
    assert_string_equal(ch[0].current, "4096 (kB)");
    ch[1].kind = MKIND_RESTART;
    assert_false(classify_reload_only(&mf));
    for (int i = 0; i < 2; i++)
        free(ch[i].name), free(ch[i].value), free(ch[i].reason), free(ch[i].current);
    plan_free(&p);
}

static void test_pending_restart(void **state)
{
    (void)state;
    PgSettingRow r[] = {
        {"work_mem", "4096", "kB", "user", "integer", "64", "2147483647", NULL, false},
        {"shared_buffers", "16384", "8kB", "postmaster", "integer", "16", "1073741823", NULL,
         true}};
    MaintChange ch = {.type = MCHANGE_SET, .name = strdup("work_mem"), .value = strdup("8MB")};
    MaintFile mf = {.changes = &ch, .nchanges = 1};
    Plan p = {.mf = &mf};
    classify_changes(&mf, r, 2, &p);
    assert_int_equal(p.nfindings, 1);
    assert_string_equal(p.findings[0].code, "pending-restart");
    assert_int_equal(p.findings[0].severity, FINDING_WARNING);
    assert_string_equal(p.findings[0].message, "setting \"shared_buffers\" on the primary has a "
                                               "changed value waiting for a restart");
    free(ch.name), free(ch.value), free(ch.reason), free(ch.current);
    plan_free(&p);
}

static void test_standby_minimums(void **state)
{
    (void)state;
    const char *yes[] = {"max_connections", "max_worker_processes", "max_wal_senders",
                         "max_prepared_transactions", "max_locks_per_transaction"};
    for (size_t i = 0; i < 5; i++)
        assert_true(classify_is_standby_minimum(yes[i]));
    assert_false(classify_is_standby_minimum("shared_buffers"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_hint_suggests),
        cmocka_unit_test(test_ride_along),
        cmocka_unit_test(test_pending_restart),
        cmocka_unit_test(test_standby_minimums),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
