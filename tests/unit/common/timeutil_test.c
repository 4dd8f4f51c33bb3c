/*
 * timeutil_test.c - timestamp parsing as PostgreSQL prints it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "common/timeutil.h"

typedef struct {
    const char *text;
    bool valid;
    double epoch;
} TimeCase;

static void test_parse(void **state)
{
    (void)state;
    const TimeCase cases[] = {
        {"2026-11-25 06:05:00", true, 1795586700.0},
        {"2026-11-25T06:05:00Z", true, 1795586700.0},
        {"2026-11-25 06:05:00.5+00", true, 1795586700.5},
        {"2026-11-25 07:05:00+01", true, 1795586700.0},
        {"2026-11-25 01:35:00-04:30", true, 1795586700.0},
        {"2026-11-25", false, 0},
        {"2026-13-25 06:05:00", false, 0},
        {"2026-11-25 06:05", false, 0},
        {"2026-11-25 06:05:00 UTC", false, 0},
        {"yesterday", false, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double t = 0;
        bool ok = time_parse(cases[i].text, &t);
        if (ok != cases[i].valid)
            fail_msg("\"%s\": expected %s", cases[i].text, cases[i].valid ? "valid" : "invalid");
        if (ok && fabs(t - cases[i].epoch) > 1e-6)
            fail_msg("\"%s\": got %.3f expected %.3f", cases[i].text, t, cases[i].epoch);
    }
}

static void test_format_round_trip(void **state)
{
    (void)state;
    char text[64];
    time_format(1795586700.25, text, sizeof(text));
    assert_string_equal(text, "2026-11-25 06:05:00.250+00");
    double t;
    assert_true(time_parse(text, &t));
    assert_true(fabs(t - 1795586700.25) < 1e-6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_format_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
