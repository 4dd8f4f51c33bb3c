/*
 * lint_test.c - the plan's checks against the live clusters (maint/lint.h)
 * with a scripted libpq (unit/fakepq.h): a check whose query fails is a
 * warning "unchecked" naming what could not be checked, never a silent
 * pass; and what the primary and the standby answer becomes the findings
 * documented in lint.h (standby not streaming or lagging, long and
 * prepared transactions, logical slots, unlogged tables, the window).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "maint/lint.h"
#include "unit/fakepq.h"
#include "unit/testrepo.h"

#define ROW(n, ...)                                                                                \
    {                                                                                              \
        PGRES_TUPLES_OK, 1, (n), {__VA_ARGS__}, NULL                                               \
    }

static MaintFile mf;
static Catalog catalog;

/* "code: message" of every finding, one a line, in order. */
static char *findings(const Plan *p)
{
    Buf b = {0};
    for (size_t i = 0; i < p->nfindings; i++) {
        buf_append_str(&b, p->findings[i].severity == FINDING_ERROR ? "E " : "W ");
        buf_append_str(&b, p->findings[i].code);
        buf_append_str(&b, ": ");
        buf_append_str(&b, p->findings[i].message);
        buf_append_str(&b, "\n");
    }
    buf_append(&b, "", 1);
    return (char *)b.data;
}

static char *lint(Repo *repo, bool reload_only)
{
    LintCtx ctx = {.cfg = &cfg,
                   .mf = &mf,
                   .primary = FAKEPQ_CONN,
                   .standby = FAKEPQ_CONN,
                   .repo = repo,
                   .catalog = &catalog};
    Plan p = {.mf = &mf, .reload_only = reload_only};
    lint_run(&ctx, &p);
    char *f = findings(&p);
    plan_free(&p);
    assert_int_equal(err_code(), DD_EXIT_OK); /* every error became a finding */
    return f;
}

static void expect(const char *all, const char *line)
{
    if (!strstr(all, line))
        fail_msg("no [%s] in:\n%s", line, all);
}

static int setup(void **state)
{
    (void)state;
    fakepq_reset();
    err_clear();
    memset(&mf, 0, sizeof(mf));
    memset(&catalog, 0, sizeof(catalog));
    cfg.primary = "host=p";
    cfg.standby = "host=s";
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return fakepq_teardown(state); /* nothing left open */
}

static void test_every_query_fails(void **state)
{
    (void)state;
    Repo *repo = NULL;
    assert_true(repo_open(&cfg, &repo));
    char *all = lint(repo, false); /* no script: every query is an error */
    expect(all, "E green-missing: the changes need a new cluster");
    expect(all, "W unchecked: could not check the standby's replication: query failed on server "
                "\"db1:5432\": no more script");
    expect(all, "W no-backup: ");
    expect(all, "E archive-failing: archiving: query failed on server");
    expect(all, "W unchecked: could not check open transactions: ");
    expect(all, "W unchecked: could not check prepared transactions: ");
    expect(all, "W unchecked: could not check replication slots: ");
    expect(all, "W unchecked: could not check unlogged tables: ");
    expect(all, "W unchecked: unlogged tables were checked in the connected database only");
    free(all);
    repo_close(repo);
}

static void test_reload_only(void **state)
{
    (void)state;
    Repo *repo = NULL;
    assert_true(repo_open(&cfg, &repo));
    char *all = lint(repo, true);
    /* No new cluster: no [green], no backup, no slots or unlogged tables to lose. */
    assert_null(strstr(all, "green-missing"));
    assert_null(strstr(all, "no-backup"));
    assert_null(strstr(all, "replication slots"));
    assert_null(strstr(all, "unlogged"));
    expect(all, "W unchecked: could not check open transactions: ");
    free(all);
    repo_close(repo);
}

static void test_answers(void **state)
{
    (void)state;
    Repo *repo = NULL;
    assert_true(repo_open(&cfg, &repo));
    mf.pause_timeout = 10;
    mf.standby_lag_limit = 1 << 20;
    mf.window_start = time_wall() - 7200; /* two hours ago, one hour long */
    mf.window_length = 3600;
    FakeResult script[] = {
        ROW(2, "f", "none"),                           /* standby: not in recovery */
        ROW(1, "104857600"),                           /* its lag: 100 MiB */
        {PGRES_FATAL_ERROR, 0, 0, {0}, "ERROR:  x\n"}, /* archcheck: identify */
        ROW(4, "4242", "app", "shop", "75"),           /* a long transaction */
        ROW(3, "2", "tx-1", "shop"),                   /* prepared transactions */
        ROW(3, "sub_1", "pgoutput", "shop"),           /* a logical slot */
        ROW(1, "shop"),                                /* the databases */
        ROW(3, "shop", "3", "public.cache"),           /* unlogged tables in shop */
    };
    for (size_t i = 0; i < sizeof(script) / sizeof(script[0]); i++)
        fakepq.exec[fakepq.n_exec++] = script[i];
    char *all = lint(repo, false);
    expect(all, "E standby-not-streaming: the standby is not in recovery: it is a primary of "
                "its own\n");
    expect(all, "E standby-lag: the standby's replay lags ");
    expect(all, "W long-transaction: transaction of pid 4242 (user app, database shop) has been "
                "open 75 s, longer than the pause timeout (10 s)\n");
    expect(all, "W prepared-transactions: 2 prepared transaction(s) on the primary (e.g. "
                "\"tx-1\" in database shop)\n");
    expect(all, "E logical-slots: logical replication slot \"sub_1\" (pgoutput, database shop) "
                "on the primary would be lost at the switch\n");
    expect(all, "W unlogged-tables: 3 unlogged table(s) in database shop (e.g. public.cache) "
                "will be empty on the new cluster\n");
    expect(all, "W window-past: the scheduled window (from ");
    assert_non_null(strstr(fakepq.conn_params, "dbname=host=p dbname='shop' "));
    free(all);

    /* A standby in recovery that does not stream; the primary cannot say the lag. */
    fakepq_reset();
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW(2, "t", "stopping");
    all = lint(repo, true);
    expect(all, "E standby-not-streaming: the standby is not streaming from the primary (WAL "
                "receiver: stopping)\n");
    expect(all, "W unchecked: could not check the standby's lag: ");
    free(all);

    /* The standby is down: said, with why. */
    fakepq_reset();
    LintCtx ctx = {.cfg = &cfg,
                   .mf = &mf,
                   .primary = FAKEPQ_CONN,
                   .standby_error = "connection refused",
                   .repo = repo,
                   .catalog = &catalog};
    Plan p = {.mf = &mf, .reload_only = true};
    lint_run(&ctx, &p);
    all = findings(&p);
    expect(all, "E standby-down: the standby is down: connection refused\n");
    plan_free(&p);
    free(all);
    err_clear();
    repo_close(repo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_query_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, testrepo_setup, testrepo_teardown);
}
