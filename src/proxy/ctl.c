/*
 * ctl.c - the admin API's client (ctl.h): a transport over libcurl, which
 * is opened on first use (common/dynlib.h says why), and pure parsers of
 * the replies.
 */
#include "proxy/ctl.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/curl.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "proxy/auth.h"

#define PROXY_CTL_TIMEOUT 5.0 /* seconds, every call but /pause and /switch */

struct ProxyCtl {
    char *admin;  /* host:port */
    char *socket; /* or a Unix socket */
    char *token;  /* bearer token, or NULL */
    char *ca_file;
    long last_status;
    char *last_body;
    double deadline; /* time_mono() cap of every call (proxy_ctl_set_deadline); 0: none */
};

/*
 * The one mapping from the admin API's HTTP status to drydock's exit code:
 *   2xx ok; 400 and other 4xx: the request was refused (2, usage);
 *   401, 403: no or a wrong token, a server not in the configuration (3);
 *   408: the pause deadline passed (8); 409: not paused, busy (9);
 *   anything else: the peer spoke the contract wrongly (11).
 */
DdExit proxy_ctl_exit_for_status(long status)
{
    if (status >= 200 && status < 300)
        return DD_EXIT_OK;
    switch (status) {
    case 401:
    case 403:
        return DD_EXIT_CONFIG;
    case 408:
        return DD_EXIT_TIMEOUT;
    case 409:
        return DD_EXIT_CONFLICT;
    default:
        return status >= 400 && status < 500 ? DD_EXIT_USAGE : DD_EXIT_PROTOCOL;
    }
}

ProxyCtlOptions proxy_ctl_options(const Config *cfg)
{
    return (ProxyCtlOptions){.admin = cfg->proxy_admin,
                             .socket = cfg->proxy_admin_socket,
                             .token_file = cfg->proxy_admin_token_file,
                             .ca_file = cfg->proxy_admin_tls_ca_file};
}

ProxyCtl *proxy_ctl_open(const ProxyCtlOptions *o)
{
    const char *admin = o->admin;
    const char *colon = admin ? strrchr(admin, ':') : NULL;
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    if (!o->socket && (!colon || colon == admin || !end || *end || port < 1 || port > 65535)) {
        err_set(DD_EXIT_CONFIG, "invalid proxy admin address \"%s\": expected HOST:PORT",
                admin ? admin : "");
        err_hint("set [proxy] admin, e.g. admin = 127.0.0.1:6480");
        return NULL;
    }
    char *token = NULL;
    if (o->token_file && !auth_token_load(o->token_file, &token))
        return NULL;
    ProxyCtl *c = xcalloc(1, sizeof(*c));
    c->admin = xstrdup(admin ? admin : "localhost");
    c->socket = o->socket ? xstrdup(o->socket) : NULL;
    c->ca_file = o->ca_file ? xstrdup(o->ca_file) : NULL;
    c->token = token;
    return c;
}

void proxy_ctl_close(ProxyCtl *c)
{
    if (!c)
        return;
    free(c->admin);
    free(c->socket);
    free(c->ca_file);
    if (c->token)
        explicit_bzero(c->token, strlen(c->token));
    free(c->token);
    free(c->last_body);
    free(c);
}

const char *proxy_ctl_last_body(const ProxyCtl *c)
{
    return c->last_body;
}

long proxy_ctl_last_status(const ProxyCtl *c)
{
    return c->last_status;
}

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
    buf_append(arg, data, size * n);
    return size * n;
}

static struct curl_slist *ctl_headers(const ProxyCtl *c)
{
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    if (c->token) {
        char *auth = xasprintf("Authorization: Bearer %s", c->token);
        h = curl_slist_append(h, auth);
        explicit_bzero(auth, strlen(auth));
        free(auth);
    }
    return h;
}

/*
 * Send METHOD path with an optional JSON body and wait up to timeout
 * seconds; the reply goes to c->last_status / last_body. False
 * (DD_EXIT_FAIL) when the API cannot be reached; any status is a success.
 */
static bool ctl_call(ProxyCtl *c, const char *method, const char *path, const char *body,
                     double timeout)
{
    free(c->last_body);
    c->last_body = NULL;
    c->last_status = 0;
    if (c->deadline > 0) {
        double left = c->deadline - time_mono();
        timeout = left < 0.2 ? 0.2 : left < timeout ? left : timeout;
    }
    CURL *curl = curl_easy_init();
    if (!curl)
        return err_set(DD_EXIT_FAIL, "could not initialise libcurl");
    char *url = xasprintf("%s://%s%s", c->ca_file ? "https" : "http", c->admin, path);
    Buf resp = {0};
    struct curl_slist *headers = ctl_headers(c);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    if (c->socket)
        curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, c->socket);
    if (c->ca_file)
        curl_easy_setopt(curl, CURLOPT_CAINFO, c->ca_file);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
    if (body || strcmp(method, "POST") == 0)
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? body : "{}");
    CURLcode rc = curl_easy_perform(curl);
    bool ok = rc == CURLE_OK;
    if (ok) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &c->last_status);
        buf_append(&resp, "", 1);
        c->last_body = (char *)resp.data;
    } else {
        buf_free(&resp);
        err_set(DD_EXIT_FAIL, "could not reach the proxy's admin API at \"%s\": %s",
                c->socket ? c->socket : c->admin, curl_easy_strerror(rc));
        err_hint("is \"drydock proxy\" running? check [proxy] admin");
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    free(url);
    return ok;
}

void proxy_status_free(ProxyStatus *st)
{
    free(st->server);
    st->server = NULL;
}

/* Parse a JSON object; on an error status, turn the reply's "error" into the error slot. */
static json_t *ctl_reply(long code, const char *body, const char *what)
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
    DdExit ec = proxy_ctl_exit_for_status(code);
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
    if (code == 401)
        err_hint("[proxy] admin-token-file must name the token file the proxy reads");
    return NULL;
}

/*
 * The members a reply carries, as a table a parser reads: each is copied
 * into the caller's struct at offset. A required member missing or of
 * another type fails the parse (DD_EXIT_PROTOCOL, naming the first such
 * member) and nothing is copied; an optional one reads as 0 then.
 */
typedef enum {
    CTL_BOOL,   /* bool */
    CTL_INT,    /* int */
    CTL_REAL,   /* double; an integer is accepted */
    CTL_STRING, /* char *, copied (the caller frees it) */
    CTL_ARRAY,  /* int: the array's length */
} CtlKind;

typedef struct {
    const char *key;
    CtlKind kind;
    bool optional;
    size_t offset;
} CtlField;

static bool ctl_field_ok(const json_t *v, CtlKind kind)
{
    switch (kind) {
    case CTL_BOOL:
        return json_is_boolean(v);
    case CTL_INT:
        return json_is_integer(v);
    case CTL_REAL:
        return json_is_number(v);
    case CTL_STRING:
        return json_is_string(v);
    case CTL_ARRAY:
        return json_is_array(v);
    }
    return false;
}

static void ctl_field_copy(const json_t *v, const CtlField *f, void *out)
{
    char *at = (char *)out + f->offset;
    switch (f->kind) {
    case CTL_BOOL:
        *(bool *)at = json_is_true(v);
        break;
    case CTL_INT:
        *(int *)at = (int)json_integer_value(v);
        break;
    case CTL_REAL:
        *(double *)at = json_number_value(v);
        break;
    case CTL_STRING:
        *(char **)at = xstrdup(json_string_value(v));
        break;
    case CTL_ARRAY:
        *(int *)at = (int)json_array_size(v);
        break;
    }
}

/*
 * Parse the reply to what (ctl_reply) and copy fields[0..n) into out.
 * Returns the reply (the caller decrefs it) or NULL with the error set.
 */
static json_t *ctl_parse(long code, const char *body, const char *what, const CtlField *fields,
                         size_t n, void *out)
{
    json_t *root = ctl_reply(code, body, what);
    if (!root)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(root, fields[i].key);
        if (!fields[i].optional && !(v && ctl_field_ok(v, fields[i].kind))) {
            json_decref(root);
            err_set(DD_EXIT_PROTOCOL, "the proxy's reply to %s lacks \"%s\" of the expected type",
                    what, fields[i].key);
            err_hint("drydock and the proxy must be the same version");
            return NULL;
        }
    }
    for (size_t i = 0; i < n; i++)
        ctl_field_copy(json_object_get(root, fields[i].key), &fields[i], out);
    return root;
}

#define CTL_FIELD(type, member, key, kind, optional)                                               \
    {                                                                                              \
        key, kind, optional, offsetof(type, member)                                                \
    }
#define CTL_NFIELDS(t) (sizeof(t) / sizeof((t)[0]))

static const CtlField status_fields[] = {
    CTL_FIELD(ProxyStatus, paused, "paused", CTL_BOOL, false),
    CTL_FIELD(ProxyStatus, server, "server", CTL_STRING, false),
    CTL_FIELD(ProxyStatus, clients, "clients", CTL_INT, false),
    CTL_FIELD(ProxyStatus, sessions, "sessions", CTL_ARRAY, false),
};

static const CtlField pause_fields[] = {
    CTL_FIELD(ProxyPauseReply, paused, "paused", CTL_BOOL, false),
    CTL_FIELD(ProxyPauseReply, held, "held", CTL_INT, false),
    CTL_FIELD(ProxyPauseReply, cancelled, "cancelled", CTL_INT, true),
    CTL_FIELD(ProxyPauseReply, wait_ms, "wait_ms", CTL_REAL, true),
};

static const CtlField switch_fields[] = {
    CTL_FIELD(ProxySwitchReply, switched, "switched", CTL_INT, false),
    CTL_FIELD(ProxySwitchReply, failed, "failed", CTL_INT, false),
    CTL_FIELD(ProxySwitchReply, switch_ms, "switch_ms", CTL_REAL, true),
};

static const CtlField resume_fields[] = {{"paused_ms", CTL_REAL, false, 0}};

bool proxy_ctl_parse_status(long code, const char *body, ProxyStatus *out)
{
    memset(out, 0, sizeof(*out));
    json_t *root =
        ctl_parse(code, body, "GET /status", status_fields, CTL_NFIELDS(status_fields), out);
    if (!root)
        return false;
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(root, "sessions"), i, s)
    {
        const char *tx = json_string_value(json_object_get(s, "tx"));
        if (tx && strcmp(tx, "idle") != 0)
            out->in_transaction++;
    }
    json_decref(root);
    return true;
}

bool proxy_ctl_parse_pause(long code, const char *body, ProxyPauseReply *out)
{
    memset(out, 0, sizeof(*out));
    json_t *root =
        ctl_parse(code, body, "POST /pause", pause_fields, CTL_NFIELDS(pause_fields), out);
    json_decref(root);
    if (root && !out->paused)
        return err_set(DD_EXIT_PROTOCOL, "the proxy answered POST /pause with \"paused\": false");
    return root != NULL;
}

bool proxy_ctl_parse_resume(long code, const char *body, double *paused_ms)
{
    *paused_ms = 0;
    json_t *root = ctl_parse(code, body, "POST /resume", resume_fields, 1, paused_ms);
    json_decref(root);
    return root != NULL;
}

bool proxy_ctl_parse_switch(long code, const char *body, ProxySwitchReply *out)
{
    memset(out, 0, sizeof(*out));
    json_t *root =
        ctl_parse(code, body, "POST /switch", switch_fields, CTL_NFIELDS(switch_fields), out);
    json_decref(root);
    return root != NULL;
}

/* POST path with req (consumed; NULL sends "{}") as its body. */
static bool ctl_post(ProxyCtl *c, const char *path, json_t *req, double timeout)
{
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    bool ok = ctl_call(c, "POST", path, body, timeout);
    free(body);
    return ok;
}

bool proxy_ctl_status(ProxyCtl *c, ProxyStatus *out)
{
    memset(out, 0, sizeof(*out));
    return ctl_call(c, "GET", "/status", NULL, PROXY_CTL_TIMEOUT) &&
           proxy_ctl_parse_status(c->last_status, c->last_body, out);
}

void proxy_ctl_set_deadline(ProxyCtl *c, double deadline)
{
    c->deadline = deadline;
}

bool proxy_ctl_pause(ProxyCtl *c, double timeout_s, bool cancel, ProxyPauseReply *out)
{
    return proxy_ctl_pause_lease(c, timeout_s, cancel, 0, out);
}

bool proxy_ctl_lease(ProxyCtl *c, bool promoting)
{
    json_t *req = promoting ? json_pack("{s:b}", "promoting", true) : NULL;
    if (!ctl_post(c, "/lease", req, PROXY_CTL_TIMEOUT))
        return false;
    json_t *root = ctl_parse(c->last_status, c->last_body, "POST /lease", NULL, 0, NULL);
    json_decref(root);
    return root != NULL;
}

bool proxy_ctl_pause_lease(ProxyCtl *c, double timeout_s, bool cancel, double lease_s,
                           ProxyPauseReply *out)
{
    json_t *req = json_pack("{s:s}", "on_timeout", cancel ? "cancel" : "resume");
    if (timeout_s > 0)
        json_object_set_new(req, "timeout", json_real(timeout_s));
    if (lease_s > 0)
        json_object_set_new(req, "lease", json_real(lease_s));
    memset(out, 0, sizeof(*out));
    /* The proxy answers at its deadline at the latest (a day at most); give it a margin. */
    double wait = (timeout_s > 0 ? timeout_s : 86400) + 30.0;
    return ctl_post(c, "/pause", req, wait) &&
           proxy_ctl_parse_pause(c->last_status, c->last_body, out);
}

bool proxy_ctl_resume(ProxyCtl *c, double *paused_ms)
{
    *paused_ms = 0;
    return ctl_post(c, "/resume", NULL, PROXY_CTL_TIMEOUT) &&
           proxy_ctl_parse_resume(c->last_status, c->last_body, paused_ms);
}

bool proxy_ctl_switch(ProxyCtl *c, const char *conninfo, double timeout_s, ProxySwitchReply *out)
{
    memset(out, 0, sizeof(*out));
    return ctl_post(c, "/switch", json_pack("{s:s}", "server", conninfo), timeout_s) &&
           proxy_ctl_parse_switch(c->last_status, c->last_body, out);
}

bool proxy_ctl_preconnect(ProxyCtl *c, const char *conninfo, int *opened)
{
    json_t *req = json_pack("{s:s,s:b}", "server", conninfo, "prepare", true);
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    *opened = 0;
    bool ok = ctl_call(c, "POST", "/switch", body, PROXY_CTL_TIMEOUT);
    free(body);
    json_t *root = ok ? ctl_reply(c->last_status, c->last_body, "POST /switch (prepare)") : NULL;
    if (!root)
        return false;
    *opened = (int)json_integer_value(json_object_get(root, "opened"));
    json_decref(root);
    return true;
}

bool proxy_ctl_switch_check(ProxyCtl *c, const char *conninfo)
{
    json_t *req = json_pack("{s:s,s:b}", "server", conninfo, "check", true);
    if (!ctl_post(c, "/switch", req, PROXY_CTL_TIMEOUT))
        return false;
    json_t *root = ctl_parse(c->last_status, c->last_body, "POST /switch (check)", NULL, 0, NULL);
    if (!root)
        return false;
    bool ok = json_is_true(json_object_get(root, "allowed"));
    json_decref(root);
    if (!ok)
        return err_set(DD_EXIT_PROTOCOL, "the proxy's answer to a switch check lacks \"allowed\"");
    return true;
}
