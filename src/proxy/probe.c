/*
 * probe.c - which role the proxy's current server has, for the load
 * balancer endpoints (/primary, /replica, /health, as Patroni has them):
 * every [ProxyOptions] probe_interval seconds, and at once after a switch, a connection
 * made with libpq's non-blocking API on the proxy's own loop reads the
 * server's in_hot_standby (reported at startup by PostgreSQL 14 and later)
 * and closes. It uses the current server's conninfo, the password the
 * credentials file holds for its user when that is a plaintext one, and
 * the TLS settings of the server leg.
 *
 * The proxy switches while the new primary's promotion ends, so the probe
 * right after a switch may still see recovery. Until a probe sees a
 * primary, it probes again after 50 ms, doubling up to 1 s, for at most
 * REPROBE_WINDOW seconds after the switch (a switch to a server that stays a
 * standby costs a few probes, then the interval takes over): /primary does
 * not answer 503 for a whole interval after a switchover.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "pg/libpq.h"
#include "proxy/internal.h"

typedef struct Probe {
    Proxy *p;
    PGconn *conn;
    struct event *io;    /* the connection's socket, one shot */
    struct event *timer; /* the next probe */
    struct event *again; /* one shot: probe again soon after a switch */
    double switched_at;  /* time_mono() of the last switch; 0: none pending */
    double again_delay;  /* seconds before the next probe again */
} Probe;

#define REPROBE_FIRST  0.05 /* seconds */
#define REPROBE_MAX    1.0
#define REPROBE_WINDOW 30.0

static struct timeval probe_tv(double s)
{
    return (struct timeval){(time_t)s, (suseconds_t)((s - (double)(time_t)s) * 1e6)};
}

/* After a switch, a probe that did not see a primary is made again soon. */
static void probe_after_switch(Probe *pr, ProxyRole role)
{
    if (pr->switched_at == 0)
        return;
    if (role == PROXY_ROLE_PRIMARY || time_mono() - pr->switched_at > REPROBE_WINDOW) {
        pr->switched_at = 0;
        return;
    }
    struct timeval tv = probe_tv(pr->again_delay);
    event_add(pr->again, &tv);
    pr->again_delay = pr->again_delay * 2 > REPROBE_MAX ? REPROBE_MAX : pr->again_delay * 2;
}

static void probe_end(Probe *pr, ProxyRole role, const char *error)
{
    Proxy *p = pr->p;
    if (role != p->role)
        log_info("the server %s is %s", p->target.redacted,
                 role == PROXY_ROLE_PRIMARY   ? "a primary"
                 : role == PROXY_ROLE_REPLICA ? "a replica (in hot standby)"
                                              : "unreachable to the probe");
    p->role = role;
    p->role_checked_at = time_mono();
    snprintf(p->role_error, sizeof(p->role_error), "%s", error ? error : "");
    char *nl = strchr(p->role_error, '\n');
    if (nl)
        *nl = '\0';
    if (pr->io) {
        event_free(pr->io);
        pr->io = NULL;
    }
    PQfinish(pr->conn);
    pr->conn = NULL;
    probe_after_switch(pr, role);
}

static void probe_poll(evutil_socket_t fd, short what, void *arg);

static void probe_wait(Probe *pr, PostgresPollingStatusType st)
{
    if (pr->io)
        event_free(pr->io);
    pr->io = event_new(pr->p->base, PQsocket(pr->conn),
                       st == PGRES_POLLING_WRITING ? EV_WRITE : EV_READ, probe_poll, pr);
    struct timeval tv = {5, 0};
    event_add(pr->io, &tv);
}

static void probe_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    Probe *pr = arg;
    if (what & EV_TIMEOUT) {
        probe_end(pr, PROXY_ROLE_UNKNOWN, "the server did not answer in 5 s");
        return;
    }
    PostgresPollingStatusType st = PQconnectPoll(pr->conn);
    if (st == PGRES_POLLING_READING || st == PGRES_POLLING_WRITING) {
        probe_wait(pr, st);
        return;
    }
    if (st == PGRES_POLLING_FAILED) {
        probe_end(pr, PROXY_ROLE_UNKNOWN, PQerrorMessage(pr->conn));
        return;
    }
    const char *hs = PQparameterStatus(pr->conn, "in_hot_standby");
    probe_end(pr,
              !hs                      ? PROXY_ROLE_UNKNOWN
              : strcmp(hs, "off") == 0 ? PROXY_ROLE_PRIMARY
                                       : PROXY_ROLE_REPLICA,
              hs ? NULL
                 : "the server does not report in_hot_standby (PostgreSQL 14 or later does)");
}

static const char *probe_sslmode(const Proxy *p)
{
    static const char *const modes[] = {"disable", "prefer", "require", "verify-ca", "verify-full"};
    return modes[p->tls.server_mode];
}

static void probe_begin(Probe *pr)
{
    Proxy *p = pr->p;
    if (pr->conn)
        return; /* one at a time */
    const char *keys[10], *vals[10];
    int n = 0;
    keys[n] = "dbname";
    vals[n++] = p->target.conninfo;
    keys[n] = "sslmode";
    vals[n++] = probe_sslmode(p);
    if (p->opt.server_tls_ca_file) {
        keys[n] = "sslrootcert";
        vals[n++] = p->opt.server_tls_ca_file;
    }
    /*
     * No client certificate: libpq would read ~/.postgresql/postgresql.crt
     * of whoever started the proxy (and fail on one it cannot read); a
     * missing file is skipped.
     */
    keys[n] = "sslcert";
    vals[n++] = "/nonexistent/drydock-probe-has-no-client-certificate";
    keys[n] = "application_name";
    vals[n++] = "drydock proxy probe";
    keys[n] = "connect_timeout";
    vals[n++] = "5";
    const Credential *c =
        p->target.user[0] ? auth_credentials_find(&p->creds, p->target.user) : NULL;
    if (c && c->kind == CRED_PLAIN) {
        keys[n] = "password";
        vals[n++] = c->secret;
    }
    keys[n] = vals[n] = NULL;
    pr->conn = PQconnectStartParams(keys, vals, 1);
    if (!pr->conn || PQstatus(pr->conn) == CONNECTION_BAD) {
        probe_end(pr, PROXY_ROLE_UNKNOWN, pr->conn ? PQerrorMessage(pr->conn) : "out of memory");
        return;
    }
    probe_wait(pr, PGRES_POLLING_WRITING);
}

static void probe_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    probe_begin(arg);
}

void proxy_probe_start(Proxy *p)
{
    if (p->opt.probe_interval <= 0)
        return;
    Probe *pr = xcalloc(1, sizeof(Probe));
    pr->p = p;
    pr->timer = event_new(p->base, -1, EV_PERSIST, probe_timer_cb, pr);
    pr->again = event_new(p->base, -1, 0, probe_timer_cb, pr);
    struct timeval tv = probe_tv(p->opt.probe_interval);
    event_add(pr->timer, &tv);
    p->probe = pr;
    event_active(pr->timer, EV_TIMEOUT, 0); /* the first one at once, from the loop */
}

/*
 * After a switch: a probe still in flight went to the old server, so it is
 * dropped and a new one starts; it and the ones after it probe again soon
 * while the new server is not yet seen as a primary (probe_after_switch).
 */
void proxy_probe_now(Proxy *p)
{
    Probe *pr = p->probe;
    if (!pr)
        return;
    if (pr->conn) {
        if (pr->io)
            event_free(pr->io);
        pr->io = NULL;
        PQfinish(pr->conn);
        pr->conn = NULL;
    }
    event_del(pr->again);
    pr->switched_at = time_mono();
    pr->again_delay = REPROBE_FIRST;
    event_active(pr->timer, EV_TIMEOUT, 0);
}

void proxy_probe_free(Proxy *p)
{
    Probe *pr = p->probe;
    if (!pr)
        return;
    if (pr->io)
        event_free(pr->io);
    if (pr->conn)
        PQfinish(pr->conn);
    event_free(pr->timer);
    event_free(pr->again);
    free(pr);
    p->probe = NULL;
}
