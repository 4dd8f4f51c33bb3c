/*
 * cancel_key_test.c - a session's cancel key cannot be predicted from the
 * time and the process id: proxies started in the same second get distinct
 * keys, none of them the one the old formula (random() seeded with
 * time ^ pid) gives for that process at that time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proxy/internal.h"

#define N_PROCS 16
#define N_KEYS  4 /* sessions per process */

typedef struct {
    int32_t pid;
    int64_t started;
    uint32_t keys[N_KEYS];
} ProcKeys;

/* The key the proxy gave its first, second, ... session before rand_bytes. */
static void old_formula(unsigned seed, uint32_t out[N_KEYS])
{
    srandom(seed);
    for (int i = 0; i < N_KEYS; i++)
        out[i] = (uint32_t)random() ^ ((uint32_t)random() << 16);
}

static void test_keys_not_from_time_and_pid(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    for (int i = 0; i < N_PROCS; i++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            ProcKeys k = {.pid = (int32_t)getpid(), .started = (int64_t)time(NULL)};
            for (int j = 0; j < N_KEYS; j++)
                k.keys[j] = client_cancel_key();
            _exit(write(fds[1], &k, sizeof(k)) == (ssize_t)sizeof(k) ? 0 : 1);
        }
    }
    close(fds[1]);
    ProcKeys got[N_PROCS];
    for (int i = 0; i < N_PROCS; i++)
        assert_int_equal(read(fds[0], &got[i], sizeof(got[i])), sizeof(got[i]));
    close(fds[0]);
    for (int i = 0; i < N_PROCS; i++) {
        int ws = 0;
        assert_true(wait(&ws) > 0);
        assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    }
    int64_t first = got[0].started, last = got[0].started;
    for (int i = 0; i < N_PROCS; i++) {
        first = got[i].started < first ? got[i].started : first;
        last = got[i].started > last ? got[i].started : last;
    }
    assert_true(last - first <= 1); /* started together (a second boundary may fall between) */
    for (int i = 0; i < N_PROCS; i++) {
        for (int j = 0; j < N_KEYS; j++) {
            /* Distinct across processes and sessions (a clash by chance: ~2^-23). */
            for (int i2 = 0; i2 < N_PROCS; i2++)
                for (int j2 = 0; j2 < N_KEYS; j2++)
                    if (i2 != i || j2 != j)
                        assert_int_not_equal(got[i].keys[j], got[i2].keys[j2]);
        }
        /* Not what an attacker computes from the pid and any second near the start. */
        for (int64_t t = got[i].started - 2; t <= got[i].started + 2; t++) {
            uint32_t old[N_KEYS];
            old_formula((unsigned)t ^ (unsigned)got[i].pid, old);
            for (int j = 0; j < N_KEYS; j++)
                for (int j2 = 0; j2 < N_KEYS; j2++)
                    assert_int_not_equal(got[i].keys[j], old[j2]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_not_from_time_and_pid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
