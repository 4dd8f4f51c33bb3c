/*
 * preflight_test.c - the run's first step (maint/steps.h, PSTEP_PREFLIGHT)
 * refuses before anything is created: a primary in recovery or a standby
 * that is not (the topology changed), a [green] directory that is not empty,
 * a [green] port something listens on, a missing PostgreSQL program. The
 * servers are a scripted libpq (unit/fakepq.h); the programs, files of the
 * test's in cfg.bin.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "maint/steps.h"
#include "unit/fakepq.h"
#include "unit/testdir.h"

#define ROW(v)                                                                                     \
    {                                                                                              \
        PGRES_TUPLES_OK, 1, 1, {(v)}, NULL                                                         \
    }

static char root[64];
static Config cfg;
static MaintFile mf;
static Plan plan;
static MaintCtx ctx;
static char *green, *green_sby, *bin;

static int setup(void **state)
{
    (void)state;
    fakepq_reset();
    err_clear();
    assert_int_equal(testdir_make(root, sizeof(root), "preflight"), 0);
    green = xasprintf("%s/green", root);
    green_sby = xasprintf("%s/green-standby", root);
    bin = xasprintf("%s/bin", root);
    assert_int_equal(mkdir(bin, 0755), 0);
    testdir_tool(bin, "pg_ctl");
    testdir_tool(bin, "pg_checksums");
    testdir_tool(bin, "pg_basebackup");
    memset(&cfg, 0, sizeof(cfg));
    cfg.bin = bin;
    memset(&mf, 0, sizeof(mf));
    memset(&plan, 0, sizeof(plan));
    ctx = (MaintCtx){.cfg = &cfg,
                     .mf = &mf,
                     .plan = &plan,
                     .primary = "host=p",
                     .standby = "host=s",
                     .green_data = green,
                     .green_port = 1, /* nothing listens on port 1 */
                     .green_standby_data = green_sby,
                     .green_standby_port = 1};
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(testdir_remove(root), 0);
    free(green);
    free(green_sby);
    free(bin);
    return fakepq_teardown(state); /* nothing left open */
}

/* The primary is not in recovery, the standby is. */
static void servers_as_expected(void)
{
    fakepq_reset();
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW("f");
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW("t");
}

static bool preflight(void)
{
    return maint_step(PSTEP_PREFLIGHT)->run(&ctx);
}

/* Refused with code and message, and a hint unless the error is the server's own. */
static void expect_refusal(DdExit code, const char *message)
{
    assert_false(preflight());
    if (err_code() != code || strcmp(err_message(), message) != 0)
        fail_msg("error %d [%s], expected %d [%s]", err_code(), err_message(), code, message);
    if (strncmp(message, "query failed", 12) != 0)
        assert_true(err_hint_text()[0] != '\0');
    err_clear();
}

static void test_passes(void **state)
{
    (void)state;
    servers_as_expected();
    assert_true(preflight());
    assert_string_equal(fakepq.sql[0], "SELECT pg_is_in_recovery()");
    /* Without a standby: only the primary is asked. */
    fakepq_reset();
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW("f");
    ctx.standby = NULL;
    assert_true(preflight());
    assert_int_equal(fakepq.n_sql, 1);
}

static void test_topology_changed(void **state)
{
    (void)state;
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW("t");
    expect_refusal(DD_EXIT_PG, "the primary is in recovery");
    fakepq_reset();
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW("f");
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW("f");
    expect_refusal(DD_EXIT_PG, "the standby is not in recovery");
    fakepq_reset();
    fakepq.exec[fakepq.n_exec++] =
        (FakeResult){PGRES_FATAL_ERROR, 0, 0, {0}, "ERROR:  the system is starting up\n"};
    expect_refusal(DD_EXIT_PG, "query failed on server \"db1:5432\": ERROR:  the system is "
                               "starting up");
    fakepq_reset();
    fakepq.status = CONNECTION_BAD;
    fakepq.error = "connection refused\n";
    expect_refusal(DD_EXIT_PG, "could not connect to the primary (host=p): connection refused");
}

static void test_green_not_empty(void **state)
{
    (void)state;
    assert_int_equal(mkdir(green_sby, 0700), 0);
    char *f = xasprintf("%s/PG_VERSION", green_sby);
    assert_true(fs_write_file(f, "15\n", 3, 0600));
    free(f);
    servers_as_expected();
    char *want = xasprintf("[green] standby-data \"%s\" is not empty", green_sby);
    expect_refusal(DD_EXIT_USAGE, want);
    free(want);
    /* An empty directory is fine. */
    assert_int_equal(mkdir(green, 0700), 0);
    f = xasprintf("%s/PG_VERSION", green_sby);
    assert_int_equal(unlink(f), 0);
    free(f);
    servers_as_expected();
    assert_true(preflight());
}

static void test_port_in_use(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 4), 0);
    socklen_t len = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    ctx.green_standby_port = ntohs(a.sin_port);
    servers_as_expected();
    char *want = xasprintf("[green] standby-port %d is in use", ctx.green_standby_port);
    expect_refusal(DD_EXIT_USAGE, want);
    free(want);
    close(fd);
}

static void test_missing_program(void **state)
{
    (void)state;
    /* pg_checksums only when the plan rewrites checksums offline. */
    char *p = xasprintf("%s/pg_checksums", bin);
    assert_int_equal(unlink(p), 0);
    free(p);
    servers_as_expected();
    assert_true(preflight());
    plan.steps[PSTEP_OFFLINE].enabled = true;
    servers_as_expected();
    char *want = xasprintf("no executable pg_checksums in \"%s\"", bin);
    expect_refusal(DD_EXIT_CONFIG, want);
    free(want);
    /* pg_basebackup only for a green standby. */
    plan.steps[PSTEP_OFFLINE].enabled = false;
    p = xasprintf("%s/pg_basebackup", bin);
    assert_int_equal(unlink(p), 0);
    free(p);
    servers_as_expected();
    want = xasprintf("no executable pg_basebackup in \"%s\"", bin);
    expect_refusal(DD_EXIT_CONFIG, want);
    free(want);
    ctx.green_standby_data = NULL;
    servers_as_expected();
    assert_true(preflight());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_passes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_topology_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_green_not_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_in_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_program, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
