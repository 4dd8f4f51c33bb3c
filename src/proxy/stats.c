/*
 * stats.c - the proxy's periodic summary line, as PgBouncer's stats_period:
 * every [proxy] stats-period seconds, one log line with the sessions by
 * state and the rates since the last line, so that a log alone shows what
 * the proxy was doing around an incident (the counters themselves are on
 * /metrics).
 *
 *   stats: 42 sessions (40 active, 0 held), 812 xacts/s, 1650 queries/s,
 *          in 95 kB/s, out 410 kB/s; 1 pause, 1 switch, 0 auth failures in 60 s
 */
#include <inttypes.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "proxy/internal.h"

static double per_s(uint64_t now, uint64_t before, double dt)
{
    return now >= before ? (double)(now - before) / dt : 0;
}

static void stats_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    Proxy *p = arg;
    double now = time_mono();
    double dt = now - p->stats_at > 0 ? now - p->stats_at : 1;
    const ProxyCounters *c = &p->counters, *o = &p->stats_prev;
    int sessions = 0;
    for (int st = 0; st < SESSION_N_STATES; st++)
        if (st != SESSION_CLOSED)
            sessions += proxy_count_state(p, (SessionState)st);
    log_info("stats: %d sessions (%d active, %d held), %.0f xacts/s, %.0f queries/s, in %.0f B/s, "
             "out %.0f B/s; %" PRIu64 " pauses, %" PRIu64 " switches, %" PRIu64
             " auth failures in %.0f s",
             sessions, proxy_count_state(p, SESSION_ACTIVE),
             proxy_count_state(p, SESSION_HELD) + proxy_count_state(p, SESSION_SWITCHING),
             per_s(c->transactions, o->transactions, dt), per_s(c->queries, o->queries, dt),
             per_s(c->bytes_in, o->bytes_in, dt), per_s(c->bytes_out, o->bytes_out, dt),
             c->pauses - o->pauses, c->switches - o->switches, c->auth_failures - o->auth_failures,
             dt);
    p->stats_prev = *c;
    p->stats_at = now;
}

void proxy_stats_start(Proxy *p)
{
    if (p->opt.stats_period <= 0)
        return;
    p->stats_timer = event_new(p->base, -1, EV_PERSIST, stats_cb, p);
    struct timeval tv = {.tv_sec = p->opt.stats_period};
    event_add(p->stats_timer, &tv);
    p->stats_prev = p->counters;
    p->stats_at = time_mono();
}

void proxy_stats_stop(Proxy *p)
{
    if (p->stats_timer)
        event_free(p->stats_timer);
    p->stats_timer = NULL;
}
