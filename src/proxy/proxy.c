/*
 * proxy.c - the event loop, the listener, and pause / resume / switch.
 *
 * Pause is a phase and a check, as in PgBouncer (phase.h draws the
 * proxy's phases): while the proxy is not RUNNING, a session that reaches a transaction boundary
 * (session.h) is moved to HELD and its client's next messages stay in the input buffer. The pause
 * is complete when no session is CONNECTING or ACTIVE (proxy_check_pause); sessions still starting
 * up are held as soon as they are authenticated. At the deadline the pause is either released
 * (PROXY_PAUSE_DEADLINE to the caller's callback) or, when asked, the open transactions are
 * cancelled: a CancelRequest to the servers running a query; a session idle in a transaction block
 * loses its server connection (the server rolls back) and its client gets an error for that
 * transaction on its next message (abort_tx). A query still running
 * PROXY_CANCEL_GRACE seconds later closes that client.
 *
 * Switch (only when the pause is complete) connects every held session to
 * the new server in parallel (SWITCHING); each goes back to HELD when its
 * new connection is ready (the old one is closed) or failed (its client
 * gets 08006 on resume). Resume moves HELD sessions back to ACTIVE and
 * pumps the messages that waited.
 *
 * The pause's lease (proxy_lease): whoever pauses may give the pause a lease
 * and renew it; when its holder dies (kill -9, a hung host) the renewals
 * stop, and when the lease runs out the proxy ends the hold by itself, in
 * the way that is safe whatever the holder had done:
 *
 *   no promotion announced, no /switch   resume, on the server it points at
 *                                        (the old primary: nothing moved)
 *   "promoting" announced, or a /switch  the proxy cannot know which server is
 *   happened during this pause           the primary: every held client gets
 *                                        FATAL 57P01 and the proxy is fenced
 *                                        (stays PAUSED; new sessions get the
 *                                        same error) until an operator resumes
 *                                        it (or switches, then resumes)
 *
 * So a client is never held longer than the holder's own deadline plus the
 * lease.
 */
#include "proxy/proxy.h"

#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/rand.h"
#include "common/timeutil.h"
#include "proxy/internal.h"
#include "proxy/proto.h"

double proxy_ms_since(double t0)
{
    return (time_mono() - t0) * 1000.0;
}

/* --- sessions ------------------------------------------------------------ */

static void unlink_session(Proxy *p, Session *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        p->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = NULL;
    s->next = p->dead;
    p->dead = s;
}

static void reaper_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    Proxy *p = arg;
    while (p->dead) {
        Session *s = p->dead;
        p->dead = s->next;
        session_free_tracking(s);
        session_free_auth(s);
        explicit_bzero(s->client_key, sizeof(s->client_key));
        free(s);
    }
}

bool proxy_set_phase(Proxy *p, ProxyPhase to)
{
    ProxyPhase old = p->phase;
    if (!proxy_phase_transition_valid(old, to)) {
        log_warn("refused proxy phase change %s -> %s (a bug in the proxy)", proxy_phase_name(old),
                 proxy_phase_name(to));
        return false;
    }
    p->phase = to;
    log_debug("proxy: %s -> %s", proxy_phase_name(old), proxy_phase_name(to));
    return true;
}

static void check_switch(Proxy *p)
{
    if (p->phase != PROXY_SWITCHING || proxy_count_state(p, SESSION_SWITCHING) > 0)
        return;
    proxy_set_phase(p, PROXY_PAUSED);
    p->counters.switch_failures += (uint64_t)p->switch_failed;
    proxy_probe_now(p); /* the new server's role, for /primary and /replica */
    log_info("switch to %s done in %.1f ms: %d sessions moved, %d failed", p->target.redacted,
             proxy_ms_since(p->switch_started), p->switch_ok, p->switch_failed);
    ProxySwitchCb cb = p->switch_cb;
    p->switch_cb = NULL;
    if (cb)
        cb(p, p->switch_arg);
}

void proxy_session_close(Session *s, const char *why)
{
    Proxy *p = s->proxy;
    if (s->state == SESSION_CLOSED)
        return;
    bool was_switching = s->state == SESSION_SWITCHING;
    log_debug("session %u (%s): closed: %s", s->id, s->client_addr, why);
    session_set_state(s, SESSION_CLOSED);
    if (s->login_timer) {
        event_free(s->login_timer);
        s->login_timer = NULL;
    }
    server_free(s->server);
    server_free(s->next_server);
    server_free(s->pre_server);
    s->server = s->next_server = s->pre_server = NULL;
    if (s->client) {
        /* Flush what is queued (an error message) before the socket closes. */
        io_free(s->client); /* after one last try to send what is queued (an error) */
        s->client = NULL;
    }
    unlink_session(p, s);
    p->nclients--;
    event_active(p->reaper, 0, 0);
    if (was_switching)
        p->switch_failed++;
    proxy_check_pause(p);
    check_switch(p);
}

/* Every transition passes here: keep the per-state counts that pause and switch check. */
void proxy_session_hook(Session *s, SessionState old)
{
    s->proxy->nstate[old]--;
    s->proxy->nstate[s->state]++;
}

int proxy_count_state(const Proxy *p, SessionState st)
{
    return p->nstate[st];
}

void proxy_session_start_server(Session *s)
{
    Proxy *p = s->proxy;
    if (s->login_timer) {
        event_free(s->login_timer);
        s->login_timer = NULL;
    }
    if (p->fenced) {
        client_fatal(s, "57P01",
                     "the proxy is fenced: a switchover stopped after promoting a new primary; "
                     "retry once an operator has resumed it");
        return;
    }
    if (proxy_phase_holds(p->phase)) {
        session_set_state(s, SESSION_HELD); /* connects on resume, to the current server */
        proxy_check_pause(p);
        return;
    }
    Server *srv = server_connect(s, &p->target);
    if (!srv) {
        p->counters.server_errors++;
        client_fatal(s, "08006", err_message());
        return;
    }
    s->server = srv;
    session_set_state(s, SESSION_CONNECTING);
}

void proxy_server_ready(Session *s, Server *srv)
{
    Proxy *p = s->proxy;
    if (proxy_pre_ready(s, srv))
        return; /* idle until a switch takes it */
    if (srv == s->next_server) {
        server_free(s->server);
        s->server = srv;
        s->next_server = NULL;
        session_set_state(s, SESSION_HELD);
        p->switch_ok++;
        check_switch(p);
        return;
    }
    if (!s->welcomed) {
        Buf b = {0};
        proto_backend_key(&b, s->id, s->key);
        proto_ready(&b, 'I');
        client_send(s, &b);
        buf_free(&b);
        s->welcomed = true;
    }
    s->tx = 'I';
    s->pending = 0;
    s->ext_open = false;
    session_set_state(s, SESSION_ACTIVE);
    proxy_after_ready(s);
    client_pump(s);
}

void proxy_server_failed(Session *s, Server *srv, const char *sqlstate, const char *message)
{
    Proxy *p = s->proxy;
    if (proxy_pre_failed(s, srv, message))
        return; /* a switch connects this session afresh */
    p->counters.server_errors++;
    if (srv == s->next_server) {
        log_warn("session %u: could not connect to the new server: %s", s->id, message);
        server_free(srv);
        s->next_server = NULL;
        s->switch_failed = true;
        session_set_state(s, SESSION_HELD);
        p->switch_failed++;
        check_switch(p);
        return;
    }
    log_info("session %u (%s): server connection failed: %s", s->id, s->client_addr, message);
    if (srv == s->server)
        s->server = NULL;
    server_free(srv);
    client_fatal(s, sqlstate, message);
}

void proxy_server_lost(Session *s, const char *why)
{
    Proxy *p = s->proxy;
    Server *srv = s->server;
    p->counters.server_errors++;
    s->server = NULL;
    bool mid_message = srv && srv->frame_left > 0;
    server_free(srv);
    if (s->state == SESSION_SWITCHING)
        return; /* its new connection carries on */
    if (s->state == SESSION_HELD) {
        /* At a boundary with nothing open: it reconnects on resume. */
        log_info("session %u: server connection lost while held; it reconnects on resume", s->id);
        return;
    }
    log_info("session %u (%s): %s", s->id, s->client_addr, why);
    if (mid_message)
        proxy_session_close(s, why);
    else
        client_fatal(s, "08006", why);
}

/* Terminate the open transaction of s (pause deadline, on_timeout=cancel). */
static void terminate_tx(Session *s)
{
    log_info("session %u (%s): terminating its open transaction at the pause deadline", s->id,
             s->client_addr);
    server_free(s->server);
    s->server = NULL;
    s->abort_tx = true;
    s->cancelling = false;
    s->tx = 'I';
    s->pending = 0;
    s->ext_open = false;
    if (s->cframe_left > 0)
        s->cframe_discard = true;
    session_set_state(s, SESSION_HELD);
}

void proxy_after_ready(Session *s)
{
    Proxy *p = s->proxy;
    if (!proxy_phase_holds(p->phase) || s->state != SESSION_ACTIVE)
        return;
    if (session_at_boundary(s)) {
        s->cancelling = false;
        session_set_state(s, SESSION_HELD);
    } else if (p->phase == PROXY_PAUSING_CANCEL && s->pending == 0) {
        terminate_tx(s);
    }
    proxy_check_pause(p);
}

/* --- pause, resume, switch ----------------------------------------------- */

static int count_open(const Proxy *p)
{
    return proxy_count_state(p, SESSION_ACTIVE) + proxy_count_state(p, SESSION_CONNECTING);
}

/* Report the end of the pause to whoever asked for it, once. */
static void pause_end(Proxy *p, ProxyPauseEnd end)
{
    ProxyPauseCb cb = p->pause_cb;
    p->pause_cb = NULL;
    if (cb)
        cb(p, end, p->pause_arg);
}

static bool pausing(const Proxy *p)
{
    return p->phase == PROXY_PAUSING || p->phase == PROXY_PAUSING_CANCEL;
}

void proxy_check_pause(Proxy *p)
{
    if (!pausing(p) || count_open(p) > 0)
        return;
    bool cancelled = p->phase == PROXY_PAUSING_CANCEL;
    proxy_set_phase(p, PROXY_PAUSED);
    p->pause_done_at = time_mono();
    p->counters.pauses++;
    evtimer_del(p->pause_timer);
    log_info("paused: %d sessions held after %.1f ms%s", proxy_count_state(p, SESSION_HELD),
             (p->pause_done_at - p->pause_started) * 1000.0,
             cancelled ? " (open transactions cancelled)" : "");
    pause_end(p, PROXY_PAUSE_HELD);
}

static void release(Proxy *p)
{
    proxy_histogram_observe(&p->holds, time_mono() - p->pause_started);
    proxy_pre_drop(p);
    proxy_set_phase(p, PROXY_RUNNING);
    evtimer_del(p->pause_timer);
    if (p->lease_timer)
        evtimer_del(p->lease_timer);
    p->lease_s = 0;
    p->lease_promoting = p->pause_switched = p->fenced = false;
    Session *next;
    for (Session *s = p->sessions; s; s = next) {
        next = s->next;
        if (s->state != SESSION_HELD)
            continue;
        if (s->switch_failed) {
            client_fatal(s, "08006", "the proxy could not connect this session to the new server");
        } else if (!s->server) {
            s->switch_failed = false;
            Server *srv = server_connect(s, &p->target);
            if (!srv) {
                client_fatal(s, "08006", err_message());
                continue;
            }
            s->server = srv;
            session_set_state(s, SESSION_CONNECTING);
        } else {
            session_set_state(s, SESSION_ACTIVE);
            client_pump(s);
        }
    }
}

/* The deadline with on_timeout = cancel: cancel what runs, terminate idle transactions. */
static void pause_start_cancel(Proxy *p)
{
    proxy_set_phase(p, PROXY_PAUSING_CANCEL);
    Session *next;
    for (Session *s = p->sessions; s; s = next) {
        next = s->next;
        if (s->state != SESSION_ACTIVE)
            continue;
        p->cancelled++;
        if (s->pending > 0 && s->server) {
            s->cancelling = true;
            server_cancel(p, s->server);
        } else {
            terminate_tx(s);
        }
    }
    struct timeval tv = {(time_t)PROXY_CANCEL_GRACE, 0};
    evtimer_add(p->pause_timer, &tv);
    proxy_check_pause(p);
}

static void pause_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    Proxy *p = arg;
    if (p->phase == PROXY_PAUSING && !p->pause_cancel) {
        log_warn("pause deadline passed with %d sessions in a transaction: resuming",
                 count_open(p));
        p->counters.pause_timeouts++;
        pause_end(p, PROXY_PAUSE_DEADLINE); /* before release: the caller lists the open ones */
        release(p);
    } else if (p->phase == PROXY_PAUSING) {
        pause_start_cancel(p);
    } else if (p->phase == PROXY_PAUSING_CANCEL) {
        Session *next;
        for (Session *s = p->sessions; s; s = next) {
            next = s->next;
            if (s->state == SESSION_ACTIVE || s->state == SESSION_CONNECTING)
                client_fatal(s, "57P01",
                             "terminating connection: the query outlived the proxy's "
                             "pause deadline");
        }
        proxy_check_pause(p);
    }
}

ProxyResult proxy_pause(Proxy *p, double timeout, bool cancel, ProxyPauseCb cb, void *arg)
{
    if (p->phase == PROXY_PAUSED)
        return PROXY_DONE;
    if (p->phase != PROXY_RUNNING)
        return PROXY_ERR_BUSY;
    proxy_set_phase(p, PROXY_PAUSING);
    p->pause_cancel = cancel;
    p->cancelled = 0;
    p->pause_started = time_mono();
    p->pause_cb = cb;
    p->pause_arg = arg;
    log_info("pausing %zu sessions (deadline %.1f s, then %s)", p->nclients, timeout,
             cancel ? "cancel" : "resume");
    for (Session *s = p->sessions; s; s = s->next)
        if (s->state == SESSION_ACTIVE && session_at_boundary(s))
            session_set_state(s, SESSION_HELD);
    struct timeval tv = {(time_t)timeout, (suseconds_t)((timeout - (double)(time_t)timeout) * 1e6)};
    evtimer_add(p->pause_timer, &tv);
    proxy_check_pause(p);
    return PROXY_STARTED;
}

ProxyResult proxy_resume(Proxy *p, double *paused_ms)
{
    if (p->phase == PROXY_RUNNING)
        return PROXY_ERR_NOT_PAUSED;
    if (p->phase == PROXY_SWITCHING)
        return PROXY_ERR_BUSY;
    *paused_ms = proxy_ms_since(p->pause_started);
    log_info("resuming after %.1f ms", *paused_ms);
    pause_end(p, PROXY_PAUSE_RESUMED);
    release(p);
    return PROXY_DONE;
}

void proxy_pause_abandoned(Proxy *p)
{
    if (!pausing(p))
        return;
    log_warn("the caller of the pause went away before it completed: resuming");
    pause_end(p, PROXY_PAUSE_ABANDONED);
    release(p);
}

/* The lease ran out: end the hold as the table at the top of the file says. */
static void lease_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    Proxy *p = arg;
    if (p->phase == PROXY_RUNNING || p->fenced)
        return;
    if (!p->lease_promoting && !p->pause_switched) {
        log_warn("the pause's lease expired (%.1f s without a renewal) before any promotion: "
                 "resuming on %s",
                 p->lease_s, p->target.redacted);
        pause_end(p, PROXY_PAUSE_ABANDONED);
        release(p);
        return;
    }
    log_warn("the pause's lease expired (%.1f s without a renewal) after a promotion was "
             "announced: closing the %d held sessions; new sessions are refused until "
             "\"proxy-ctl resume\"",
             p->lease_s,
             proxy_count_state(p, SESSION_HELD) + proxy_count_state(p, SESSION_SWITCHING));
    p->fenced = true;
    Session *next;
    for (Session *s = p->sessions; s; s = next) {
        next = s->next;
        if (s->state == SESSION_HELD || s->state == SESSION_SWITCHING)
            client_fatal(s, "57P01",
                         "terminating connection: the switchover holding this session stopped "
                         "after promoting a new primary; reconnect once it is resolved");
    }
}

ProxyResult proxy_lease(Proxy *p, double lease_s, bool promoting)
{
    if (p->phase == PROXY_RUNNING || p->fenced || (lease_s <= 0 && p->lease_s <= 0))
        return PROXY_ERR_NOT_PAUSED;
    if (lease_s > 0)
        p->lease_s = lease_s;
    p->lease_promoting = p->lease_promoting || promoting;
    if (!p->lease_timer)
        p->lease_timer = evtimer_new(p->base, lease_timer_cb, p);
    struct timeval tv = {(time_t)p->lease_s,
                         (suseconds_t)((p->lease_s - (double)(time_t)p->lease_s) * 1e6)};
    evtimer_add(p->lease_timer, &tv);
    return PROXY_DONE;
}

ProxyResult proxy_switch(Proxy *p, const char *conninfo, ProxySwitchCb cb, void *arg)
{
    if (p->phase == PROXY_SWITCHING || pausing(p))
        return PROXY_ERR_BUSY;
    if (p->phase != PROXY_PAUSED)
        return PROXY_ERR_NOT_PAUSED;
    ServerTarget t;
    if (!proxy_target_init(&t, conninfo))
        return PROXY_ERR_SERVER;
    if (!proxy_allowed_target(p, &t)) {
        log_warn("refused a switch to %s: not a server the configuration names", t.redacted);
        proxy_target_free(&t);
        return PROXY_ERR_NOT_ALLOWED;
    }
    p->pause_switched = true;
    log_info("switching %d held sessions from %s to %s", proxy_count_state(p, SESSION_HELD),
             p->target.redacted, t.redacted);
    proxy_target_free(&p->target);
    p->target = t;
    proxy_set_phase(p, PROXY_SWITCHING);
    p->switch_started = time_mono();
    p->switch_ok = p->switch_failed = 0;
    p->switch_cb = cb;
    p->switch_arg = arg;
    p->counters.switches++;
    for (Session *s = p->sessions; s; s = s->next) {
        if (s->state != SESSION_HELD)
            continue;
        s->switch_failed = false;
        if (proxy_pre_take(p, s, &p->target))
            continue; /* opened ahead (preconnect.c) */
        if (!s->server)
            continue; /* connects to the new server on resume */
        Server *srv = server_connect(s, &p->target);
        if (!srv) {
            s->switch_failed = true;
            p->switch_failed++;
            continue;
        }
        s->next_server = srv;
        session_set_state(s, SESSION_SWITCHING);
    }
    proxy_pre_drop(p); /* any left were opened elsewhere */
    check_switch(p);
    return PROXY_STARTED;
}

void proxy_cancel_request(Proxy *p, uint32_t pid, uint32_t key)
{
    for (Session *s = p->sessions; s; s = s->next) {
        if (s->id == pid) {
            if (s->key == key && s->server && s->server->phase == SERVER_READY)
                server_cancel(p, s->server);
            return;
        }
    }
}

/* --- loop ------------------------------------------------------------------ */

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
    (void)l;
    client_accept(arg, fd, sa, len);
}

static void accept_error_cb(struct evconnlistener *l, void *arg)
{
    (void)l;
    (void)arg;
    log_warn("could not accept a connection: %s",
             evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

/*
 * SIGHUP: the credentials file and the TLS certificates (the admin API's
 * too) are read again;
 * what fails to load leaves the previous one in use. Sessions are not
 * touched: a TLS connection keeps the context it started with.
 */
static void proxy_reload(Proxy *p)
{
    Credentials c;
    if (!auth_credentials_load(p->opt.credentials, &c)) {
        log_failure();
        log_warn("credentials not reloaded; the previous ones stay in use");
    } else {
        auth_credentials_free(&p->creds);
        p->creds = c;
        log_info("credentials reloaded from \"%s\": %zu users", p->opt.credentials, c.len);
    }
    if (!tls_reload(&p->tls, &p->opt)) {
        log_failure();
        log_warn("TLS certificates not reloaded; the previous ones stay in use");
    } else if (p->tls.client_ctx || p->tls.server_ctx) {
        log_info("TLS certificates reloaded");
    }
    if (!admin_lock_reload(p)) {
        log_failure();
        log_warn("admin API certificate not reloaded; the previous one stays in use");
    } else if (p->admin && p->admin->tls) {
        log_info("admin API certificate reloaded");
    }
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    Proxy *p = arg;
    if (sig == SIGHUP) {
        proxy_reload(p);
        return;
    }
    log_info("shutting down on signal %d", (int)sig);
    event_base_loopexit(p->base, NULL);
}

static bool bind_listener(Proxy *p)
{
    char host[256];
    const char *colon = strrchr(p->opt.listen, ':');
    snprintf(host, sizeof(host), "%.*s", (int)(colon - p->opt.listen), p->opt.listen);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || !res) {
        err_set(DD_EXIT_CONFIG, "could not resolve listen address \"%s\"", p->opt.listen);
        err_hint("set [proxy] listen to host:port");
        return false;
    }
    p->listener = evconnlistener_new_bind(
        p->base, accept_cb, p, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
        4096, res->ai_addr, (int)res->ai_addrlen);
    freeaddrinfo(res);
    if (!p->listener) {
        err_errno("could not listen on \"%s\"", p->opt.listen);
        err_hint("is another process using that port? set [proxy] listen");
        return false;
    }
    evconnlistener_set_error_cb(p->listener, accept_error_cb);
    return true;
}

static bool load_credentials(Proxy *p)
{
    if (auth_credentials_load(p->opt.credentials, &p->creds))
        return true;
    if (p->opt.auth == AUTH_TRUST && err_code() == DD_EXIT_IO) {
        log_warn("%s; clients are trusted, servers that ask a password will refuse them",
                 err_message());
        err_clear();
        return true;
    }
    return false;
}

/* Every client needs two descriptors (client, server): raise the soft limit to the hard one. */
static void raise_fd_limit(int max_clients)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            return;
    }
    rlim_t need = (rlim_t)max_clients * 2 + 64;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
        log_warn("the open-files limit (%llu) allows about %llu clients, not max-clients = %d",
                 (unsigned long long)rl.rlim_cur, (unsigned long long)(rl.rlim_cur - 64) / 2,
                 max_clients);
}

Proxy *proxy_new(const ProxyOptions *opt)
{
    Proxy *p = xcalloc(1, sizeof(Proxy));
    p->opt = *opt;
    rand_bytes(p->mock_secret, sizeof(p->mock_secret));
    signal(SIGPIPE, SIG_IGN);
    p->base = event_base_new();
    if (!p->base) {
        free(p);
        err_set(DD_EXIT_FAIL, "could not create the event loop");
        return NULL;
    }
    p->reaper = event_new(p->base, -1, 0, reaper_cb, p);
    p->pause_timer = evtimer_new(p->base, pause_timer_cb, p);
    if (!tls_init(&p->tls, opt) || !load_credentials(p) ||
        !proxy_target_init(&p->target, opt->server) || !bind_listener(p) || !admin_start(p)) {
        proxy_free(p);
        return NULL;
    }
    p->sig_term = evsignal_new(p->base, SIGTERM, signal_cb, p);
    p->sig_int = evsignal_new(p->base, SIGINT, signal_cb, p);
    p->sig_hup = evsignal_new(p->base, SIGHUP, signal_cb, p);
    event_add(p->sig_term, NULL);
    event_add(p->sig_int, NULL);
    event_add(p->sig_hup, NULL);
    raise_fd_limit(opt->max_clients);
    proxy_stats_start(p);
    proxy_allowed_init(p);
    proxy_probe_start(p);
    log_info("listening on %s (TLS %s) for %s (TLS %s), admin API on %s, %zu users in \"%s\"",
             opt->listen, opt->client_tls_mode ? opt->client_tls_mode : "disable",
             p->target.redacted, opt->server_tls_mode ? opt->server_tls_mode : "disable",
             opt->admin, p->creds.len, opt->credentials);
    return p;
}

bool proxy_run(Proxy *p)
{
    if (event_base_dispatch(p->base) < 0)
        return err_set(DD_EXIT_FAIL, "the event loop failed");
    return true;
}

void proxy_free(Proxy *p)
{
    if (!p)
        return;
    proxy_stats_stop(p);
    while (p->sessions) {
        Session *s = p->sessions;
        if (s->welcomed)
            client_fatal(s, "57P01", "terminating connection due to administrator command");
        else
            proxy_session_close(s, "shutdown");
    }
    pause_end(p, PROXY_PAUSE_SHUTDOWN);
    if (p->switch_cb) {
        ProxySwitchCb cb = p->switch_cb;
        p->switch_cb = NULL;
        cb(p, p->switch_arg);
    }
    reaper_cb(-1, 0, p);
    admin_free(p);
    proxy_probe_free(p);
    if (p->listener)
        evconnlistener_free(p->listener);
    event_free(p->reaper);
    event_free(p->pause_timer);
    if (p->lease_timer)
        event_free(p->lease_timer);
    if (p->sig_term) {
        event_free(p->sig_term);
        event_free(p->sig_int);
        event_free(p->sig_hup);
    }
    event_base_free(p->base);
    auth_credentials_free(&p->creds);
    proxy_target_free(&p->target);
    for (size_t i = 0; i < p->nallowed; i++)
        proxy_target_free(&p->allowed[i]);
    tls_free(&p->tls);
    free(p);
}
