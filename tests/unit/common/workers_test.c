/*
 * workers_test.c - the pool: every item once, the first failure carried to
 * the caller with its code, message and hint; err_save/err_restore.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/workers.h"

#define N_ITEMS 1000

typedef struct {
    atomic_int done[N_ITEMS];
    atomic_int locals;
    size_t fail_at; /* N_ITEMS: none */
    atomic_bool meanwhile_ran;
} Ctx;

static bool item(Workers *w, size_t i, void *local, void *arg)
{
    (void)w;
    Ctx *c = arg;
    assert_non_null(local);
    atomic_fetch_add(&c->done[i], 1);
    if (i == c->fail_at) {
        err_set(DD_EXIT_CORRUPT, "item %zu is broken", i);
        err_hint("replace item %zu", i);
        return false;
    }
    return true;
}

static void *local_new(void *arg)
{
    atomic_fetch_add(&((Ctx *)arg)->locals, 1);
    return xmalloc(16);
}

static void local_free(void *local, void *arg)
{
    atomic_fetch_sub(&((Ctx *)arg)->locals, 1);
    free(local);
}

static void meanwhile(Workers *w, void *arg)
{
    (void)w;
    atomic_store(&((Ctx *)arg)->meanwhile_ran, true);
}

typedef struct {
    const char *title;
    int jobs;
    size_t n;
    size_t fail_at;
} PoolCase;

static const PoolCase cases[] = {
    {"one worker, every item", 1, N_ITEMS, N_ITEMS},
    {"four workers, every item", 4, N_ITEMS, N_ITEMS},
    {"zero jobs is one", 0, 10, N_ITEMS},
    {"no items", 3, 0, N_ITEMS},
    {"a failure stops the pool", 4, N_ITEMS, 500},
    {"a failure on the first item", 2, N_ITEMS, 0},
};

static void test_pool(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const PoolCase *pc = &cases[k];
        print_message("case: %s\n", pc->title);
        Ctx *c = xcalloc(1, sizeof(*c));
        c->fail_at = pc->fail_at;
        err_clear();
        bool ok = workers_run(&(WorkersOpts){.jobs = pc->jobs,
                                             .n = pc->n,
                                             .item = item,
                                             .local_new = local_new,
                                             .local_free = local_free,
                                             .meanwhile = meanwhile,
                                             .arg = c});
        assert_int_equal(atomic_load(&c->locals), 0);
        assert_true(atomic_load(&c->meanwhile_ran));
        for (size_t i = 0; i < pc->n; i++)
            assert_true(atomic_load(&c->done[i]) <= 1);
        if (pc->fail_at == N_ITEMS) {
            assert_true(ok);
            for (size_t i = 0; i < pc->n; i++)
                assert_int_equal(atomic_load(&c->done[i]), 1);
        } else {
            assert_false(ok);
            assert_int_equal(err_code(), DD_EXIT_CORRUPT);
            char want[64];
            snprintf(want, sizeof(want), "item %zu is broken", pc->fail_at);
            assert_string_equal(err_message(), want);
            snprintf(want, sizeof(want), "replace item %zu", pc->fail_at);
            assert_string_equal(err_hint_text(), want);
        }
        free(c);
    }
}

static void test_save_restore(void **state)
{
    (void)state;
    err_set(DD_EXIT_TIMEOUT, "waited too long");
    err_hint("wait longer");
    ErrSaved saved = err_save();
    err_clear();
    assert_int_equal(err_code(), DD_EXIT_OK);
    assert_false(err_restore(&saved));
    assert_int_equal(err_code(), DD_EXIT_TIMEOUT);
    assert_string_equal(err_message(), "waited too long");
    assert_string_equal(err_hint_text(), "wait longer");
}

/* The background function: fails with a hint when *arg is set; records its thread. */
typedef struct {
    bool fail;
    pthread_t ran_on;
} BgArg;

static bool bg_fn(void *arg)
{
    BgArg *a = arg;
    a->ran_on = pthread_self();
    if (!a->fail)
        return true;
    err_set(DD_EXIT_IO, "the background failed");
    err_hint("look at the background");
    return false;
}

typedef struct {
    const char *title;
    bool fn_fails;
    bool caller_ok;
    bool ok;           /* what workers_bg_join returns */
    const char *error; /* then in the caller's slot ("": none) */
} BgCase;

static const BgCase bg_cases[] = {
    {"both succeed", false, true, true, ""},
    {"the background fails: its error, code and hint", true, true, false, "the background failed"},
    {"the caller fails: its own error stands", false, false, false, "the caller failed"},
    {"both fail: the caller's error comes first", true, false, false, "the caller failed"},
};

static void test_background(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof(bg_cases) / sizeof(bg_cases[0]); k++) {
        const BgCase *bc = &bg_cases[k];
        print_message("case: %s\n", bc->title);
        err_clear();
        BgArg a = {.fail = bc->fn_fails};
        WorkersBg bg;
        assert_true(workers_bg_start(&bg, bg_fn, &a));
        if (!bc->caller_ok)
            err_set(DD_EXIT_PG, "the caller failed");
        assert_int_equal(workers_bg_join(&bg, bc->caller_ok), bc->ok);
        assert_false(pthread_equal(a.ran_on, pthread_self())); /* on a thread of its own */
        assert_string_equal(err_message(), bc->error);
        if (bc->fn_fails && bc->caller_ok) {
            assert_int_equal(err_code(), DD_EXIT_IO);
            assert_string_equal(err_hint_text(), "look at the background");
        }
    }
    err_clear();
    BgArg a = {.fail = true};
    WorkersBg bg;
    workers_bg_run(&bg, bg_fn, &a);
    assert_false(workers_bg_join(&bg, true));
    assert_string_equal(err_message(), "the background failed");
    err_clear();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_save_restore),
        cmocka_unit_test(test_background),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
