/*
 * finish_run_test.c - "maint finish" as a command (maint/run.h) on a journal
 * of the test's, and the refusals of "maint resume" and "maint abort":
 *
 *   finish            refused without a completed or rolled-back run; after
 *                     a completed run the old primary's directory removed
 *                     and the run finished; after a reload-only run nothing
 *                     removed; after a rollback what it created removed and
 *                     the run left rolled back; refused (and still completed)
 *                     when the old primary is a current node again
 *   finish --expired  kept, and said why, while the file's keep-old-primary
 *                     has not passed since the run ended, or when the file
 *                     sets none or is gone; removed once it has passed (the
 *                     run's end moved back in the journal: no waiting)
 *   resume, abort     refused without an open run; abort refused once the
 *                     run has switched
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "maint/journal.h"
#include "maint/run.h"
#include "unit/testrepo.h"

static char *state_dir, *mfile_path, *old_data;
static int case_no;

static const char mfile_text[] = "[maintenance]\n"
                                 "title = Checksums\n"
                                 "%s"
                                 "[change]\n"
                                 "set = work_mem = 64MB\n";

static void write_mfile(const char *extra)
{
    char text[512];
    snprintf(text, sizeof(text), mfile_text, extra);
    assert_true(fs_write_file(mfile_path, text, strlen(text), 0600));
}

static int each_setup(void **state)
{
    (void)state;
    case_no++;
    state_dir = xasprintf("%s/state-%d", testrepo_root, case_no);
    mfile_path = xasprintf("%s/m-%d.ini", testrepo_root, case_no);
    old_data = xasprintf("%s/old-%d", testrepo_root, case_no);
    assert_int_equal(mkdir(old_data, 0700), 0);
    char *v = xasprintf("%s/PG_VERSION", old_data);
    assert_true(fs_write_file(v, "15\n", 3, 0600));
    free(v);
    cfg.state_dir = state_dir;
    cfg.primary_data = NULL;
    err_clear();
    return 0;
}

static int each_teardown(void **state)
{
    (void)state;
    cfg.state_dir = NULL;
    cfg.primary_data = NULL;
    free(state_dir);
    free(mfile_path);
    free(old_data);
    return 0;
}

/* A run of the journal in state st (-1: none); its plan names old_data, or is reload-only. */
static int64_t journal_with(int st, bool reload_only)
{
    Journal *j = NULL;
    assert_true(journal_open(state_dir, &j));
    int64_t run = 0;
    if (st >= 0) {
        char *plan = reload_only ? xstrdup("{\"reload_only\": true, \"roles_before\": "
                                           "{\"primary\": \"host=h\", \"primary_data\": \"/x\"}}")
                                 : xasprintf("{\"roles_before\": {\"primary\": \"host=h\", "
                                             "\"primary_data\": \"%s\"}}",
                                             old_data);
        assert_true(journal_run_begin(j, mfile_path, "Checksums", plan, &run));
        free(plan);
        if (st != JRUN_RUNNING)
            assert_true(journal_run_set(j, run, (JournalRunState)st, 30));
    }
    journal_close(j);
    return run;
}

static JournalRunState state_of(int64_t run)
{
    Journal *j = NULL;
    JournalRun jr = {0};
    assert_true(journal_open(state_dir, &j));
    assert_true(journal_load(j, run, &jr));
    JournalRunState st = jr.state;
    journal_run_free(&jr);
    journal_close(j);
    return st;
}

/* The run ended seconds earlier than it did (journal.c's schema: runs.ended). */
static void ended_earlier(int64_t run, double seconds)
{
    char *db = xasprintf("%s/journal.db", state_dir);
    sqlite3 *s = NULL;
    assert_int_equal(sqlite3_open(db, &s), SQLITE_OK);
    char sql[128];
    snprintf(sql, sizeof(sql), "UPDATE runs SET ended = ended - %f WHERE id = %lld", seconds,
             (long long)run);
    assert_int_equal(sqlite3_exec(s, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_changes(s), 1);
    sqlite3_close(s);
    free(db);
}

/* maint finish [--expired]: its result, what it printed into *out. */
static bool finish(bool expired, MaintRunResult *r, char **out)
{
    size_t len = 0;
    FILE *f = open_memstream(out, &len);
    bool ok = maint_finish(&cfg, &(MaintRunOpts){.out = f, .expired_only = expired}, r);
    fclose(f);
    return ok;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void test_finish_refusals(void **state)
{
    (void)state;
    static const struct {
        int st;
        const char *message;
    } cases[] = {
        {-1, "there is no completed maintenance to finish"},
        {JRUN_RUNNING, "there is no completed maintenance to finish: the last one is running"},
        {JRUN_SWITCHED, "there is no completed maintenance to finish: the last one is switched"},
        {JRUN_FINISHED, "there is no completed maintenance to finish: the last one is finished"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (i > 0) {
            each_teardown(NULL);
            each_setup(NULL);
        }
        write_mfile("");
        int64_t run = journal_with(cases[i].st, false);
        MaintRunResult r;
        char *out = NULL;
        assert_false(finish(false, &r, &out));
        assert_int_equal(err_code(), DD_EXIT_CONFLICT);
        assert_string_equal(err_message(), cases[i].message);
        assert_string_equal(r.outcome, "failed");
        assert_string_equal(out, "");
        err_clear();
        assert_true(exists(old_data));
        if (run)
            assert_int_equal(state_of(run), cases[i].st);
        free(out);
    }
}

static void test_finish_completed(void **state)
{
    (void)state;
    write_mfile("");
    int64_t run = journal_with(JRUN_COMPLETED, false);
    MaintRunResult r;
    char *out = NULL;
    assert_true(finish(false, &r, &out));
    assert_string_equal(r.outcome, "finished");
    assert_int_equal(r.run, run);
    char *want = xasprintf("removed %s\n", old_data);
    assert_string_equal(out, want);
    assert_false(exists(old_data));
    assert_int_equal(state_of(run), JRUN_FINISHED);
    free(want);
    free(out);
    json_t *j = maint_run_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "outcome")), "finished");
    assert_true(json_is_null(json_object_get(j, "hold_ms")));
    assert_int_equal(json_integer_value(json_object_get(j, "run")), run);
    json_decref(j);
}

static void test_finish_reload_only(void **state)
{
    (void)state;
    write_mfile("");
    int64_t run = journal_with(JRUN_COMPLETED, true);
    MaintRunResult r;
    char *out = NULL;
    assert_true(finish(false, &r, &out));
    assert_string_equal(r.outcome, "finished");
    assert_string_equal(out, ""); /* the live nodes were changed in place: nothing to remove */
    assert_int_equal(state_of(run), JRUN_FINISHED);
    free(out);
}

static void test_finish_rolled_back(void **state)
{
    (void)state;
    write_mfile("");
    int64_t run = journal_with(JRUN_RUNNING, false);
    Journal *j = NULL;
    assert_true(journal_open(state_dir, &j));
    assert_true(journal_created(j, run, "build", JCREATED_DIR, old_data, 0));
    assert_true(journal_run_set(j, run, JRUN_ROLLED_BACK, 30));
    journal_close(j);
    MaintRunResult r;
    char *out = NULL;
    assert_true(finish(false, &r, &out));
    assert_string_equal(r.outcome, "rolled back");
    assert_false(exists(old_data));
    assert_int_equal(state_of(run), JRUN_ROLLED_BACK);
    free(out);
}

static void test_finish_refuses_current_node(void **state)
{
    (void)state;
    write_mfile("");
    int64_t run = journal_with(JRUN_COMPLETED, false);
    cfg.primary_data = old_data; /* the topology has it as the primary again */
    MaintRunResult r;
    char *out = NULL;
    assert_false(finish(false, &r, &out));
    assert_int_equal(err_code(), DD_EXIT_CONFLICT);
    assert_non_null(strstr(err_message(), "is the data directory of a current node"));
    err_clear();
    assert_string_equal(r.outcome, "failed");
    assert_true(exists(old_data));
    assert_int_equal(state_of(run), JRUN_COMPLETED);
    free(out);
}

typedef struct {
    const char *title;
    const char *extra;    /* [maintenance] lines */
    bool file_gone;       /* the maintenance file was removed */
    double ended_earlier; /* seconds */
    const char *printed;  /* a part of what it says */
    bool removed;
} ExpiredCase;

static const ExpiredCase expired_cases[] = {
    {"no keep-old-primary: kept", "", false, 0,
     "kept: the maintenance file sets no "
     "keep-old-primary\n",
     false},
    {"keep-old-primary not passed: kept", "keep-old-primary = 1d\n", false, 3600,
     "kept for rollback until ", false},
    {"the file is gone: kept", "keep-old-primary = 1h\n", true, 7200,
     "kept: the maintenance file sets no keep-old-primary\n", false},
    {"keep-old-primary passed: removed", "keep-old-primary = 1h\n", false, 3601, "removed ", true},
};

static void test_finish_expired(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(expired_cases) / sizeof(expired_cases[0]); i++) {
        const ExpiredCase *c = &expired_cases[i];
        if (i > 0) {
            each_teardown(NULL);
            each_setup(NULL);
        }
        write_mfile(c->extra);
        int64_t run = journal_with(JRUN_COMPLETED, false);
        if (c->ended_earlier > 0)
            ended_earlier(run, c->ended_earlier);
        if (c->file_gone)
            assert_int_equal(unlink(mfile_path), 0);
        MaintRunResult r;
        char *out = NULL;
        bool ok = finish(true, &r, &out);
        if (!ok)
            fail_msg("%s: failed [%s]", c->title, err_message());
        if (!strstr(out, c->printed))
            fail_msg("%s: printed [%s]", c->title, out);
        assert_string_equal(r.outcome, c->removed ? "finished" : "kept");
        assert_int_equal(exists(old_data), !c->removed);
        assert_int_equal(state_of(run), c->removed ? JRUN_FINISHED : JRUN_COMPLETED);
        free(out);
    }
}

static void test_resume_abort_refusals(void **state)
{
    (void)state;
    write_mfile("");
    MaintRunResult r;
    assert_false(maint_resume(&cfg, &(MaintRunOpts){0}, &r));
    assert_int_equal(err_code(), DD_EXIT_CONFLICT);
    assert_string_equal(err_message(), "there is no maintenance to resume");
    err_clear();
    maint_run_result_free(&r);

    int64_t run = journal_with(JRUN_SWITCHED, false);
    assert_false(maint_abort(&cfg, &(MaintRunOpts){0}, &r));
    assert_int_equal(err_code(), DD_EXIT_CONFLICT);
    char *want = xasprintf("maintenance #%lld has switched: it cannot be aborted", (long long)run);
    assert_string_equal(err_message(), want);
    assert_non_null(strstr(err_hint_text(), "maint rollback"));
    free(want);
    err_clear();
    assert_string_equal(r.outcome, "failed");
    assert_int_equal(state_of(run), JRUN_SWITCHED);
    maint_run_result_free(&r);

    Journal *j = NULL;
    assert_true(journal_open(state_dir, &j));
    assert_true(journal_run_set(j, run, JRUN_ABORTED, -1));
    journal_close(j);
    assert_false(maint_abort(&cfg, &(MaintRunOpts){0}, &r));
    assert_string_equal(err_message(), "there is no maintenance to abort: the last one is aborted");
    err_clear();
    maint_run_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_finish_refusals, each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(test_finish_completed, each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(test_finish_reload_only, each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(test_finish_rolled_back, each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(test_finish_refuses_current_node, each_setup,
                                        each_teardown),
        cmocka_unit_test_setup_teardown(test_finish_expired, each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(test_resume_abort_refusals, each_setup, each_teardown),
    };
    return cmocka_run_group_tests(tests, testrepo_setup, testrepo_teardown);
}
