/*
 * session.h - one client session of the proxy: its state machine and what
 * the proxy tracks of the protocol to find transaction boundaries.
 *
 * Every session is in exactly one state; every change of state goes through
 * session_set_state(), which refuses a transition not drawn here:
 *
 *            startup packet         SCRAM ok / trust
 *   STARTUP ---------------> AUTH ------------------+----------------+
 *      |  (trust) ---------------------------------->|                |
 *      |                                             v (not paused)   v (paused)
 *      |                                       CONNECTING          HELD (no server)
 *      |                   server ready (RFQ)      |   ^               |
 *      |                 +-------------------------+   | resume        |
 *      |                 v                             | (no server)   |
 *      |              ACTIVE <-------- resume ---------+---------------+
 *      |                 |  ^                                          ^
 *      |   paused and at |  | resume                                   |
 *      |     a boundary  v  |                      /switch             |
 *      |                HELD ---------------------------------> SWITCHING
 *      |                  ^  new server ready, or failed             |
 *      |                  +------------------------------------------+
 *      v
 *   CLOSED  <- from any state (client left, error, server lost, shutdown)
 *
 * A session is at a transaction boundary when its server's last
 * ReadyForQuery said 'I', every Sync and Query it sent has been answered
 * by a ReadyForQuery (pending == 0), and no extended-protocol message was
 * sent since the last Sync (ext_open false). Only there may the proxy
 * stop forwarding its messages, or switch its server.
 */
#ifndef DD_PROXY_SESSION_H
#define DD_PROXY_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/mem.h"
#include "proxy/auth.h"

typedef enum {
    SESSION_STARTUP = 0,    /* reading the client's startup packet */
    SESSION_AUTH = 1,       /* SCRAM exchange with the client */
    SESSION_CONNECTING = 2, /* a server connection is being set up */
    SESSION_ACTIVE = 3,     /* forwarding both ways */
    SESSION_HELD = 4,       /* paused at a transaction boundary */
    SESSION_SWITCHING = 5,  /* held, and connecting to the new server */
    SESSION_CLOSED = 6,     /* being torn down */
    SESSION_N_STATES = 7
} SessionState;

/* A named prepared statement: its Parse message, kept to replay it. */
typedef struct {
    char *name;
    Buf parse; /* the whole Parse message, type byte included */
} SessionStmt;

struct Server;
struct Proxy;
struct Io;
struct event;

typedef struct Session Session;

/* Called by session_set_state() after every transition. */
typedef void (*SessionStateHook)(Session *s, SessionState old);

struct Session {
    uint32_t id;  /* also the "pid" of the BackendKeyData clients get */
    uint32_t key; /* the secret of that BackendKeyData */
    SessionState state;
    SessionStateHook hook;
    struct Proxy *proxy;
    Session *next, *prev; /* in the proxy's list of sessions */

    /* client side */
    struct Io *client;
    char client_addr[64];
    struct event *login_timer;
    Buf startup;    /* the startup packet, kept for its parameters */
    size_t nparams; /* startup parameters forwarded to servers */
    char **param_names, **param_values;
    char *user, *database;
    Credential *cred;   /* during AUTH: copy of the SCRAM keys the client is checked with */
    ScramServer *scram; /* during AUTH */
    uint8_t client_key[SCRAM_KEY_LEN]; /* recovered from the client's SCRAM proof */
    bool has_client_key;
    bool mock_auth;    /* the user cannot be authenticated: a mock SCRAM exchange (auth.h) */
    bool tls;          /* the client connection is encrypted */
    uint8_t cbind[64]; /* its tls-server-end-point binding data (tls.h) */
    size_t cbind_len;
    bool welcomed; /* the client got its first ReadyForQuery */

    /* server side */
    struct Server *server;      /* NULL while none */
    struct Server *next_server; /* the one being set up by a switch */
    struct Server *pre_server;  /* opened ahead of a switch (preconnect.c) */
    bool pre_ready;             /* pre_server is authenticated and idle */
    bool switch_failed;         /* its switch failed: error and close on resume */

    /* protocol tracking */
    uint8_t tx;           /* 'I', 'T' or 'E' from the last ReadyForQuery */
    uint32_t pending;     /* Query/Sync/FunctionCall sent, not yet answered */
    bool ext_open;        /* extended-protocol messages sent since the last Sync */
    uint64_t cframe_left; /* bytes of the current client message still to pass */
    bool cframe_discard;  /* ... and they are dropped instead */
    bool abort_tx;        /* its transaction was terminated: fail the next one */
    bool cancelling;      /* a CancelRequest was sent by a pause deadline */
    bool read_blocked;    /* client reading stopped by backpressure */

    SessionStmt *stmts;
    size_t nstmts;
    Buf params; /* ParameterStatus values: "name\0value\0" pairs, packed (memory per session) */
};

/* Name of a state, for logs and the admin API ("active", "held", ...). */
const char *session_state_name(SessionState st);
/* Whether the diagram above has an arrow from -> to. */
bool session_transition_valid(SessionState from, SessionState to);
/*
 * The one way to change a session's state. Refuses (false, state unchanged,
 * logged) a transition not in the diagram; calls the hook otherwise.
 */
bool session_set_state(Session *s, SessionState to);

/* Track a message the client sends (by type); call before forwarding it. */
void session_track_client(Session *s, uint8_t type);
/* Track a ReadyForQuery from the server with its status byte. */
void session_track_ready(Session *s, uint8_t status);
/* Whether the session is at a transaction boundary (see above). */
bool session_at_boundary(const Session *s);
/* "idle", "in-transaction" or "failed". */
const char *session_tx_name(const Session *s);

/*
 * Remember a named Parse message (msg is the whole message) or forget a
 * statement closed by a Close('S', name) message. Unnamed statements and
 * malformed messages are ignored.
 */
void session_stmt_parse(Session *s, const uint8_t *msg, size_t len);
void session_stmt_close(Session *s, const uint8_t *msg, size_t len);

/* Record a ParameterStatus; returns true when it is new or changed. */
bool session_param_set(Session *s, const char *name, const char *value);
const char *session_param_get(const Session *s, const char *name);

/* Free the authentication state (credential copy, SCRAM exchange) once it is over. */
void session_free_auth(Session *s);

/* Free what the session owns in this module (statements, parameters, startup). */
void session_free_tracking(Session *s);

#endif
