/*
 * proxy.h - the PostgreSQL traffic proxy: a single-threaded libevent loop
 * in session mode (one server connection per client session) that can
 * pause its clients at transaction boundaries, move them to another server
 * and resume them, driven by an HTTP+JSON admin API (admin.c).
 *
 * The module's files: proto (framing), auth (credentials, SCRAM, md5),
 * session (a session's state machine), phase (the proxy's), io (sockets,
 * TLS), tls (contexts), client (client side), server (server side), target
 * (where servers are, where /switch may go), proxy (loop, pause / resume /
 * switch), admin (HTTP API), adminlock (who may use it), metrics
 * (/metrics), probe (the server's role, for /primary and /replica), ctl
 * (the API's client).
 */
#ifndef DD_PROXY_PROXY_H
#define DD_PROXY_PROXY_H

#include <stdbool.h>

#include "common/error.h"
#include "config/config.h"

typedef struct {
    const char *listen;      /* host:port for clients */
    const char *admin;       /* host:port of the admin API */
    AuthMethod auth;         /* how clients authenticate */
    const char *credentials; /* userlist file */
    const char *server;      /* conninfo of the server */
    int login_timeout;       /* seconds */
    int pause_timeout;       /* seconds, default deadline of a pause */
    int stats_period;        /* seconds between summary log lines; 0: none */
    int max_clients;

    /* Authentication to servers: the weakest password method the proxy uses. */
    const char *server_auth;  /* "scram-sha-256" (default) | "md5" | "password" */
    int scram_max_iterations; /* the most SCRAM iterations a server may ask (0: default) */

    /* TLS (tls.h): PgBouncer's client_tls_* and server_tls_* meanings. */
    const char *client_tls_mode; /* disable | allow | prefer | require (NULL: disable) */
    const char *client_tls_cert_file, *client_tls_key_file, *client_tls_ca_file;
    const char *client_tls_protocols, *client_tls_ciphers;
    const char *server_tls_mode; /* disable | prefer | require | verify-ca | verify-full */
    const char *server_tls_ca_file;

    /* The admin API's lock (admin.c). */
    const char *admin_token_file; /* bearer token file (mandatory: start fails without) */
    bool admin_reads_open;        /* GET without the token (admin-read-auth = none) */
    const char *admin_socket;     /* Unix socket listener, or NULL */
    const char *admin_tls_cert_file, *admin_tls_key_file;
    const char *switch_servers[4]; /* the conninfos /switch may go to (NULL-ended) */
    const char *config_file;       /* read again for /switch's other targets; NULL: none */
    double probe_interval;         /* seconds between probes of the server's role; 0: none */
} ProxyOptions;

typedef struct Proxy Proxy;

/* Bind the listeners and read the credentials; NULL + error on failure. */
Proxy *proxy_new(const ProxyOptions *opt);
/* Run until SIGTERM or SIGINT; SIGHUP reloads the credentials and the TLS certificates. */
DD_MUST_CHECK bool proxy_run(Proxy *p);
void proxy_free(Proxy *p);

#endif
