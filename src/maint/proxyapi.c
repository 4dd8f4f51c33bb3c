/*
 * proxyapi.c - see proxyapi.h.
 */
#include "maint/proxyapi.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/timeutil.h"
#include "proxy/ctl.h"

#define PROXYAPI_TIMEOUT 5.0 /* seconds, every call but /pause and /switch */

struct ProxyApi {
    char *admin;     /* host:port */
    double deadline; /* time_mono() cap of every call; 0: none */
};

void proxyapi_set_deadline(ProxyApi *api, double deadline)
{
    api->deadline = deadline;
}

/* A call's timeout, capped by the deadline. */
static double proxyapi_timeout(const ProxyApi *api, double timeout)
{
    if (api->deadline <= 0)
        return timeout;
    double left = api->deadline - time_mono();
    return left < 0.2 ? 0.2 : left < timeout ? left : timeout;
}

ProxyApi *proxyapi_open(const char *admin)
{
    const char *colon = admin ? strrchr(admin, ':') : NULL;
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    if (!colon || colon == admin || !end || *end || port < 1 || port > 65535) {
        err_set(DD_EXIT_CONFIG, "invalid proxy admin address \"%s\": expected HOST:PORT",
                admin ? admin : "");
        err_hint("set [proxy] admin, e.g. admin = 127.0.0.1:6480");
        return NULL;
    }
    ProxyApi *api = xcalloc(1, sizeof(*api));
    api->admin = xstrdup(admin);
    return api;
}

void proxyapi_close(ProxyApi *api)
{
    if (!api)
        return;
    free(api->admin);
    free(api);
}

void proxy_status_free(ProxyStatus *st)
{
    free(st->server);
    st->server = NULL;
}

/* Parse a JSON object; on an error status, turn the reply's "error" into the error slot. */
static json_t *proxyapi_reply(long code, const char *body, const char *what)
{
    json_error_t jerr;
    json_t *root = json_loads(body ? body : "", 0, &jerr);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        err_set(DD_EXIT_PROTOCOL, "the proxy's reply to %s (HTTP %ld) is not a JSON object", what,
                code);
        err_hint("check that [proxy] admin is the admin address of \"drydock proxy\"");
        return NULL;
    }
    if (code >= 200 && code < 300)
        return root;
    const char *msg = json_string_value(json_object_get(root, "error"));
    DdExit ec = code == 408 ? DD_EXIT_TIMEOUT : code == 409 ? DD_EXIT_CONFLICT : DD_EXIT_FAIL;
    Buf open = {0};
    json_t *ids = json_object_get(root, "open");
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
        buf_printf(&open, "%s%lld", i ? ", " : "", (long long)json_integer_value(v));
    buf_append(&open, "", 1);
    err_set(ec, "the proxy refused %s (HTTP %ld): %s%s%s%s", what, code,
            msg ? msg : "no reason given", open.len > 1 ? " (sessions still open: " : "",
            open.len > 1 ? (char *)open.data : "", open.len > 1 ? ")" : "");
    buf_free(&open);
    json_decref(root);
    return NULL;
}

/* A required member of the given JSON type. */
static json_t *proxyapi_member(json_t *root, const char *key, json_type type, const char *what)
{
    json_t *v = json_object_get(root, key);
    bool ok = v && (json_typeof(v) == type || (type == JSON_REAL && json_is_integer(v)) ||
                    (type == JSON_TRUE && json_is_boolean(v)));
    if (!ok) {
        err_set(DD_EXIT_PROTOCOL, "the proxy's reply to %s lacks \"%s\" of the expected type", what,
                key);
        err_hint("drydock and the proxy must be the same version");
        return NULL;
    }
    return v;
}

bool proxyapi_parse_status(long code, const char *body, ProxyStatus *out)
{
    memset(out, 0, sizeof(*out));
    json_t *root = proxyapi_reply(code, body, "GET /status");
    if (!root)
        return false;
    json_t *paused = proxyapi_member(root, "paused", JSON_TRUE, "GET /status");
    json_t *server = paused ? proxyapi_member(root, "server", JSON_STRING, "GET /status") : NULL;
    json_t *clients = server ? proxyapi_member(root, "clients", JSON_INTEGER, "GET /status") : NULL;
    json_t *sessions =
        clients ? proxyapi_member(root, "sessions", JSON_ARRAY, "GET /status") : NULL;
    if (sessions) {
        out->paused = json_is_true(paused);
        out->server = xstrdup(json_string_value(server));
        out->clients = (int)json_integer_value(clients);
        out->sessions = (int)json_array_size(sessions);
        size_t i;
        json_t *s;
        json_array_foreach(sessions, i, s)
        {
            const char *tx = json_string_value(json_object_get(s, "tx"));
            if (tx && strcmp(tx, "idle") != 0)
                out->in_transaction++;
        }
    }
    json_decref(root);
    return sessions != NULL;
}

bool proxyapi_parse_pause(long code, const char *body, ProxyPauseReply *out)
{
    memset(out, 0, sizeof(*out));
    json_t *root = proxyapi_reply(code, body, "POST /pause");
    if (!root)
        return false;
    json_t *paused = proxyapi_member(root, "paused", JSON_TRUE, "POST /pause");
    json_t *held = paused ? proxyapi_member(root, "held", JSON_INTEGER, "POST /pause") : NULL;
    if (held) {
        out->paused = json_is_true(paused);
        out->held = (int)json_integer_value(held);
        out->cancelled = (int)json_integer_value(json_object_get(root, "cancelled"));
        out->wait_ms = json_number_value(json_object_get(root, "wait_ms"));
    }
    json_decref(root);
    if (held && !out->paused)
        return err_set(DD_EXIT_PROTOCOL, "the proxy answered POST /pause with \"paused\": false");
    return held != NULL;
}

bool proxyapi_parse_resume(long code, const char *body, double *paused_ms)
{
    *paused_ms = 0;
    json_t *root = proxyapi_reply(code, body, "POST /resume");
    if (!root)
        return false;
    json_t *ms = proxyapi_member(root, "paused_ms", JSON_REAL, "POST /resume");
    if (ms)
        *paused_ms = json_number_value(ms);
    json_decref(root);
    return ms != NULL;
}

bool proxyapi_parse_switch(long code, const char *body, ProxySwitchReply *out)
{
    memset(out, 0, sizeof(*out));
    json_t *root = proxyapi_reply(code, body, "POST /switch");
    if (!root)
        return false;
    json_t *sw = proxyapi_member(root, "switched", JSON_INTEGER, "POST /switch");
    json_t *failed = sw ? proxyapi_member(root, "failed", JSON_INTEGER, "POST /switch") : NULL;
    if (failed) {
        out->switched = (int)json_integer_value(sw);
        out->failed = (int)json_integer_value(failed);
        out->switch_ms = json_number_value(json_object_get(root, "switch_ms"));
    }
    json_decref(root);
    return failed != NULL;
}

bool proxyapi_status(ProxyApi *api, ProxyStatus *out)
{
    ProxyCtlReply rep;
    memset(out, 0, sizeof(*out));
    bool ok = proxy_ctl_call(api->admin, "GET", "/status", NULL, PROXYAPI_TIMEOUT, &rep) &&
              proxyapi_parse_status(rep.status, rep.body, out);
    proxy_ctl_reply_free(&rep);
    return ok;
}

bool proxyapi_pause(ProxyApi *api, int timeout_s, bool cancel, ProxyPauseReply *out)
{
    return proxyapi_pause_lease(api, timeout_s, cancel, 0, out);
}

bool proxyapi_pause_lease(ProxyApi *api, int timeout_s, bool cancel, double lease_s,
                          ProxyPauseReply *out)
{
    ProxyCtlReply rep;
    char body[128], lease[48] = "";
    if (lease_s > 0)
        snprintf(lease, sizeof(lease), ",\"lease\":%.3f", lease_s);
    snprintf(body, sizeof(body), "{\"timeout\":%d,\"on_timeout\":\"%s\"%s}", timeout_s,
             cancel ? "cancel" : "resume", lease);
    memset(out, 0, sizeof(*out));
    /* The proxy answers at its deadline at the latest; give it a margin. */
    bool ok = proxy_ctl_call(api->admin, "POST", "/pause", body,
                             proxyapi_timeout(api, timeout_s + 5.0), &rep) &&
              proxyapi_parse_pause(rep.status, rep.body, out);
    proxy_ctl_reply_free(&rep);
    return ok;
}

bool proxyapi_resume(ProxyApi *api, double *paused_ms)
{
    ProxyCtlReply rep;
    *paused_ms = 0;
    bool ok = proxy_ctl_call(api->admin, "POST", "/resume", "{}",
                             proxyapi_timeout(api, PROXYAPI_TIMEOUT), &rep) &&
              proxyapi_parse_resume(rep.status, rep.body, paused_ms);
    proxy_ctl_reply_free(&rep);
    return ok;
}

bool proxyapi_switch(ProxyApi *api, const char *conninfo, ProxySwitchReply *out)
{
    ProxyCtlReply rep;
    json_t *req = json_pack("{s:s}", "server", conninfo);
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    memset(out, 0, sizeof(*out));
    /* Reconnecting every session may take a while on a loaded machine. */
    bool ok =
        proxy_ctl_call(api->admin, "POST", "/switch", body, proxyapi_timeout(api, 30.0), &rep) &&
        proxyapi_parse_switch(rep.status, rep.body, out);
    proxy_ctl_reply_free(&rep);
    free(body);
    return ok;
}

bool proxyapi_lease(ProxyApi *api, bool promoting)
{
    ProxyCtlReply rep;
    bool ok =
        proxy_ctl_call(api->admin, "POST", "/lease", promoting ? "{\"promoting\":true}" : "{}",
                       proxyapi_timeout(api, PROXYAPI_TIMEOUT), &rep);
    if (ok && rep.status != 200) {
        json_t *root = proxyapi_reply(rep.status, rep.body, "POST /lease");
        json_decref(root);
        ok = root != NULL;
    }
    proxy_ctl_reply_free(&rep);
    return ok;
}
