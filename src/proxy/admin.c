/*
 * admin.c - the proxy's admin API: HTTP/1.1 + JSON on a loopback address
 * (libevent's evhttp, jansson). The contract (README "Proxy"):
 *
 *   GET  /status  -> 200 {"paused","pausing","server","clients","sessions":[...],"counters":{...}}
 *   POST /pause   {"timeout":S,"on_timeout":"resume"|"cancel"[,"lease":L]}
 *                 -> when every session is held: 200 {"paused":true,"held","wait_ms"[,"cancelled"]}
 *                 -> deadline, on_timeout=resume: 408 {"paused":false,"error","open":[ids]}
 *                 -> already paused: 200 with the current counts; pause in progress: 409
 *   POST /resume  -> 200 {"paused":false,"paused_ms"}; 409 when not paused
 *   POST /switch  {"server":"<conninfo>"} -> 200 {"switched","failed","switch_ms"}; 409
 *                 unless paused
 *   POST /lease   {["promoting":true][,"lease":L]} -> 200 {"lease_s","promoting"}; 409
 *                 unless paused under a lease (proxy.c: what its expiry does)
 *   bad body: 400 {"error"}; unknown path: 404; wrong method: 405.
 *
 * /pause and /switch answer later: the request is kept in the Proxy and
 * answered by admin_pause_reply() / admin_switch_reply(); a caller that
 * hangs up in between is noticed through the connection's close callback.
 */
#include <errno.h>
#include <event2/bufferevent.h>
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
        json_array_append_new(sessions, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s}", "id",
                                                  (json_int_t)s->id, "user", s->user ? s->user : "",
                                                  "database", s->database ? s->database : "",
                                                  "state", session_state_name(s->state), "tx",
                                                  session_tx_name(s), "client", s->client_addr));
    }
    const ProxyCounters *c = &p->counters;
    json_t *counters =
        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "connections", (json_int_t)c->connections,
                  "transactions", (json_int_t)c->transactions, "queries", (json_int_t)c->queries,
                  "bytes_in", (json_int_t)c->bytes_in, "bytes_out", (json_int_t)c->bytes_out,
                  "pauses", (json_int_t)c->pauses, "switches", (json_int_t)c->switches,
                  "server_errors", (json_int_t)c->server_errors);
    return json_pack("{s:b,s:b,s:b,s:s,s:I,s:o,s:o,s:f,s:b}", "paused", p->pause_done, "pausing",
                     p->paused && !p->pause_done, "switching", p->switching, "server",
                     p->target.redacted, "clients", (json_int_t)p->nclients, "sessions", sessions,
                     "counters", counters, "lease_s", p->lease_s, "fenced", p->fenced);
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

static void unwatch(Proxy *p)
{
    if (p->pause_watch) {
        event_free(p->pause_watch);
        p->pause_watch = NULL;
    }
}

void admin_pause_reply(Proxy *p, int code, const char *error)
{
    struct evhttp_request *req = p->pause_req;
    p->pause_req = NULL;
    unwatch(p);
    if (!req)
        return;
    evhttp_connection_set_closecb(evhttp_request_get_connection(req), NULL, NULL);
    if (code == 200) {
        send_json(req, 200, pause_json(p));
        return;
    }
    json_t *open = json_array();
    for (Session *s = p->sessions; s; s = s->next)
        if (s->state == SESSION_ACTIVE || s->state == SESSION_CONNECTING)
            json_array_append_new(open, json_integer(s->id));
    send_json(req, code, json_pack("{s:b,s:s,s:o}", "paused", false, "error", error, "open", open));
}

void admin_switch_reply(Proxy *p)
{
    struct evhttp_request *req = p->switch_req;
    p->switch_req = NULL;
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
    if (n > 0) { /* the caller sent more (pipelining): stop watching */
        unwatch(p);
        return;
    }
    unwatch(p);
    proxy_pause_abandoned(p); /* replies through admin_pause_reply() */
}

static void watch_pause_caller(Proxy *p, struct evhttp_request *req)
{
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evhttp_request_get_connection(req));
    if (!bev)
        return;
    p->pause_watch =
        event_new(p->base, bufferevent_getfd(bev), EV_READ | EV_PERSIST, pause_watch_cb, p);
    event_add(p->pause_watch, NULL);
}

/* The caller of a pending /pause or /switch hung up. */
static void conn_closed_cb(struct evhttp_connection *conn, void *arg)
{
    Proxy *p = arg;
    if (p->pause_req && evhttp_request_get_connection(p->pause_req) == conn) {
        /* Nobody would resume a pause whose caller gave up waiting for it. */
        p->pause_req = NULL;
        proxy_pause_abandoned(p);
    }
    if (p->switch_req && evhttp_request_get_connection(p->switch_req) == conn)
        p->switch_req = NULL;
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

/* "lease" of a request body: absent (0) or seconds in (0, 3600]; false when malformed. */
static bool lease_value(json_t *body, double *lease)
{
    json_t *l = json_object_get(body, "lease");
    if (!l)
        return true;
    *lease = json_is_number(l) ? json_number_value(l) : -1;
    return *lease > 0 && *lease <= 3600;
}

static void handle_lease(Proxy *p, struct evhttp_request *req)
{
    json_t *body = read_body(req);
    if (!body)
        return;
    double lease = 0;
    json_t *pr = json_object_get(body, "promoting");
    bool ok = lease_value(body, &lease) && (!pr || json_is_boolean(pr));
    bool promoting = json_is_true(pr);
    json_decref(body);
    if (!ok) {
        send_error(req, 400,
                   "expected {\"promoting\": true|false, \"lease\": seconds in (0, 3600]}");
        return;
    }
    if (proxy_lease(p, lease, promoting) != 200) {
        send_error(req, 409,
                   p->fenced ? "the proxy is fenced: its lease expired after a promotion"
                             : "the proxy is not paused under a lease");
        return;
    }
    send_json(req, 200,
              json_pack("{s:f,s:b}", "lease_s", p->lease_s, "promoting", p->lease_promoting));
}

static void handle_pause(Proxy *p, struct evhttp_request *req)
{
    json_t *body = read_body(req);
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
        send_error(req, 400, bad);
        return;
    }
    int rc = proxy_pause(p, timeout, cancel, req);
    if ((rc == 0 || rc == 200) && lease > 0 && !p->fenced)
        (void)proxy_lease(p, lease, false); /* paused: cannot fail */
    if (rc == 200) {
        send_json(req, 200, pause_json(p));
    } else if (rc == 409) {
        send_error(req, 409,
                   p->switching ? "a switch is in progress" : "a pause is already in progress");
    } else if (p->pause_req == req) {
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
    if (proxy_resume(p, &ms) != 200) {
        send_error(req, 409, p->switching ? "a switch is in progress" : "the proxy is not paused");
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
    int rc = proxy_switch(p, server, req);
    json_decref(body);
    if (rc == 409) {
        send_error(req, 409,
                   p->switching ? "a switch is already in progress"
                                : "the proxy is not paused: pause it first");
    } else if (rc == 400) {
        send_error(req, 400, err_message());
    } else if (p->switch_req == req) {
        evhttp_connection_set_closecb(evhttp_request_get_connection(req), conn_closed_cb, p);
    }
}

static void admin_cb(struct evhttp_request *req, void *arg)
{
    Proxy *p = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (!path)
        path = "";
    bool get = strcmp(path, "/status") == 0;
    bool post = strcmp(path, "/pause") == 0 || strcmp(path, "/resume") == 0 ||
                strcmp(path, "/switch") == 0 || strcmp(path, "/lease") == 0;
    if (!get && !post) {
        send_error(req, 404,
                   "unknown path: the API has GET /status, POST /pause, /resume, "
                   "/switch, /lease");
        return;
    }
    if ((get && cmd != EVHTTP_REQ_GET) || (post && cmd != EVHTTP_REQ_POST)) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", get ? "GET" : "POST");
        send_error(req, 405, get ? "use GET" : "use POST");
        return;
    }
    if (get)
        send_json(req, 200, status_json(p));
    else if (strcmp(path, "/pause") == 0)
        handle_pause(p, req);
    else if (strcmp(path, "/resume") == 0)
        handle_resume(p, req);
    else if (strcmp(path, "/lease") == 0)
        handle_lease(p, req);
    else
        handle_switch(p, req);
}

bool admin_start(Proxy *p)
{
    char host[256];
    const char *colon = strrchr(p->opt.admin, ':');
    snprintf(host, sizeof(host), "%.*s", (int)(colon - p->opt.admin), p->opt.admin);
    int port = atoi(colon + 1);
    p->http = evhttp_new(p->base);
    evhttp_set_max_body_size(p->http, ADMIN_MAX_BODY);
    /* A /pause may wait up to its deadline (at most a day) before it answers. */
    evhttp_set_timeout(p->http, 86400 + 120);
    evhttp_set_allowed_methods(p->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD | EVHTTP_REQ_PATCH |
                                            EVHTTP_REQ_OPTIONS);
    evhttp_set_gencb(p->http, admin_cb, p);
    if (!evhttp_bind_socket_with_handle(p->http, host, (ev_uint16_t)port)) {
        err_errno("could not listen on admin address \"%s\"", p->opt.admin);
        err_hint("is another process using that port? set [proxy] admin");
        return false;
    }
    return true;
}
