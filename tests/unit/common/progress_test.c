/*
 * progress_test.c - thread-safe counters and the JSON update lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/progress.h"
#include "common/timeutil.h"

static void *adder(void *arg)
{
    Progress *p = arg;
    for (int i = 0; i < 100000; i++)
        progress_add(p, 3);
    return NULL;
}

static void test_counters_threads(void **state)
{
    (void)state;
    Progress *p = progress_new_mode(PROGRESS_SILENT);
    progress_phase(p, "copy", 1000);
    progress_add_total(p, 200);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, adder, p), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(progress_done(p), 4 * 100000 * 3);
    assert_int_equal(progress_total(p), 1200);
    progress_phase(p, "next", 0);
    assert_int_equal(progress_done(p), 0);
    progress_free(p);
}

static void test_json_lines(void **state)
{
    (void)state;
    char path[] = "/tmp/dd-progress-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    dup2(fd, STDOUT_FILENO);
    Progress *p = progress_new(true);
    assert_int_equal(progress_mode(p), PROGRESS_JSON);
    progress_phase(p, "copy", 100);
    progress_add(p, 10); /* first add emits (no earlier update) */
    progress_add(p, 10); /* rate-limited: no line */
    progress_add(p, 80);
    progress_end_phase(p);
    progress_print_line(p, "{\"type\":\"summary\"}");
    progress_free(p);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    char buf[1024] = {0};
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    close(fd);
    unlink(path);
    buf[n] = 0;
    assert_non_null(
        strstr(buf, "{\"type\":\"progress\",\"phase\":\"copy\",\"done\":10,\"total\":100,"));
    assert_non_null(strstr(buf, "\"done\":100,\"total\":100,"));
    assert_non_null(strstr(buf, "\"eta\":0.0,\"final\":true}\n{\"type\":\"summary\"}\n"));
    int lines = 0;
    for (char *c = buf; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 3);
}

static void test_format_bytes(void **state)
{
    (void)state;
    char b[16];
    progress_format_bytes(512, b, sizeof(b));
    assert_string_equal(b, "512 B");
    progress_format_bytes(1536.0 * 1024 * 1024, b, sizeof(b));
    assert_string_equal(b, "1.5 GiB");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters_threads),
        cmocka_unit_test(test_json_lines),
        cmocka_unit_test(test_format_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
