/*
 * replconn_test.c - wal-receive's replication connection against a scripted
 * libpq (unit/fakepq.h): a refused connection, each walsender command's
 * server error, short and unreadable rows, a logical slot where a physical
 * one is expected, a stream that breaks, times out or ends on a timeline
 * switch, and a status update that cannot be sent. Every failure is one
 * line naming the server and the command, with the server's first line;
 * every result is freed, every connection closed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "pg/replconn.h"
#include "pg/replmsg.h"
#include "unit/fakepq.h"

#define ROW(s, n, ...)                                                                             \
    {                                                                                              \
        (s), 1, (n), {__VA_ARGS__}, NULL                                                           \
    }
#define FAIL FAKEPQ_FAIL

static void test_open_refused(void **state)
{
    (void)state;
    fakepq.status = CONNECTION_BAD;
    fakepq.error = "connection to server at \"10.0.0.1\", port 5432 failed: Connection refused\n"
                   "\tIs the server running on that host?\n";
    PGconn *c = replconn_open("host=10.0.0.1 password=SECRET", "drydock-wal");
    assert_null(c);
    assert_int_equal(err_code(), DD_EXIT_PG);
    assert_string_equal(err_message(),
                        "could not open a replication connection to (password=******** "
                        "host=10.0.0.1): connection to server at \"10.0.0.1\", port 5432 failed: "
                        "Connection refused");
    assert_non_null(strstr(err_hint_text(), "pg_hba.conf"));
    assert_null(strstr(err_message(), "SECRET"));
    err_clear();
}

static void test_open_bad_conninfo(void **state)
{
    (void)state;
    PGconn *c = replconn_open("host=h passwrod=SECRET", "drydock-wal");
    assert_null(c);
    assert_int_equal(err_code(), DD_EXIT_CONFIG);
    assert_null(strstr(err_message(), "SECRET"));
    assert_string_equal(fakepq.conn_params, ""); /* nothing was tried */
    err_clear();
}

static void test_open(void **state)
{
    (void)state;
    PGconn *c = replconn_open("host=h", "drydock-wal");
    assert_ptr_equal(c, FAKEPQ_CONN);
    assert_non_null(strstr(fakepq.conn_params, "dbname=host=h "));
    assert_non_null(strstr(fakepq.conn_params, "replication=true "));
    assert_non_null(strstr(fakepq.conn_params, "application_name=drydock-wal "));
    /* The overrides come after the conninfo, the defaults before it. */
    assert_true(strstr(fakepq.conn_params, "replication=") > strstr(fakepq.conn_params, "dbname="));
    assert_true(strstr(fakepq.conn_params, "keepalives=") < strstr(fakepq.conn_params, "dbname="));
    /* Server notices go to the debug log, not to stderr. */
    assert_non_null(fakepq.notice);
    log_set_level(LOG_DEBUG);
    fakepq.notice(NULL, "NOTICE:  a notice\nDETAIL: more\n");
    log_set_level(LOG_INFO);
    PQfinish(c);
}

typedef struct {
    const char *title;
    FakeResult row;
    DdExit code; /* 0: success */
    const char *message;
} IdentifyCase;

static const IdentifyCase identify_cases[] = {
    {"a server error: its first line",
     FAIL("ERROR:  permission denied to start WAL sender\nDETAIL:  more\n"), DD_EXIT_PG,
     "replication from \"db1:5432\" failed (IDENTIFY_SYSTEM): ERROR:  permission denied to "
     "start WAL sender"},
    {"no result at all (libpq out of memory): the connection's message",
     {FAKEPQ_NULL_RESULT, 0, 0, {0}, NULL},
     DD_EXIT_PG,
     "replication from \"db1:5432\" failed (IDENTIFY_SYSTEM): out of memory"},
    {"two fields", ROW(PGRES_TUPLES_OK, 2, "1", "1"), DD_EXIT_PROTOCOL,
     "IDENTIFY_SYSTEM returned 1 rows of 2 fields, expected 1 row of 3"},
    {"no rows",
     {PGRES_TUPLES_OK, 0, 4, {0}, NULL},
     DD_EXIT_PROTOCOL,
     "IDENTIFY_SYSTEM returned 0 rows of 4 fields, expected 1 row of 3"},
    {"a command tag, not rows",
     {PGRES_COMMAND_OK, 0, 0, {0}, NULL},
     DD_EXIT_PROTOCOL,
     "IDENTIFY_SYSTEM returned 0 rows of 0 fields, expected 1 row of 3"},
    {"a system identifier with a tail", ROW(PGRES_TUPLES_OK, 4, "123x", "1", "0/1000000", NULL),
     DD_EXIT_PROTOCOL, "IDENTIFY_SYSTEM returned a row drydock cannot read"},
    {"a system identifier past 64 bits",
     ROW(PGRES_TUPLES_OK, 4, "99999999999999999999", "1", "0/1000000", NULL), DD_EXIT_PROTOCOL,
     "IDENTIFY_SYSTEM returned a row drydock cannot read"},
    {"timeline 0", ROW(PGRES_TUPLES_OK, 4, "42", "0", "0/1000000", NULL), DD_EXIT_PROTOCOL,
     "IDENTIFY_SYSTEM returned a row drydock cannot read"},
    {"a timeline past 32 bits", ROW(PGRES_TUPLES_OK, 4, "42", "4294967296", "0/1000000", NULL),
     DD_EXIT_PROTOCOL, "IDENTIFY_SYSTEM returned a row drydock cannot read"},
    {"an unreadable position", ROW(PGRES_TUPLES_OK, 4, "42", "1", "0-1000000", NULL),
     DD_EXIT_PROTOCOL, "IDENTIFY_SYSTEM returned a row drydock cannot read"},
};

static void test_identify(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(identify_cases) / sizeof(identify_cases[0]); i++) {
        const IdentifyCase *c = &identify_cases[i];
        fakepq_reset();
        fakepq.error = "out of memory\n";
        fakepq.exec[fakepq.n_exec++] = c->row;
        ReplIdentity id;
        bool ok = replconn_identify(FAKEPQ_CONN, &id);
        if (ok || err_code() != c->code || strcmp(err_message(), c->message) != 0)
            fail_msg("%s: %s %d [%s]", c->title, ok ? "passed" : "failed", err_code(),
                     err_message());
        if (fakepq.open_results != 0)
            fail_msg("%s: a result was not freed", c->title);
        err_clear();
    }
    fakepq_reset();
    fakepq.exec[fakepq.n_exec++] =
        (FakeResult)ROW(PGRES_TUPLES_OK, 4, "7123456789012345678", "3", "1/3000060", NULL);
    ReplIdentity id;
    assert_true(replconn_identify(FAKEPQ_CONN, &id));
    assert_string_equal(fakepq.sql[0], "IDENTIFY_SYSTEM");
    assert_true(id.system_id == 7123456789012345678ull);
    assert_int_equal(id.timeline, 3);
    assert_true(id.xlogpos == 0x103000060ull);
}

typedef struct {
    const char *title;
    FakeResult row;
    bool ok, exists;
    uint64_t restart;
    DdExit code;
    const char *message;
} SlotCase;

static const SlotCase slot_cases[] = {
    {"no such slot", ROW(PGRES_TUPLES_OK, 3, NULL, NULL, NULL), true, false, 0, 0, NULL},
    {"a physical slot", ROW(PGRES_TUPLES_OK, 3, "physical", "0/5000028", "1"), true, true,
     0x5000028, 0, NULL},
    {"a physical slot that holds no WAL yet", ROW(PGRES_TUPLES_OK, 3, "physical", NULL, NULL), true,
     true, 0, 0, NULL},
    {"a logical slot of that name", ROW(PGRES_TUPLES_OK, 3, "logical", "0/5000028", "1"), false,
     true, 0, DD_EXIT_PG, "replication slot \"s1\" is a logical slot, expected a physical one"},
    {"an unreadable restart_lsn", ROW(PGRES_TUPLES_OK, 3, "physical", "5000028", "1"), false, true,
     0, DD_EXIT_PROTOCOL, "READ_REPLICATION_SLOT returned a bad restart_lsn"},
    {"a server error", FAIL("ERROR:  syntax error\n"), false, false, 0, DD_EXIT_PG,
     "replication from \"db1:5432\" failed (READ_REPLICATION_SLOT): ERROR:  syntax error"},
    {"too few fields", ROW(PGRES_TUPLES_OK, 2, "physical", "0/1"), false, false, 0,
     DD_EXIT_PROTOCOL, "READ_REPLICATION_SLOT returned 1 rows of 2 fields, expected 1 row of 3"},
};

static void test_slot_read(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(slot_cases) / sizeof(slot_cases[0]); i++) {
        const SlotCase *c = &slot_cases[i];
        fakepq_reset();
        fakepq.exec[fakepq.n_exec++] = c->row;
        bool exists = !c->exists;
        uint64_t restart = 99;
        bool ok = replconn_slot_read(FAKEPQ_CONN, "s1", &exists, &restart);
        assert_string_equal(fakepq.sql[0], "READ_REPLICATION_SLOT s1");
        if (ok != c->ok)
            fail_msg("%s: %s [%s]", c->title, ok ? "passed" : "failed", err_message());
        if (ok && (exists != c->exists || restart != c->restart))
            fail_msg("%s: exists %d restart %lx", c->title, exists, (unsigned long)restart);
        if (!ok && (err_code() != c->code || strcmp(err_message(), c->message) != 0))
            fail_msg("%s: error %d [%s]", c->title, err_code(), err_message());
        if (c->code == DD_EXIT_PG && c->exists)
            assert_non_null(strstr(err_hint_text(), "--slot"));
        if (fakepq.open_results != 0)
            fail_msg("%s: a result was not freed", c->title);
        err_clear();
    }
}

static void test_slot_create(void **state)
{
    (void)state;
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW(PGRES_TUPLES_OK, 4, "s1", "0/1", NULL, NULL);
    assert_true(replconn_slot_create(FAKEPQ_CONN, "s1"));
    assert_string_equal(fakepq.sql[0], "CREATE_REPLICATION_SLOT s1 PHYSICAL RESERVE_WAL");
    fakepq.exec[fakepq.n_exec++] =
        (FakeResult)FAIL("ERROR:  replication slot \"s1\" already exists\n");
    fakepq_expect_error(replconn_slot_create(FAKEPQ_CONN, "s1"), DD_EXIT_PG,
                        "replication from \"db1:5432\" failed (CREATE_REPLICATION_SLOT): ERROR:  "
                        "replication slot \"s1\" already exists");
}

static void test_timeline_history(void **state)
{
    (void)state;
    char *name = NULL;
    Buf content = {0};
    buf_append_str(&content, "stale");
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW(PGRES_TUPLES_OK, 2, "00000003.history",
                                                   "1\t0/3000000\tno recovery target specified\n");
    assert_true(replconn_timeline_history(FAKEPQ_CONN, 3, &name, &content));
    assert_string_equal(fakepq.sql[0], "TIMELINE_HISTORY 3");
    assert_string_equal(name, "00000003.history");
    assert_int_equal(content.len, strlen("1\t0/3000000\tno recovery target specified\n"));
    assert_memory_equal(content.data, "1\t0/3000000", 11);
    free(name);

    fakepq.exec[fakepq.n_exec++] =
        (FakeResult)FAIL("ERROR:  could not open file \"pg_wal/00000009.history\"\n");
    fakepq_expect_error(
        replconn_timeline_history(FAKEPQ_CONN, 9, &name, &content), DD_EXIT_PG,
        "replication from \"db1:5432\" failed (TIMELINE_HISTORY): ERROR:  could not "
        "open file \"pg_wal/00000009.history\"");
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW(PGRES_TUPLES_OK, 1, "00000003.history");
    fakepq_expect_error(replconn_timeline_history(FAKEPQ_CONN, 3, &name, &content),
                        DD_EXIT_PROTOCOL,
                        "TIMELINE_HISTORY returned 1 rows of 1 fields, expected 1 row of 2");
    buf_free(&content);
}

static void test_start(void **state)
{
    (void)state;
    fakepq.exec[fakepq.n_exec++] = (FakeResult){PGRES_COPY_BOTH, 0, 0, {0}, NULL};
    assert_true(replconn_start(FAKEPQ_CONN, "s1", 0x203000000ull, 2));
    assert_string_equal(fakepq.sql[0], "START_REPLICATION SLOT s1 PHYSICAL 2/3000000 TIMELINE 2");
    fakepq.exec[fakepq.n_exec++] = (FakeResult)FAIL(
        "ERROR:  requested starting point 2/3000000 is ahead of the WAL flush position\n");
    fakepq_expect_error(
        replconn_start(FAKEPQ_CONN, "s1", 0x203000000ull, 2), DD_EXIT_PG,
        "replication from \"db1:5432\" failed (START_REPLICATION): ERROR:  requested "
        "starting point 2/3000000 is ahead of the WAL flush position");
    /* A server that answers with rows instead of entering CopyBoth. */
    fakepq.host = NULL;
    fakepq.exec[fakepq.n_exec++] = (FakeResult)ROW(PGRES_TUPLES_OK, 1, "x");
    fakepq_expect_error(replconn_start(FAKEPQ_CONN, "s1", 0, 1), DD_EXIT_PG,
                        "replication from \"?:5432\" failed (START_REPLICATION): ");
}

static void test_receive(void **state)
{
    (void)state;
    char *buf = NULL;
    int len = 0;
    ReplRecv what;

    /* A message at once, then the end of the stream. */
    fakepq.copy[fakepq.n_copy++] = (FakeCopy){5, "w1234"};
    fakepq.copy[fakepq.n_copy++] = (FakeCopy){-1, NULL};
    assert_true(replconn_receive(FAKEPQ_CONN, 0, &buf, &len, &what));
    assert_int_equal(what, REPLCONN_DATA);
    assert_int_equal(len, 5);
    assert_memory_equal(buf, "w1234", 5);
    PQfreemem(buf);
    assert_true(replconn_receive(FAKEPQ_CONN, 0, &buf, &len, &what));
    assert_int_equal(what, REPLCONN_END);

    /* Nothing, and no time to wait; nothing within a short wait. */
    assert_true(replconn_receive(FAKEPQ_CONN, 0, &buf, &len, &what));
    assert_int_equal(what, REPLCONN_TIMEOUT);
    assert_true(replconn_receive(FAKEPQ_CONN, 0.01, &buf, &len, &what));
    assert_int_equal(what, REPLCONN_TIMEOUT);

    /* Nothing buffered; the socket turns readable; the message is then there. */
    fakepq_reset();
    fakepq.copy[fakepq.n_copy++] = (FakeCopy){0, NULL};
    fakepq.copy[fakepq.n_copy++] = (FakeCopy){3, "abc"};
    fakepq_readable();
    assert_true(replconn_receive(FAKEPQ_CONN, 60, &buf, &len, &what));
    assert_int_equal(what, REPLCONN_DATA);
    assert_int_equal(len, 3);
    PQfreemem(buf);

    /* The connection broke while reading. */
    fakepq_reset();
    fakepq.error = "server closed the connection unexpectedly\n";
    fakepq.consume_ok = 0;
    fakepq_readable();
    fakepq_expect_error(replconn_receive(FAKEPQ_CONN, 60, &buf, &len, &what), DD_EXIT_PG,
                        "replication from \"db1:5432\" failed (receiving WAL): server closed the "
                        "connection unexpectedly");

    /* A copy error. */
    fakepq_reset();
    fakepq.error = "ERROR:  requested WAL segment has already been removed\n";
    fakepq.copy[fakepq.n_copy++] = (FakeCopy){-2, NULL};
    fakepq_expect_error(
        replconn_receive(FAKEPQ_CONN, 60, &buf, &len, &what), DD_EXIT_PG,
        "replication from \"db1:5432\" failed (receiving WAL): ERROR:  requested WAL "
        "segment has already been removed");
}

static uint64_t be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void test_send_status(void **state)
{
    (void)state;
    assert_true(replconn_send_status(FAKEPQ_CONN, 0x3000100, 0x3000000, true));
    assert_int_equal(fakepq.sent_len, REPLMSG_STATUS_LEN);
    assert_int_equal(fakepq.sent[0], 'r');
    assert_true(be64(fakepq.sent + 1) == 0x3000100);
    assert_true(be64(fakepq.sent + 9) == 0x3000000);
    assert_true(be64(fakepq.sent + 17) == 0); /* apply */
    assert_int_equal(fakepq.sent[33], 1);     /* reply requested */

    fakepq.put_rc = -1;
    fakepq.error = "SSL SYSCALL error: EOF detected\n";
    fakepq_expect_error(replconn_send_status(FAKEPQ_CONN, 1, 1, false), DD_EXIT_PG,
                        "replication from \"db1:5432\" failed (sending the standby status): SSL "
                        "SYSCALL error: EOF detected");
    fakepq.put_rc = 1;
    fakepq.flush_rc = -1;
    fakepq_expect_error(replconn_send_status(FAKEPQ_CONN, 1, 1, false), DD_EXIT_PG,
                        "replication from \"db1:5432\" failed (sending the standby status): SSL "
                        "SYSCALL error: EOF detected");
}

typedef struct {
    const char *title;
    int end_rc, flush_rc, bad_after_result;
    FakeResult results[3];
    int n_results;
    bool ok, switched;
    uint32_t tli;
    uint64_t start;
    int results_taken;
    const char *message; /* when !ok */
} EndCase;

static const EndCase end_cases[] = {
    {"a timeline switch: the next timeline and where it starts",
     1,
     0,
     0,
     {ROW(PGRES_TUPLES_OK, 2, "4", "0/7000000"), {PGRES_COMMAND_OK, 0, 0, {0}, NULL}},
     2,
     true,
     true,
     4,
     0x7000000,
     2,
     NULL},
    {"the server stopped: no next timeline",
     1,
     0,
     0,
     {{PGRES_COMMAND_OK, 0, 0, {0}, NULL}},
     1,
     true,
     false,
     0,
     0,
     1,
     NULL},
    {"a next timeline of 0",
     1,
     0,
     0,
     {ROW(PGRES_TUPLES_OK, 2, "0", "0/7000000"), {PGRES_COMMAND_OK, 0, 0, {0}, NULL}},
     2,
     false,
     false,
     0,
     0,
     2,
     "the end of the stream names no next timeline"},
    {"an unreadable start",
     1,
     0,
     0,
     {ROW(PGRES_TUPLES_OK, 2, "4", "seven")},
     1,
     false,
     false,
     0,
     0,
     1,
     "the end of the stream names no next timeline"},
    {"a server error after CopyDone: the first is reported",
     1,
     0,
     0,
     {FAIL("ERROR:  first\n"), FAIL("ERROR:  second\n")},
     2,
     false,
     false,
     0,
     0,
     2,
     "replication from \"db1:5432\" failed (ending the stream): ERROR:  first"},
    {"the connection broke: no more results are read",
     1,
     0,
     1,
     {FAIL("FATAL:  terminating connection\n"), {PGRES_COMMAND_OK, 0, 0, {0}, NULL}},
     2,
     false,
     false,
     0,
     0,
     1,
     "replication from \"db1:5432\" failed (ending the stream): FATAL:  terminating connection"},
    {"CopyDone cannot be queued",
     -1,
     0,
     0,
     {{0}},
     0,
     false,
     false,
     0,
     0,
     0,
     "replication from \"db1:5432\" failed (ending the stream): connection lost"},
    {"CopyDone cannot be flushed",
     1,
     -1,
     0,
     {{0}},
     0,
     false,
     false,
     0,
     0,
     0,
     "replication from \"db1:5432\" failed (ending the stream): connection lost"},
};

static void test_end(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(end_cases) / sizeof(end_cases[0]); i++) {
        const EndCase *c = &end_cases[i];
        fakepq_reset();
        fakepq.error = "connection lost\n";
        fakepq.end_rc = c->end_rc;
        fakepq.flush_rc = c->flush_rc;
        fakepq.bad_after_result = c->bad_after_result;
        for (int k = 0; k < c->n_results; k++)
            fakepq.results[fakepq.n_results++] = c->results[k];
        bool switched = !c->switched;
        uint32_t tli = 0;
        uint64_t start = 0;
        bool ok = replconn_end(FAKEPQ_CONN, &switched, &tli, &start);
        if (ok != c->ok)
            fail_msg("%s: %s [%s]", c->title, ok ? "passed" : "failed", err_message());
        if (!ok && strcmp(err_message(), c->message) != 0)
            fail_msg("%s: [%s]", c->title, err_message());
        if (ok && (switched != c->switched || (switched && (tli != c->tli || start != c->start))))
            fail_msg("%s: switched %d tli %u start %lx", c->title, switched, tli,
                     (unsigned long)start);
        if (fakepq.results_taken != c->results_taken)
            fail_msg("%s: %d results read, expected %d", c->title, fakepq.results_taken,
                     c->results_taken);
        if (fakepq.open_results != 0)
            fail_msg("%s: a result was not freed", c->title);
        err_clear();
    }
}

static void test_slot_names(void **state)
{
    (void)state;
    assert_true(replconn_slot_name_valid("drydock_1"));
    assert_true(replconn_slot_name_valid(
        "a23456789012345678901234567890123456789012345678901234567890123"));
    assert_false(replconn_slot_name_valid(
        "a234567890123456789012345678901234567890123456789012345678901234"));
    assert_false(replconn_slot_name_valid(""));
    assert_false(replconn_slot_name_valid("Drydock"));
    assert_false(replconn_slot_name_valid("s1; DROP"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_refused, fakepq_setup, fakepq_teardown),
        cmocka_unit_test_setup_teardown(test_open_bad_conninfo, fakepq_setup, fakepq_teardown),
        cmocka_unit_test_setup_teardown(test_open, fakepq_setup, fakepq_teardown),
        cmocka_unit_test_setup_teardown(test_identify, fakepq_setup, fakepq_teardown),
        cmocka_unit_test_setup_teardown(test_slot_read, fakepq_setup, fakepq_teardown),
        cmocka_unit_test_setup_teardown(test_slot_create, fakepq_setup, fakepq_teardown),
        cmocka_unit_test_setup_teardown(test_timeline_history, fakepq_setup, fakepq_teardown),
        cmocka_unit_test_setup_teardown(test_start, fakepq_setup, fakepq_teardown),
        cmocka_unit_test_setup_teardown(test_receive, fakepq_setup, fakepq_teardown),
        cmocka_unit_test_setup_teardown(test_send_status, fakepq_setup, fakepq_teardown),
        cmocka_unit_test_setup_teardown(test_end, fakepq_setup, fakepq_teardown),
        cmocka_unit_test_setup_teardown(test_slot_names, fakepq_setup, fakepq_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
