/*
 * httpd.c - the HTTP server layer on evhttp (httpd.h has the promises).
 *
 * Each request gets an HttpdReq that lives until it is answered: a request
 * answered inside its handler is freed when the handler returns; a kept one
 * is freed by the answer. Two things tell that the caller of a kept request
 * hung up: evhttp's close callback (evhttp then frees its own request, so
 * ours forgets it) and, because evhttp does not read a connection whose
 * request waits for an answer, a read watch on the socket that peeks for
 * end-of-file.
 */
#include "common/httpd.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/fsutil.h"
#include "common/hash.h"
#include "common/mem.h"

#define HTTPD_DEFAULT_MAX_BODY 65536
#define HTTPD_MAX_HEADERS      16384

struct Httpd {
    struct event_base *base;
    struct evhttp *http;
    HttpdRoute *routes;
    size_t nroutes;
    size_t max_body;
    bool has_token;
    uint8_t token_digest[SHA256_LEN];
    char *hosts;
    int port;
    struct ssl_ctx_st *tls;   /* promise 8 */
    struct evhttp *http_unix; /* promise 9: its own evhttp, never TLS */
    char *unix_path;
};

struct HttpdReq {
    Httpd *h;
    struct evhttp_request *ev; /* NULL once evhttp freed it (caller gone) */
    char *path;
    const char *tail;
    HttpdMethod method;
    bool in_handler, answered, kept, gone;
    bool local; /* over the Unix socket, from a trusted peer (promise 9) */
    HttpdGoneFn on_gone;
    void *gone_arg;
    struct event *watch;
};

const char *httpd_reason(int code)
{
    switch (code) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
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
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

static HttpdMethod method_of(enum evhttp_cmd_type cmd)
{
    switch (cmd) {
    case EVHTTP_REQ_GET:
        return HTTPD_GET;
    case EVHTTP_REQ_POST:
        return HTTPD_POST;
    case EVHTTP_REQ_PUT:
        return HTTPD_PUT;
    case EVHTTP_REQ_DELETE:
        return HTTPD_DELETE;
    case EVHTTP_REQ_PATCH:
        return HTTPD_PATCH;
    case EVHTTP_REQ_HEAD:
        return HTTPD_HEAD;
    default:
        return HTTPD_OTHER;
    }
}

static void allow_header(unsigned methods, char *out, size_t len)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{HTTPD_GET, "GET"}, {HTTPD_GET, "HEAD"},      {HTTPD_POST, "POST"},
                 {HTTPD_PUT, "PUT"}, {HTTPD_DELETE, "DELETE"}, {HTTPD_PATCH, "PATCH"}};
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (methods & names[i].bit)
            snprintf(out + strlen(out), len - strlen(out), "%s%s", out[0] ? ", " : "",
                     names[i].name);
}

/* --- the request --- */

HttpdMethod httpd_req_method(const HttpdReq *req)
{
    return req->method;
}

const char *httpd_req_path(const HttpdReq *req)
{
    return req->path;
}

const char *httpd_req_tail(const HttpdReq *req)
{
    return req->tail ? req->tail : "";
}

const char *httpd_req_query(const HttpdReq *req)
{
    const char *q = req->ev ? evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req->ev)) : NULL;
    return q ? q : "";
}

const char *httpd_req_header(const HttpdReq *req, const char *name)
{
    return req->ev ? evhttp_find_header(evhttp_request_get_input_headers(req->ev), name) : NULL;
}

const void *httpd_req_body(const HttpdReq *req, size_t *len)
{
    *len = 0;
    if (!req->ev)
        return "";
    struct evbuffer *in = evhttp_request_get_input_buffer(req->ev);
    *len = evbuffer_get_length(in);
    return *len ? (const void *)evbuffer_pullup(in, -1) : "";
}

json_t *httpd_req_json(HttpdReq *req)
{
    size_t len;
    const char *body = httpd_req_body(req, &len);
    if (len == 0)
        return json_object();
    json_error_t jerr;
    json_t *o = json_loadb(body, len, 0, &jerr);
    if (!o || !json_is_object(o)) {
        httpd_reply_error(req, 400, "invalid JSON body: %s", o ? "expected an object" : jerr.text);
        json_decref(o);
        return NULL;
    }
    return o;
}

bool httpd_req_gone(const HttpdReq *req)
{
    return req->gone;
}

/* --- answers --- */

static void req_free(HttpdReq *r)
{
    if (r->watch)
        event_free(r->watch);
    free(r->path);
    free(r);
}

void httpd_add_header(HttpdReq *req, const char *name, const char *value)
{
    if (req->ev && !req->answered)
        evhttp_add_header(evhttp_request_get_output_headers(req->ev), name, value);
}

void httpd_reply(HttpdReq *req, int code, const char *content_type, const void *body, size_t len)
{
    if (req->answered)
        abort(); /* two answers to one request is a programming error */
    req->answered = true;
    if (req->watch) {
        event_free(req->watch);
        req->watch = NULL;
    }
    if (req->ev) {
        if (req->kept)
            evhttp_connection_set_closecb(evhttp_request_get_connection(req->ev), NULL, NULL);
        struct evkeyvalq *out = evhttp_request_get_output_headers(req->ev);
        evhttp_add_header(out, "Content-Type", content_type);
        evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
        struct evbuffer *b = evbuffer_new();
        evbuffer_add(b, body, len);
        evhttp_send_reply(req->ev, code, httpd_reason(code), b);
        evbuffer_free(b);
        req->ev = NULL;
    }
    if (!req->in_handler)
        req_free(req);
}

void httpd_reply_json(HttpdReq *req, int code, json_t *obj)
{
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    Buf b = {0};
    buf_printf(&b, "%s\n", text ? text : "{}");
    free(text);
    httpd_reply(req, code, "application/json", b.data, b.len);
    buf_free(&b);
}

void httpd_reply_error(HttpdReq *req, int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    httpd_reply_json(req, code, json_pack("{s:s}", "error", msg));
}

/* --- kept requests and callers that hang up --- */

static void req_gone(HttpdReq *r)
{
    if (r->gone)
        return;
    r->gone = true;
    if (r->watch) {
        event_free(r->watch);
        r->watch = NULL;
    }
    if (r->on_gone)
        r->on_gone(r, r->gone_arg);
}

static void conn_closed_cb(struct evhttp_connection *conn, void *arg)
{
    (void)conn;
    HttpdReq *r = arg;
    r->ev = NULL; /* evhttp frees its request with the connection */
    req_gone(r);
}

static void watch_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    HttpdReq *r = arg;
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    event_free(r->watch); /* more data (pipelining) or the end: either way, stop watching */
    r->watch = NULL;
    if (n <= 0)
        req_gone(r);
}

void httpd_req_keep(HttpdReq *req, HttpdGoneFn on_gone, void *arg)
{
    req->kept = true;
    req->on_gone = on_gone;
    req->gone_arg = arg;
    struct evhttp_connection *conn = evhttp_request_get_connection(req->ev);
    evhttp_connection_set_closecb(conn, conn_closed_cb, req);
    struct bufferevent *bev = evhttp_connection_get_bufferevent(conn);
    if (bev) {
        req->watch =
            event_new(req->h->base, bufferevent_getfd(bev), EV_READ | EV_PERSIST, watch_cb, req);
        event_add(req->watch, NULL);
    }
}

/* --- dispatch --- */

static bool route_matches(const HttpdRoute *rt, const char *path, const char **tail)
{
    size_t n = strlen(rt->path);
    if (n > 0 && rt->path[n - 1] == '*') {
        if (strncmp(path, rt->path, n - 1) != 0)
            return false;
        *tail = path + n - 1;
        return true;
    }
    *tail = NULL;
    return strcmp(path, rt->path) == 0;
}

static bool host_allowed(const Httpd *h, const char *host)
{
    if (!h->hosts)
        return true;
    if (!host)
        return false;
    size_t hl = strlen(host);
    for (const char *p = h->hosts; *p;) {
        size_t n = strcspn(p, ",");
        if (n == hl && strncasecmp(p, host, n) == 0)
            return true;
        p += n;
        if (*p == ',')
            p++;
    }
    return false;
}

static bool token_ok(const Httpd *h, const char *auth)
{
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return false;
    const char *t = auth + 7;
    while (*t == ' ')
        t++;
    uint8_t digest[SHA256_LEN];
    sha256(t, strlen(t), digest);
    return CRYPTO_memcmp(digest, h->token_digest, SHA256_LEN) == 0;
}

static bool is_json_type(const char *ct)
{
    static const char want[] = "application/json";
    if (!ct || strncasecmp(ct, want, sizeof(want) - 1) != 0)
        return false;
    char next = ct[sizeof(want) - 1];
    return next == '\0' || next == ';' || next == ' ';
}

/* Promise 9: which listener the request came through, and who sent it. */
static bool peer_check(HttpdReq *r)
{
    struct bufferevent *bev =
        evhttp_connection_get_bufferevent(evhttp_request_get_connection(r->ev));
    int fd = bev ? (int)bufferevent_getfd(bev) : -1;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 || ss.ss_family != AF_UNIX)
        return true;
    struct ucred cred;
    socklen_t cl = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 ||
        (cred.uid != geteuid() && cred.uid != 0)) {
        httpd_reply_error(r, 403, "this socket serves only its owner and root");
        return false;
    }
    r->local = true;
    return true;
}

bool httpd_req_local(const HttpdReq *req)
{
    return req->local;
}

/* The checks of promises 3-6; true when the handler may run. */
static bool admit(Httpd *h, HttpdReq *r, const HttpdRoute **out)
{
    if (!peer_check(r))
        return false;
    if (!r->local && !host_allowed(h, httpd_req_header(r, "Host"))) {
        httpd_reply_error(r, 403, "this server does not answer for that Host header");
        return false;
    }
    unsigned want = r->method == HTTPD_HEAD ? HTTPD_GET : r->method;
    unsigned allowed = 0;
    const HttpdRoute *rt = NULL;
    for (size_t i = 0; i < h->nroutes && !rt; i++) {
        const char *tail;
        if (!route_matches(&h->routes[i], r->path, &tail))
            continue;
        allowed |= h->routes[i].methods;
        if (h->routes[i].methods & want) {
            rt = &h->routes[i];
            r->tail = tail;
        }
    }
    if (!rt && !allowed) {
        httpd_reply_error(r, 404, "no such page: \"%s\"", r->path);
        return false;
    }
    if (!rt) {
        char allow[64];
        allow_header(allowed, allow, sizeof(allow));
        httpd_add_header(r, "Allow", allow);
        httpd_reply_error(r, 405, "method not allowed here; use %s", allow);
        return false;
    }
    if (rt->auth && r->local) {
        /* the peer's uid stands for the token (promise 9) */
    } else if (rt->auth && !h->has_token) {
        httpd_reply_error(r, 403, "the write API is off: no token file is configured");
        return false;
    }
    if (rt->auth && !r->local && !token_ok(h, httpd_req_header(r, "Authorization"))) {
        httpd_add_header(r, "WWW-Authenticate", "Bearer realm=\"drydock\"");
        httpd_reply_error(r, 401, "a valid \"Authorization: Bearer <token>\" header is required");
        return false;
    }
    if (rt->json_only && !is_json_type(httpd_req_header(r, "Content-Type"))) {
        httpd_reply_error(r, 415, "expected Content-Type: application/json");
        return false;
    }
    *out = rt;
    return true;
}

static void request_cb(struct evhttp_request *ev, void *arg)
{
    Httpd *h = arg;
    HttpdReq *r = xcalloc(1, sizeof(*r));
    r->h = h;
    r->ev = ev;
    r->method = method_of(evhttp_request_get_command(ev));
    const char *raw = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(ev));
    r->path = evhttp_uridecode(raw && raw[0] ? raw : "/", 0, NULL);
    if (!r->path)
        r->path = xstrdup("/");
    r->in_handler = true;
    const HttpdRoute *rt = NULL;
    if (admit(h, r, &rt))
        rt->fn(r, rt->arg);
    r->in_handler = false;
    if (r->answered) {
        req_free(r);
    } else if (!r->kept) {
        r->in_handler = true;
        httpd_reply_error(r, 500, "the handler of \"%s\" gave no answer", r->path);
        req_free(r);
    }
}

/* --- listening --- */

static bool addr_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return true;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return false;
}

/* Split "HOST:PORT" / "[V6]:PORT"; false (error set) when malformed or remote. */
static bool parse_listen(const HttpdOptions *opt, char *host, size_t hlen, int *port)
{
    const char *what = opt->what ? opt->what : "HTTP server";
    const char *setting = opt->setting ? opt->setting : "the listen address";
    const char *l = opt->listen ? opt->listen : "";
    const char *colon = strrchr(l, ':');
    char *end = NULL;
    long p = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || colon == l || !end || *end || colon[1] == '\0' || p < 0 || p > 65535) {
        err_set(DD_EXIT_CONFIG, "invalid listen address \"%s\" for the %s: expected HOST:PORT", l,
                what);
        err_hint("set %s, e.g. 127.0.0.1:8080", setting);
        return false;
    }
    const char *hs = l;
    size_t n = (size_t)(colon - l);
    if (hs[0] == '[' && n >= 2 && hs[n - 1] == ']') {
        hs++;
        n -= 2;
    }
    snprintf(host, hlen, "%.*s", (int)n, hs);
    *port = (int)p;
    if (opt->allow_remote)
        return true;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res) {
        err_set(DD_EXIT_CONFIG, "could not resolve the %s's listen host \"%s\"", what, host);
        err_hint("set %s to a loopback address such as 127.0.0.1:PORT", setting);
        return false;
    }
    bool loopback = true;
    for (struct addrinfo *a = res; a; a = a->ai_next)
        loopback = loopback && addr_is_loopback(a->ai_addr);
    freeaddrinfo(res);
    if (!loopback) {
        err_set(DD_EXIT_CONFIG, "the %s may only listen on a loopback address, not \"%s\"", what,
                l);
        err_hint("put a reverse proxy in front of it, or use 127.0.0.1:PORT in %s", setting);
        return false;
    }
    return true;
}

static struct bufferevent *tls_bev_cb(struct event_base *base, void *arg)
{
    Httpd *h = arg;
    return bufferevent_openssl_socket_new(base, -1, SSL_new(h->tls), BUFFEREVENT_SSL_ACCEPTING,
                                          BEV_OPT_CLOSE_ON_FREE);
}

void httpd_set_tls(Httpd *h, struct ssl_ctx_st *tls)
{
    h->tls = tls;
}

/* Promise 9: the Unix socket, 0600, on an evhttp of its own (no TLS there). */
static bool listen_unix(Httpd *h, const HttpdOptions *opt)
{
    const char *path = opt->unix_socket;
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(un.sun_path))
        return err_set(DD_EXIT_CONFIG, "the socket path \"%s\" of the %s is too long", path,
                       opt->what ? opt->what : "HTTP server");
    snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path); /* left by a server that died */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    mode_t old = umask(0177);
    bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&un, sizeof(un)) == 0 && listen(fd, 64) == 0;
    umask(old);
    if (!ok) {
        err_errno("could not listen on \"%s\" for the %s", path,
                  opt->what ? opt->what : "HTTP server");
        err_hint("check that its directory exists and is writable");
        if (fd >= 0)
            close(fd);
        return false;
    }
    h->unix_path = xstrdup(path);
    h->http_unix = evhttp_new(h->base);
    evhttp_set_max_body_size(h->http_unix, (ev_ssize_t)h->max_body);
    evhttp_set_max_headers_size(h->http_unix, HTTPD_MAX_HEADERS);
    evhttp_set_timeout(h->http_unix, opt->timeout_s > 0 ? opt->timeout_s : 60);
    evhttp_set_allowed_methods(h->http_unix, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                                 EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD |
                                                 EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
    evhttp_set_gencb(h->http_unix, request_cb, h);
    struct evconnlistener *l = evconnlistener_new(
        h->base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
    if (!l || !evhttp_bind_listener(h->http_unix, l)) {
        if (l)
            evconnlistener_free(l);
        else
            close(fd);
        return err_set(DD_EXIT_FAIL, "could not serve \"%s\"", path);
    }
    return true;
}

bool httpd_start(struct event_base *base, const HttpdOptions *opt, const HttpdRoute *routes,
                 size_t n, Httpd **out)
{
    char host[256];
    int port;
    *out = NULL;
    if (!parse_listen(opt, host, sizeof(host), &port))
        return false;
    Httpd *h = xcalloc(1, sizeof(*h));
    h->base = base;
    h->routes = xcalloc(n ? n : 1, sizeof(*routes));
    memcpy(h->routes, routes, n * sizeof(*routes));
    h->nroutes = n;
    h->max_body = opt->max_body ? opt->max_body : HTTPD_DEFAULT_MAX_BODY;
    if (opt->token && opt->token[0]) {
        h->has_token = true;
        sha256(opt->token, strlen(opt->token), h->token_digest);
    }
    h->hosts = opt->hosts ? xstrdup(opt->hosts) : NULL;
    h->http = evhttp_new(base);
    evhttp_set_max_body_size(h->http, (ev_ssize_t)h->max_body);
    evhttp_set_max_headers_size(h->http, HTTPD_MAX_HEADERS);
    evhttp_set_timeout(h->http, opt->timeout_s > 0 ? opt->timeout_s : 60);
    evhttp_set_flags(h->http, EVHTTP_SERVER_LINGERING_CLOSE);
    /* Every method reaches request_cb, so that 405 is ours and not evhttp's 501. */
    evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD | EVHTTP_REQ_PATCH |
                                            EVHTTP_REQ_OPTIONS);
    evhttp_set_gencb(h->http, request_cb, h);
    if (opt->tls) {
        h->tls = opt->tls;
        evhttp_set_bevcb(h->http, tls_bev_cb, h);
    }
    struct evhttp_bound_socket *sock =
        evhttp_bind_socket_with_handle(h->http, host, (ev_uint16_t)port);
    if (!sock) {
        err_errno("could not listen on \"%s\" for the %s", opt->listen,
                  opt->what ? opt->what : "HTTP server");
        err_hint("is another process using that port? change %s",
                 opt->setting ? opt->setting : "the listen address");
        httpd_free(h);
        return false;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&ss, &sl) == 0)
        h->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    if (opt->unix_socket && !listen_unix(h, opt)) {
        httpd_free(h);
        return false;
    }
    *out = h;
    return true;
}

int httpd_port(const Httpd *h)
{
    return h->port;
}

void httpd_free(Httpd *h)
{
    if (!h)
        return;
    if (h->http)
        evhttp_free(h->http);
    if (h->http_unix)
        evhttp_free(h->http_unix); /* and its listener */
    if (h->unix_path) {
        unlink(h->unix_path);
        free(h->unix_path);
    }
    free(h->routes);
    free(h->hosts);
    OPENSSL_cleanse(h->token_digest, sizeof(h->token_digest));
    free(h);
}

/* --- secrets --- */

bool httpd_secret_load(const char *path, const char *what, char **out)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0) {
        err_set(DD_EXIT_CONFIG, "could not open %s \"%s\": %s", what, path, strerror(errno));
        err_hint("create it with one line, the secret, and chmod 600 it");
        return false;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        err_set(DD_EXIT_CONFIG, "%s \"%s\" has group or world access (mode %04o)", what, path,
                (unsigned)(st.st_mode & 07777));
        err_hint("chmod 600 \"%s\"", path);
        return false;
    }
    Buf b = {0};
    bool found;
    if (!fs_read_file(path, &b, &found))
        return false;
    buf_append(&b, "", 1);
    char *s = (char *)b.data;
    s[strcspn(s, "\r\n")] = '\0';
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    if (n == 0) {
        OPENSSL_cleanse(b.data, b.len);
        buf_free(&b);
        err_set(DD_EXIT_CONFIG, "%s \"%s\" is empty", what, path);
        err_hint("write the secret on its first line, e.g. openssl rand -hex 32 > \"%s\"", path);
        return false;
    }
    *out = xstrndup(s, n);
    OPENSSL_cleanse(b.data, b.len);
    buf_free(&b);
    return true;
}
