/*
 * phase.h - the proxy's own phase: what pause, resume and switch have made
 * of the whole proxy (each session has its own state, session.h). The
 * proxy is in exactly one phase; every change goes through proxy_set_phase()
 * (proxy.c), which refuses a transition not drawn here:
 *
 *               pause                                all held
 *   RUNNING -----------------> PAUSING ------------------------------+
 *    ^  ^                         |                                  |
 *    |  | deadline (resume),      | deadline (on_timeout = cancel)   |
 *    |  | resume, abandoned       v                                  v
 *    |  +----------------- PAUSING_CANCEL --- all held/closed ---> PAUSED <------+
 *    |  (from PAUSING too)                                         |    |        |
 *    |                                                     /switch |    |        | all moved
 *    +--------------------------- resume --------------------------+    v        | or failed
 *                                                                  SWITCHING ----+
 *
 * RUNNING        sessions forward freely.
 * PAUSING        a pause was asked: sessions are held at their next
 *                transaction boundary; new ones are held once authenticated.
 * PAUSING_CANCEL the deadline passed with on_timeout = cancel: open
 *                transactions are being cancelled (PROXY_CANCEL_GRACE).
 * PAUSED         no session is ACTIVE or CONNECTING: the pause is complete.
 * SWITCHING      held sessions connect to the new server; back to PAUSED
 *                when none is SWITCHING any more.
 * "Paused" in the broad sense (sessions are being held) is every phase but
 * RUNNING (proxy_phase_holds).
 */
#ifndef DD_PROXY_PHASE_H
#define DD_PROXY_PHASE_H

#include <stdbool.h>

typedef enum {
    PROXY_RUNNING = 0,
    PROXY_PAUSING = 1,
    PROXY_PAUSING_CANCEL = 2,
    PROXY_PAUSED = 3,
    PROXY_SWITCHING = 4,
    PROXY_N_PHASES = 5
} ProxyPhase;

/* "running", "pausing", "pausing-cancel", "paused", "switching". */
const char *proxy_phase_name(ProxyPhase ph);
/* Whether the diagram above has an arrow from -> to. */
bool proxy_phase_transition_valid(ProxyPhase from, ProxyPhase to);
/* Whether sessions are held in this phase (every phase but RUNNING). */
bool proxy_phase_holds(ProxyPhase ph);

#endif
