/*
 * phase_test.c - the proxy's phase table: every arrow of the diagram in
 * phase.h, and no other; names; which phases hold sessions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proxy/phase.h"

static void test_transitions(void **state)
{
    (void)state;
    const ProxyPhase allowed[][2] = {
        {PROXY_RUNNING, PROXY_PAUSING},        {PROXY_PAUSING, PROXY_RUNNING},
        {PROXY_PAUSING, PROXY_PAUSING_CANCEL}, {PROXY_PAUSING, PROXY_PAUSED},
        {PROXY_PAUSING_CANCEL, PROXY_RUNNING}, {PROXY_PAUSING_CANCEL, PROXY_PAUSED},
        {PROXY_PAUSED, PROXY_RUNNING},         {PROXY_PAUSED, PROXY_SWITCHING},
        {PROXY_SWITCHING, PROXY_PAUSED},
    };
    size_t n_allowed = sizeof(allowed) / sizeof(allowed[0]);
    for (int from = 0; from < PROXY_N_PHASES; from++) {
        for (int to = 0; to < PROXY_N_PHASES; to++) {
            bool want = false;
            for (size_t i = 0; i < n_allowed; i++)
                want |= allowed[i][0] == (ProxyPhase)from && allowed[i][1] == (ProxyPhase)to;
            if (proxy_phase_transition_valid((ProxyPhase)from, (ProxyPhase)to) != want)
                fail_msg("%s -> %s: expected %s", proxy_phase_name((ProxyPhase)from),
                         proxy_phase_name((ProxyPhase)to), want ? "allowed" : "refused");
        }
    }
    assert_false(proxy_phase_transition_valid(PROXY_N_PHASES, PROXY_RUNNING));
    assert_false(proxy_phase_transition_valid(PROXY_RUNNING, (ProxyPhase)-1));
}

static void test_names(void **state)
{
    (void)state;
    const char *names[] = {"running", "pausing", "pausing-cancel", "paused", "switching"};
    for (int i = 0; i < PROXY_N_PHASES; i++)
        assert_string_equal(proxy_phase_name((ProxyPhase)i), names[i]);
    assert_string_equal(proxy_phase_name(PROXY_N_PHASES), "invalid");
    assert_false(proxy_phase_holds(PROXY_RUNNING));
    for (int i = 1; i < PROXY_N_PHASES; i++)
        assert_true(proxy_phase_holds((ProxyPhase)i));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transitions),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
