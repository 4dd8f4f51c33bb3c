/*
 * switchover_test.c - whether two conninfos name the same server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "maint/switchover.h"

static void test_same_server(void **state)
{
    (void)state;
    const struct {
        const char *a, *b;
        bool same;
    } cases[] = {
        {"host=127.0.0.1 port=5432", "host=127.0.0.1 port=5432 user=postgres", true},
        {"host=127.0.0.1 port=5432", "host=localhost port=5432", true},
        {"host=127.0.0.1 port=5432 password=secret", "host=127.0.0.1 port=5432 password=********",
         true},
        {"host=127.0.0.1", "host=127.0.0.1 port=5432", true},
        {"host=127.0.0.1 port=5432", "host=127.0.0.1 port=5433", false},
        {"host=10.0.0.1 port=5432", "host=10.0.0.2 port=5432", false},
        {"postgresql://u:pw@127.0.0.1:6000/db", "host=127.0.0.1 port=6000", true},
        {"host=127.0.0.1 port=5432", NULL, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (switchover_same_server(cases[i].a, cases[i].b) != cases[i].same)
            fail_msg("\"%s\" vs \"%s\": expected %s", cases[i].a,
                     cases[i].b ? cases[i].b : "(null)", cases[i].same ? "same" : "different");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
