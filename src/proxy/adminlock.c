/*
 * adminlock.c - who may use the proxy's admin API (admin.c has the routes).
 *
 * Promises:
 *  1. A change (POST) needs "Authorization: Bearer <token>" equal to the
 *     token of [proxy] admin-token-file (a 0600 file), compared in constant
 *     time; so do reads (/status, /metrics) unless admin-read-auth = none.
 *     /health, /primary and /replica are open: load balancers probe them.
 *     Without a token file the API is open to whoever reaches it (the
 *     proxy warns at start); only loopback can then reach it (3).
 *  2. A change needs Content-Type: application/json, and any request with
 *     an Origin header is refused: a web page cannot send either without a
 *     CORS preflight, which nothing here answers (no CORS headers, ever).
 *  3. The TCP listener is on loopback, unless TLS (admin-tls-cert-file,
 *     admin-tls-key-file) and the token are configured: refused at start.
 *  4. On TCP, the Host header must name the listen address (or localhost
 *     on loopback): a DNS-rebinding page's requests carry its own name.
 *  5. The Unix socket listener (admin-socket, mode 0600) takes the peer's
 *     credentials instead of the token and the Host: its uid must be the
 *     proxy's or root's. 2 still holds there.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/log.h"
#include "proxy/internal.h"

/* host and port of [proxy] admin ("[::1]:6480" and "::1:6480" alike). */
static void split_addr(const char *addr, char *host, size_t hlen, char *port, size_t plen)
{
    const char *colon = strrchr(addr, ':');
    size_t n = (size_t)(colon - addr);
    if (addr[0] == '[' && n >= 2 && addr[n - 1] == ']')
        snprintf(host, hlen, "%.*s", (int)(n - 2), addr + 1);
    else
        snprintf(host, hlen, "%.*s", (int)n, addr);
    snprintf(port, plen, "%s", colon + 1);
}

/* Whether every address host resolves to is a loopback one. */
static bool is_loopback(const char *host)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
        return false;
    bool loop = true;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        if (a->ai_family == AF_INET) {
            const struct sockaddr_in *in = (const struct sockaddr_in *)a->ai_addr;
            loop &= (ntohl(in->sin_addr.s_addr) >> 24) == 127;
        } else if (a->ai_family == AF_INET6) {
            const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)a->ai_addr;
            loop &= IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) != 0;
        } else {
            loop = false;
        }
    }
    freeaddrinfo(res);
    return loop;
}

static bool admin_tls_init(Proxy *p)
{
    const ProxyOptions *o = &p->opt;
    if (!o->admin_tls_cert_file && !o->admin_tls_key_file)
        return true;
    const char *key = !o->admin_tls_cert_file ? "admin-tls-cert-file" : "admin-tls-key-file";
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx && o->admin_tls_cert_file && o->admin_tls_key_file &&
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 &&
        SSL_CTX_use_certificate_chain_file(ctx, o->admin_tls_cert_file) == 1 &&
        SSL_CTX_use_PrivateKey_file(ctx, o->admin_tls_key_file, SSL_FILETYPE_PEM) == 1 &&
        SSL_CTX_check_private_key(ctx) == 1) {
        p->admin->tls = ctx;
        return true;
    }
    char why[200] = "both files are needed";
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, why, sizeof(why));
    ERR_clear_error();
    SSL_CTX_free(ctx);
    err_set(DD_EXIT_CONFIG, "could not set up TLS for the admin API ([proxy] %s): %s", key, why);
    err_hint("give admin-tls-cert-file and admin-tls-key-file, PEM, readable by the proxy");
    return false;
}

bool admin_lock_init(Proxy *p)
{
    Admin *a = p->admin;
    const ProxyOptions *o = &p->opt;
    if (o->admin_token_file && !auth_token_load(o->admin_token_file, &a->token))
        return false;
    if (!admin_tls_init(p))
        return false;
    char host[256], port[16];
    split_addr(o->admin, host, sizeof(host), port, sizeof(port));
    bool loop = is_loopback(host);
    if (!loop && (!a->tls || !a->token)) {
        err_set(DD_EXIT_CONFIG,
                "the admin API may listen on \"%s\", not a loopback address, only with TLS and a "
                "token",
                o->admin);
        err_hint("set [proxy] admin-tls-cert-file, admin-tls-key-file and admin-token-file, or "
                 "admin = 127.0.0.1:PORT");
        return false;
    }
    const char *v6 = strchr(host, ':') ? "[" : "";
    snprintf(a->hosts[a->nhosts++], sizeof(a->hosts[0]), "%s%s%s:%s", v6, host, v6[0] ? "]" : "",
             port);
    if (loop) {
        snprintf(a->hosts[a->nhosts++], sizeof(a->hosts[0]), "localhost:%s", port);
        snprintf(a->hosts[a->nhosts++], sizeof(a->hosts[0]), "127.0.0.1:%s", port);
        snprintf(a->hosts[a->nhosts++], sizeof(a->hosts[0]), "[::1]:%s", port);
    }
    return true;
}

static struct bufferevent *tls_bev_cb(struct event_base *base, void *arg)
{
    Proxy *p = arg;
    SSL *ssl = SSL_new(p->admin->tls);
    return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                          BEV_OPT_CLOSE_ON_FREE);
}

static bool listen_unix(Proxy *p)
{
    const char *path = p->opt.admin_socket;
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(un.sun_path))
        return err_set(DD_EXIT_CONFIG, "[proxy] admin-socket \"%s\" is too long", path);
    snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path); /* left by a proxy that died */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    mode_t old = umask(0177); /* the socket is created 0600 */
    bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&un, sizeof(un)) == 0 && listen(fd, 64) == 0;
    umask(old);
    if (!ok) {
        err_errno("could not listen on admin socket \"%s\"", path);
        err_hint("check the directory of [proxy] admin-socket exists and is writable");
        if (fd >= 0)
            close(fd);
        return false;
    }
    p->admin->unix_lst = evconnlistener_new(p->base, NULL, NULL,
                                            LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
    if (!p->admin->unix_lst || !evhttp_bind_listener(p->admin->http_unix, p->admin->unix_lst))
        return err_set(DD_EXIT_FAIL, "could not serve the admin API on \"%s\"", path);
    return true;
}

bool admin_listen(Proxy *p)
{
    Admin *a = p->admin;
    char host[256], port[16];
    split_addr(p->opt.admin, host, sizeof(host), port, sizeof(port));
    if (a->tls)
        evhttp_set_bevcb(a->http, tls_bev_cb, p);
    if (!evhttp_bind_socket_with_handle(a->http, host, (ev_uint16_t)atoi(port))) {
        err_errno("could not listen on admin address \"%s\"", p->opt.admin);
        err_hint("is another process using that port? set [proxy] admin");
        return false;
    }
    if (p->opt.admin_socket && !listen_unix(p))
        return false;
    if (!a->token)
        log_warn("the admin API has no token ([proxy] admin-token-file): whoever reaches %s can "
                 "pause and switch the proxy",
                 p->opt.admin);
    return true;
}

static bool refuse(struct evhttp_request *req, int code, const char *msg)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    if (code == 401)
        evhttp_add_header(h, "WWW-Authenticate", "Bearer");
    evhttp_add_header(h, "Content-Type", "application/json");
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "{\"error\":\"%s\"}\n", msg); /* fixed texts, nothing to escape */
    evhttp_send_reply(req, code,
                      code == 401   ? "Unauthorized"
                      : code == 415 ? "Unsupported Media Type"
                                    : "Forbidden",
                      b);
    evbuffer_free(b);
    return false;
}

/* The peer of a Unix socket connection is the proxy's user or root. */
static bool peer_ok(int fd)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
           (cred.uid == geteuid() || cred.uid == 0);
}

static bool token_ok(const Admin *a, const char *header)
{
    static const char prefix[] = "Bearer ";
    if (!header || strncasecmp(header, prefix, sizeof(prefix) - 1) != 0)
        return false;
    const char *given = header + sizeof(prefix) - 1;
    uint8_t want[32], got[32];
    /* Over digests: the comparison takes the same time whatever the lengths. */
    sha256(a->token, strlen(a->token), want);
    sha256(given, strlen(given), got);
    return CRYPTO_memcmp(want, got, sizeof(want)) == 0;
}

static bool host_ok(const Admin *a, const char *host)
{
    for (int i = 0; host && i < a->nhosts; i++)
        if (strcasecmp(host, a->hosts[i]) == 0)
            return true;
    return false;
}

bool admin_allowed(Proxy *p, struct evhttp_request *req, RouteAccess access)
{
    Admin *a = p->admin;
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evhttp_request_get_connection(req));
    int fd = bev ? (int)bufferevent_getfd(bev) : -1;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    bool on_unix =
        fd >= 0 && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family == AF_UNIX;
    if (on_unix && !peer_ok(fd))
        return refuse(req, 403, "the admin socket serves only the proxy's own user and root");
    if (access == ROUTE_OPEN)
        return true;
    if (evhttp_find_header(in, "Origin"))
        return refuse(req, 403, "cross-origin requests are refused");
    if (!on_unix && !host_ok(a, evhttp_find_header(in, "Host")))
        return refuse(req, 403, "the Host header does not name the admin API's address");
    bool need_token = access == ROUTE_CHANGE || !p->opt.admin_reads_open;
    if (!on_unix && need_token && a->token && !token_ok(a, evhttp_find_header(in, "Authorization")))
        return refuse(req, 401, "a valid bearer token is required ([proxy] admin-token-file)");
    const char *ct = evhttp_find_header(in, "Content-Type");
    if (access == ROUTE_CHANGE &&
        (!ct || strncasecmp(ct, "application/json", 16) != 0 || (ct[16] && ct[16] != ';')))
        return refuse(req, 415, "the body must be Content-Type: application/json");
    return true;
}

void admin_lock_free(Proxy *p)
{
    Admin *a = p->admin;
    if (a->unix_lst && p->opt.admin_socket)
        unlink(p->opt.admin_socket);
    if (a->token) {
        explicit_bzero(a->token, strlen(a->token));
        free(a->token);
    }
    SSL_CTX_free(a->tls);
}
