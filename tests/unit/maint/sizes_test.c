/*
 * sizes_test.c - the sizes a plan is estimated from (maint/sizes.h), read
 * from a scripted primary and standby (unit/fakepq.h) and an empty
 * repository: without a readable data directory the size is the server's
 * own count; the WAL rate from two readings; the standby's lag; an answer
 * that is not an LSN, and a standby that cannot say its lag, are errors
 * naming them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "maint/sizes.h"
#include "unit/fakepq.h"
#include "unit/testrepo.h"

#define ROW(v)                                                                                     \
    {                                                                                              \
        PGRES_TUPLES_OK, 1, 1, {(v)}, NULL                                                         \
    }

static const SizesOpts opts = {.primary = "host=p",
                               .primary_data = "/nonexistent/data",
                               .standby = "host=s",
                               .interval = 0.01};

static bool measure(PlanSizes *out)
{
    Repo *repo = NULL;
    assert_true(repo_open(&cfg, &repo));
    bool ok = sizes_measure(&opts, repo, out);
    repo_close(repo);
    assert_int_equal(fakepq.open_results, 0);
    assert_int_equal(fakepq.open_conns, 0);
    return ok;
}

static void test_measure(void **state)
{
    (void)state;
    fakepq_reset();
    FakeResult script[] = {ROW("0/1000000"), ROW("123456789"), ROW("0/1800000"), ROW("0/1000000")};
    for (size_t i = 0; i < 4; i++)
        fakepq.exec[fakepq.n_exec++] = script[i];
    PlanSizes z;
    assert_true(measure(&z));
    assert_false(z.have_backup);
    assert_true(z.data_bytes == 123456789);
    assert_true(z.backup_read == z.data_bytes);
    assert_true(z.backup_store == z.data_bytes); /* no backup: everything is stored */
    assert_true(z.standby_lag == 0x800000);
    assert_true(z.wal_rate > 0);
    assert_string_equal(fakepq.sql[1],
                        "SELECT sum(pg_database_size(oid))::bigint FROM pg_database");
    assert_string_equal(fakepq.sql[3], "SELECT coalesce(pg_last_wal_replay_lsn(), '0/0')");
}

static void test_errors(void **state)
{
    (void)state;
    PlanSizes z;
    fakepq_reset();
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW("abc");
    assert_false(measure(&z));
    assert_int_equal(err_code(), DD_EXIT_PG);
    assert_string_equal(err_message(),
                        "\"SELECT pg_current_wal_lsn()\" returned \"abc\", not an LSN");
    err_clear();

    fakepq_reset();
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW("0/1000000");
    fakepq.exec[fakepq.n_exec++] =
        (FakeResult){PGRES_FATAL_ERROR, 0, 0, {0}, "ERROR:  permission denied\n"};
    assert_false(measure(&z));
    assert_string_equal(err_message(),
                        "query failed on server \"db1:5432\": ERROR:  permission denied");
    err_clear();

    fakepq_reset();
    FakeResult script[] = {ROW("0/1000000"),
                           ROW("8192"),
                           ROW("0/1000000"),
                           {PGRES_FATAL_ERROR, 0, 0, {0}, "ERROR:  recovery is not in progress\n"}};
    for (size_t i = 0; i < 4; i++)
        fakepq.exec[fakepq.n_exec++] = script[i];
    assert_false(measure(&z));
    assert_string_equal(err_message(), "measuring the standby's lag: query failed on server "
                                       "\"db1:5432\": ERROR:  recovery is not in progress");
    err_clear();

    fakepq_reset();
    fakepq.status = CONNECTION_BAD;
    fakepq.error = "connection refused\n";
    assert_false(measure(&z));
    assert_string_equal(err_message(),
                        "could not connect to the primary (host=p): connection refused");
    err_clear();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_measure),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, testrepo_setup, testrepo_teardown);
}
