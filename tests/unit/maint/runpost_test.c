/*
 * runpost_test.c - the posts of the maintenance commands (maint/runpost.h):
 * plan posts Scheduled once per open title, with the window and the
 * prediction; a rollback posts an Update then Completed on its maintenance,
 * or, when that one is over already, on a new "Switching back: TITLE"; a
 * failed rollback says the work goes on; nothing configured does nothing.
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

#include "maint/runpost.h"
#include "status/setup.h"
#include "status/store.h"
#include "unit/testdir.h"

static char dir[64];
static Config cfg;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(testdir_make(dir, sizeof(dir), "runpost"), 0);
    char text[256];
    snprintf(text, sizeof(text), "[status]\nstore = %s/status.db\ntime-zone = UTC\n", dir);
    assert_true(config_parse_string(text, "test.conf", &cfg));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    config_free(&cfg);
    assert_int_equal(testdir_remove(dir), 0);
    return 0;
}

/* Event id from the store (the caller frees it). */
static StatusEvent event(int64_t id)
{
    StatusSetup s;
    StatusStore *st;
    StatusEvent e;
    bool found = false;
    assert_true(status_setup(&cfg, &s) && status_setup_open(&s, &st));
    assert_true(status_store_event(st, id, &e, &found));
    assert_true(found);
    status_store_close(st);
    status_setup_free(&s);
    return e;
}

static void test_plan_posts_scheduled_once(void **state)
{
    (void)state;
    MaintFile mf = {.title = "More buffers", .window_start = 1796079600, .window_length = 3600};
    Plan p = {.predicted_s = 600, .low_s = 400, .high_s = 900};
    int64_t id = runpost_scheduled(&cfg, &mf, &p);
    assert_true(id > 0);
    assert_int_equal(runpost_scheduled(&cfg, &mf, &p), id); /* planned again: the same */
    StatusEvent e = event(id);
    assert_string_equal(e.status, "scheduled");
    assert_int_equal(e.scheduled_for, 1796079600);
    assert_int_equal(e.scheduled_until, 1796079600 + 3600);
    assert_non_null(strstr(e.updates[0].body, "about 10 min (between 7 min and 15 min)"));
    status_event_free(&e);

    Config none = {0}; /* no [status]: nothing, no error */
    assert_int_equal(runpost_scheduled(&none, &mf, &p), 0);
    assert_int_equal(runpost_rollback_start(&none, id, "x"), id);
}

static void test_rollback_posts(void **state)
{
    (void)state;
    MaintFile mf = {.title = "Checksums"};
    Plan p = {.predicted_s = 60, .low_s = 40, .high_s = 90};
    int64_t id = runpost_scheduled(&cfg, &mf, &p);
    StatusNotifier *n;
    assert_true(status_notify_open(&cfg, NULL, &n));
    assert_true(status_notify_in_progress(n, id) && status_notify_verifying(n, id));
    status_notify_close(n);

    /* During the run: on its own maintenance. */
    assert_int_equal(runpost_rollback_start(&cfg, id, "Checksums"), id);
    runpost_rollback_end(&cfg, id, false);
    runpost_rollback_end(&cfg, id, true);
    StatusEvent e = event(id);
    assert_string_equal(e.status, "completed");
    assert_non_null(strstr(e.updates[0].body, "switched back to the previous setup"));
    assert_non_null(strstr(e.updates[1].body, "taking longer than expected"));
    assert_non_null(strstr(e.updates[2].body, "switching back to the previous setup"));
    status_event_free(&e);

    /* After it was Completed: a maintenance of its own. */
    int64_t back = runpost_rollback_start(&cfg, id, "Checksums");
    assert_true(back > id);
    e = event(back);
    assert_string_equal(e.title, "Switching back: Checksums");
    assert_string_equal(e.status, "in_progress");
    assert_non_null(strstr(e.updates[0].body, "switching back to the previous setup"));
    status_event_free(&e);
    runpost_rollback_end(&cfg, back, true);
    e = event(back);
    assert_string_equal(e.status, "completed");
    status_event_free(&e);
}

/* A status page that fails is a warning: the maintenance goes on, with the ids it had. */
static void test_failures_are_warnings(void **state)
{
    (void)state;
    MaintFile mf = {.title = "Checksums"};
    Plan p = {.predicted_s = 60, .low_s = 40, .high_s = 90};
    int64_t id = runpost_scheduled(&cfg, &mf, &p);
    assert_true(id > 0);

    /* A maintenance the page does not have: kept as it was. */
    assert_int_equal(runpost_rollback_start(&cfg, id + 1000, "Checksums"), id + 1000);
    runpost_rollback_end(&cfg, id + 1000, false);
    assert_int_equal(err_code(), DD_EXIT_OK);
    StatusEvent e = event(id);
    assert_string_equal(e.status, "scheduled"); /* nothing posted to another one */
    status_event_free(&e);

    /* No maintenance on the page: nothing to post to. */
    assert_int_equal(runpost_rollback_start(&cfg, 0, "Checksums"), 0);
    runpost_rollback_end(&cfg, 0, true);

    /* A store that cannot be opened. */
    Config broken = {0};
    char text[256];
    snprintf(text, sizeof(text), "[status]\nstore = %s/no/such/dir/status.db\ntime-zone = UTC\n",
             dir);
    assert_true(config_parse_string(text, "broken.conf", &broken));
    assert_int_equal(runpost_scheduled(&broken, &mf, &p), 0);
    assert_int_equal(runpost_rollback_start(&broken, id, "Checksums"), id);
    runpost_rollback_end(&broken, id, true);
    assert_int_equal(err_code(), DD_EXIT_OK);
    config_free(&broken);
    e = event(id);
    assert_string_equal(e.status, "scheduled");
    status_event_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_posts_scheduled_once),
        cmocka_unit_test(test_rollback_posts),
        cmocka_unit_test(test_failures_are_warnings),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
