/*
 * proxyapi.h - a client of the proxy's admin API (HTTP/1.1 + JSON on the
 * [proxy] admin address, loopback), for switchover and tests.
 *
 * The contract, as the proxy serves it:
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
 *                 -> 200 {"switched":N,"failed":M,"switch_ms":X}; 409 when not paused
 *   4xx           -> {"error":"..."}
 *
 * It gives the calls types: the parse functions are pure (code + body in,
 * struct or error out) so that the unit tests cover every reply shape; the
 * transport is the proxy's own client, proxy_ctl_call() (proxy/ctl.h).
 *
 * Errors: the proxy unreachable or timing out is DD_EXIT_FAIL; a reply that
 * is not the contract's JSON is DD_EXIT_PROTOCOL; a 4xx/5xx carries the
 * proxy's "error" text (a 408 from /pause is DD_EXIT_TIMEOUT, 409 is
 * DD_EXIT_CONFLICT).
 */
#ifndef DD_MAINT_PROXYAPI_H
#define DD_MAINT_PROXYAPI_H

#include <stdbool.h>

#include "common/error.h"

typedef struct ProxyApi ProxyApi;

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

/* A client of the admin API at "host:port". NULL + DD_EXIT_CONFIG when malformed. */
ProxyApi *proxyapi_open(const char *admin);
void proxyapi_close(ProxyApi *api);

/*
 * Cap the timeout of every later call at a deadline (time_mono() seconds;
 * 0: no cap), for the calls made while clients are held. A call past the
 * deadline still gets 0.2 s.
 */
void proxyapi_set_deadline(ProxyApi *api, double deadline);

/* GET /status. */
DD_MUST_CHECK bool proxyapi_status(ProxyApi *api, ProxyStatus *out);
/* POST /pause: waits up to timeout_s (+ a margin) for the proxy's answer. */
DD_MUST_CHECK bool proxyapi_pause(ProxyApi *api, int timeout_s, bool cancel, ProxyPauseReply *out);
/* POST /pause with a lease of lease_s seconds that the caller renews (proxyapi_lease). */
DD_MUST_CHECK bool proxyapi_pause_lease(ProxyApi *api, int timeout_s, bool cancel, double lease_s,
                                        ProxyPauseReply *out);
/* POST /lease: renew the pause's lease; promoting says a promotion is about to be asked for. */
DD_MUST_CHECK bool proxyapi_lease(ProxyApi *api, bool promoting);
/* POST /resume; *paused_ms gets the proxy's measure of the pause. */
DD_MUST_CHECK bool proxyapi_resume(ProxyApi *api, double *paused_ms);
/* POST /switch to conninfo (sent to the proxy as is: it needs the password). */
DD_MUST_CHECK bool proxyapi_switch(ProxyApi *api, const char *conninfo, ProxySwitchReply *out);

void proxy_status_free(ProxyStatus *st);

/* Pure parsers of one reply (HTTP status code and body). */
DD_MUST_CHECK bool proxyapi_parse_status(long code, const char *body, ProxyStatus *out);
DD_MUST_CHECK bool proxyapi_parse_pause(long code, const char *body, ProxyPauseReply *out);
DD_MUST_CHECK bool proxyapi_parse_resume(long code, const char *body, double *paused_ms);
DD_MUST_CHECK bool proxyapi_parse_switch(long code, const char *body, ProxySwitchReply *out);

#endif
