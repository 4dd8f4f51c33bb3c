/*
 * tls.h - the proxy's TLS contexts (OpenSSL), on both legs, with
 * PgBouncer's client_tls_* / server_tls_* meanings:
 *
 *   client-tls-mode  disable   SSLRequest answered 'N'
 *                    allow,    TLS when the client asks for it, plain otherwise
 *                    prefer
 *                    require   plain clients are refused (FATAL 28000)
 *                    verify-ca, verify-full: require, and a client certificate
 *                              valid under client-tls-ca-file (verify-full: its
 *                              common name is the user name)
 *   client-tls-ca-file   with allow..require: a client certificate is asked and,
 *                        when given, must be valid
 *   client-tls-protocols "secure" (TLS 1.2 and 1.3), "all", or a list such as
 *                        "tlsv1.2,tlsv1.3"
 *   client-tls-ciphers   "default", "secure", "fast", "normal", "all", or an
 *                        OpenSSL cipher list (TLS 1.2)
 *   server-tls-mode  disable   plain to the server
 *                    prefer    TLS when the server accepts it, plain otherwise
 *                    require   TLS, the certificate not checked
 *                    verify-ca TLS, the certificate valid under server-tls-ca-file
 *                    verify-full  ... and its name is the host of the conninfo
 *
 * The contexts are reference counted by OpenSSL: tls_reload() builds new
 * ones from the files and swaps them in; connections keep the one they
 * started with, so a reload (SIGHUP) drops no session.
 */
#ifndef DD_PROXY_TLS_H
#define DD_PROXY_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "proxy/proxy.h"

typedef enum {
    TLS_CLIENT_DISABLE = 0,
    TLS_CLIENT_ALLOW = 1,
    TLS_CLIENT_PREFER = 2,
    TLS_CLIENT_REQUIRE = 3,
    TLS_CLIENT_VERIFY_CA = 4,
    TLS_CLIENT_VERIFY_FULL = 5
} TlsClientMode;

typedef enum {
    TLS_SERVER_DISABLE = 0,
    TLS_SERVER_PREFER = 1,
    TLS_SERVER_REQUIRE = 2,
    TLS_SERVER_VERIFY_CA = 3,
    TLS_SERVER_VERIFY_FULL = 4
} TlsServerMode;

#define TLS_CBIND_MAX 64 /* the largest certificate hash (SHA-512) */

typedef struct {
    TlsClientMode client_mode;
    TlsServerMode server_mode;
    struct ssl_ctx_st *client_ctx; /* the proxy as a TLS server, for its clients; NULL: none */
    struct ssl_ctx_st *server_ctx; /* the proxy as a TLS client, to servers; NULL: none */
} Tls;

/* Check the options and build the contexts (DD_EXIT_CONFIG on a bad file or value). */
DD_MUST_CHECK bool tls_init(Tls *t, const ProxyOptions *o);
/* Build the contexts again from the files; on failure the old ones stay (error set). */
DD_MUST_CHECK bool tls_reload(Tls *t, const ProxyOptions *o);
void tls_free(Tls *t);

/* A new SSL for an accepted client, or one to a server named host (for verify-full). */
struct ssl_st *tls_client_ssl(const Tls *t);
struct ssl_st *tls_server_ssl(const Tls *t, const char *host);

/*
 * The tls-server-end-point channel binding data of a connection the proxy
 * serves (RFC 5929): the hash of its own certificate, with the hash of the
 * certificate's signature (SHA-256 when that is MD5 or SHA-1).
 */
DD_MUST_CHECK bool tls_cbind_end_point(struct ssl_st *ssl, uint8_t out[TLS_CBIND_MAX], size_t *len);

/* The common name of the client's certificate checked against user (verify-full). */
DD_MUST_CHECK bool tls_client_cert_matches(struct ssl_st *ssl, const char *user);

/* Parse a client-tls-protocols value into OpenSSL's min/max versions (pure, tested). */
DD_MUST_CHECK bool tls_parse_protocols(const char *text, int *min_version, int *max_version);

#endif
