/*
 * adminlock.c - who may use the proxy's admin API (admin.c has the routes;
 * common/httpd.h enforces what it can, this file configures it):
 *
 *  1. A change (POST) needs "Authorization: Bearer <token>" equal to the
 *     token of [proxy] admin-token-file (a 0600 file), compared in constant
 *     time; so do reads (/status, /metrics) unless admin-read-auth = none.
 *     /health, /primary and /replica are open: load balancers probe them.
 *     The token file is mandatory: without admin-token-file the proxy
 *     refuses to start (exit 3, a HINT naming proxy-ctl token-create).
 *  2. A change needs Content-Type: application/json, and any request with
 *     an Origin header is refused (but the open checks of 1): a web page
 *     cannot send either without a CORS preflight, which nothing answers
 *     (no CORS headers, ever).
 *  3. The TCP listener is on loopback, unless TLS (admin-tls-cert-file,
 *     admin-tls-key-file) is configured: refused at start. Its certificate
 *     is read again on SIGHUP (admin_lock_reload), for new connections.
 *  4. On a loopback TCP listener, the Host header must name the listen
 *     address or localhost: a DNS-rebinding page's requests carry its own
 *     name. (Elsewhere any name may be right; the token, required there,
 *     is the defence.)
 *  5. The Unix socket listener (admin-socket, mode 0600) takes the peer's
 *     credentials instead of the token and the Host: its uid must be the
 *     proxy's or root's. 2 still holds there.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/httpd.h"
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

/* A server context from admin-tls-cert-file and -key-file into *out (NULL when neither is set). */
static bool admin_tls_load(const ProxyOptions *o, SSL_CTX **out)
{
    *out = NULL;
    if (!o->admin_tls_cert_file && !o->admin_tls_key_file)
        return true;
    const char *key = !o->admin_tls_cert_file ? "admin-tls-cert-file" : "admin-tls-key-file";
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx && o->admin_tls_cert_file && o->admin_tls_key_file &&
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 &&
        SSL_CTX_use_certificate_chain_file(ctx, o->admin_tls_cert_file) == 1 &&
        SSL_CTX_use_PrivateKey_file(ctx, o->admin_tls_key_file, SSL_FILETYPE_PEM) == 1 &&
        SSL_CTX_check_private_key(ctx) == 1) {
        *out = ctx;
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

bool admin_lock_reload(Proxy *p)
{
    Admin *a = p->admin;
    SSL_CTX *ctx;
    if (!a || !a->tls)
        return true; /* plain HTTP stays plain: the listener was set up without TLS */
    if (!admin_tls_load(&p->opt, &ctx))
        return false;
    /* Connections already open hold a reference to the old context (SSL_new). */
    httpd_set_tls(a->httpd, ctx);
    SSL_CTX_free(a->tls);
    a->tls = ctx;
    return true;
}

bool admin_lock_init(Proxy *p)
{
    Admin *a = p->admin;
    const ProxyOptions *o = &p->opt;
    if (!o->admin_token_file) {
        err_set(DD_EXIT_CONFIG,
                "the proxy needs an admin token: [proxy] admin-token-file is not set");
        err_hint("create one with \"drydock proxy-ctl token-create FILE\" (32 random bytes, mode "
                 "0600) and set admin-token-file = FILE");
        return false;
    }
    if (!auth_token_load(o->admin_token_file, &a->token) || !admin_tls_load(o, &a->tls))
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
    if (!loop)
        return true; /* any name may reach it: the token, required here, is the defence */
    const char *v6 = strchr(host, ':') ? "[" : "";
    snprintf(a->hosts, sizeof(a->hosts), "%s%s%s:%s,localhost:%s,127.0.0.1:%s,[::1]:%s", v6, host,
             v6[0] ? "]" : "", port, port, port, port);
    return true;
}

bool admin_origin_ok(HttpdReq *req)
{
    if (!httpd_req_header(req, "Origin"))
        return true;
    httpd_reply_error(req, 403, "cross-origin requests are refused");
    return false;
}

void admin_lock_free(Proxy *p)
{
    Admin *a = p->admin;
    if (a->token) {
        explicit_bzero(a->token, strlen(a->token));
        free(a->token);
        a->token = NULL;
    }
    SSL_CTX_free(a->tls);
    a->tls = NULL;
}
