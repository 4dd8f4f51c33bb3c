/*
 * proxy.h - the PostgreSQL traffic proxy: a single-threaded libevent loop
 * in session mode (one server connection per client session) that can
 * pause its clients at transaction boundaries, move them to another server
 * and resume them, driven by an HTTP+JSON admin API (admin.c).
 *
 * The module's files: proto (framing), auth (credentials, SCRAM, md5),
 * session (state machine), client (client side I/O), server (server side
 * I/O), proxy (loop, pause/resume/switch), admin (HTTP API).
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
    int max_clients;
} ProxyOptions;

typedef struct Proxy Proxy;

/* Bind the listeners and read the credentials; NULL + error on failure. */
Proxy *proxy_new(const ProxyOptions *opt);
/* Run until SIGTERM or SIGINT; SIGHUP reloads the credentials. */
DD_MUST_CHECK bool proxy_run(Proxy *p);
void proxy_free(Proxy *p);

#endif
