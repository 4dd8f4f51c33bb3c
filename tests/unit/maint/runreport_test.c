/*
 * runreport_test.c - a run's report from the journal, and the postmortem
 * draft written from it: the run linked to the status page's maintenance is
 * found (not another), each step's prediction and actual come from its
 * journal rows (a resume's re-plan wins; a step whose process died has no
 * actual), failures keep their error, undo rows are events, and the draft
 * shows what drydock did, predicted vs actual, the hold, what went wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maint/journal.h"
#include "maint/runreport.h"
#include "status/postmortem.h"

static char dir[64];

/* Rows of one run: step, action, how it ends ('o' ok, 'f' failed, 's' never). */
typedef struct {
    const char *step;
    JournalAction act;
    char end;
    double predicted;
} Row;

static const char plan_json[] =
    "{\"predicted_hold_ms\": 900, \"steps\": ["
    "{\"name\":\"preflight\",\"predicted_s\":1,\"low_s\":0.5,\"high_s\":2,\"basis\":\"b1\","
    "\"enabled\":true},"
    "{\"name\":\"apply-reload\",\"predicted_s\":0,\"low_s\":0,\"high_s\":0,\"enabled\":false},"
    "{\"name\":\"backup\",\"predicted_s\":30,\"low_s\":20,\"high_s\":40,\"basis\":\"read 1 GB\","
    "\"enabled\":true},"
    "{\"name\":\"restore\",\"predicted_s\":60,\"low_s\":40,\"high_s\":90,\"basis\":\"b3\","
    "\"enabled\":true},"
    "{\"name\":\"switchover\",\"predicted_s\":5,\"low_s\":3,\"high_s\":8,\"basis\":\"b4\","
    "\"enabled\":true}]}";

static int64_t add_run(Journal *j, int64_t status_id, const Row *rows, size_t n,
                       JournalRunState end, double hold_ms)
{
    int64_t run, seq;
    assert_true(journal_run_begin(j, "/etc/m.ini", "More buffers", plan_json, &run));
    assert_true(journal_run_status_id(j, run, status_id));
    for (size_t i = 0; i < n; i++) {
        double p = rows[i].predicted;
        assert_true(journal_step_begin(j, run, rows[i].step, rows[i].act, p, p / 2, p * 2, &seq));
        if (rows[i].end != 's')
            assert_true(journal_step_end(j, run, seq, rows[i].end == 'o',
                                         rows[i].end == 'f' ? "could not connect to server" : ""));
    }
    assert_true(journal_run_set(j, run, end, hold_ms));
    return run;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/dd-runreport-test.XXXXXX");
    assert_non_null(mkdtemp(dir));
    strcat(dir, "/state");
    Journal *j;
    assert_true(journal_open(dir, &j));
    /* Run 1 (status 7): aborted: backup failed, then undone. */
    static const Row r1[] = {{"preflight", JACT_DO, 'o', 1},
                             {"backup", JACT_DO, 'f', 30},
                             {"backup", JACT_UNDO, 'o', 0}};
    add_run(j, 7, r1, 3, JRUN_ABORTED, -1);
    /* Run 2 (status 8): restore died, resumed (re-planned at 70 s), switched, completed. */
    static const Row r2[] = {{"preflight", JACT_DO, 'o', 1}, {"backup", JACT_DO, 'o', 30},
                             {"restore", JACT_DO, 's', 60},  {"restore", JACT_UNDO, 'o', 0},
                             {"restore", JACT_DO, 'o', 70},  {"switchover", JACT_DO, 'o', 5}};
    add_run(j, 8, r2, 6, JRUN_COMPLETED, 812.5);
    journal_close(j);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(dir) - 6), dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static json_t *load(int64_t status_id)
{
    char path[96];
    snprintf(path, sizeof(path), "%s/journal.db", dir);
    json_t *r = NULL;
    assert_true(runreport_load_file(path, status_id, &r));
    return r;
}

static const json_t *step(const json_t *r, const char *name)
{
    size_t i;
    const json_t *s;
    json_array_foreach(json_object_get(r, "steps"), i, s)
    {
        if (strcmp(json_string_value(json_object_get(s, "name")), name) == 0)
            return s;
    }
    fail_msg("no step %s", name);
    return NULL;
}

static void test_finds_the_linked_run(void **state)
{
    (void)state;
    assert_null(load(99));
    json_t *r = load(7);
    assert_int_equal(json_integer_value(json_object_get(r, "run")), 1);
    assert_string_equal(json_string_value(json_object_get(r, "outcome")), "aborted");
    assert_true(json_is_null(json_object_get(r, "hold_ms")));
    json_decref(r);
    r = load(8);
    assert_int_equal(json_integer_value(json_object_get(r, "run")), 2);
    assert_string_equal(json_string_value(json_object_get(r, "outcome")), "completed");
    assert_float_equal(json_number_value(json_object_get(r, "hold_ms")), 812.5, 1e-9);
    assert_float_equal(json_number_value(json_object_get(r, "predicted_hold_ms")), 900, 1e-9);
    json_decref(r);
}

static void test_steps_from_rows(void **state)
{
    (void)state;
    json_t *r = load(8);
    /* The plan's enabled steps, in order; the disabled one left out. */
    assert_int_equal(json_array_size(json_object_get(r, "steps")), 4);
    const json_t *rs = step(r, "restore");
    assert_float_equal(json_number_value(json_object_get(rs, "predicted_s")), 70, 1e-9);
    assert_int_equal(json_integer_value(json_object_get(rs, "attempts")), 2);
    assert_true(json_is_true(json_object_get(rs, "ok")));
    assert_non_null(json_object_get(rs, "actual_s"));
    assert_string_equal(json_string_value(json_object_get(step(r, "backup"), "basis")),
                        "read 1 GB");
    assert_int_equal(json_array_size(json_object_get(r, "events")), 6);
    const json_t *died = json_array_get(json_object_get(r, "events"), 2);
    assert_string_equal(json_string_value(json_object_get(died, "state")), "started");
    assert_null(json_object_get(died, "took_s"));
    json_decref(r);

    r = load(7);
    const json_t *b = step(r, "backup");
    assert_true(json_is_false(json_object_get(b, "ok")));
    assert_null(json_object_get(step(r, "restore"), "actual_s")); /* never run */
    const json_t *failed = json_array_get(json_object_get(r, "events"), 1);
    assert_string_equal(json_string_value(json_object_get(failed, "detail")),
                        "could not connect to server");
    json_decref(r);
}

static void test_draft_from_the_journal(void **state)
{
    (void)state;
    StatusUpdate u[] = {{.status = "completed", .body = "Done.", .at = 1796000900},
                        {.status = "scheduled", .body = "We will.", .at = 1796000000}};
    StatusEvent e = {.id = 7,
                     .kind = STATUS_MAINTENANCE,
                     .title = "More buffers",
                     .status = "completed",
                     .updates = u,
                     .nupdates = 2};
    json_t *r = load(7);
    Buf md = {0};
    assert_true(postmortem_draft(&e, "UTC", r, 1796090000, &md));
    buf_append(&md, "", 1);
    const char *t = (const char *)md.data;
    static const char *const want[] = {
        "from the status page's record and the maintenance journal",
        "## What drydock did (from the journal, UTC)",
        "| backup | do | **failed** |",
        "| backup | undo | done |",
        "## Steps: predicted vs actual",
        "| restore | 1 min | 40 s to 2 min | not run |",
        "The run ended with outcome \"aborted\".",
        "- Doing of step backup failed: could not connect to server",
        "## Where the time went",
        "_The run report does not say",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!strstr(t, want[i]))
            fail_msg("draft lacks \"%s\":\n%s", want[i], t);
    buf_free(&md);
    json_decref(r);

    r = load(8);
    md = (Buf){0};
    e.id = 8;
    assert_true(postmortem_draft(&e, "UTC", r, 1796090000, &md));
    buf_append(&md, "", 1);
    t = (const char *)md.data;
    static const char *const want8[] = {
        "Clients were held for 0.812 s during the switch (predicted 0.900 s).",
        "| restore | do | **never ended** (the process died) |",
        "- Doing of step restore never ended: the process stopped",
        "From the first step to the end the run took",
    };
    for (size_t i = 0; i < sizeof(want8) / sizeof(want8[0]); i++)
        if (!strstr(t, want8[i]))
            fail_msg("draft lacks \"%s\":\n%s", want8[i], t);
    buf_free(&md);
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finds_the_linked_run),
        cmocka_unit_test(test_steps_from_rows),
        cmocka_unit_test(test_draft_from_the_journal),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
