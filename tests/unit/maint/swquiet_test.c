/*
 * swquiet_test.c - which recovery_end_command a switchover may take out of
 * its hold: drydock restore's own cleanup, and nothing the operator wrote.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>

#include "maint/swquiet.h"

static const struct {
    const char *value;
    bool ours;
} cases[] = {
    {"/usr/bin/drydock --config /etc/drydock.conf wal-fetch --cleanup", true},
    {"'/opt/my dir/drydock' --config '/etc/drydock/x.conf' wal-fetch --cleanup", true},
    {"drydock wal-fetch --cleanup", true},
    {"", false},
    {"wal-fetch --cleanup", false},
    {"/usr/bin/drydock wal-fetch --cleanup; rm -rf /archive/old", false},
    {"rm -f /tmp/x && drydock wal-fetch --cleanup", false},
    {"/usr/bin/drydock wal-fetch --cleanup | logger", false},
    {"drydock --config $HOME/d.conf wal-fetch --cleanup", false},
    {"/usr/local/bin/archive-done.sh", false},
    {"/usr/bin/drydock wal-fetch --cleanup --verbose", false},
    {"/usr/bin/drydock --config /etc/drydock.conf wal-fetch %f %p", true},
    {"'/usr/bin/drydock' wal-fetch %f %p", true},
    {"cp /archive/%f %p", false},
    {"/usr/bin/drydock wal-fetch %f %p || cp /archive/%f %p", false},
    {"/usr/bin/drydock wal-fetch %f", false},
};

static void test_is_ours(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (swquiet_is_ours(cases[i].value) != cases[i].ours)
            fail_msg("\"%s\": expected %s", cases[i].value, cases[i].ours ? "ours" : "not ours");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_is_ours)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
