/*
 * query_test.c - pg/conn.h's connection and query helpers and pg/node.h's
 * identity against a scripted libpq (unit/fakepq.h): a refused connection
 * names the server without its password; a server error is its first line;
 * a query with a deadline gives up at the deadline (exit 8) and reports a
 * broken connection; results are freed on every path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "pg/conn.h"
#include "pg/node.h"
#include "unit/fakepq.h"

#define ROW  FAKEPQ_ROW
#define FAIL FAKEPQ_FAIL

static void test_connect(void **state)
{
    (void)state;
    fakepq.status = CONNECTION_BAD;
    fakepq.error = "FATAL:  password authentication failed for user \"dd\"\nmore\n";
    PGconn *c = pg_connect("host=db1 user=dd password=SECRET", "standby");
    assert_null(c);
    assert_int_equal(err_code(), DD_EXIT_PG);
    assert_string_equal(err_message(), "could not connect to the standby (user=dd "
                                       "password=******** host=db1): FATAL:  password "
                                       "authentication failed for user \"dd\"");
    assert_non_null(strstr(err_hint_text(), "the standby is running"));
    err_clear();

    fakepq.status = CONNECTION_OK;
    c = pg_connect("host=db1", "standby");
    assert_ptr_equal(c, FAKEPQ_CONN);
    assert_non_null(strstr(fakepq.conn_params, "application_name=drydock "));
    fakepq.notice(NULL, "WARNING:  something\n");
    pg_disconnect(c);
    pg_disconnect(NULL);
}

static void test_query(void **state)
{
    (void)state;
    fakepq.exec[fakepq.n_exec++] = (FakeResult)FAIL("ERROR:  relation \"x\" does not exist\n"
                                                    "LINE 1: SELECT * FROM x\n");
    fakepq.exec[fakepq.n_exec++] = (FakeResult){FAKEPQ_NULL_RESULT, 0, 0, {0}, NULL};
    fakepq.exec[fakepq.n_exec++] = (FakeResult){PGRES_TUPLES_OK, 0, 1, {0}, NULL};
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW(1, NULL);
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW(1, "64MB");
    fakepq.error = "server closed the connection unexpectedly\n";
    fakepq.port = NULL;

    fakepq_expect_error(pg_exec(FAKEPQ_CONN, "SELECT * FROM x"), DD_EXIT_PG,
                        "query failed on server \"db1:?\": ERROR:  relation \"x\" does not exist");
    fakepq_expect_error(
        pg_exec(FAKEPQ_CONN, "SELECT 1"), DD_EXIT_PG,
        "query failed on server \"db1:?\": server closed the connection unexpectedly");
    char *v = pg_query_value(FAKEPQ_CONN, "SELECT 1 WHERE false", 0, NULL);
    fakepq_expect_error(v != NULL, DD_EXIT_PG, "query returned no rows: SELECT 1 WHERE false");
    v = pg_query_value(FAKEPQ_CONN, "SELECT NULL", 0, NULL);
    assert_string_equal(v, ""); /* NULL reads as empty */
    free(v);
    v = pg_node_setting(FAKEPQ_CONN, "work_mem");
    assert_string_equal(v, "64MB");
    assert_string_equal(fakepq.sql[4], "SELECT current_setting($1) | work_mem");
    free(v);
}

static void test_exec_script(void **state)
{
    (void)state;
    fakepq.exec[fakepq.n_exec++] = (FakeResult){PGRES_EMPTY_QUERY, 0, 0, {0}, NULL};
    fakepq.exec[fakepq.n_exec++] = (FakeResult)FAIL("ERROR:  syntax error at or near \"x\"\n");
    fakepq.exec[fakepq.n_exec++] = (FakeResult){FAKEPQ_NULL_RESULT, 0, 0, {0}, NULL};
    fakepq.error = "out of memory\n";
    assert_true(pg_exec_script(FAKEPQ_CONN, "-- nothing"));
    fakepq_expect_error(pg_exec_script(FAKEPQ_CONN, "x;"), DD_EXIT_PG,
                        "script failed: ERROR:  syntax error at or near \"x\"");
    fakepq_expect_error(pg_exec_script(FAKEPQ_CONN, "y;"), DD_EXIT_PG,
                        "script failed: out of memory");
}

static void test_query_until(void **state)
{
    (void)state;
    PGresult *r;

    /* Two results (a multi-statement answer): the last one is kept, the first freed. */
    fakepq.results[fakepq.n_results++] = (FakeResult)ROW(1, "first");
    fakepq.results[fakepq.n_results++] = (FakeResult)ROW(1, "last");
    fakepq.busy = 1;
    fakepq_readable();
    r = pg_query_until(FAKEPQ_CONN, "primary", time_mono() + 60, "SELECT $1", 1,
                       (const char *[]){"p"});
    assert_non_null(r);
    assert_string_equal(PQgetvalue(r, 0, 0), "last");
    assert_string_equal(fakepq.sql[0], "SELECT $1 | p");
    PQclear(r);

    /* The query cannot be sent. */
    fakepq_reset();
    fakepq.send_ok = 0;
    fakepq.error = "no connection to the server\n";
    r = pg_query_until(FAKEPQ_CONN, "primary", time_mono() + 60, "SELECT 1", 0, NULL);
    fakepq_expect_error(r != NULL, DD_EXIT_PG,
                        "query on the primary failed: no connection to the server");

    /* No answer before the deadline (a server that hangs). */
    fakepq_reset();
    fakepq.busy = -1;
    fakepq.results[fakepq.n_results++] = (FakeResult)ROW(1, "never read");
    r = pg_query_until(FAKEPQ_CONN, "standby", time_mono() + 0.02, "SELECT 1", 0, NULL);
    assert_null(r);
    assert_int_equal(err_code(), DD_EXIT_TIMEOUT);
    assert_string_equal(err_message(), "the standby did not answer before the deadline");
    assert_non_null(strstr(err_hint_text(), "the server may hang"));
    err_clear();
    assert_int_equal(fakepq.results_taken, 0);

    /* The connection breaks while waiting. */
    fakepq_reset();
    fakepq.busy = -1;
    fakepq.consume_ok = 0;
    fakepq.error = "server closed the connection unexpectedly\n";
    fakepq_readable();
    r = pg_query_until(FAKEPQ_CONN, "primary", time_mono() + 60, "SELECT 1", 0, NULL);
    fakepq_expect_error(r != NULL, DD_EXIT_PG,
                        "query on the primary failed: server closed the connection unexpectedly");

    /* A server error; no result at all. */
    fakepq_reset();
    fakepq.results[fakepq.n_results++] =
        (FakeResult)FAIL("ERROR:  canceling statement due to statement timeout\n");
    r = pg_query_until(FAKEPQ_CONN, "primary", time_mono() + 60, "SELECT 1", 0, NULL);
    fakepq_expect_error(r != NULL, DD_EXIT_PG,
                        "query on the primary failed: ERROR:  canceling statement due to statement "
                        "timeout");
    fakepq.error = "lost synchronization with server\n";
    r = pg_query_until(FAKEPQ_CONN, "primary", time_mono() + 60, "SELECT 1", 0, NULL);
    fakepq_expect_error(r != NULL, DD_EXIT_PG,
                        "query on the primary failed: lost synchronization with server");

    /* The one-value form: no rows; a value. */
    fakepq_reset();
    fakepq.results[fakepq.n_results++] = (FakeResult){PGRES_TUPLES_OK, 0, 1, {0}, NULL};
    char *v = pg_query_value_until(FAKEPQ_CONN, "standby", time_mono() + 60, "SELECT x", 0, NULL);
    fakepq_expect_error(v != NULL, DD_EXIT_PG, "query on the standby returned no rows: SELECT x");
    fakepq_reset();
    fakepq.results[fakepq.n_results++] = (FakeResult)ROW(1, "0/3000000");
    v = pg_query_value_until(FAKEPQ_CONN, "standby", time_mono() + 60, "SELECT x", 0, NULL);
    assert_string_equal(v, "0/3000000");
    free(v);
}

static void test_node_identify(void **state)
{
    (void)state;
    fakepq.exec[fakepq.n_exec++] =
        (FakeResult)ROW(7, "7123456789012345678", "150004", "t", "3", "16777216", "on", "/pg/d");
    PgNode n;
    assert_true(pg_node_identify(FAKEPQ_CONN, &n));
    assert_true(n.system_id == 7123456789012345678ull);
    assert_int_equal(n.version_num, 150004);
    assert_true(n.in_recovery);
    assert_int_equal(n.timeline, 3);
    assert_int_equal(n.wal_seg_size, 16777216);
    assert_true(n.data_checksums);
    assert_string_equal(n.data_directory, "/pg/d");

    /* Two rows (a view someone replaced), or a server error: refused, nothing half-read. */
    fakepq.exec[fakepq.n_exec++] = (FakeResult){PGRES_TUPLES_OK, 2, 7, {0}, NULL};
    fakepq.exec[fakepq.n_exec++] =
        (FakeResult)FAIL("ERROR:  permission denied for function pg_control_system\n");
    fakepq_expect_error(pg_node_identify(FAKEPQ_CONN, &n), DD_EXIT_PG,
                        "query returned 2 rows, expected one");
    assert_true(n.system_id == 0);
    fakepq_expect_error(
        pg_node_identify(FAKEPQ_CONN, &n), DD_EXIT_PG,
        "query failed on server \"db1:5432\": ERROR:  permission denied for function "
        "pg_control_system");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_connect, fakepq_setup, fakepq_teardown),
        cmocka_unit_test_setup_teardown(test_query, fakepq_setup, fakepq_teardown),
        cmocka_unit_test_setup_teardown(test_exec_script, fakepq_setup, fakepq_teardown),
        cmocka_unit_test_setup_teardown(test_query_until, fakepq_setup, fakepq_teardown),
        cmocka_unit_test_setup_teardown(test_node_identify, fakepq_setup, fakepq_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
