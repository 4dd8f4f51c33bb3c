/*
 * admin.c - the proxy's admin API: HTTP/1.1 + JSON on the shared HTTP layer
 * (common/httpd.h), with the routes below; adminlock.c decides who may
 * use it (token, TLS, Host, Unix socket). The contract (README "Proxy"):
 *
 *   GET  /status  -> 200 {"paused","pausing","switching","phase","server","clients",
 *                         "sessions":[...],"counters":{...}}
 *   GET  /metrics -> 200 Prometheus text format (metrics.c)
 *   GET  /health, /primary, /replica -> 200 or 503 {"role","phase","server"[,"error"]}
 *   POST /pause   {"timeout":S,"on_timeout":"resume"|"cancel"[,"lease":L]}
 *                 -> when every session is held: 200 {"paused":true,"held","wait_ms"[,"cancelled"]}
 *                 -> deadline, on_timeout=resume: 408 {"paused":false,"error","open":[ids]}
 *                 -> already paused: 200 with the current counts; pause in progress: 409
 *   POST /resume  -> 200 {"paused":false,"paused_ms"}; 409 when not paused
 *   POST /lease   {["promoting":true][,"lease":L]} -> 200 {"lease_s","promoting"}; 409
 *                 unless paused under a lease (proxy.c: what its expiry does)
 *   POST /switch  {"server":"<conninfo>"} -> 200 {"switched","failed","switch_ms"}; 409
 *                 unless paused; 403 for a server the configuration does not name
 *                 {"server":..., "check":true} -> 200 {"allowed":true} or 403: a dry run
 *                 {"server":..., "prepare":true} -> 200 {"opened":N}; 409 unless paused:
 *                 connections opened ahead, taken by a later /switch there (preconnect.c)
 *   bad body: 400 {"error"}; no token: 401; refused: 403; not JSON: 415;
 *   unknown path: 404; wrong method: 405.
 *
 * /pause and /switch answer later: the request is kept (httpd_req_keep)
 * and answered from the core's callback (pause_done_cb, switch_done_cb),
 * which maps the core's outcome to an HTTP status. A pause whose caller
 * hangs up before it completes is released: nobody would resume it.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/httpd.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "proxy/internal.h"

#define ADMIN_MAX_BODY 65536

static json_t *status_json(Proxy *p)
{
    json_t *sessions = json_array();
    for (Session *s = p->sessions; s; s = s->next) {
        json_array_append_new(
            sessions,
            json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:b,s:b}", "id", (json_int_t)s->id, "user",
                      s->user ? s->user : "", "database", s->database ? s->database : "", "state",
                      session_state_name(s->state), "tx", session_tx_name(s), "client",
                      s->client_addr, "tls", s->tls, "server_tls", s->server && s->server->tls));
    }
    const ProxyCounters *c = &p->counters;
    json_t *counters =
        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "connections", (json_int_t)c->connections,
                  "transactions", (json_int_t)c->transactions, "queries", (json_int_t)c->queries,
                  "bytes_in", (json_int_t)c->bytes_in, "bytes_out", (json_int_t)c->bytes_out,
                  "pauses", (json_int_t)c->pauses, "switches", (json_int_t)c->switches,
                  "server_errors", (json_int_t)c->server_errors);
    bool pausing = p->phase == PROXY_PAUSING || p->phase == PROXY_PAUSING_CANCEL;
    return json_pack("{s:b,s:b,s:b,s:s,s:s,s:I,s:o,s:o,s:f,s:b}", "paused",
                     p->phase == PROXY_PAUSED || p->phase == PROXY_SWITCHING, "pausing", pausing,
                     "switching", p->phase == PROXY_SWITCHING, "phase", proxy_phase_name(p->phase),
                     "server", p->target.redacted, "clients", (json_int_t)p->nclients, "sessions",
                     sessions, "counters", counters, "lease_s", p->lease_s, "fenced", p->fenced);
}

static json_t *pause_json(Proxy *p)
{
    json_t *o =
        json_pack("{s:b,s:i,s:f}", "paused", true, "held", proxy_count_state(p, SESSION_HELD),
                  "wait_ms", (p->pause_done_at - p->pause_started) * 1000.0);
    if (p->pause_cancel)
        json_object_set_new(o, "cancelled", json_integer(p->cancelled));
    return o;
}

/* The core's callback for a /pause: the HTTP status for each way a pause ends. */
static void pause_done_cb(Proxy *p, ProxyPauseEnd end, void *arg)
{
    (void)arg;
    HttpdReq *req = p->admin->pause_req;
    p->admin->pause_req = NULL;
    if (!req)
        return;
    if (end == PROXY_PAUSE_HELD) {
        httpd_reply_json(req, 200, pause_json(p));
        return;
    }
    static const char *const why[] = {
        [PROXY_PAUSE_DEADLINE] = "the pause deadline passed with transactions still open",
        [PROXY_PAUSE_RESUMED] = "the proxy was resumed before the pause completed",
        [PROXY_PAUSE_ABANDONED] = "the caller went away before the pause completed",
        [PROXY_PAUSE_SHUTDOWN] = "the proxy is shutting down",
    };
    json_t *open = json_array();
    for (Session *s = p->sessions; s; s = s->next)
        if (s->state == SESSION_ACTIVE || s->state == SESSION_CONNECTING)
            json_array_append_new(open, json_integer(s->id));
    httpd_reply_json(req, end == PROXY_PAUSE_DEADLINE ? 408 : 409,
                     json_pack("{s:b,s:s,s:o}", "paused", false, "error", why[end], "open", open));
}

/* The caller of a pending /pause hung up: nobody would resume that pause. */
static void pause_gone_cb(HttpdReq *req, void *arg)
{
    Proxy *p = arg;
    proxy_pause_abandoned(p); /* answers (to nobody) through pause_done_cb */
    if (p->admin->pause_req == req) {
        p->admin->pause_req = NULL;
        httpd_reply_error(req, 409, "the caller went away");
    }
}

static void switch_done_cb(Proxy *p, void *arg)
{
    (void)arg;
    HttpdReq *req = p->admin->switch_req;
    p->admin->switch_req = NULL;
    if (!req)
        return;
    httpd_reply_json(req, 200,
                     json_pack("{s:i,s:i,s:f}", "switched", p->switch_ok, "failed",
                               p->switch_failed, "switch_ms", proxy_ms_since(p->switch_started)));
}

/*
 * The JSON body of a change (POST): NULL after answering a cross-origin
 * request (403) or a body that is not a JSON object (httpd_req_json). The
 * caller decrefs it.
 */
static json_t *admin_body(HttpdReq *req)
{
    return admin_origin_ok(req) ? httpd_req_json(req) : NULL;
}

/* "lease" of a request body: absent (0) or seconds in (0, 3600]; false when malformed. */
static bool lease_value(json_t *body, double *lease)
{
    json_t *l = json_object_get(body, "lease");
    if (!l)
        return true;
    *lease = json_is_number(l) ? json_number_value(l) : -1;
    return *lease > 0 && *lease <= 3600;
}

/* POST /lease: renew the pause's lease (proxy.c says what its end does). */
static void handle_lease(HttpdReq *req, void *arg)
{
    Proxy *p = arg;
    json_t *body = admin_body(req);
    if (!body)
        return;
    double lease = 0;
    json_t *pr = json_object_get(body, "promoting");
    bool ok = lease_value(body, &lease) && (!pr || json_is_boolean(pr));
    bool promoting = json_is_true(pr);
    json_decref(body);
    if (!ok) {
        httpd_reply_error(req, 400, "%s",
                          "expected {\"promoting\": true|false, \"lease\": seconds in (0, 3600]}");
        return;
    }
    if (proxy_lease(p, lease, promoting) != PROXY_DONE) {
        httpd_reply_error(req, 409, "%s",
                          p->fenced ? "the proxy is fenced: its lease expired after a promotion"
                                    : "the proxy is not paused under a lease");
        return;
    }
    httpd_reply_json(
        req, 200, json_pack("{s:f,s:b}", "lease_s", p->lease_s, "promoting", p->lease_promoting));
}

static void handle_pause(HttpdReq *req, void *arg)
{
    Proxy *p = arg;
    json_t *body = admin_body(req);
    if (!body)
        return;
    double timeout = p->opt.pause_timeout, lease = 0;
    bool cancel = false;
    json_t *t = json_object_get(body, "timeout");
    json_t *on = json_object_get(body, "on_timeout");
    const char *bad = NULL;
    if (t && (!json_is_number(t) || json_number_value(t) <= 0 || json_number_value(t) > 86400))
        bad = "\"timeout\" must be a number of seconds between 0 and 86400";
    else if (t)
        timeout = json_number_value(t);
    if (!bad && !lease_value(body, &lease))
        bad = "\"lease\" must be a number of seconds between 0 and 3600";
    if (!bad && on) {
        const char *v = json_string_value(on);
        if (v && strcmp(v, "cancel") == 0)
            cancel = true;
        else if (!v || strcmp(v, "resume") != 0)
            bad = "\"on_timeout\" must be \"resume\" or \"cancel\"";
    }
    json_decref(body);
    if (bad) {
        httpd_reply_error(req, 400, "%s", bad);
        return;
    }
    Admin *a = p->admin;
    a->pause_req = req; /* the callback may answer before proxy_pause returns */
    ProxyResult rc = proxy_pause(p, timeout, cancel, pause_done_cb, NULL);
    if ((rc == PROXY_STARTED || rc == PROXY_DONE) && lease > 0 && !p->fenced)
        (void)proxy_lease(p, lease, false); /* sessions are held: cannot fail */
    if (rc != PROXY_STARTED)
        a->pause_req = NULL;
    if (rc == PROXY_DONE)
        httpd_reply_json(req, 200, pause_json(p));
    else if (rc == PROXY_ERR_BUSY)
        httpd_reply_error(req, 409, "%s",
                          p->phase == PROXY_SWITCHING ? "a switch is in progress"
                                                      : "a pause is already in progress");
    else if (a->pause_req == req)
        httpd_req_keep(req, pause_gone_cb, p);
}

static void handle_resume(HttpdReq *req, void *arg)
{
    Proxy *p = arg;
    json_t *body = admin_body(req);
    if (!body)
        return;
    json_decref(body);
    double ms = 0;
    ProxyResult rc = proxy_resume(p, &ms);
    if (rc != PROXY_DONE)
        httpd_reply_error(req, 409, "%s",
                          rc == PROXY_ERR_BUSY ? "a switch is in progress"
                                               : "the proxy is not paused");
    else
        httpd_reply_json(req, 200, json_pack("{s:b,s:f}", "paused", false, "paused_ms", ms));
}

static void handle_switch(HttpdReq *req, void *arg)
{
    Proxy *p = arg;
    json_t *body = admin_body(req);
    if (!body)
        return;
    const char *server = json_string_value(json_object_get(body, "server"));
    if (!server || !server[0]) {
        json_decref(body);
        httpd_reply_error(req, 400, "expected {\"server\": \"<conninfo>\"}");
        return;
    }
    err_clear();
    if (json_is_true(json_object_get(body, "check"))) {
        /* A dry run: would this server be accepted? Nothing changes, in any phase. */
        ProxyResult rc = proxy_switch_allowed(p, server);
        json_decref(body);
        if (rc == PROXY_DONE)
            httpd_reply_json(req, 200, json_pack("{s:b}", "allowed", true));
        else
            httpd_reply_error(req, rc == PROXY_ERR_SERVER ? 400 : 403, "%s", err_message());
        return;
    }
    if (json_is_true(json_object_get(body, "prepare"))) {
        int opened = 0;
        ProxyResult rc = proxy_preconnect(p, server, &opened);
        json_decref(body);
        if (rc == PROXY_DONE)
            httpd_reply_json(req, 200, json_pack("{s:i}", "opened", opened));
        else if (rc == PROXY_ERR_BUSY || rc == PROXY_ERR_NOT_PAUSED)
            httpd_reply_error(req, 409, "the proxy is not paused (or is pausing or switching)");
        else
            httpd_reply_error(req, rc == PROXY_ERR_SERVER ? 400 : 403, "%s", err_message());
        return;
    }
    Admin *a = p->admin;
    a->switch_req = req; /* the callback may answer before proxy_switch returns */
    ProxyResult rc = proxy_switch(p, server, switch_done_cb, NULL);
    json_decref(body);
    if (rc != PROXY_STARTED)
        a->switch_req = NULL;
    if (rc == PROXY_ERR_BUSY)
        httpd_reply_error(req, 409, "%s",
                          p->phase == PROXY_SWITCHING ? "a switch is already in progress"
                                                      : "a pause is in progress: wait for it");
    else if (rc == PROXY_ERR_NOT_PAUSED)
        httpd_reply_error(req, 409, "the proxy is not paused: pause it first");
    else if (rc == PROXY_ERR_SERVER)
        httpd_reply_error(req, 400, "%s", err_message());
    else if (rc == PROXY_ERR_NOT_ALLOWED)
        httpd_reply_error(req, 403, "%s", err_message());
    else if (a->switch_req == req)
        httpd_req_keep(req, NULL, NULL); /* answered (maybe to nobody) when the switch ends */
}

static void handle_status(HttpdReq *req, void *arg)
{
    if (admin_origin_ok(req))
        httpd_reply_json(req, 200, status_json(arg));
}

static void handle_metrics(HttpdReq *req, void *arg)
{
    if (!admin_origin_ok(req))
        return;
    Buf text = {0};
    proxy_metrics_render(arg, &text);
    httpd_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", text.data, text.len);
    buf_free(&text);
}

/*
 * Patroni-style answers for load balancers: 200 or 503 with a small JSON
 * body. /health: the proxy runs and its server answered the last probe;
 * /primary, /replica: ... and that server is a primary (in_hot_standby
 * off), a replica (on). A pause does not change them: held clients are
 * served once it ends.
 */
static void reply_role(Proxy *p, HttpdReq *req, bool ok)
{
    static const char *const roles[] = {"unknown", "primary", "replica"};
    json_t *o = json_pack("{s:s,s:s,s:s}", "role", roles[p->role], "phase",
                          proxy_phase_name(p->phase), "server", p->target.redacted);
    if (p->role_error[0])
        json_object_set_new(o, "error", json_string(p->role_error));
    httpd_reply_json(req, ok ? 200 : 503, o);
}

static void handle_health(HttpdReq *req, void *arg)
{
    Proxy *p = arg;
    reply_role(p, req, p->role != PROXY_ROLE_UNKNOWN);
}

static void handle_primary(HttpdReq *req, void *arg)
{
    Proxy *p = arg;
    reply_role(p, req, p->role == PROXY_ROLE_PRIMARY);
}

static void handle_replica(HttpdReq *req, void *arg)
{
    Proxy *p = arg;
    reply_role(p, req, p->role == PROXY_ROLE_REPLICA);
}

bool admin_start(Proxy *p)
{
    p->admin = xcalloc(1, sizeof(Admin));
    if (!admin_lock_init(p))
        return false;
    Admin *a = p->admin;
    /* Reads need the token unless admin-read-auth = none; changes always (adminlock.c). */
    bool change = true, read = !p->opt.admin_reads_open;
    const HttpdRoute routes[] = {
        {HTTPD_GET, "/status", handle_status, p, read, false},
        {HTTPD_GET, "/metrics", handle_metrics, p, read, false},
        {HTTPD_GET, "/health", handle_health, p, false, false},
        {HTTPD_GET, "/primary", handle_primary, p, false, false},
        {HTTPD_GET, "/replica", handle_replica, p, false, false},
        {HTTPD_POST, "/pause", handle_pause, p, change, true},
        {HTTPD_POST, "/resume", handle_resume, p, change, true},
        {HTTPD_POST, "/lease", handle_lease, p, change, true},
        {HTTPD_POST, "/switch", handle_switch, p, change, true},
    };
    HttpdOptions ho = {
        .listen = p->opt.admin,
        .allow_remote = a->tls != NULL, /* checked by admin_lock_init */
        .max_body = ADMIN_MAX_BODY,
        .timeout_s = 86400 + 120, /* a /pause may wait up to its deadline, a day at most */
        .token = a->token,
        .hosts = a->hosts[0] ? a->hosts : NULL,
        .what = "proxy admin API",
        .setting = "[proxy] admin",
        .tls = a->tls,
        .unix_socket = p->opt.admin_socket,
    };
    if (!httpd_start(p->base, &ho, routes, sizeof(routes) / sizeof(routes[0]), &a->httpd))
        return false;
    return true;
}

void admin_free(Proxy *p)
{
    Admin *a = p->admin;
    if (!a)
        return;
    httpd_free(a->httpd);
    admin_lock_free(p);
    free(a);
    p->admin = NULL;
}
