/*
 * fence_test.c - a conninfo split from its password for a child's command line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "maint/fence.h"

static void test_conninfo_split(void **state)
{
    (void)state;
    char *pw = NULL;
    char *c = fence_conninfo_split("host=127.0.0.1 port=5432 user=app password=s3cret", &pw);
    assert_string_equal(c, "user='app' host='127.0.0.1' port='5432'");
    assert_string_equal(pw, "s3cret");
    free(c);
    free(pw);
    c = fence_conninfo_split("postgresql://app:pw@db:6000/x", &pw);
    assert_null(strstr(c, "pw"));
    assert_string_equal(pw, "pw");
    free(c);
    free(pw);
    c = fence_conninfo_split("host=a application_name='it\\'s'", &pw);
    assert_null(pw);
    assert_non_null(strstr(c, "application_name='it\\'s'"));
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conninfo_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
