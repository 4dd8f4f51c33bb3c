/*
 * switchover_test.c - the switchover's pure parts: comparing servers, the
 * step bookkeeping and the report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "maint/fence.h"
#include "maint/switchover.h"

static void test_same_server(void **state)
{
    (void)state;
    const struct {
        const char *a, *b;
        bool same;
    } cases[] = {
        {"host=127.0.0.1 port=5432", "host=127.0.0.1 port=5432 user=postgres", true},
        {"host=127.0.0.1 port=5432", "host=localhost port=5432", true},
        {"host=127.0.0.1 port=5432 password=secret", "host=127.0.0.1 port=5432 password=********",
         true},
        {"host=127.0.0.1", "host=127.0.0.1 port=5432", true},
        {"host=127.0.0.1 port=5432", "host=127.0.0.1 port=5433", false},
        {"host=10.0.0.1 port=5432", "host=10.0.0.2 port=5432", false},
        {"postgresql://u:pw@127.0.0.1:6000/db", "host=127.0.0.1 port=6000", true},
        {"host=127.0.0.1 port=5432", NULL, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (switchover_same_server(cases[i].a, cases[i].b) != cases[i].same)
            fail_msg("\"%s\" vs \"%s\": expected %s", cases[i].a,
                     cases[i].b ? cases[i].b : "(null)", cases[i].same ? "same" : "different");
}

static void test_steps(void **state)
{
    (void)state;
    SwitchoverReport r = {0};
    assert_int_equal(switchover_failed_step(&r), SW_STEP_COUNT);
    switchover_step_begin(&r, SW_STEP_CHECKS, 10.0);
    assert_int_equal(r.steps[SW_STEP_CHECKS].state, SW_STEP_RUNNING);
    switchover_step_end(&r, SW_STEP_CHECKS, true, 10.0125, "all %s", "good");
    assert_int_equal(r.steps[SW_STEP_CHECKS].state, SW_STEP_OK);
    assert_true(r.steps[SW_STEP_CHECKS].ms > 12.49 && r.steps[SW_STEP_CHECKS].ms < 12.51);
    switchover_step_begin(&r, SW_STEP_PAUSE, 11.0);
    switchover_step_end(&r, SW_STEP_PAUSE, false, 11.5, "no proxy");
    assert_int_equal(switchover_failed_step(&r), SW_STEP_PAUSE);

    Buf line = {0};
    switchover_step_line(&r, SW_STEP_CHECKS, &line);
    switchover_step_line(&r, SW_STEP_PAUSE, &line);
    buf_append(&line, "", 1);
    assert_string_equal((char *)line.data, "  checks         12.5 ms  all good\n"
                                           "  pause         500.0 ms  FAILED: no proxy\n");
    buf_free(&line);
    assert_string_equal(switchover_step_name(SW_STEP_CATCHUP), "catchup");
    assert_string_equal(switchover_step_name(SW_STEP_COUNT), "none");
    assert_string_equal(switchover_outcome_name(SW_OUTCOME_ROLLED_BACK), "rolled-back");
}

static void test_report(void **state)
{
    (void)state;
    SwitchoverReport r = {0};
    r.from = "host=a port=1";
    r.to = "host=b port=2";
    r.to_data = "/data/b";
    r.from_data = "/data/a";
    r.demote = true;
    switchover_step_begin(&r, SW_STEP_PAUSE, 1.0);
    switchover_step_end(&r, SW_STEP_PAUSE, true, 1.001, "8 held");
    r.promoted = true;
    r.outcome = SW_OUTCOME_DONE;
    r.hold_ms = 60.25;
    r.proxy_paused_ms = 59.5;
    r.held = 8;
    Buf out = {0};
    switchover_report_summary(&r, &out);
    buf_append(&out, "", 1);
    const char *text = (char *)out.data;
    assert_non_null(strstr(text, "clients held: 60.2 ms"));
    assert_non_null(strstr(text, "the primary is now: host=b port=2 (data directory /data/b)"));
    assert_non_null(strstr(text, "the old primary host=a port=1 is a standby streaming from it"));
    assert_non_null(strstr(text, "standby = host=a port=1, standby-data = /data/a"));
    buf_free(&out);

    switchover_report_json(&r, NULL, NULL, &out);
    buf_append(&out, "", 1);
    text = (char *)out.data;
    assert_non_null(strstr(text, "\"ok\":true"));
    assert_non_null(strstr(text, "\"outcome\":\"done\""));
    assert_non_null(strstr(text, "\"hold_ms\":60.25"));
    assert_non_null(strstr(text, "\"held\":8"));
    assert_non_null(strstr(text, "\"primary\":\"host=b port=2\""));
    assert_non_null(strstr(text, "{\"name\":\"pause\",\"state\":\"ok\""));
    assert_null(strstr(text, "\"error\""));
    buf_free(&out);

    r.promoted = false;
    r.outcome = SW_OUTCOME_ROLLED_BACK;
    switchover_report_json(&r, "it broke", "fix it", &out);
    buf_append(&out, "", 1);
    text = (char *)out.data;
    assert_non_null(strstr(text, "\"ok\":false"));
    assert_non_null(strstr(text, "\"primary\":\"host=a port=1\""));
    assert_non_null(strstr(text, "\"error\":\"it broke\",\"hint\":\"fix it\""));
    buf_free(&out);
}

static void test_conninfo_split(void **state)
{
    (void)state;
    char *pw = NULL;
    char *c = fence_conninfo_split("host=127.0.0.1 port=5432 user=app password=s3cret", &pw);
    assert_string_equal(c, "user='app' host='127.0.0.1' port='5432'");
    assert_string_equal(pw, "s3cret");
    free(c);
    free(pw);
    c = fence_conninfo_split("postgresql://app:pw@db:6000/x", &pw);
    assert_null(strstr(c, "pw"));
    assert_string_equal(pw, "pw");
    free(c);
    free(pw);
    c = fence_conninfo_split("host=a application_name='it\\'s'", &pw);
    assert_null(pw);
    assert_non_null(strstr(c, "application_name='it\\'s'"));
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_server),
        cmocka_unit_test(test_steps),
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_conninfo_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
