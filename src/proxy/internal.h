/*
 * internal.h - what the files of the proxy module share (proxy.c, client.c,
 * server.c, admin.c). Nothing outside src/proxy/ includes it; the module's
 * interface is proxy.h.
 *
 * Ownership: the Proxy owns its sessions (a doubly linked list); a Session
 * owns its client connection (io.h) and its Server(s). A closed session is moved to
 * the dead list and freed from a zero-delay event, never inside the callback
 * that closed it (a callback up the stack may still use it).
 *
 * Backpressure: every connection reads at most PROXY_BUF_HIGH bytes ahead
 * (Io read_max) and a pump stops moving bytes while the other side's
 * output holds more than PROXY_BUF_HIGH; the write callback of that side
 * restarts the pump once its output is drained. Nothing is buffered whole.
 */
#ifndef DD_PROXY_INTERNAL_H
#define DD_PROXY_INTERNAL_H

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/mem.h"
#include "proxy/auth.h"
#include "proxy/io.h"
#include "proxy/phase.h"
#include "proxy/proxy.h"
#include "proxy/session.h"
#include "proxy/tls.h"

#define PROXY_BUF_HIGH      (256 * 1024)
#define PROXY_TRACK_MAX     (64 * 1024) /* largest Parse/Close/ParameterStatus tracked */
#define PROXY_HANDSHAKE_MAX (64 * 1024) /* largest server message during its startup */
#define PROXY_CANCEL_GRACE  2.0         /* seconds cancelled queries get to finish */

/* Where server connections go. */
typedef struct {
    char *conninfo; /* as given (may hold a password: never printed) */
    char *redacted;
    char host[256]; /* the host it names (TLS verify-full, SNI) */
    char user[64];  /* the user it names, "" when none (the role probe) */
    struct sockaddr_storage addr;
    socklen_t addr_len;
} ServerTarget;

typedef enum {
    SERVER_TCP = 0,     /* connecting */
    SERVER_AUTH = 1,    /* startup sent, authenticating */
    SERVER_STARTUP = 2, /* authenticated, reading parameters up to ReadyForQuery */
    SERVER_REPLAY = 3,  /* re-preparing the session's statements */
    SERVER_READY = 4,   /* forwarding */
    SERVER_SSLREQ = 5,  /* SSLRequest sent, waiting for 'S' or 'N' */
    SERVER_TLS = 6      /* TLS handshake */
} ServerPhase;

typedef struct Server {
    Session *session;
    Io *io;
    ServerPhase phase;
    char host[256]; /* the host of its target (TLS verify-full, SNI) */
    ScramClient scram;
    bool scram_used;
    uint32_t pid, key; /* the server's BackendKeyData */
    struct sockaddr_storage addr;
    socklen_t addr_len;
    uint64_t frame_left; /* bytes of the current server message still to pass */
    struct event *timer; /* handshake deadline */
    bool write_blocked;  /* server reading stopped: the client's output is full */
    bool tls;            /* the connection is encrypted */
} Server;

typedef struct {
    uint64_t connections, transactions, queries, bytes_in, bytes_out;
    uint64_t pauses, switches, server_errors;
    uint64_t auth_failures;   /* clients refused: password, TLS required, certificate */
    uint64_t switch_failures; /* sessions a switch could not move */
    uint64_t pause_timeouts;  /* pauses released at their deadline */
} ProxyCounters;

/* How long clients were held, pause to release (metrics.c renders it). */
#define PROXY_HOLD_BUCKETS 12
typedef struct {
    uint64_t counts[PROXY_HOLD_BUCKETS + 1]; /* per bucket, not cumulative; the last is +Inf */
    uint64_t count;
    double sum; /* seconds */
} ProxyHistogram;

/* The role of the current server, as its in_hot_standby says (probe.c). */
typedef enum { PROXY_ROLE_UNKNOWN = 0, PROXY_ROLE_PRIMARY = 1, PROXY_ROLE_REPLICA = 2 } ProxyRole;

/*
 * The core's answers (pause, resume, switch): its own result codes, not
 * HTTP statuses; what is under way reports its end through a callback.
 */
typedef enum {
    PROXY_DONE = 0,           /* done at once (or nothing to do) */
    PROXY_STARTED = 1,        /* under way: the callback reports its end (maybe already did) */
    PROXY_ERR_BUSY = 2,       /* a pause or a switch is in progress */
    PROXY_ERR_NOT_PAUSED = 3, /* resume or switch without a complete pause */
    PROXY_ERR_SERVER = 4,     /* switch: the server is invalid (error slot) */
    PROXY_ERR_NOT_ALLOWED = 5 /* switch: the configuration does not name it (error slot) */
} ProxyResult;

/* How a pause asked with proxy_pause() ended. */
typedef enum {
    PROXY_PAUSE_HELD = 0,      /* every session is held: the proxy is PAUSED */
    PROXY_PAUSE_DEADLINE = 1,  /* the deadline passed (on_timeout = resume): released */
    PROXY_PAUSE_RESUMED = 2,   /* resumed before it completed */
    PROXY_PAUSE_ABANDONED = 3, /* its caller went away: released */
    PROXY_PAUSE_SHUTDOWN = 4   /* the proxy is stopping */
} ProxyPauseEnd;

typedef void (*ProxyPauseCb)(Proxy *p, ProxyPauseEnd end, void *arg);
/* A switch ended: p->switch_ok sessions moved, p->switch_failed did not. */
typedef void (*ProxySwitchCb)(Proxy *p, void *arg);

struct Admin; /* metrics.c */
extern const double proxy_hold_bounds[PROXY_HOLD_BUCKETS];
void proxy_histogram_observe(ProxyHistogram *h, double seconds);
/* /metrics: the Prometheus text exposition format (version 0.0.4). */
void proxy_metrics_render(const Proxy *p, Buf *out);

/* probe.c: learn the current server's role every few seconds, and at once on demand */
void proxy_probe_start(Proxy *p);
void proxy_probe_now(Proxy *p);
void proxy_probe_free(Proxy *p);

/* admin.c */

struct Proxy {
    struct event_base *base;
    ProxyOptions opt;
    Credentials creds;
    Tls tls;
    ServerTarget target;
    ServerTarget allowed[4]; /* where /switch may go: the servers the configuration names */
    size_t nallowed;
    struct evconnlistener *listener;
    struct event *sig_term, *sig_int, *sig_hup;
    struct event *reaper;
    Session *sessions, *dead;
    size_t nclients;
    int nstate[SESSION_N_STATES]; /* sessions per state, kept by proxy_session_hook() */
    uint32_t next_id;
    ProxyCounters counters;
    ProxyHistogram holds;
    ProxyRole role;                             /* of the current server, from the last probe */
    double role_checked_at;                     /* time_mono() of that probe; 0: never */
    char role_error[256];                       /* why the last probe failed, "" when it did not */
    struct Probe *probe;                        /* probe.c */
    uint8_t mock_secret[SCRAM_MOCK_SECRET_LEN]; /* salts of the mock SCRAM exchange */
    struct Admin *admin;

    ProxyPhase phase; /* phase.h; changed by proxy_set_phase() only */

    /* pause */
    bool pause_cancel; /* on_timeout = cancel */
    double pause_started, pause_done_at;
    int cancelled;
    struct event *pause_timer;
    ProxyPauseCb pause_cb; /* cleared before it is called */
    void *pause_arg;

    /* the pause's lease (proxy_lease): 0 = none */
    double lease_s;
    bool lease_promoting; /* the holder said it is promoting a new primary */
    bool pause_switched;  /* a /switch happened during this pause */
    bool fenced;          /* the lease expired after a promotion: sessions are refused */
    struct event *lease_timer;
    struct event *stats_timer; /* the periodic summary line (stats.c) */
    ProxyCounters stats_prev;  /* the counters at the last summary */
    double stats_at;           /* time_mono() of the last summary */

    /* connections opened ahead of a switch (preconnect.c) */
    ServerTarget pre_target;
    bool has_pre;

    /* switch */
    double switch_started;
    int switch_ok, switch_failed;
    ProxySwitchCb switch_cb;
    void *switch_arg;
};

/* proxy.c */
void proxy_session_close(Session *s, const char *why);
void proxy_session_hook(Session *s, SessionState old);
void proxy_server_ready(Session *s, Server *srv);
void proxy_server_failed(Session *s, Server *srv, const char *sqlstate, const char *message);
void proxy_server_lost(Session *s, const char *why);
void proxy_after_ready(Session *s);
void proxy_check_pause(Proxy *p);
void proxy_session_start_server(Session *s);
/* target.c */
bool proxy_target_init(ServerTarget *t, const char *conninfo);

/* preconnect.c */
ProxyResult proxy_preconnect(Proxy *p, const char *conninfo, int *opened);
void proxy_pre_drop(Proxy *p);
/* For proxy_switch: hand s its pre-opened connection when it was opened to t; true when taken. */
bool proxy_pre_take(Proxy *p, Session *s, const ServerTarget *t);
/* Callbacks from server.c for a pre-opened connection; true when srv was one. */
bool proxy_pre_ready(Session *s, struct Server *srv);
bool proxy_pre_failed(Session *s, struct Server *srv, const char *message);
void proxy_target_free(ServerTarget *t);
/* The servers /switch may go to: those named at start, then the configuration file now. */
void proxy_allowed_init(Proxy *p);
bool proxy_allowed_target(const Proxy *p, const ServerTarget *t);
double proxy_ms_since(double t0);

/*
 * --- the core: pause, resume, switch (the admin API and the pause lease) ---
 *
 * proxy_pause: hold every session at its next transaction boundary, with a
 * deadline of timeout seconds; then release them, or (cancel) cancel the
 * open transactions. DONE when the proxy is PAUSED already; BUSY while a
 * pause or switch is under way; else STARTED and cb reports the end, maybe
 * before proxy_pause returns.
 */
ProxyResult proxy_pause(Proxy *p, double timeout, bool cancel, ProxyPauseCb cb, void *arg);
/* Release the held sessions; *paused_ms = how long they were held. NOT_PAUSED, BUSY. */
ProxyResult proxy_resume(Proxy *p, double *paused_ms);
/* The caller of a pause that is not complete went away: release the sessions. */
void proxy_pause_abandoned(Proxy *p);
/*
 * Move the held sessions to the server conninfo (only while PAUSED): STARTED
 * and cb reports the counts; NOT_PAUSED, BUSY, SERVER (invalid) or
 * NOT_ALLOWED (an address the configuration does not name), error slot set.
 */
ProxyResult proxy_switch(Proxy *p, const char *conninfo, ProxySwitchCb cb, void *arg);
/*
 * Start (with /pause) or renew (/lease) the pause's lease: lease_s seconds
 * from now (0: the current length); promoting marks that the holder is about
 * to promote a new primary. DONE, or NOT_PAUSED when sessions are not held
 * under a lease (or the proxy is fenced). proxy.c says what its end does.
 */
ProxyResult proxy_lease(Proxy *p, double lease_s, bool promoting);
/* Whether /switch would accept conninfo (a dry run, in any phase): DONE, SERVER, NOT_ALLOWED. */
ProxyResult proxy_switch_allowed(Proxy *p, const char *conninfo);
/* The one way to change the proxy's phase; refuses (false, logged) what phase.h does not draw. */
bool proxy_set_phase(Proxy *p, ProxyPhase to);
int proxy_count_state(const Proxy *p, SessionState st);
/* Route a client's CancelRequest (proxy pid/key) to the session's server. */
void proxy_cancel_request(Proxy *p, uint32_t pid, uint32_t key);

/* client.c */
void client_accept(Proxy *p, evutil_socket_t fd, const struct sockaddr *sa, int salen);
uint32_t client_cancel_key(void);
void client_pump(Session *s);
void client_send(Session *s, const Buf *b);
void client_fatal(Session *s, const char *sqlstate, const char *message);

/* server.c */
Server *server_connect(Session *s, const ServerTarget *t);
void server_pump(Session *s);
void server_free(Server *srv);
/* cancel.c: a CancelRequest for srv's backend, with the sessions' server-tls-mode. */
void server_cancel(Proxy *p, const Server *srv);
void server_send(Server *srv, const Buf *b);

/* metrics.c */
extern const double proxy_hold_bounds[PROXY_HOLD_BUCKETS];
void proxy_histogram_observe(ProxyHistogram *h, double seconds);
/* /metrics: the Prometheus text exposition format (version 0.0.4). */
void proxy_metrics_render(const Proxy *p, Buf *out);

/* probe.c: learn the current server's role every few seconds, and at once on demand */
void proxy_probe_start(Proxy *p);
void proxy_probe_now(Proxy *p);
void proxy_probe_free(Proxy *p);

/* admin.c: the routes and their handlers, on common/httpd.h */
struct Httpd;
struct HttpdReq;
typedef struct Admin {
    struct Httpd *httpd;
    struct HttpdReq *pause_req;  /* a /pause waiting for the core's callback */
    struct HttpdReq *switch_req; /* a /switch waiting for the core's callback */
    /* adminlock.c */
    char *token;            /* bearer token (admin-token-file, mandatory) */
    struct ssl_ctx_st *tls; /* HTTPS on the TCP listener, or NULL */
    char hosts[1200];       /* Host header values accepted, comma-separated */
} Admin;

DD_MUST_CHECK bool admin_start(Proxy *p);
void admin_free(Proxy *p);

/* adminlock.c: who may use the admin API */
/* Read the token, check the listen address may be used, build the TLS context. */
DD_MUST_CHECK bool admin_lock_init(Proxy *p);
/* SIGHUP: read the admin TLS certificate and key again, for new connections;
 * on failure the previous ones stay in use. */
DD_MUST_CHECK bool admin_lock_reload(Proxy *p);
/* Whether req carries no Origin header; false after answering 403. */
bool admin_origin_ok(struct HttpdReq *req);
void admin_lock_free(Proxy *p);

/* The periodic summary line ([proxy] stats-period), as PgBouncer's stats_period. */
void proxy_stats_start(Proxy *p);
void proxy_stats_stop(Proxy *p);

#endif
