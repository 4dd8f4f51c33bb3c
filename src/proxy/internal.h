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
#include <event2/http.h>
#include <event2/listener.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/mem.h"
#include "proxy/auth.h"
#include "proxy/io.h"
#include "proxy/proxy.h"
#include "proxy/session.h"

#define PROXY_BUF_HIGH      (256 * 1024)
#define PROXY_TRACK_MAX     (64 * 1024) /* largest Parse/Close/ParameterStatus tracked */
#define PROXY_HANDSHAKE_MAX (64 * 1024) /* largest server message during its startup */
#define PROXY_CANCEL_GRACE  2.0         /* seconds cancelled queries get to finish */

/* Where server connections go. */
typedef struct {
    char *conninfo; /* as given (may hold a password: never printed) */
    char *redacted;
    struct sockaddr_storage addr;
    socklen_t addr_len;
} ServerTarget;

typedef enum {
    SERVER_TCP = 0,     /* connecting */
    SERVER_AUTH = 1,    /* startup sent, authenticating */
    SERVER_STARTUP = 2, /* authenticated, reading parameters up to ReadyForQuery */
    SERVER_REPLAY = 3,  /* re-preparing the session's statements */
    SERVER_READY = 4    /* forwarding */
} ServerPhase;

typedef struct Server {
    Session *session;
    Io *io;
    ServerPhase phase;
    ScramClient scram;
    bool scram_used;
    uint32_t pid, key; /* the server's BackendKeyData */
    struct sockaddr_storage addr;
    socklen_t addr_len;
    uint64_t frame_left; /* bytes of the current server message still to pass */
    struct event *timer; /* handshake deadline */
    bool write_blocked;  /* server reading stopped: the client's output is full */
} Server;

typedef struct {
    uint64_t connections, transactions, queries, bytes_in, bytes_out;
    uint64_t pauses, switches, server_errors;
} ProxyCounters;

struct Proxy {
    struct event_base *base;
    ProxyOptions opt;
    Credentials creds;
    ServerTarget target;
    struct evconnlistener *listener;
    struct evhttp *http;
    struct event *sig_term, *sig_int, *sig_hup;
    struct event *reaper;
    Session *sessions, *dead;
    size_t nclients;
    int nstate[SESSION_N_STATES]; /* sessions per state, kept by proxy_session_hook() */
    uint32_t next_id;
    ProxyCounters counters;

    /* pause: paused = sessions are being held (pause requested or done) */
    bool paused, pause_done, pause_cancel, cancel_phase;
    double pause_started, pause_done_at;
    int cancelled;
    struct event *pause_timer;
    struct evhttp_request *pause_req;
    struct event *pause_watch; /* notices the caller of a pending /pause hanging up */

    /* the pause's lease (proxy_lease): 0 = none */
    double lease_s;
    bool lease_promoting; /* the holder said it is promoting a new primary */
    bool pause_switched;  /* a /switch happened during this pause */
    bool fenced;          /* the lease expired after a promotion: sessions are refused */
    struct event *lease_timer;

    /* switch */
    bool switching;
    double switch_started;
    int switch_ok, switch_failed;
    struct evhttp_request *switch_req;
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
bool proxy_target_init(ServerTarget *t, const char *conninfo);
void proxy_target_free(ServerTarget *t);
double proxy_ms_since(double t0);

/* pause/resume/switch for admin.c: each returns an HTTP status */
int proxy_pause(Proxy *p, double timeout, bool cancel, struct evhttp_request *req);
int proxy_resume(Proxy *p, double *paused_ms);
/* The caller of a pause that is not complete went away: release the sessions. */
void proxy_pause_abandoned(Proxy *p);
int proxy_switch(Proxy *p, const char *conninfo, struct evhttp_request *req);
/*
 * Start (with /pause) or renew (/lease) the pause's lease: lease_s seconds
 * from now (0: the current length); promoting marks that the holder is about
 * to promote a new primary. 200, or 409 when the proxy is not paused under a
 * lease (or is fenced).
 */
int proxy_lease(Proxy *p, double lease_s, bool promoting);
int proxy_count_state(const Proxy *p, SessionState st);
/* Route a client's CancelRequest (proxy pid/key) to the session's server. */
void proxy_cancel_request(Proxy *p, uint32_t pid, uint32_t key);

/* client.c */
void client_accept(Proxy *p, evutil_socket_t fd, const struct sockaddr *sa, int salen);
void client_pump(Session *s);
void client_send(Session *s, const Buf *b);
void client_fatal(Session *s, const char *sqlstate, const char *message);

/* server.c */
Server *server_connect(Session *s, const ServerTarget *t);
void server_pump(Session *s);
void server_free(Server *srv);
void server_cancel(Proxy *p, const Server *srv);
void server_send(Server *srv, const Buf *b);

/* admin.c */
DD_MUST_CHECK bool admin_start(Proxy *p);
void admin_pause_reply(Proxy *p, int code, const char *error);
void admin_switch_reply(Proxy *p);

#endif
