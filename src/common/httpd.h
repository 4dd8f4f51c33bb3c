/*
 * httpd.h - drydock's one HTTP server layer, on libevent's evhttp.
 *
 * A server is a table of routes (method set + exact path or path prefix ->
 * handler) and a few options; every reply it makes on its own (404, 405,
 * 401, 403, 413, 415, 500) has a JSON body {"error": "..."}. Used by the
 * status page (status/server.c) and meant for the proxy's admin API.
 *
 * Promises:
 *  1. It listens on a loopback address only, unless .allow_remote is set:
 *     a host that resolves to any non-loopback address is refused.
 *  2. A request body past .max_body bytes is refused with 413 before any
 *     handler runs.
 *  3. A path that no route names is 404; a path that some route names with
 *     other methods is 405 with an Allow header. HEAD matches GET routes.
 *  4. A route with .auth needs "Authorization: Bearer <token>" equal to the
 *     server's token, compared in constant time (over SHA-256 digests, so
 *     the length does not leak either); otherwise 401 with
 *     WWW-Authenticate: Bearer. With no token configured such a route
 *     answers 403: a write API without a token is off, not open.
 *  5. With .hosts set, a request whose Host header is not in the list is
 *     refused with 403 (a defence against DNS rebinding).
 *  6. A route with .json_only refuses a request whose Content-Type is not
 *     application/json with 415, empty body or not (browsers cannot send
 *     that type across origins without a preflight: a CSRF defence).
 *  7. The body limit (2) is checked while reading, before anything else;
 *     then 5, 3, 4, 6. The handler runs only when every check passed.
 *  8. With .tls, the TCP listener speaks HTTPS only (the context is the
 *     caller's; a new one may be swapped in with httpd_set_tls).
 *  9. With .unix_socket, it also listens there (the socket created 0600).
 *     A peer on it whose uid is the server's own or root's counts as
 *     authenticated (4 is not asked, 5 does not apply: no DNS there);
 *     any other peer gets 403 before anything else.
 *
 * A handler answers exactly once with one of the httpd_reply_*() calls,
 * either before it returns or later: to answer later it calls
 * httpd_req_keep(), keeps the HttpdReq and answers when it is ready. When
 * the caller of a kept request hangs up first, on_gone is called (once);
 * the owner must still answer (the answer is dropped), which frees the
 * request. A handler that returns without answering or keeping gets a 500.
 */
#ifndef DD_COMMON_HTTPD_H
#define DD_COMMON_HTTPD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct event_base;

typedef struct Httpd Httpd;
typedef struct HttpdReq HttpdReq;

typedef enum {
    HTTPD_GET = 1 << 0,
    HTTPD_POST = 1 << 1,
    HTTPD_PUT = 1 << 2,
    HTTPD_DELETE = 1 << 3,
    HTTPD_PATCH = 1 << 4,
    HTTPD_HEAD = 1 << 5, /* never needed in a route: HEAD matches GET */
    HTTPD_OTHER = 1 << 6
} HttpdMethod;

typedef void (*HttpdHandler)(HttpdReq *req, void *arg);
typedef void (*HttpdGoneFn)(HttpdReq *req, void *arg);

typedef struct {
    unsigned methods; /* HttpdMethod bits */
    const char *path; /* exact path, or a prefix when it ends with an asterisk */
    HttpdHandler fn;
    void *arg;
    bool auth;      /* needs the bearer token (promise 4) */
    bool json_only; /* needs Content-Type: application/json (promise 6) */
} HttpdRoute;

typedef struct {
    const char *listen;  /* "HOST:PORT"; port 0 picks a free one (httpd_port) */
    bool allow_remote;   /* listen on a non-loopback address too (promise 1) */
    size_t max_body;     /* bytes; 0 means 65536 */
    int timeout_s;       /* idle/read timeout of a connection; 0 means 60 */
    const char *token;   /* the bearer token of .auth routes; NULL: they answer 403 */
    const char *hosts;   /* comma-separated Host values allowed ("127.0.0.1:8080,localhost:8080");
                            NULL: any */
    const char *what;    /* names the server in errors ("status page"); NULL: "HTTP server" */
    const char *setting; /* the config key to point at in hints ("[status] listen") */
    struct ssl_ctx_st *tls;  /* HTTPS on the TCP listener with this context; NULL: HTTP */
    const char *unix_socket; /* also listen on this Unix socket (promise 9); NULL: none */
} HttpdOptions;

/*
 * Listen and serve on base. routes (n of them) are copied; route args must
 * outlive the server. Fails (DD_EXIT_CONFIG for a bad or remote address,
 * DD_EXIT_IO when the port is taken) with nothing left open.
 */
DD_MUST_CHECK bool httpd_start(struct event_base *base, const HttpdOptions *opt,
                               const HttpdRoute *routes, size_t n, Httpd **out);

/* The port it listens on (after port 0). */
int httpd_port(const Httpd *h);

/* The context of new HTTPS connections (promise 8); the caller keeps owning both. */
void httpd_set_tls(Httpd *h, struct ssl_ctx_st *tls);

/* Stop listening and free; requests still kept must have been answered. */
void httpd_free(Httpd *h);

/* --- the request --- */
HttpdMethod httpd_req_method(const HttpdReq *req);
const char *httpd_req_path(const HttpdReq *req);  /* decoded path, no query */
const char *httpd_req_tail(const HttpdReq *req);  /* what follows a prefix route's prefix; "" */
const char *httpd_req_query(const HttpdReq *req); /* raw query string, "" when none */
const char *httpd_req_header(const HttpdReq *req, const char *name); /* NULL when absent */
const void *httpd_req_body(const HttpdReq *req, size_t *len);
/* The body as a JSON object ({} when empty); NULL after answering 400. */
json_t *httpd_req_json(HttpdReq *req);

/* Keep the request to answer later (see the header comment). */
void httpd_req_keep(HttpdReq *req, HttpdGoneFn on_gone, void *arg);
/* true when the request came over the Unix socket from a trusted peer (promise 9). */
bool httpd_req_local(const HttpdReq *req);
/* true once the caller of a kept request hung up. */
bool httpd_req_gone(const HttpdReq *req);

/* --- answers (exactly one per request) --- */
void httpd_add_header(HttpdReq *req, const char *name, const char *value);
void httpd_reply(HttpdReq *req, int code, const char *content_type, const void *body, size_t len);
void httpd_reply_json(HttpdReq *req, int code, json_t *obj); /* steals obj */
void httpd_reply_error(HttpdReq *req, int code, const char *fmt, ...) DD_PRINTF(3, 4);

/* The reason phrase of a status code ("Not Found"). */
const char *httpd_reason(int code);

/*
 * Read a secret (token, webhook secret) from a file that must be mode 0600
 * or stricter (no group or world bits): the first line, surrounding blanks
 * removed, not empty. what names it in errors ("token file"). DD_EXIT_CONFIG.
 */
DD_MUST_CHECK bool httpd_secret_load(const char *path, const char *what, char **out);

#endif
