/*
 * metrics.c - the proxy's metrics in Prometheus' text exposition format
 * (version 0.0.4), for GET /metrics on the admin listener:
 *
 *   drydock_proxy_up                                 gauge    1
 *   drydock_proxy_phase{phase}                       gauge    1 for the current phase (phase.h)
 *   drydock_proxy_server_role{role}                  gauge    1 for the current server's role
 *   drydock_proxy_clients                            gauge    client connections
 *   drydock_proxy_sessions{state}                    gauge    sessions per state (session.h)
 *   drydock_proxy_connections_total                  counter  clients accepted
 *   drydock_proxy_transactions_total                 counter  ReadyForQuery 'I' forwarded
 *   drydock_proxy_queries_total                      counter  Query and Execute messages
 *   drydock_proxy_bytes_total{direction=in|out}      counter  client to server, server to client
 *   drydock_proxy_auth_failures_total                counter  clients refused at login
 *   drydock_proxy_server_errors_total                counter  server connections failed or lost
 *   drydock_proxy_pauses_total                       counter  pauses completed (all held)
 *   drydock_proxy_pause_timeouts_total               counter  pauses released at their deadline
 *   drydock_proxy_switches_total                     counter  switches
 *   drydock_proxy_switch_failures_total              counter  sessions a switch could not move
 *   drydock_proxy_pause_hold_seconds                 histogram  pause asked -> clients released
 *
 * Names follow Prometheus' conventions (base units, _total for counters);
 * label values are fixed words, so nothing needs escaping.
 */
#include <stdio.h>

#include "proxy/internal.h"

const double proxy_hold_bounds[PROXY_HOLD_BUCKETS] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                      0.25,  0.5,   1,    2.5,   5,    10};

void proxy_histogram_observe(ProxyHistogram *h, double seconds)
{
    int i = 0;
    while (i < PROXY_HOLD_BUCKETS && seconds > proxy_hold_bounds[i])
        i++;
    h->counts[i]++;
    h->count++;
    h->sum += seconds;
}

static void metric_head(Buf *out, const char *name, const char *type, const char *help)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counter(Buf *out, const char *name, const char *help, uint64_t v)
{
    metric_head(out, name, "counter", help);
    buf_printf(out, "%s %llu\n", name, (unsigned long long)v);
}

static void render_state(const Proxy *p, Buf *out)
{
    metric_head(out, "drydock_proxy_up", "gauge", "Whether the proxy runs.");
    buf_printf(out, "drydock_proxy_up 1\n");
    metric_head(out, "drydock_proxy_phase", "gauge", "The proxy's phase: 1 for the current one.");
    for (int i = 0; i < PROXY_N_PHASES; i++)
        buf_printf(out, "drydock_proxy_phase{phase=\"%s\"} %d\n", proxy_phase_name((ProxyPhase)i),
                   p->phase == (ProxyPhase)i);
    static const char *const roles[] = {"unknown", "primary", "replica"};
    metric_head(out, "drydock_proxy_server_role", "gauge",
                "The current server's role from the last probe: 1 for the current one.");
    for (int i = 0; i < 3; i++)
        buf_printf(out, "drydock_proxy_server_role{role=\"%s\"} %d\n", roles[i], (int)p->role == i);
    metric_head(out, "drydock_proxy_clients", "gauge", "Client connections.");
    buf_printf(out, "drydock_proxy_clients %zu\n", p->nclients);
    metric_head(out, "drydock_proxy_sessions", "gauge", "Sessions by state.");
    for (int i = 0; i < SESSION_N_STATES; i++)
        if (i != SESSION_CLOSED)
            buf_printf(out, "drydock_proxy_sessions{state=\"%s\"} %d\n",
                       session_state_name((SessionState)i), p->nstate[i]);
}

static void render_counters(const Proxy *p, Buf *out)
{
    const ProxyCounters *c = &p->counters;
    counter(out, "drydock_proxy_connections_total", "Client connections accepted.", c->connections);
    counter(out, "drydock_proxy_transactions_total", "Transactions ended (ReadyForQuery idle).",
            c->transactions);
    counter(out, "drydock_proxy_queries_total", "Query and Execute messages forwarded.",
            c->queries);
    metric_head(out, "drydock_proxy_bytes_total", "counter",
                "Bytes forwarded: in = client to server, out = server to client.");
    buf_printf(out, "drydock_proxy_bytes_total{direction=\"in\"} %llu\n",
               (unsigned long long)c->bytes_in);
    buf_printf(out, "drydock_proxy_bytes_total{direction=\"out\"} %llu\n",
               (unsigned long long)c->bytes_out);
    counter(out, "drydock_proxy_auth_failures_total", "Clients refused at login.",
            c->auth_failures);
    counter(out, "drydock_proxy_server_errors_total",
            "Server connections that failed or were lost.", c->server_errors);
    counter(out, "drydock_proxy_pauses_total", "Pauses completed (every session held).", c->pauses);
    counter(out, "drydock_proxy_pause_timeouts_total", "Pauses released at their deadline.",
            c->pause_timeouts);
    counter(out, "drydock_proxy_switches_total", "Switches to another server.", c->switches);
    counter(out, "drydock_proxy_switch_failures_total", "Sessions a switch could not move.",
            c->switch_failures);
}

static void render_holds(const Proxy *p, Buf *out)
{
    const ProxyHistogram *h = &p->holds;
    const char *name = "drydock_proxy_pause_hold_seconds";
    metric_head(out, name, "histogram", "How long clients were held, from pause to release.");
    uint64_t cum = 0;
    for (int i = 0; i < PROXY_HOLD_BUCKETS; i++) {
        cum += h->counts[i];
        buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name, proxy_hold_bounds[i],
                   (unsigned long long)cum);
    }
    buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)h->count);
    buf_printf(out, "%s_sum %.6f\n%s_count %llu\n", name, h->sum, name,
               (unsigned long long)h->count);
}

void proxy_metrics_render(const Proxy *p, Buf *out)
{
    render_state(p, out);
    render_counters(p, out);
    render_holds(p, out);
}
