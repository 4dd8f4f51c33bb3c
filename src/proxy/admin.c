/*
 * admin.c - the proxy's admin API: HTTP/1.1 + JSON on a loopback address
 * (libevent's evhttp, jansson). The contract (README "Proxy"):
 *
 *   GET  /status  -> 200 {"paused","pausing","server","clients","sessions":[...],"counters":{...}}
 *   POST /pause   {"timeout":S,"on_timeout":"resume"|"cancel"}
 *                 -> when every session is held: 200 {"paused":true,"held","wait_ms"[,"cancelled"]}
 *                 -> deadline, on_timeout=resume: 408 {"paused":false,"error","open":[ids]}
 *                 -> already paused: 200 with the current counts; pause in progress: 409
 *   POST /resume  -> 200 {"paused":false,"paused_ms"}; 409 when not paused
 *   POST /switch  {"server":"<conninfo>"} -> 200 {"switched","failed","switch_ms"}; 409
 *                 unless paused
 *   bad body: 400 {"error"}; unknown path: 404; wrong method: 405.
 *
 * /pause and /switch answer later: the request is kept here and answered
 * from the core's callback (pause_done_cb, switch_done_cb), which maps the
 * core's outcome to an HTTP status; a caller that hangs up in between is
 * noticed through the connection's close callback.
 */
#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "proxy/internal.h"

#define ADMIN_MAX_BODY 65536

static const char *reason(int code)
{
    switch (code) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    default:
        return "Error";
    }
}

/* Send obj (stolen) as the JSON body of the reply. */
static void send_json(struct evhttp_request *req, int code, json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "%s\n", text ? text : "{}");
    free(text);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evhttp_send_reply(req, code, reason(code), b);
    evbuffer_free(b);
}

static void send_error(struct evhttp_request *req, int code, const char *msg)
{
    send_json(req, code, json_pack("{s:s}", "error", msg));
}

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
    return json_pack("{s:b,s:b,s:b,s:s,s:s,s:I,s:o,s:o}", "paused",
                     p->phase == PROXY_PAUSED || p->phase == PROXY_SWITCHING, "pausing", pausing,
                     "switching", p->phase == PROXY_SWITCHING, "phase", proxy_phase_name(p->phase),
                     "server", p->target.redacted, "clients", (json_int_t)p->nclients, "sessions",
                     sessions, "counters", counters);
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

static void unwatch(Admin *a)
{
    if (a->pause_watch) {
        event_free(a->pause_watch);
        a->pause_watch = NULL;
    }
}

/* The core's callback for a /pause: the HTTP status for each way a pause ends. */
static void pause_done_cb(Proxy *p, ProxyPauseEnd end, void *arg)
{
    (void)arg;
    Admin *a = p->admin;
    struct evhttp_request *req = a->pause_req;
    a->pause_req = NULL;
    unwatch(a);
    if (!req)
        return;
    evhttp_connection_set_closecb(evhttp_request_get_connection(req), NULL, NULL);
    if (end == PROXY_PAUSE_HELD) {
        send_json(req, 200, pause_json(p));
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
    send_json(req, end == PROXY_PAUSE_DEADLINE ? 408 : 409,
              json_pack("{s:b,s:s,s:o}", "paused", false, "error", why[end], "open", open));
}

static void switch_done_cb(Proxy *p, void *arg)
{
    (void)arg;
    Admin *a = p->admin;
    struct evhttp_request *req = a->switch_req;
    a->switch_req = NULL;
    if (!req)
        return;
    evhttp_connection_set_closecb(evhttp_request_get_connection(req), NULL, NULL);
    send_json(req, 200,
              json_pack("{s:i,s:i,s:f}", "switched", p->switch_ok, "failed", p->switch_failed,
                        "switch_ms", proxy_ms_since(p->switch_started)));
}

/*
 * evhttp does not read a connection while its request waits for an answer,
 * so it would not see the caller of a pending /pause hang up: watch the
 * socket. A pause nobody waits for any more is released (nobody would
 * resume it); the answer is still sent, which lets evhttp free the request.
 */
static void pause_watch_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    Proxy *p = arg;
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    unwatch(p->admin);
    if (n > 0) /* the caller sent more (pipelining): stop watching */
        return;
    proxy_pause_abandoned(p); /* replies through pause_done_cb() */
}

static void watch_pause_caller(Proxy *p, struct evhttp_request *req)
{
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evhttp_request_get_connection(req));
    if (!bev)
        return;
    p->admin->pause_watch =
        event_new(p->base, bufferevent_getfd(bev), EV_READ | EV_PERSIST, pause_watch_cb, p);
    event_add(p->admin->pause_watch, NULL);
}

/* The caller of a pending /pause or /switch hung up. */
static void conn_closed_cb(struct evhttp_connection *conn, void *arg)
{
    Proxy *p = arg;
    Admin *a = p->admin;
    if (a->pause_req && evhttp_request_get_connection(a->pause_req) == conn) {
        /* Nobody would resume a pause whose caller gave up waiting for it. */
        a->pause_req = NULL;
        proxy_pause_abandoned(p);
    }
    if (a->switch_req && evhttp_request_get_connection(a->switch_req) == conn)
        a->switch_req = NULL;
}

/* The request body as a JSON object ({} when empty); NULL after replying 400. */
static json_t *read_body(struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    if (len == 0)
        return json_object();
    json_error_t jerr;
    json_t *o = json_loadb((const char *)evbuffer_pullup(in, -1), len, 0, &jerr);
    if (!o || !json_is_object(o)) {
        char msg[300];
        snprintf(msg, sizeof(msg), "invalid JSON body: %s", o ? "expected an object" : jerr.text);
        json_decref(o);
        send_error(req, 400, msg);
        return NULL;
    }
    return o;
}

static void handle_pause(Proxy *p, struct evhttp_request *req)
{
    json_t *body = read_body(req);
    if (!body)
        return;
    double timeout = p->opt.pause_timeout;
    bool cancel = false;
    json_t *t = json_object_get(body, "timeout");
    json_t *on = json_object_get(body, "on_timeout");
    const char *bad = NULL;
    if (t && (!json_is_number(t) || json_number_value(t) <= 0 || json_number_value(t) > 86400))
        bad = "\"timeout\" must be a number of seconds between 0 and 86400";
    else if (t)
        timeout = json_number_value(t);
    if (!bad && on) {
        const char *v = json_string_value(on);
        if (v && strcmp(v, "cancel") == 0)
            cancel = true;
        else if (!v || strcmp(v, "resume") != 0)
            bad = "\"on_timeout\" must be \"resume\" or \"cancel\"";
    }
    json_decref(body);
    if (bad) {
        send_error(req, 400, bad);
        return;
    }
    Admin *a = p->admin;
    a->pause_req = req; /* the callback may answer before proxy_pause returns */
    ProxyResult rc = proxy_pause(p, timeout, cancel, pause_done_cb, NULL);
    if (rc != PROXY_STARTED)
        a->pause_req = NULL;
    if (rc == PROXY_DONE) {
        send_json(req, 200, pause_json(p));
    } else if (rc == PROXY_ERR_BUSY) {
        send_error(req, 409,
                   p->phase == PROXY_SWITCHING ? "a switch is in progress"
                                               : "a pause is already in progress");
    } else if (a->pause_req == req) {
        evhttp_connection_set_closecb(evhttp_request_get_connection(req), conn_closed_cb, p);
        watch_pause_caller(p, req);
    }
}

static void handle_resume(Proxy *p, struct evhttp_request *req)
{
    json_t *body = read_body(req);
    if (!body)
        return;
    json_decref(body);
    double ms = 0;
    ProxyResult rc = proxy_resume(p, &ms);
    if (rc != PROXY_DONE) {
        send_error(req, 409,
                   rc == PROXY_ERR_BUSY ? "a switch is in progress" : "the proxy is not paused");
        return;
    }
    send_json(req, 200, json_pack("{s:b,s:f}", "paused", false, "paused_ms", ms));
}

static void handle_switch(Proxy *p, struct evhttp_request *req)
{
    json_t *body = read_body(req);
    if (!body)
        return;
    const char *server = json_string_value(json_object_get(body, "server"));
    if (!server || !server[0]) {
        json_decref(body);
        send_error(req, 400, "expected {\"server\": \"<conninfo>\"}");
        return;
    }
    err_clear();
    Admin *a = p->admin;
    a->switch_req = req; /* the callback may answer before proxy_switch returns */
    ProxyResult rc = proxy_switch(p, server, switch_done_cb, NULL);
    json_decref(body);
    if (rc != PROXY_STARTED)
        a->switch_req = NULL;
    if (rc == PROXY_ERR_BUSY) {
        send_error(req, 409,
                   p->phase == PROXY_SWITCHING ? "a switch is already in progress"
                                               : "a pause is in progress: wait for it");
    } else if (rc == PROXY_ERR_NOT_PAUSED) {
        send_error(req, 409, "the proxy is not paused: pause it first");
    } else if (rc == PROXY_ERR_SERVER) {
        send_error(req, 400, err_message());
    } else if (rc == PROXY_ERR_NOT_ALLOWED) {
        send_error(req, 403, err_message());
    } else if (a->switch_req == req) {
        evhttp_connection_set_closecb(evhttp_request_get_connection(req), conn_closed_cb, p);
    }
}

static void handle_status(Proxy *p, struct evhttp_request *req)
{
    send_json(req, 200, status_json(p));
}

static void handle_metrics(Proxy *p, struct evhttp_request *req)
{
    Buf text = {0};
    proxy_metrics_render(p, &text);
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, text.data, text.len);
    buf_free(&text);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4; charset=utf-8");
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

/*
 * Patroni-style answers for load balancers: 200 or 503 with a small JSON
 * body. /health: the proxy runs and its server answered the last probe;
 * /primary, /replica: ... and that server is a primary (in_hot_standby
 * off), a replica (on). A pause does not change them: held clients are
 * served once it ends.
 */
static void handle_role(Proxy *p, struct evhttp_request *req, bool ok)
{
    static const char *const roles[] = {"unknown", "primary", "replica"};
    json_t *o = json_pack("{s:s,s:s,s:s}", "role", roles[p->role], "phase",
                          proxy_phase_name(p->phase), "server", p->target.redacted);
    if (p->role_error[0])
        json_object_set_new(o, "error", json_string(p->role_error));
    send_json(req, ok ? 200 : 503, o);
}

static void handle_health(Proxy *p, struct evhttp_request *req)
{
    handle_role(p, req, p->role != PROXY_ROLE_UNKNOWN);
}

static void handle_primary(Proxy *p, struct evhttp_request *req)
{
    handle_role(p, req, p->role == PROXY_ROLE_PRIMARY);
}

static void handle_replica(Proxy *p, struct evhttp_request *req)
{
    handle_role(p, req, p->role == PROXY_ROLE_REPLICA);
}

typedef struct {
    const char *path;
    enum evhttp_cmd_type method;
    RouteAccess access;
    void (*fn)(Proxy *p, struct evhttp_request *req);
} AdminRoute;

static const AdminRoute routes[] = {
    {"/status", EVHTTP_REQ_GET, ROUTE_READ, handle_status},
    {"/metrics", EVHTTP_REQ_GET, ROUTE_READ, handle_metrics},
    {"/health", EVHTTP_REQ_GET, ROUTE_OPEN, handle_health},
    {"/primary", EVHTTP_REQ_GET, ROUTE_OPEN, handle_primary},
    {"/replica", EVHTTP_REQ_GET, ROUTE_OPEN, handle_replica},
    {"/pause", EVHTTP_REQ_POST, ROUTE_CHANGE, handle_pause},
    {"/resume", EVHTTP_REQ_POST, ROUTE_CHANGE, handle_resume},
    {"/switch", EVHTTP_REQ_POST, ROUTE_CHANGE, handle_switch},
};

static void admin_cb(struct evhttp_request *req, void *arg)
{
    Proxy *p = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    const AdminRoute *r = NULL;
    for (size_t i = 0; path && i < sizeof(routes) / sizeof(routes[0]); i++)
        if (strcmp(path, routes[i].path) == 0)
            r = &routes[i];
    if (!r) {
        send_error(req, 404,
                   "unknown path: the API has GET /status, /metrics, /health, /primary, "
                   "/replica, POST /pause, /resume, /switch");
        return;
    }
    if (cmd != r->method) {
        bool get = r->method == EVHTTP_REQ_GET;
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", get ? "GET" : "POST");
        send_error(req, 405, get ? "use GET" : "use POST");
        return;
    }
    if (!admin_allowed(p, req, r->access))
        return; /* answered */
    r->fn(p, req);
}

bool admin_start(Proxy *p)
{
    p->admin = xcalloc(1, sizeof(Admin));
    if (!admin_lock_init(p))
        return false;
    struct evhttp *http = p->admin->http = evhttp_new(p->base);
    evhttp_set_max_body_size(http, ADMIN_MAX_BODY);
    /* A /pause may wait up to its deadline (at most a day) before it answers. */
    evhttp_set_timeout(http, 86400 + 120);
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                         EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD | EVHTTP_REQ_PATCH |
                                         EVHTTP_REQ_OPTIONS);
    evhttp_set_gencb(http, admin_cb, p);
    if (p->opt.admin_socket) {
        struct evhttp *hu = p->admin->http_unix = evhttp_new(p->base);
        evhttp_set_max_body_size(hu, ADMIN_MAX_BODY);
        evhttp_set_timeout(hu, 86400 + 120);
        evhttp_set_gencb(hu, admin_cb, p);
    }
    return admin_listen(p);
}

void admin_free(Proxy *p)
{
    Admin *a = p->admin;
    if (!a)
        return;
    unwatch(a);
    if (a->http)
        evhttp_free(a->http);
    if (a->http_unix)
        evhttp_free(a->http_unix); /* frees its listener too */
    admin_lock_free(p);
    free(a);
    p->admin = NULL;
}
