/*
 * estimate_watch_test.c - a phase watch that cannot connect measures
 * nothing and stops cleanly (the copy it watches goes on); no watch at all
 * measures nothing. With a server, maint_rehearse.sh records pg_basebackup's
 * fixed part through it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/timeutil.h"
#include "maint/estimate_watch.h"

static void test_unreachable(void **state)
{
    (void)state;
    static const char *const conninfos[] = {
        "host=/nonexistent-dir port=1 connect_timeout=2",
        "this is not a conninfo",
    };
    for (size_t i = 0; i < sizeof(conninfos) / sizeof(conninfos[0]); i++) {
        PhaseWatch *w = phase_watch_start(conninfos[i]);
        assert_non_null(w);
        time_sleep(0.05);
        assert_true(phase_watch_stop(w) == 0);
    }
    assert_true(phase_watch_stop(NULL) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unreachable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
