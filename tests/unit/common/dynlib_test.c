/*
 * dynlib_test.c - libraries opened on first use: a function resolves and
 * works; a missing library or symbol ends the process with exit code 1 and
 * one line naming it and the package to install.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/dynlib.h"

static void test_resolves_and_calls(void **state)
{
    (void)state;
    static const char *const names[] = {"zlibVersion", "crc32", NULL};
    static void *fns[2];
    static DynLib zlib = DYNLIB_INIT("libz.so.1", "zlib1g", names, fns);
    const char *(*version)(void) = (const char *(*)(void))dynlib_fn(&zlib, 0);
    assert_non_null(version);
    assert_int_equal(version()[0], '1');
    /* Later calls come from the table, the same address. */
    assert_ptr_equal(dynlib_fn(&zlib, 0), (void *)version);
    assert_non_null(dynlib_fn(&zlib, 1));
}

/* Run dynlib_fn(lib, 0) in a child; its exit status and its stderr. */
static int child_load(DynLib *lib, char *err, size_t len)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        (void)dynlib_fn(lib, 0);
        _exit(99); /* not reached when loading fails */
    }
    close(fds[1]);
    ssize_t n = read(fds[0], err, len - 1);
    err[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_missing_library(void **state)
{
    (void)state;
    static const char *const names[] = {"nothing", NULL};
    static void *fns[1];
    static DynLib lib = DYNLIB_INIT("libdrydock-absent.so.9", "drydock-absent", names, fns);
    char err[1024];
    assert_int_equal(child_load(&lib, err, sizeof(err)), 1);
    assert_non_null(strstr(err, "libdrydock-absent.so.9"));
    assert_non_null(strstr(err, "HINT: install the Debian package drydock-absent"));
    assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1); /* one line */
}

static void test_missing_symbol(void **state)
{
    (void)state;
    static const char *const names[] = {"zlibVersion", "zlib_no_such_function", NULL};
    static void *fns[2];
    static DynLib lib = DYNLIB_INIT("libz.so.1", "zlib1g", names, fns);
    char err[1024];
    assert_int_equal(child_load(&lib, err, sizeof(err)), 1);
    assert_non_null(strstr(err, "zlib_no_such_function"));
    assert_non_null(strstr(err, "zlib1g"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolves_and_calls),
        cmocka_unit_test(test_missing_library),
        cmocka_unit_test(test_missing_symbol),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
