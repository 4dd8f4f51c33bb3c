/*
 * pgsetting_test.c - a file's value against the server's setting, by meaning.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "maint/pgsetting.h"

static const struct {
    const char *title;
    const char *want, *setting, *unit, *vartype;
    bool match;
} cases[] = {
    {"memory in MB against 8kB pages", "256MB", "32768", "8kB", "integer", true},
    {"memory in GB against 8kB pages", "1GB", "131072", "8kB", "integer", true},
    {"memory one page short", "256MB", "32767", "8kB", "integer", false},
    {"memory in kB against kB", "4096kB", "4096", "kB", "integer", true},
    {"a bare number is in the setting's unit", "32768", "32768", "8kB", "integer", true},
    {"minutes against seconds", "5min", "300", "s", "integer", true},
    {"milliseconds against seconds", "300000ms", "300", "s", "integer", true},
    {"a unit that is not one", "5 parsecs", "300", "s", "integer", false},
    {"a plain integer", "150", "150", "", "integer", true},
    {"a plain integer that differs", "150", "100", "", "integer", false},
    {"a real", "0.9", "0.9", "", "real", true},
    {"a boolean in other words", "yes", "on", "", "bool", true},
    {"a boolean that differs", "off", "on", "", "bool", false},
    {"not a boolean", "maybe", "on", "", "bool", false},
    {"an enum in other case", "Replica", "replica", "", "enum", true},
    {"a string that differs", "C", "en_US.UTF-8", "", "string", false},
};

static void test_matches(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool got =
            pgsetting_matches(cases[i].want, cases[i].setting, cases[i].unit, cases[i].vartype);
        if (got != cases[i].match)
            fail_msg("%s: \"%s\" against %s %s: %d", cases[i].title, cases[i].want,
                     cases[i].setting, cases[i].unit, got);
    }
}

static void test_unquote(void **state)
{
    (void)state;
    char out[32];
    pgsetting_unquote("  '256MB' ", out, sizeof(out));
    assert_string_equal(out, "256MB");
    pgsetting_unquote("on", out, sizeof(out));
    assert_string_equal(out, "on");
    pgsetting_unquote("'", out, sizeof(out));
    assert_string_equal(out, "'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches),
        cmocka_unit_test(test_unquote),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
