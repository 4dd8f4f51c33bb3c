/*
 * tls.c - the proxy's TLS contexts (tls.h).
 */
#include "proxy/tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "common/mem.h"

static const char *const client_modes[] = {"disable", "allow",     "prefer",
                                           "require", "verify-ca", "verify-full"};
static const char *const server_modes[] = {"disable", "prefer", "require", "verify-ca",
                                           "verify-full"};

static int mode_index(const char *v, const char *const *names, int n)
{
    for (int i = 0; v && i < n; i++)
        if (strcmp(v, names[i]) == 0)
            return i;
    return v ? -1 : 0;
}

static bool tls_fail(const char *what, const char *file, const char *key)
{
    char ossl[200] = "";
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, ossl, sizeof(ossl));
    ERR_clear_error();
    err_set(DD_EXIT_CONFIG, "could not %s \"%s\" ([proxy] %s): %s", what, file, key,
            ossl[0] ? ossl : "unknown error");
    err_hint("check the file: PEM, readable by the proxy's user, the key matching the "
             "certificate");
    return false;
}

bool tls_parse_protocols(const char *text, int *min_version, int *max_version)
{
    static const struct {
        const char *name;
        int version;
    } names[] = {{"tlsv1.0", TLS1_VERSION},
                 {"tlsv1.1", TLS1_1_VERSION},
                 {"tlsv1.2", TLS1_2_VERSION},
                 {"tlsv1.3", TLS1_3_VERSION}};
    if (!text || strcmp(text, "secure") == 0) {
        *min_version = TLS1_2_VERSION;
        *max_version = 0;
        return true;
    }
    if (strcmp(text, "all") == 0 || strcmp(text, "legacy") == 0) {
        *min_version = TLS1_VERSION;
        *max_version = 0;
        return true;
    }
    int lo = 0, hi = 0;
    const char *p = text;
    while (*p) {
        size_t n = strcspn(p, ", ");
        int v = 0;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            if (strlen(names[i].name) == n && strncasecmp(p, names[i].name, n) == 0)
                v = names[i].version;
        if (!v) {
            err_set(DD_EXIT_CONFIG,
                    "invalid [proxy] client-tls-protocols \"%s\": expected secure, all, or "
                    "a list of tlsv1.0, tlsv1.1, tlsv1.2, tlsv1.3",
                    text);
            err_hint("PgBouncer's client_tls_protocols values are accepted");
            return false;
        }
        lo = lo == 0 || v < lo ? v : lo;
        hi = v > hi ? v : hi;
        p += n;
        p += strspn(p, ", ");
    }
    if (!lo)
        return err_set(DD_EXIT_CONFIG, "empty [proxy] client-tls-protocols");
    *min_version = lo;
    *max_version = hi;
    return true;
}

static const char *cipher_list(const char *v)
{
    /* PgBouncer's aliases (libusual's tls): anything else is an OpenSSL list. */
    if (!v || strcmp(v, "default") == 0 || strcmp(v, "secure") == 0)
        return "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES";
    if (strcmp(v, "fast") == 0 || strcmp(v, "normal") == 0)
        return "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:HIGH:!aNULL:!eNULL";
    if (strcmp(v, "all") == 0 || strcmp(v, "compat") == 0 || strcmp(v, "legacy") == 0)
        return "ALL:!aNULL:!eNULL";
    return v;
}

/* The proxy as a TLS server, for its clients. */
static SSL_CTX *client_ctx_new(const ProxyOptions *o, TlsClientMode mode)
{
    int lo, hi;
    if (!tls_parse_protocols(o->client_tls_protocols, &lo, &hi))
        return NULL;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        tls_fail("create a TLS context for", "client-tls", "client-tls-mode");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, lo);
    SSL_CTX_set_max_proto_version(ctx, hi);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    /* One read() takes every record the socket holds, not a header then a body (io.c). */
    SSL_CTX_set_read_ahead(ctx, 1);
    bool ok = true;
    if (SSL_CTX_set_cipher_list(ctx, cipher_list(o->client_tls_ciphers)) != 1) {
        ok = tls_fail("use the cipher list", o->client_tls_ciphers, "client-tls-ciphers");
    } else if (SSL_CTX_use_certificate_chain_file(ctx, o->client_tls_cert_file) != 1) {
        ok = tls_fail("load the certificate", o->client_tls_cert_file, "client-tls-cert-file");
    } else if (SSL_CTX_use_PrivateKey_file(ctx, o->client_tls_key_file, SSL_FILETYPE_PEM) != 1 ||
               SSL_CTX_check_private_key(ctx) != 1) {
        ok = tls_fail("load the private key", o->client_tls_key_file, "client-tls-key-file");
    } else if (o->client_tls_ca_file) {
        if (SSL_CTX_load_verify_locations(ctx, o->client_tls_ca_file, NULL) != 1) {
            ok = tls_fail("load the CA certificates", o->client_tls_ca_file, "client-tls-ca-file");
        } else {
            STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->client_tls_ca_file);
            if (names)
                SSL_CTX_set_client_CA_list(ctx, names);
            int verify = SSL_VERIFY_PEER;
            if (mode >= TLS_CLIENT_VERIFY_CA)
                verify |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
            SSL_CTX_set_verify(ctx, verify, NULL);
        }
    }
    if (!ok) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* The proxy as a TLS client, to servers. */
static SSL_CTX *server_ctx_new(const ProxyOptions *o, TlsServerMode mode)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        tls_fail("create a TLS context for", "server-tls", "server-tls-mode");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_read_ahead(ctx, 1);
    if (mode >= TLS_SERVER_VERIFY_CA) {
        bool ok = o->server_tls_ca_file
                      ? SSL_CTX_load_verify_locations(ctx, o->server_tls_ca_file, NULL) == 1
                      : SSL_CTX_set_default_verify_paths(ctx) == 1;
        if (!ok) {
            tls_fail("load the CA certificates",
                     o->server_tls_ca_file ? o->server_tls_ca_file : "(system default)",
                     "server-tls-ca-file");
            SSL_CTX_free(ctx);
            return NULL;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }
    return ctx;
}

static bool tls_build(Tls *t, const ProxyOptions *o, SSL_CTX **cctx, SSL_CTX **sctx)
{
    int cm = mode_index(o->client_tls_mode, client_modes, 6);
    int sm = mode_index(o->server_tls_mode, server_modes, 5);
    if (cm < 0 || sm < 0)
        return err_set(DD_EXIT_CONFIG, "invalid [proxy] %s \"%s\"",
                       cm < 0 ? "client-tls-mode" : "server-tls-mode",
                       cm < 0 ? o->client_tls_mode : o->server_tls_mode);
    t->client_mode = (TlsClientMode)cm;
    t->server_mode = (TlsServerMode)sm;
    *cctx = *sctx = NULL;
    if (cm != TLS_CLIENT_DISABLE) {
        if (!o->client_tls_cert_file || !o->client_tls_key_file) {
            err_set(DD_EXIT_CONFIG,
                    "[proxy] client-tls-mode = %s needs client-tls-cert-file and "
                    "client-tls-key-file",
                    o->client_tls_mode);
            err_hint("give the proxy's certificate and key (PEM), or set client-tls-mode = "
                     "disable");
            return false;
        }
        if (cm >= TLS_CLIENT_VERIFY_CA && !o->client_tls_ca_file) {
            err_set(DD_EXIT_CONFIG, "[proxy] client-tls-mode = %s needs client-tls-ca-file",
                    o->client_tls_mode);
            err_hint("give the CA that signs the clients' certificates");
            return false;
        }
        if (!(*cctx = client_ctx_new(o, t->client_mode)))
            return false;
    }
    if (sm != TLS_SERVER_DISABLE && !(*sctx = server_ctx_new(o, t->server_mode))) {
        SSL_CTX_free(*cctx);
        *cctx = NULL;
        return false;
    }
    return true;
}

bool tls_init(Tls *t, const ProxyOptions *o)
{
    memset(t, 0, sizeof(*t));
    return tls_build(t, o, &t->client_ctx, &t->server_ctx);
}

bool tls_reload(Tls *t, const ProxyOptions *o)
{
    Tls fresh = *t;
    SSL_CTX *cctx, *sctx;
    if (!tls_build(&fresh, o, &cctx, &sctx))
        return false;
    SSL_CTX_free(t->client_ctx); /* connections hold their own reference */
    SSL_CTX_free(t->server_ctx);
    t->client_ctx = cctx;
    t->server_ctx = sctx;
    return true;
}

void tls_free(Tls *t)
{
    SSL_CTX_free(t->client_ctx);
    SSL_CTX_free(t->server_ctx);
    t->client_ctx = t->server_ctx = NULL;
}

struct ssl_st *tls_client_ssl(const Tls *t)
{
    return t->client_ctx ? SSL_new(t->client_ctx) : NULL;
}

struct ssl_st *tls_server_ssl(const Tls *t, const char *host)
{
    if (!t->server_ctx)
        return NULL;
    SSL *ssl = SSL_new(t->server_ctx);
    if (!ssl || !host || host[0] == '/')
        return ssl;
    unsigned char addr[16];
    bool numeric = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
    if (!numeric)
        SSL_set_tlsext_host_name(ssl, host);
    if (t->server_mode == TLS_SERVER_VERIFY_FULL) {
        X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
        if (numeric)
            X509_VERIFY_PARAM_set1_ip_asc(param, host);
        else
            X509_VERIFY_PARAM_set1_host(param, host, 0);
    }
    return ssl;
}

bool tls_cbind_end_point(struct ssl_st *ssl, uint8_t out[TLS_CBIND_MAX], size_t *len)
{
    X509 *cert = SSL_get_certificate(ssl);
    int md_nid = NID_undef, pk_nid;
    if (!cert || !OBJ_find_sigid_algs(X509_get_signature_nid(cert), &md_nid, &pk_nid))
        return false;
    const EVP_MD *md =
        (md_nid == NID_md5 || md_nid == NID_sha1) ? EVP_sha256() : EVP_get_digestbynid(md_nid);
    unsigned int n = 0;
    if (!md || EVP_MD_size(md) > TLS_CBIND_MAX || X509_digest(cert, md, out, &n) != 1)
        return false;
    *len = n;
    return true;
}

bool tls_client_cert_matches(struct ssl_st *ssl, const char *user)
{
    X509 *peer = SSL_get1_peer_certificate(ssl);
    if (!peer)
        return false;
    char cn[256] = "";
    X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof(cn));
    X509_free(peer);
    return strcmp(cn, user) == 0;
}
