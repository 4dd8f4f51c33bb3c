/*
 * journal_test.c - the maintenance journal: write-ahead (what a process
 * wrote before it died is there for the next one), the replay of every step
 * state from its rows, the run states, one open run, one holder of the lock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "maint/journal.h"

typedef struct {
    char dir[64];
    Journal *j;
    int64_t run;
} Fix;

static int fix_setup(void **state)
{
    static Fix f;
    memset(&f, 0, sizeof(f));
    snprintf(f.dir, sizeof(f.dir), "/tmp/dd-journal-test.XXXXXX");
    assert_non_null(mkdtemp(f.dir));
    strcat(f.dir, "/state"); /* journal_open creates it */
    assert_true(journal_open(f.dir, &f.j));
    assert_true(journal_run_begin(f.j, "/etc/m.ini", "Enable checksums", "{}", &f.run));
    *state = &f;
    return 0;
}

static int fix_teardown(void **state)
{
    Fix *f = *state;
    journal_close(f->j);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(f->dir) - 6), f->dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

/* One event of a step: action and how its row ends ('s' started only, 'o' ok, 'f' failed). */
typedef struct {
    JournalAction act;
    char end;
} Ev;

static void play(Fix *f, const char *step, const Ev *evs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t seq;
        assert_true(journal_step_begin(f->j, f->run, step, evs[i].act, 10, 5, 20, &seq));
        if (evs[i].end != 's')
            assert_true(journal_step_end(f->j, f->run, seq, evs[i].end == 'o', "detail"));
    }
}

/* Every state of the diagram in journal.h, from the rows that lead to it. */
static void test_replay_every_state(void **state)
{
    Fix *f = *state;
    static const struct {
        const char *title;
        Ev evs[4];
        size_t n;
        JournalStepState want;
        bool half;
    } cases[] = {
        {"never started", {{0}}, 0, JSTEP_PENDING, false},
        {"started, process died", {{JACT_DO, 's'}}, 1, JSTEP_RUNNING, true},
        {"done", {{JACT_DO, 'o'}}, 1, JSTEP_DONE, false},
        {"failed", {{JACT_DO, 'f'}}, 1, JSTEP_FAILED, true},
        {"done, undo died", {{JACT_DO, 'o'}, {JACT_UNDO, 's'}}, 2, JSTEP_UNDOING, true},
        {"died, undone", {{JACT_DO, 's'}, {JACT_UNDO, 'o'}}, 2, JSTEP_UNDONE, false},
        {"failed, undo failed", {{JACT_DO, 'f'}, {JACT_UNDO, 'f'}}, 2, JSTEP_UNDO_FAILED, true},
        {"died, undone, redone",
         {{JACT_DO, 's'}, {JACT_UNDO, 'o'}, {JACT_DO, 'o'}},
         3,
         JSTEP_DONE,
         false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char step[32];
        snprintf(step, sizeof(step), "step%zu", i);
        play(f, step, cases[i].evs, cases[i].n);
        JournalRun r;
        assert_true(journal_load(f->j, 0, &r));
        const JournalStepView *v = journal_run_step(&r, step);
        if (cases[i].n == 0) {
            assert_null(v);
        } else {
            assert_non_null(v);
            if (v->state != cases[i].want)
                fail_msg("%s: state %s, expected %s", cases[i].title,
                         journal_step_state_name(v->state), journal_step_state_name(cases[i].want));
            assert_int_equal(journal_step_half_done(v->state), cases[i].half);
            assert_true(v->predicted_s == 10 && v->low_s == 5 && v->high_s == 20);
        }
        journal_run_free(&r);
    }
}

/*
 * Write-ahead: a child process begins a step and records what it will
 * create, then dies without closing anything; a new opening sees both.
 */
static void test_write_ahead_survives_the_process(void **state)
{
    Fix *f = *state;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        Journal *j;
        int64_t seq;
        if (!journal_open(f->dir, &j) ||
            !journal_step_begin(j, f->run, "restore", JACT_DO, 3, 2, 4, &seq) ||
            !journal_created(j, f->run, "restore", JCREATED_DIR, "/srv/green", 0) ||
            !journal_created(j, f->run, "start", JCREATED_SERVER, "/srv/green", 5442))
            _exit(1);
        _exit(0); /* as kill -9 would: no close, no end row */
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_int_equal(WEXITSTATUS(st), 0);
    Journal *j2;
    assert_true(journal_open(f->dir, &j2));
    JournalRun r;
    assert_true(journal_load(j2, f->run, &r));
    const JournalStepView *v = journal_run_step(&r, "restore");
    assert_non_null(v);
    assert_int_equal(v->state, JSTEP_RUNNING);
    assert_int_equal(r.ncreated, 2);
    assert_string_equal(r.created[0].what, "/srv/green");
    assert_int_equal(r.created[0].type, JCREATED_DIR);
    assert_int_equal(r.created[1].port, 5442);
    assert_false(r.created[0].removed);
    journal_run_free(&r);
    assert_true(journal_removed(j2, f->run, JCREATED_DIR, "/srv/green"));
    assert_true(journal_load(j2, f->run, &r));
    assert_true(r.created[0].removed);
    assert_false(r.created[1].removed);
    journal_run_free(&r);
    journal_close(j2);
}

/* A run's state and hold; a new run is refused while the last one is open. */
static void test_run_states(void **state)
{
    Fix *f = *state;
    static const struct {
        JournalRunState st;
        bool open;
    } cases[] = {
        {JRUN_RUNNING, true},  {JRUN_SWITCHED, true},     {JRUN_COMPLETED, true},
        {JRUN_FAILED, true},   {JRUN_ROLLING_BACK, true}, {JRUN_ROLLED_BACK, false},
        {JRUN_ABORTED, false}, {JRUN_FINISHED, false},
    };
    int64_t first = f->run;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_true(journal_run_set(f->j, f->run, cases[i].st, i == 1 ? 42.5 : -1));
        JournalRun r;
        assert_true(journal_load(f->j, 0, &r));
        assert_int_equal(r.id, f->run);
        assert_int_equal(r.state, cases[i].st);
        if (r.id == first) {
            assert_string_equal(r.title, "Enable checksums");
            if (i >= 1)
                assert_true(r.hold_ms == 42.5); /* kept when not given again */
        }
        journal_run_free(&r);
        int64_t other;
        bool began = journal_run_begin(f->j, "/etc/n.ini", "next", "{}", &other);
        assert_int_equal(began, !cases[i].open);
        if (began) {
            f->run = other; /* the next case works on the new run */
        } else {
            assert_int_equal(err_code(), DD_EXIT_CONFLICT);
            assert_non_null(strstr(err_message(), "\"Enable checksums\""));
        }
    }
}

/* A second holder of the lock fails at once, naming the first. */
static void test_lock_names_the_holder(void **state)
{
    Fix *f = *state;
    JournalLock *l;
    assert_true(journal_lock(f->dir, "maint run", &l));
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        JournalLock *l2;
        bool got = journal_lock(f->dir, "maint run", &l2);
        char want[64];
        snprintf(want, sizeof(want), "pid %d (drydock maint run)", (int)getppid());
        _exit(!got && err_code() == DD_EXIT_LOCKED && strstr(err_message(), want) ? 0 : 1);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_int_equal(WEXITSTATUS(st), 0);
    journal_unlock(l);
    assert_true(journal_lock(f->dir, "maint abort", &l)); /* free again */
    journal_unlock(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replay_every_state, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_write_ahead_survives_the_process, fix_setup,
                                        fix_teardown),
        cmocka_unit_test_setup_teardown(test_run_states, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_lock_names_the_holder, fix_setup, fix_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
