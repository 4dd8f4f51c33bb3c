/*
 * server.c - the status page server and its write API (server.h).
 */
#include "status/server.h"

#include <event2/event.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/httpd.h"
#include "common/log.h"
#include "status/api.h"
#include "status/lifecycle.h"
#include "status/setup.h"
#include "status/site.h"
#include "status/store.h"
#include "status/tz.h"
#include "status/webhook.h"

typedef struct {
    StatusStore *st;
    struct event_base *base;
} Server;

static Server server;

static void serve_doc(HttpdReq *req, void *arg)
{
    const SiteDoc *d = arg;
    StatusSnapshot snap;
    if (!status_store_snapshot(server.st, 0, &snap)) {
        log_failure();
        httpd_reply_error(req, 500, "the status store could not be read");
        return;
    }
    Buf b = {0};
    d->render(&snap, &b, d->arg);
    status_snapshot_free(&snap);
    httpd_add_header(req, "Cache-Control", "no-cache");
    if (strncmp(d->content_type, "text/html", 9) == 0) {
        /* The page has no script and loads nothing: say so, so that a browser refuses any. */
        httpd_add_header(req, "Content-Security-Policy",
                         "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                         "frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
        httpd_add_header(req, "Referrer-Policy", "no-referrer");
    }
    httpd_reply(req, 200, d->content_type, b.data, b.len);
    buf_free(&b);
}

/* Answer a refused or failed write with the status that says why. */
static void reply_write_error(HttpdReq *req, StatusWrite rc)
{
    int code = rc == STATUS_WRITE_NOT_FOUND                                   ? 404
               : rc == STATUS_WRITE_REFUSED && err_code() == DD_EXIT_CONFLICT ? 409
               : rc == STATUS_WRITE_REFUSED                                   ? 400
                                                                              : 500;
    if (code == 500)
        log_failure();
    httpd_reply_json(req, code,
                     json_pack("{s:s,s:s}", "error", err_message(), "hint", err_hint_text()));
}

static void reply_event(HttpdReq *req, int code, int64_t id)
{
    StatusSnapshot snap;
    if (!status_store_snapshot(server.st, 0, &snap)) {
        reply_write_error(req, STATUS_WRITE_FAILED);
        return;
    }
    const StatusEvent *e = status_event_find(&snap, id);
    httpd_reply_json(req, code, e ? api_event_json(&snap, e) : json_object());
    status_snapshot_free(&snap);
}

/* A time field: absent (0, true), or tz_parse-able; false after answering 400. */
static bool time_field(HttpdReq *req, json_t *body, const char *key, int64_t *out)
{
    *out = 0;
    json_t *v = json_object_get(body, key);
    if (!v)
        return true;
    if (json_is_string(v) && tz_parse(json_string_value(v), status_now(), out))
        return true;
    httpd_reply_error(req, 400,
                      "\"%s\" must be a time such as \"2026-11-30T22:00:00Z\", "
                      "\"now\" or \"+30m\"",
                      key);
    return false;
}

/* Optional string field: NULL when absent; false after answering 400 when not a string. */
static bool string_field(HttpdReq *req, json_t *body, const char *key, const char **out)
{
    json_t *v = json_object_get(body, key);
    *out = v ? json_string_value(v) : NULL;
    if (!v || json_is_string(v))
        return true;
    httpd_reply_error(req, 400, "\"%s\" must be a string", key);
    return false;
}

static bool components_field(HttpdReq *req, json_t *body, StrList *out)
{
    json_t *a = json_object_get(body, "components");
    if (!a)
        return true;
    size_t i;
    json_t *v;
    if (!json_is_array(a))
        goto bad;
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v))
            goto bad;
        strlist_push(out, json_string_value(v));
    }
    return true;
bad:
    httpd_reply_error(req, 400, "\"components\" must be an array of component names");
    return false;
}

static void handle_create(HttpdReq *req, void *arg)
{
    StatusKind kind = (StatusKind)(intptr_t)arg;
    json_t *body = httpd_req_json(req);
    if (!body)
        return;
    StatusNew n = {.kind = kind};
    StrList comps = {0};
    bool ok = string_field(req, body, "title", &n.title) &&
              string_field(req, body, "body", &n.body) &&
              string_field(req, body, "impact", &n.impact) &&
              string_field(req, body, "component_status", &n.component_status) &&
              time_field(req, body, "scheduled_for", &n.scheduled_for) &&
              time_field(req, body, "scheduled_until", &n.scheduled_until) &&
              components_field(req, body, &comps);
    if (ok) {
        n.predicted_s = json_number_value(json_object_get(body, "predicted_s"));
        n.low_s = json_number_value(json_object_get(body, "low_s"));
        n.high_s = json_number_value(json_object_get(body, "high_s"));
        n.components = (const char *const *)comps.items;
        n.ncomponents = comps.len;
        int64_t id = 0;
        StatusWrite rc = status_store_create(server.st, &n, &id);
        if (rc == STATUS_WRITE_OK)
            reply_event(req, 201, id);
        else
            reply_write_error(req, rc);
    }
    strlist_free(&comps);
    json_decref(body);
}

/* "/api/admin/events/ID/ACTION": the id and the action; false when malformed. */
static bool parse_event_path(const char *tail, int64_t *id, const char **action)
{
    char *end = NULL;
    long long v = strtoll(tail, &end, 10);
    if (end == tail || v <= 0 || *end != '/')
        return false;
    *id = v;
    *action = end + 1;
    return true;
}

static void post_to_event(HttpdReq *req, int64_t id, json_t *body, bool complete)
{
    StatusPost p = {0};
    if (!string_field(req, body, "status", &p.status) ||
        !string_field(req, body, "body", &p.body) || !time_field(req, body, "eta", &p.eta))
        return;
    if (complete) {
        StatusEvent e;
        bool found = false;
        if (!status_store_event(server.st, id, &e, &found)) {
            reply_write_error(req, STATUS_WRITE_FAILED);
            return;
        }
        p.status = found && e.kind == STATUS_INCIDENT ? "resolved" : "completed";
        if (!p.body)
            p.body = found && e.kind == STATUS_INCIDENT
                         ? "This incident has been resolved."
                         : "The maintenance is complete and everything works normally.";
        status_event_free(&e);
    }
    StatusWrite rc = status_store_post(server.st, id, &p);
    if (rc == STATUS_WRITE_OK)
        reply_event(req, 200, id);
    else
        reply_write_error(req, rc);
}

static void handle_event(HttpdReq *req, void *arg)
{
    (void)arg;
    int64_t id;
    const char *action;
    if (!parse_event_path(httpd_req_tail(req), &id, &action) ||
        (strcmp(action, "updates") != 0 && strcmp(action, "complete") != 0)) {
        httpd_reply_error(req, 404, "expected /api/admin/events/ID/updates or .../complete");
        return;
    }
    json_t *body = httpd_req_json(req);
    if (!body)
        return;
    post_to_event(req, id, body, strcmp(action, "complete") == 0);
    json_decref(body);
}

static void handle_webhooks(HttpdReq *req, void *arg)
{
    (void)arg;
    StatusOutboxItem *items;
    size_t n;
    if (!status_store_outbox_recent(server.st, 100, &items, &n)) {
        reply_write_error(req, STATUS_WRITE_FAILED);
        return;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        const StatusOutboxItem *it = &items[i];
        const char *state = it->delivered_at ? "delivered" : it->failed_at ? "failed" : "pending";
        json_array_append_new(a, json_pack("{s:I,s:s,s:s,s:s,s:i,s:I,s:s?}", "id",
                                           (json_int_t)it->id, "url", it->url, "event", it->event,
                                           "state", state, "attempts", it->attempts, "next_at",
                                           (json_int_t)it->next_at, "last_error", it->last_error));
    }
    status_outbox_free(items, n);
    httpd_reply_json(req, 200, json_pack("{s:o}", "deliveries", a));
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    (void)arg;
    log_info("received signal %d: stopping", (int)sig);
    event_base_loopbreak(server.base);
}

/* The route table: the public documents, then the write API. */
static size_t build_routes(HttpdRoute *r, size_t cap)
{
    size_t n = 0;
    r[n++] = (HttpdRoute){HTTPD_GET, "/", serve_doc, (void *)&site_docs[0], false, false};
    static char paths[32][96];
    for (size_t i = 0; i < site_ndocs && n < cap - 4; i++) {
        const SiteDoc *d = &site_docs[i];
        snprintf(paths[i], sizeof(paths[i]), "/%s",
                 d->path ? d->path : api_doc_path((ApiDoc)d->arg));
        r[n++] = (HttpdRoute){HTTPD_GET, paths[i], serve_doc, (void *)d, false, false};
    }
    r[n++] = (HttpdRoute){HTTPD_POST,    "/api/admin/maintenances",
                          handle_create, (void *)(intptr_t)STATUS_MAINTENANCE,
                          true,          true};
    r[n++] = (HttpdRoute){HTTPD_POST,    "/api/admin/incidents",
                          handle_create, (void *)(intptr_t)STATUS_INCIDENT,
                          true,          true};
    r[n++] = (HttpdRoute){HTTPD_POST, "/api/admin/events/*", handle_event, NULL, true, true};
    r[n++] = (HttpdRoute){HTTPD_GET, "/api/admin/webhooks", handle_webhooks, NULL, true, false};
    return n;
}

static bool load_secrets(const Config *cfg, char **token, char **secret)
{
    *token = *secret = NULL;
    if (cfg->status_token_file && !httpd_secret_load(cfg->status_token_file, "token file", token))
        return false;
    return status_setup_secret(cfg, secret);
}

bool status_server_run(const Config *cfg)
{
    StatusSetup setup;
    char *token = NULL, *secret = NULL;
    if (!status_setup(cfg, &setup))
        return false;
    Httpd *h = NULL;
    WebhookWorker *worker = NULL;
    struct event *sigs[2] = {NULL, NULL};
    server.base = event_base_new();
    bool ok = load_secrets(cfg, &token, &secret) && status_setup_open(&setup, &server.st);
    HttpdRoute routes[40];
    size_t n = build_routes(routes, sizeof(routes) / sizeof(routes[0]));
    HttpdOptions opt = {.listen = cfg->status_listen,
                        .token = token,
                        .what = "status page",
                        .setting = "[status] listen"};
    ok = ok && httpd_start(server.base, &opt, routes, n, &h);
    ok = ok && (setup.webhooks.len == 0 ||
                webhook_worker_start(setup.store_path, &setup.opt, secret, 1.0, &worker));
    if (ok) {
        sigs[0] = evsignal_new(server.base, SIGTERM, on_signal, NULL);
        sigs[1] = evsignal_new(server.base, SIGINT, on_signal, NULL);
        event_add(sigs[0], NULL);
        event_add(sigs[1], NULL);
        signal(SIGPIPE, SIG_IGN);
        log_info("status page at http://%s/ (write API %s, %zu webhook URL(s))", cfg->status_listen,
                 token ? "on" : "off: no token-file", setup.webhooks.len);
        event_base_dispatch(server.base);
    }
    webhook_worker_stop(worker);
    for (int i = 0; i < 2; i++)
        if (sigs[i])
            event_free(sigs[i]);
    httpd_free(h);
    event_base_free(server.base);
    status_store_close(server.st);
    server = (Server){0};
    free(token);
    free(secret);
    status_setup_free(&setup);
    return ok;
}
