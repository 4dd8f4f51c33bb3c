/*
 * exec_test.c - the one subprocess runner: output, tail, environment,
 * directory, exit status, timeout, log file, detached start.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/exec.h"
#include "common/fsutil.h"
#include "common/timeutil.h"

typedef struct {
    const char *title;
    const char *script; /* for sh -c */
    int status;
    const char *tail;
    const char *output; /* NULL: not compared */
} RunCase;

static const RunCase run_cases[] = {
    {"silent success", "true", 0, "", ""},
    {"stdout and stderr are one stream", "echo out; echo err >&2", 0, "err", "out\nerr\n"},
    {"tail skips blank lines and trailing spaces", "printf 'a\\nlast one  \\n\\n  \\n'", 0,
     "last one", NULL},
    {"tail without a final newline", "printf 'x\\ny'", 0, "y", "x\ny"},
    {"exit status", "echo failing; exit 3", 3, "failing", NULL},
    {"killed by a signal", "kill -TERM $$", 128 + SIGTERM, "", NULL},
    {"environment added", "echo \"$DD_EXEC_TEST\"", 0, "s3cret value", NULL},
    {"a name found in PATH", "exec printf hello", 0, "hello", NULL},
};

static void test_run_table(void **state)
{
    (void)state;
    const char *env[] = {"DD_EXEC_TEST=s3cret value", NULL};
    for (size_t i = 0; i < sizeof(run_cases) / sizeof(run_cases[0]); i++) {
        const RunCase *c = &run_cases[i];
        print_message("case: %s\n", c->title);
        const char *argv[] = {"/bin/sh", "-c", c->script, NULL};
        Buf out = {0};
        ExecResult r;
        assert_true(exec_run(&(ExecOpts){.argv = argv, .env = env, .output = &out}, &r));
        assert_int_equal(r.status, c->status);
        assert_string_equal(r.tail, c->tail);
        if (c->output)
            assert_string_equal(out.len ? (char *)out.data : "", c->output);
        buf_free(&out);
    }
}

static void test_check_message(void **state)
{
    (void)state;
    const char *argv[] = {"/bin/sh", "-c", "echo 'pg_ctl: could not start server'; exit 1", NULL};
    ExecResult r;
    assert_false(exec_check(&(ExecOpts){.argv = argv}, DD_EXIT_PG, "starting the server", &r));
    assert_int_equal(err_code(), DD_EXIT_PG);
    assert_string_equal(err_message(), "starting the server failed (sh exited with status 1): "
                                       "pg_ctl: could not start server");
    const char *quiet[] = {"/bin/false", NULL};
    assert_false(exec_check(&(ExecOpts){.argv = quiet}, DD_EXIT_FAIL, "doing", &r));
    assert_string_equal(err_message(), "doing failed (false exited with status 1): no output");
    const char *missing[] = {"/nonexistent/tool", NULL};
    assert_false(exec_check(&(ExecOpts){.argv = missing}, DD_EXIT_PG, "running", &r));
    assert_int_equal(r.status, 127);
    assert_string_equal(err_message(), "running failed (tool exited with status 127): could not "
                                       "execute \"/nonexistent/tool\": No such file or directory");
}

static void test_cwd_and_log(void **state)
{
    (void)state;
    char dir[] = "/tmp/dd-exec-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *log = xasprintf("%s/out.log", dir);
    const char *argv[] = {"/bin/sh", "-c", "pwd", NULL};
    ExecResult r;
    assert_true(exec_run(&(ExecOpts){.argv = argv, .cwd = dir, .log_path = log}, &r));
    assert_true(exec_run(&(ExecOpts){.argv = argv, .cwd = dir, .log_path = log}, &r));
    assert_string_equal(r.tail, dir);
    Buf got = {0};
    bool found = false;
    assert_true(fs_read_file(log, &got, &found));
    assert_true(found);
    char *want = xasprintf("%s\n%s\n", dir, dir);
    assert_int_equal(got.len, strlen(want));
    assert_memory_equal(got.data, want, got.len);
    const char *bad[] = {"/bin/true", NULL};
    assert_true(exec_run(&(ExecOpts){.argv = bad, .cwd = "/nonexistent"}, &r));
    assert_int_equal(r.status, 127);
    assert_string_equal(
        r.tail, "could not change directory to \"/nonexistent\": No such file or directory");
    free(want);
    buf_free(&got);
    unlink(log);
    rmdir(dir);
    free(log);
}

/* The timeout kills the whole group: the grandchild holding the pipe too. */
static void test_timeout(void **state)
{
    (void)state;
    const char *argv[] = {"/bin/sh", "-c", "sleep 30 & echo $!; wait", NULL};
    ExecResult r;
    assert_false(exec_run(&(ExecOpts){.argv = argv, .timeout_ms = 300}, &r));
    assert_int_equal(err_code(), DD_EXIT_TIMEOUT);
    assert_string_equal(err_message(), "\"/bin/sh\" did not finish within 300 ms");
    /* The sleep (its pid is the tail) dies: gone, or a zombie waiting for init. A SIGKILL
     * takes effect asynchronously, so look until it has (up to 10 s). */
    char *stat = xasprintf("/proc/%s/stat", r.tail);
    Buf got = {0};
    bool found = true;
    char st = 'R';
    for (int i = 0; i < 1000 && found && st != 'Z'; i++) {
        if (i > 0)
            time_sleep(0.01);
        buf_reset(&got);
        assert_true(fs_read_file(stat, &got, &found));
        buf_append(&got, "", 1);
        if (found)
            st = strrchr((char *)got.data, ')')[2];
    }
    assert_true(!found || st == 'Z');
    buf_free(&got);
    free(stat);
}

/* A child that exits while a grandchild still holds its output does not hold us. */
static void test_grandchild_keeps_pipe(void **state)
{
    (void)state;
    const char *argv[] = {"/bin/sh", "-c",
                          "(sleep 5 >/dev/null 2>&1 & echo $! >&3) 3>&1 &"
                          " echo parent done",
                          NULL};
    Buf out = {0};
    ExecResult r;
    assert_true(exec_run(&(ExecOpts){.argv = argv, .output = &out}, &r));
    assert_int_equal(r.status, 0);
    assert_non_null(strstr((char *)out.data, "parent done"));
    buf_free(&out);
}

/* As root, the child runs as the named user; otherwise as we do. */
static void test_user(void **state)
{
    (void)state;
    const char *argv[] = {"/bin/sh", "-c", "echo \"$(id -un) $USER\"", NULL};
    ExecResult r;
    assert_true(exec_run(&(ExecOpts){.argv = argv, .user = "postgres"}, &r));
    if (geteuid() == 0) {
        assert_string_equal(r.tail, "postgres postgres");
        assert_false(exec_run(&(ExecOpts){.argv = argv, .user = "no-such-user-dd"}, &r));
        assert_string_equal(err_message(), "user \"no-such-user-dd\" does not exist");
    } else {
        assert_null(strstr(r.tail, "postgres postgres"));
    }
}

static void test_detached(void **state)
{
    (void)state;
    char dir[] = "/tmp/dd-exec-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *log = xasprintf("%s/bg.log", dir);
    const char *argv[] = {"/bin/sh", "-c", "echo $$; echo running in the background", NULL};
    ExecResult r;
    assert_true(exec_run(&(ExecOpts){.argv = argv, .log_path = log, .detach = true}, &r));
    assert_true(r.pid > 0);
    /* Not ours to wait for: its output appears in the log when it has run. */
    Buf got = {0};
    bool found = false;
    for (int i = 0; i < 500 && !strstr(got.len ? (char *)got.data : "", "background\n"); i++) {
        time_sleep(0.01);
        buf_reset(&got);
        assert_true(fs_read_file(log, &got, &found));
        buf_append(&got, "", 1);
    }
    char *want = xasprintf("%d\nrunning in the background\n", (int)r.pid);
    assert_string_equal((char *)got.data, want);
    const char *missing[] = {"/nonexistent/daemon", NULL};
    assert_false(exec_run(&(ExecOpts){.argv = missing, .detach = true}, &r));
    assert_string_equal(err_message(),
                        "could not execute \"/nonexistent/daemon\": No such file or directory");
    free(want);
    buf_free(&got);
    unlink(log);
    rmdir(dir);
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_table),
        cmocka_unit_test(test_check_message),
        cmocka_unit_test(test_cwd_and_log),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_grandchild_keeps_pipe),
        cmocka_unit_test(test_user),
        cmocka_unit_test(test_detached),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
