/*
 * ctl.h - the one client of the proxy's admin API (HTTP/1.1 + JSON over
 * libcurl, opened on first use), typed, for "drydock proxy-ctl",
 * "drydock switchover" and the maintenance runner.
 *
 * The contract, as the proxy serves it (admin.c has the server's side):
 *
 *   GET  /status  -> 200 {"paused":bool,"server":"<redacted conninfo>","clients":N,
 *                         "sessions":[{"id":N,"tx":"idle|in-transaction|failed",...}],
 *                         "counters":{...}}
 *   POST /pause   {"timeout":S,"on_timeout":"resume"|"cancel"}
 *                 -> 200 {"paused":true,"held":N,"wait_ms":X[,"cancelled":M]}
 *                 -> 408 {"paused":false,"error":"...","open":[ids]}   (deadline, resumed)
 *   POST /resume  -> 200 {"paused":false,"paused_ms":X}; 409 when not paused
 *   POST /lease   {"promoting":bool} -> 200 {"lease_s":L,"promoting":bool}; 409 unless
 *                 paused under a lease (a /pause with "lease":L starts one)
 *   POST /switch  {"server":"<conninfo>"}
 *                 -> 200 {"switched":N,"failed":M,"switch_ms":X}; 409 when not paused;
 *                 403 when the proxy's configuration does not name that server
 *                 {"server":"<conninfo>","check":true} -> 200 {"allowed":true}, or 403
 *   4xx           -> {"error":"..."}
 *
 * Every request carries "Authorization: Bearer <token>" when a token file
 * is configured ([proxy] admin-token-file, read here, mode 0600).
 *
 * Errors: the proxy unreachable or timing out is DD_EXIT_FAIL; a reply that
 * is not the contract's JSON is DD_EXIT_PROTOCOL; an HTTP error status is
 * mapped by proxy_ctl_exit_for_status(), the one mapping (its table is in
 * ctl.c), and carries the proxy's "error" text.
 */
#ifndef DD_PROXY_CTL_H
#define DD_PROXY_CTL_H

#include <stdbool.h>

#include "common/error.h"
#include "config/config.h"

typedef struct ProxyCtl ProxyCtl;

typedef struct {
    const char *admin;      /* host:port of the admin API */
    const char *socket;     /* its Unix socket, used instead when set */
    const char *token_file; /* bearer token, or NULL */
    const char *ca_file;    /* when set, https:// checked against this CA */
} ProxyCtlOptions;

typedef struct {
    bool paused;
    char *server;       /* redacted conninfo the proxy points at (owned) */
    int clients;        /* client connections */
    int sessions;       /* entries in "sessions" */
    int in_transaction; /* sessions whose tx is not "idle" */
} ProxyStatus;

typedef struct {
    bool paused;
    int held;
    int cancelled;
    double wait_ms;
} ProxyPauseReply;

typedef struct {
    int switched;
    int failed;
    double switch_ms;
} ProxySwitchReply;

/* The client options the configuration gives ([proxy] admin, admin-socket, ...). */
ProxyCtlOptions proxy_ctl_options(const Config *cfg);
/* A client; NULL + DD_EXIT_CONFIG when the address is malformed or the token unreadable. */
ProxyCtl *proxy_ctl_open(const ProxyCtlOptions *o);
void proxy_ctl_close(ProxyCtl *c);

/* GET /status. */
DD_MUST_CHECK bool proxy_ctl_status(ProxyCtl *c, ProxyStatus *out);
/* POST /pause; timeout_s <= 0 uses the proxy's default. Waits for the answer (+ margin). */
DD_MUST_CHECK bool proxy_ctl_pause(ProxyCtl *c, double timeout_s, bool cancel,
                                   ProxyPauseReply *out);
/* POST /pause with a lease of lease_s seconds that the caller renews (proxy_ctl_lease). */
DD_MUST_CHECK bool proxy_ctl_pause_lease(ProxyCtl *c, double timeout_s, bool cancel, double lease_s,
                                         ProxyPauseReply *out);
/* POST /lease: renew the pause's lease; promoting says a promotion is about to be asked for. */
DD_MUST_CHECK bool proxy_ctl_lease(ProxyCtl *c, bool promoting);
/*
 * Cap the timeout of every later call at a deadline (time_mono() seconds;
 * 0: no cap), for the calls made while clients are held. A call past the
 * deadline still gets 0.2 s.
 */
void proxy_ctl_set_deadline(ProxyCtl *c, double deadline);
/* POST /resume; *paused_ms gets the proxy's measure of the pause. */
DD_MUST_CHECK bool proxy_ctl_resume(ProxyCtl *c, double *paused_ms);
/* POST /switch to conninfo (a server the proxy's configuration names). */
DD_MUST_CHECK bool proxy_ctl_switch(ProxyCtl *c, const char *conninfo, double timeout_s,
                                    ProxySwitchReply *out);
/*
 * POST /switch {"prepare": true}: while paused, the proxy opens its held
 * sessions' connections to conninfo ahead of the switch (proxy/preconnect.c);
 * *opened says how many.
 */
DD_MUST_CHECK bool proxy_ctl_preconnect(ProxyCtl *c, const char *conninfo, int *opened);
/*
 * POST /switch {"check": true}: whether the proxy would accept conninfo as
 * a switch target (a server its configuration names). Changes nothing;
 * false with the proxy's reason (DD_EXIT_CONFIG for 403) otherwise.
 */
DD_MUST_CHECK bool proxy_ctl_switch_check(ProxyCtl *c, const char *conninfo);
/* The body and status of the last reply (for --json output), or NULL. */
const char *proxy_ctl_last_body(const ProxyCtl *c);
long proxy_ctl_last_status(const ProxyCtl *c);

void proxy_status_free(ProxyStatus *st);

/* The one mapping from an HTTP status of the admin API to an exit code. */
DdExit proxy_ctl_exit_for_status(long status);

/* Pure parsers of one reply (HTTP status code and body). */
DD_MUST_CHECK bool proxy_ctl_parse_status(long code, const char *body, ProxyStatus *out);
DD_MUST_CHECK bool proxy_ctl_parse_pause(long code, const char *body, ProxyPauseReply *out);
DD_MUST_CHECK bool proxy_ctl_parse_resume(long code, const char *body, double *paused_ms);
DD_MUST_CHECK bool proxy_ctl_parse_switch(long code, const char *body, ProxySwitchReply *out);

#endif
