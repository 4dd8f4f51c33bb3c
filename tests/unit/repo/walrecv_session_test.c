/*
 * walrecv_session_test.c - wal-receive against a scripted server
 * (unit/fakepq.h): a server of another cluster (its system identifier is not
 * the repository's) is refused at once, exit 9, without a retry, without a
 * slot created, and the receiver says "stopped".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repo/walrecv.h"
#include "repo/walrecvstat.h"
#include "unit/fakepq.h"
#include "unit/testrepo.h"

static void test_other_cluster(void **state)
{
    (void)state;
    fakepq_reset();
    /* The repository is of system 42 (testrepo.h); this server is of 43. */
    fakepq.exec[fakepq.n_exec++] =
        (FakeResult){PGRES_TUPLES_OK, 1, 4, {"43", "1", "0/3000000", NULL}, NULL};
    fakepq.exec[fakepq.n_exec++] = (FakeResult){PGRES_TUPLES_OK, 1, 3, {NULL, NULL, NULL}, NULL};
    Repo *repo = NULL;
    assert_true(repo_open(&cfg, &repo));
    char *spool = xasprintf("%s/spool", testrepo_root);
    WalRecvOpts o = {.conninfo = "host=p",
                     .slot = "drydock",
                     .app_name = "drydock-wal",
                     .spool = spool,
                     .status_interval = 10};
    volatile sig_atomic_t stop = 0;
    assert_false(walrecv_run(repo, &o, &stop));
    assert_int_equal(err_code(), DD_EXIT_CONFLICT);
    assert_string_equal(err_message(), "the server's system identifier is 43, the repository's 42");
    assert_non_null(strstr(err_hint_text(), "the cluster the repository was created for"));
    err_clear();
    /* Asked once: identify and the slot; no slot created, no stream started. */
    assert_int_equal(fakepq.n_sql, 2);
    assert_string_equal(fakepq.sql[0], "IDENTIFY_SYSTEM");
    assert_string_equal(fakepq.sql[1], "READ_REPLICATION_SLOT drydock");
    assert_int_equal(fakepq.open_conns, 0);
    assert_int_equal(fakepq.open_results, 0);
    WalRecvStat st;
    bool found = false;
    assert_true(walrecvstat_read(spool, &st, &found));
    assert_true(found);
    assert_string_equal(st.state, "stopped");
    repo_close(repo);
    free(spool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_other_cluster),
    };
    return cmocka_run_group_tests(tests, testrepo_setup, testrepo_teardown);
}
