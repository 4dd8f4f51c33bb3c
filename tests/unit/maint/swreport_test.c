/*
 * swreport_test.c - the switchover report: step bookkeeping, lines, summary, JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "maint/swreport.h"

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
    assert_null(strstr(text, "other standbys"));
    buf_free(&out);
    r.other_standbys = 2;
    switchover_report_summary(&r, &out);
    buf_append(&out, "", 1);
    text = (char *)out.data;
    assert_non_null(strstr(text, "note: 2 other standbys streamed from the old primary"));
    buf_free(&out);

    switchover_report_json(&r, NULL, NULL, &out);
    buf_append(&out, "", 1);
    text = (char *)out.data;
    assert_non_null(strstr(text, "\"ok\":true"));
    assert_non_null(strstr(text, "\"outcome\":\"done\""));
    assert_non_null(strstr(text, "\"hold_ms\":60.25"));
    assert_non_null(strstr(text, "\"held\":8"));
    assert_non_null(strstr(text, "\"other_standbys\":2"));
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steps),
        cmocka_unit_test(test_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
