/*
 * rollback_test.c - the refusals of "maint rollback" (maint/rollback.h),
 * which change nothing: no run, a run that has not switched (abort is the
 * way back), a run that is over, a journalled plan that does not name the
 * old primary, a maintenance file that is gone. The journal's state stays
 * as it was. Also: whether a rollback is pending for "maint resume", and
 * the JSON report's shape.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maint/rollback.h"
#include "unit/testrepo.h"

static const char roles[] = "{\"roles_before\": {\"primary\": \"host=127.0.0.1 port=1\", "
                            "\"primary_data\": \"/nonexistent/old\"}}";

typedef struct {
    const char *title;
    int state; /* JournalRunState; -1: no run at all */
    const char *plan_json;
    const char *message;
    const char *hint; /* a part of it */
} RefusalCase;

static const RefusalCase refusals[] = {
    {"no maintenance yet", -1, "{}", "there is no switched maintenance to roll back",
     "\"drydock maint status\" shows the last one"},
    {"a run under way, before its switch", JRUN_RUNNING, roles,
     "there is no switched maintenance to roll back: the last one is running",
     "it has not switched: \"drydock maint abort\" undoes it"},
    {"a run that failed before its switch", JRUN_FAILED, roles,
     "there is no switched maintenance to roll back: the last one is failed",
     "\"drydock maint abort\" undoes it"},
    {"a run aborted", JRUN_ABORTED, roles,
     "there is no switched maintenance to roll back: the last one is aborted",
     "\"drydock maint status\" shows the last one"},
    {"a run rolled back already", JRUN_ROLLED_BACK, roles,
     "there is no switched maintenance to roll back: the last one is rolled back",
     "\"drydock maint status\" shows the last one"},
    {"a run finished (the old primary removed)", JRUN_FINISHED, roles,
     "there is no switched maintenance to roll back: the last one is finished",
     "\"drydock maint status\" shows the last one"},
    {"a plan without the old primary", JRUN_SWITCHED,
     "{\"roles_before\": {\"primary\": \"host=h\"}}",
     "maintenance #1 does not name the old primary's conninfo and data directory",
     "set [cluster] primary-data before a maintenance"},
    {"a plan that is not JSON", JRUN_COMPLETED, "{not json",
     "maintenance #1 does not name the old primary's conninfo and data directory",
     "drydock restore --standby-of"},
};

static void test_refusals(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        const RefusalCase *c = &refusals[i];
        char *dir = xasprintf("%s/state-%zu", testrepo_root, i);
        cfg.state_dir = dir;
        Journal *j = NULL;
        assert_true(journal_open(dir, &j));
        int64_t run = 0;
        if (c->state >= 0) {
            assert_true(
                journal_run_begin(j, "/nonexistent/m.ini", "Checksums", c->plan_json, &run));
            if (c->state != JRUN_RUNNING)
                assert_true(journal_run_set(j, run, (JournalRunState)c->state, -1));
        }
        MaintRollbackResult r;
        bool ok = maint_rollback(&cfg, &(MaintRunOpts){0}, &r);
        if (ok || err_code() != DD_EXIT_CONFLICT || strcmp(err_message(), c->message) != 0)
            fail_msg("%s: %s %d [%s]", c->title, ok ? "passed" : "refused", err_code(),
                     err_message());
        if (!strstr(err_hint_text(), c->hint))
            fail_msg("%s: hint [%s]", c->title, err_hint_text());
        assert_string_equal(r.outcome, "failed");
        assert_int_equal(r.run, run);
        err_clear();
        assert_false(maint_rollback_pending(&cfg));
        if (run) {
            JournalRun jr = {0};
            assert_true(journal_load(j, run, &jr));
            if ((int)jr.state != c->state)
                fail_msg("%s: the run is %s now", c->title, journal_run_state_name(jr.state));
            journal_run_free(&jr);
        }
        journal_close(j);
        free(dir);
        cfg.state_dir = NULL;
    }
}

static void test_file_gone(void **state)
{
    (void)state;
    char *dir = xasprintf("%s/state-file", testrepo_root);
    cfg.state_dir = dir;
    Journal *j = NULL;
    assert_true(journal_open(dir, &j));
    int64_t run = 0;
    assert_true(journal_run_begin(j, "/nonexistent/m.ini", "Checksums", roles, &run));
    assert_true(journal_run_set(j, run, JRUN_SWITCHED, 12.5));
    MaintRollbackResult r;
    assert_false(maint_rollback(&cfg, &(MaintRunOpts){0}, &r));
    assert_int_equal(err_code(), DD_EXIT_CONFIG);
    assert_non_null(strstr(err_message(), "/nonexistent/m.ini"));
    err_clear();
    JournalRun jr = {0};
    assert_true(journal_load(j, run, &jr));
    assert_int_equal(jr.state, JRUN_SWITCHED);
    journal_run_free(&jr);

    /* A rollback that died is pending: "maint resume" continues it. */
    assert_true(journal_run_set(j, run, JRUN_ROLLING_BACK, -1));
    assert_true(maint_rollback_pending(&cfg));
    journal_close(j);
    free(dir);
    cfg.state_dir = NULL;
}

static void test_json(void **state)
{
    (void)state;
    MaintRollbackResult r;
    memset(&r, 0, sizeof(r));
    r.run = 7;
    r.outcome = "rolled back";
    r.hold_ms = 41.5;
    r.rebuild = true;
    snprintf(r.mechanism, sizeof(r.mechanism), "rebuild");
    r.steps[RSTEP_BACKUP] = (RollbackStepResult){
        .enabled = true, .ran = true, .ok = true, .predicted_s = 10, .actual_s = 8};
    json_t *j = maint_rollback_json(&r);
    assert_int_equal(json_integer_value(json_object_get(j, "run")), 7);
    assert_string_equal(json_string_value(json_object_get(j, "outcome")), "rolled back");
    assert_true(json_real_value(json_object_get(j, "hold_ms")) == 41.5);
    assert_true(json_is_true(json_object_get(j, "rebuild")));
    json_t *steps = json_object_get(j, "steps");
    assert_int_equal(json_array_size(steps), RSTEP__COUNT);
    json_t *b = json_array_get(steps, RSTEP_BACKUP);
    assert_string_equal(json_string_value(json_object_get(b, "name")),
                        rollback_step_name(RSTEP_BACKUP));
    assert_true(json_real_value(json_object_get(b, "actual_s")) == 8);
    assert_true(json_is_true(json_object_get(b, "ok")));
    /* A step that did not run has no actual_s; no switch is a null hold. */
    assert_null(json_object_get(json_array_get(steps, RSTEP_FOLLOW), "actual_s"));
    json_decref(j);
    r.hold_ms = -1;
    r.outcome = NULL;
    j = maint_rollback_json(&r);
    assert_true(json_is_null(json_object_get(j, "hold_ms")));
    assert_string_equal(json_string_value(json_object_get(j, "outcome")), "failed");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_file_gone),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, testrepo_setup, testrepo_teardown);
}
