/*
 * phase.c - the proxy's phase table (phase.h). Pure, for the unit tests.
 */
#include "proxy/phase.h"

static const char *const phase_names[PROXY_N_PHASES] = {
    "running", "pausing", "pausing-cancel", "paused", "switching",
};

/* transitions[from] = bit set of the phases reachable from it (the diagram). */
#define BIT(p) (1u << (p))
static const unsigned transitions[PROXY_N_PHASES] = {
    [PROXY_RUNNING] = BIT(PROXY_PAUSING),
    [PROXY_PAUSING] = BIT(PROXY_RUNNING) | BIT(PROXY_PAUSING_CANCEL) | BIT(PROXY_PAUSED),
    [PROXY_PAUSING_CANCEL] = BIT(PROXY_RUNNING) | BIT(PROXY_PAUSED),
    [PROXY_PAUSED] = BIT(PROXY_RUNNING) | BIT(PROXY_SWITCHING),
    [PROXY_SWITCHING] = BIT(PROXY_PAUSED),
};

const char *proxy_phase_name(ProxyPhase ph)
{
    return (unsigned)ph < PROXY_N_PHASES ? phase_names[ph] : "invalid";
}

bool proxy_phase_transition_valid(ProxyPhase from, ProxyPhase to)
{
    if ((unsigned)from >= PROXY_N_PHASES || (unsigned)to >= PROXY_N_PHASES)
        return false;
    return (transitions[from] & BIT(to)) != 0;
}

bool proxy_phase_holds(ProxyPhase ph)
{
    return ph != PROXY_RUNNING;
}
