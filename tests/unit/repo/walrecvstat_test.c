/*
 * walrecvstat_test.c - the wal-receive status file: what is written reads
 * back the same, bad lines are named, and the lag shown is server - flush.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "repo/walrecvstat.h"

static WalRecvStat sample(void)
{
    WalRecvStat s = {.pid = 999999999,
                     .synchronous = true,
                     .timeline = 2,
                     .write = 0x3000200,
                     .flush = 0x3000148,
                     .server = 0x3001000,
                     .updated = 1732970000.5};
    strcpy(s.state, "streaming");
    strcpy(s.slot, "drydock");
    strcpy(s.archived, "000000020000000000000002");
    return s;
}

static void test_round_trip(void **state)
{
    (void)state;
    WalRecvStat s = sample(), back;
    Buf b = {0};
    walrecvstat_format(&s, &b);
    assert_true(walrecvstat_parse((const char *)b.data, b.len, &back));
    assert_int_equal(back.pid, s.pid);
    assert_string_equal(back.state, "streaming");
    assert_true(back.synchronous);
    assert_string_equal(back.slot, "drydock");
    assert_int_equal(back.timeline, 2);
    assert_int_equal(back.write, s.write);
    assert_int_equal(back.flush, s.flush);
    assert_int_equal(back.server, s.server);
    assert_string_equal(back.archived, s.archived);
    assert_true(back.updated == s.updated);
    buf_free(&b);

    /* Nothing archived yet is "-", read back as "". */
    s.archived[0] = '\0';
    walrecvstat_format(&s, &b);
    assert_non_null(strstr((const char *)b.data, "archived -\n"));
    assert_true(walrecvstat_parse((const char *)b.data, b.len, &back));
    assert_string_equal(back.archived, "");
    buf_free(&b);
}

typedef struct {
    const char *title;
    const char *text;
    const char *error; /* NULL: accepted */
} ParseCase;

static void test_parse(void **state)
{
    (void)state;
    const ParseCase cases[] = {
        {"minimal", "pid 5\nstate stopped\n", NULL},
        {"unknown key from a newer writer", "pid 5\nstate stopped\nfuture 1\n", NULL},
        {"bad LSN", "pid 5\nstate streaming\nflush 12\n",
         "wal-receive status file: line 3 is not understood"},
        {"timeline 0: not known yet", "pid 5\nstate connecting\ntimeline 0\n", NULL},
        {"timeline not a number", "pid 5\nstate streaming\ntimeline x1\n",
         "wal-receive status file: line 3 is not understood"},
        {"line without a value", "pid 5\nstate\n",
         "wal-receive status file: line 2 is not understood"},
        {"synchronous maybe", "pid 5\nstate streaming\nsynchronous maybe\n",
         "wal-receive status file: line 3 is not understood"},
        {"no pid", "state streaming\n", "wal-receive status file has no pid or state"},
        {"empty", "", "wal-receive status file has no pid or state"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("case: %s\n", cases[i].title);
        WalRecvStat s;
        bool ok = walrecvstat_parse(cases[i].text, strlen(cases[i].text), &s);
        assert_int_equal(ok, cases[i].error == NULL);
        if (!ok) {
            assert_string_equal(err_message(), cases[i].error);
            err_clear();
        }
    }
}

static void test_render(void **state)
{
    (void)state;
    WalRecvStat s = sample(); /* pid 999999999 runs nowhere */
    Buf b = {0};
    walrecvstat_render_prometheus(&s, s.updated + 4, &b);
    assert_non_null(strstr((const char *)b.data, "\ndrydock_wal_receive_up 0\n"));
    assert_non_null(strstr((const char *)b.data, "\ndrydock_wal_receive_lag_bytes 3768\n"));
    assert_non_null(strstr((const char *)b.data, "\ndrydock_wal_receive_status_age_seconds 4\n"));
    buf_free(&b);
    walrecvstat_render_text(&s, s.updated + 4, &b);
    assert_non_null(strstr((const char *)b.data, "wal-receive: not running, timeline 2, flushed "
                                                 "to 0/3000148, 3768 bytes behind"));
    buf_free(&b);
    json_t *j = walrecvstat_to_json(&s, s.updated);
    assert_int_equal(json_integer_value(json_object_get(j, "lag_bytes")), 3768);
    assert_string_equal(json_string_value(json_object_get(j, "flush_lsn")), "0/3000148");
    assert_true(json_is_false(json_object_get(j, "running")));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
