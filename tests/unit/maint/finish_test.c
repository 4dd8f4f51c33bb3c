/*
 * finish_test.c - what "maint finish" removes (maint/finish.h): after a
 * completed run, the old primary's data directory the plan names; after a
 * rolled-back run, each directory the run created and has not removed, each
 * journalled as removed. A directory that is a current node's ([cluster]
 * primary-data or standby-data) or in which a server runs is refused (exit
 * 9) and left as it was, and nothing after it is touched.
 *
 * "A server runs" is what pg_ctl status says: cfg.bin points to a pg_ctl of
 * the test's that says so when the directory holds a postmaster.pid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/mem.h"
#include "maint/finish.h"
#include "unit/testdir.h"

static char root[64];
static Config cfg;
static Journal *journal;

static char *path(const char *name)
{
    return xasprintf("%s/%s", root, name);
}

static void make_dir(const char *name, bool running)
{
    char *d = path(name);
    assert_int_equal(mkdir(d, 0700), 0);
    char *f = xasprintf("%s/PG_VERSION", d);
    assert_true(fs_write_file(f, "15\n", 3, 0600));
    free(f);
    if (running) {
        f = xasprintf("%s/postmaster.pid", d);
        assert_true(fs_write_file(f, "1\n", 2, 0600));
        free(f);
    }
    free(d);
}

static bool exists(const char *name)
{
    char *d = path(name);
    struct stat st;
    bool e = lstat(d, &st) == 0;
    free(d);
    return e;
}

static int setup(void **state)
{
    (void)state;
    assert_int_equal(testdir_make(root, sizeof(root), "finish"), 0);
    assert_int_equal(chmod(root, 0755), 0); /* pg_ctl may run as the directories' owner */
    memset(&cfg, 0, sizeof(cfg));
    cfg.bin = path("bin");
    assert_int_equal(mkdir(cfg.bin, 0755), 0);
    char *pg_ctl = path("bin/pg_ctl");
    const char *script = "#!/bin/sh\n"
                         "# pg_ctl -D DIR status: running when DIR/postmaster.pid exists\n"
                         "[ \"$3\" = status ] && [ -e \"$2/postmaster.pid\" ] && exit 0\n"
                         "exit 3\n";
    assert_true(fs_write_file(pg_ctl, script, strlen(script), 0755));
    free(pg_ctl);
    cfg.primary_data = path("new-primary");
    cfg.standby_data = path("new-standby");
    char *state_dir = path("state");
    assert_true(journal_open(state_dir, &journal));
    free(state_dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    journal_close(journal);
    assert_int_equal(testdir_remove(root), 0);
    free(cfg.bin);
    free(cfg.primary_data);
    free(cfg.standby_data);
    return 0;
}

/* The journal's run after a completed maintenance whose old primary was old_data. */
static void completed_run(const char *old_data, JournalRun *jr)
{
    char *plan = old_data ? xasprintf("{\"roles_before\": {\"primary\": \"host=h\", "
                                      "\"primary_data\": \"%s/%s\"}}",
                                      root, old_data)
                          : xstrdup("{}");
    int64_t run;
    assert_true(journal_run_begin(journal, "/etc/m.ini", "Checksums", plan, &run));
    assert_true(journal_run_set(journal, run, JRUN_COMPLETED, 20));
    assert_true(journal_load(journal, run, jr));
    free(plan);
}

static char *finish(const JournalRun *jr, bool *ok)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    *ok = maint_finish_remove(&cfg, journal, jr, f);
    fclose(f);
    return out;
}

/* Refused with exit 9 and message (freed here). */
static void expect_refusal(bool ok, char *message)
{
    assert_false(ok);
    assert_int_equal(err_code(), DD_EXIT_CONFLICT);
    assert_string_equal(err_message(), message);
    assert_true(err_hint_text()[0] != '\0');
    free(message);
    err_clear();
}

static void test_completed_removes_old_primary(void **state)
{
    (void)state;
    make_dir("old", false);
    JournalRun jr = {0};
    completed_run("old", &jr);
    bool ok;
    char *out = finish(&jr, &ok);
    assert_true(ok);
    char *want = xasprintf("removed %s/old\n", root);
    assert_string_equal(out, want);
    assert_false(exists("old"));
    free(want);
    free(out);
    /* Again: it is gone, nothing to say. */
    out = finish(&jr, &ok);
    assert_true(ok);
    assert_string_equal(out, "");
    free(out);
    journal_run_free(&jr);
}

static void test_completed_without_old_primary(void **state)
{
    (void)state;
    JournalRun jr = {0};
    completed_run(NULL, &jr);
    bool ok;
    char *out = finish(&jr, &ok);
    assert_true(ok);
    assert_string_equal(out, "");
    free(out);
    journal_run_free(&jr);
}

static void test_completed_refuses_current_node(void **state)
{
    (void)state;
    /* The old primary is a current node again (the topology says so). */
    make_dir("new-standby", false);
    JournalRun jr = {0};
    completed_run("new-standby", &jr);
    bool ok;
    char *out = finish(&jr, &ok);
    expect_refusal(ok, xasprintf("\"%s/new-standby\" is the data directory of a current node: "
                                 "not removed",
                                 root));
    assert_string_equal(out, "");
    assert_true(exists("new-standby/PG_VERSION"));
    free(out);
    journal_run_free(&jr);
}

static void test_completed_refuses_running_server(void **state)
{
    (void)state;
    make_dir("old", true);
    JournalRun jr = {0};
    completed_run("old", &jr);
    bool ok;
    char *out = finish(&jr, &ok);
    expect_refusal(ok, xasprintf("a server runs in \"%s/old\": not removed", root));
    assert_true(exists("old/PG_VERSION"));
    free(out);
    /* Once it is stopped, it goes. */
    char *pid = path("old/postmaster.pid");
    assert_int_equal(unlink(pid), 0);
    free(pid);
    out = finish(&jr, &ok);
    assert_true(ok);
    assert_false(exists("old"));
    free(out);
    journal_run_free(&jr);
}

/* A rolled-back run that created green-1, green-2 and green-3 (green-2 removed already). */
static void rolled_back_run(JournalRun *jr)
{
    int64_t run;
    assert_true(journal_run_begin(journal, "/etc/m.ini", "Checksums", "{}", &run));
    const char *names[] = {"green-1", "green-2", "green-3"};
    for (int i = 0; i < 3; i++) {
        char *d = path(names[i]);
        assert_true(journal_created(journal, run, "build", JCREATED_DIR, d, 0));
        if (i == 1)
            assert_true(journal_removed(journal, run, JCREATED_DIR, d));
        free(d);
    }
    assert_true(journal_run_set(journal, run, JRUN_ROLLED_BACK, -1));
    assert_true(journal_load(journal, run, jr));
}

static size_t removed_count(int64_t run)
{
    JournalRun jr = {0};
    assert_true(journal_load(journal, run, &jr));
    size_t n = 0;
    for (size_t i = 0; i < jr.ncreated; i++)
        n += jr.created[i].removed;
    journal_run_free(&jr);
    return n;
}

static void test_rolled_back_removes_created(void **state)
{
    (void)state;
    make_dir("green-1", false);
    make_dir("green-2", false); /* journalled as removed: not ours to touch any more */
    make_dir("green-3", false);
    JournalRun jr = {0};
    rolled_back_run(&jr);
    bool ok;
    char *out = finish(&jr, &ok);
    assert_true(ok);
    char *want = xasprintf("removed %s/green-1\nremoved %s/green-3\n", root, root);
    assert_string_equal(out, want);
    assert_false(exists("green-1"));
    assert_true(exists("green-2"));
    assert_false(exists("green-3"));
    assert_int_equal(removed_count(jr.id), 3);
    free(want);
    free(out);
    journal_run_free(&jr);
}

static void test_rolled_back_stops_at_running_server(void **state)
{
    (void)state;
    make_dir("green-1", true);
    make_dir("green-3", false);
    JournalRun jr = {0};
    rolled_back_run(&jr);
    bool ok;
    char *out = finish(&jr, &ok);
    expect_refusal(ok, xasprintf("a server runs in \"%s/green-1\": not removed", root));
    assert_string_equal(out, "");
    assert_true(exists("green-1/PG_VERSION"));
    assert_true(exists("green-3/PG_VERSION")); /* nothing after the refusal */
    assert_int_equal(removed_count(jr.id), 1);
    free(out);
    journal_run_free(&jr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_completed_removes_old_primary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_completed_without_old_primary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_completed_refuses_current_node, setup, teardown),
        cmocka_unit_test_setup_teardown(test_completed_refuses_running_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rolled_back_removes_created, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rolled_back_stops_at_running_server, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
