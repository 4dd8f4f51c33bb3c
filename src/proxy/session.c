/*
 * session.c - the session state machine and protocol tracking (session.h).
 * Pure: no I/O here, so that the unit tests drive it directly.
 */
#include "proxy/session.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "proxy/proto.h"

static const char *const state_names[SESSION_N_STATES] = {
    "startup", "auth", "connecting", "active", "held", "switching", "closed",
};

/* transitions[from] = bit set of the states reachable from it (the diagram). */
#define BIT(s) (1u << (s))
static const unsigned transitions[SESSION_N_STATES] = {
    [SESSION_STARTUP] =
        BIT(SESSION_AUTH) | BIT(SESSION_CONNECTING) | BIT(SESSION_HELD) | BIT(SESSION_CLOSED),
    [SESSION_AUTH] = BIT(SESSION_CONNECTING) | BIT(SESSION_HELD) | BIT(SESSION_CLOSED),
    [SESSION_CONNECTING] = BIT(SESSION_ACTIVE) | BIT(SESSION_CLOSED),
    [SESSION_ACTIVE] = BIT(SESSION_HELD) | BIT(SESSION_CLOSED),
    [SESSION_HELD] = BIT(SESSION_ACTIVE) | BIT(SESSION_CONNECTING) | BIT(SESSION_SWITCHING) |
                     BIT(SESSION_CLOSED),
    [SESSION_SWITCHING] = BIT(SESSION_HELD) | BIT(SESSION_CLOSED),
    [SESSION_CLOSED] = 0,
};

const char *session_state_name(SessionState st)
{
    return (unsigned)st < SESSION_N_STATES ? state_names[st] : "invalid";
}

bool session_transition_valid(SessionState from, SessionState to)
{
    if ((unsigned)from >= SESSION_N_STATES || (unsigned)to >= SESSION_N_STATES)
        return false;
    return (transitions[from] & BIT(to)) != 0;
}

bool session_set_state(Session *s, SessionState to)
{
    SessionState old = s->state;
    if (!session_transition_valid(old, to)) {
        log_warn("session %u: refused state change %s -> %s (a bug in the proxy)", s->id,
                 session_state_name(old), session_state_name(to));
        return false;
    }
    s->state = to;
    log_debug("session %u: %s -> %s", s->id, session_state_name(old), session_state_name(to));
    if (s->hook)
        s->hook(s, old);
    return true;
}

void session_track_client(Session *s, uint8_t type)
{
    switch (type) {
    case 'Q': /* simple query: answered by one ReadyForQuery */
    case 'F': /* function call: likewise */
        s->pending++;
        break;
    case 'S': /* Sync ends an extended-protocol batch */
        s->pending++;
        s->ext_open = false;
        break;
    case 'P':
    case 'B':
    case 'E':
    case 'D':
    case 'C':
    case 'H':
        s->ext_open = true;
        break;
    default: /* CopyData/CopyDone/CopyFail belong to a request already counted */
        break;
    }
}

void session_track_ready(Session *s, uint8_t status)
{
    if (s->pending > 0)
        s->pending--;
    if (status == 'I' || status == 'T' || status == 'E')
        s->tx = status;
}

bool session_at_boundary(const Session *s)
{
    return s->pending == 0 && !s->ext_open && s->tx == 'I';
}

const char *session_tx_name(const Session *s)
{
    switch (s->tx) {
    case 'T':
        return "in-transaction";
    case 'E':
        return "failed";
    default:
        return "idle";
    }
}

static SessionStmt *stmt_find(Session *s, const char *name)
{
    for (size_t i = 0; i < s->nstmts; i++)
        if (strcmp(s->stmts[i].name, name) == 0)
            return &s->stmts[i];
    return NULL;
}

static void stmt_remove(Session *s, SessionStmt *st)
{
    free(st->name);
    buf_free(&st->parse);
    size_t i = (size_t)(st - s->stmts);
    memmove(&s->stmts[i], &s->stmts[i + 1], (s->nstmts - i - 1) * sizeof(SessionStmt));
    s->nstmts--;
}

void session_stmt_parse(Session *s, const uint8_t *msg, size_t len)
{
    ProtoReader r = {msg, len, PROTO_HEADER_LEN};
    const char *name;
    if (len < PROTO_HEADER_LEN || msg[0] != 'P' || !proto_read_str(&r, &name) || !name[0])
        return;
    SessionStmt *st = stmt_find(s, name);
    if (!st) {
        s->stmts = xrealloc(s->stmts, (s->nstmts + 1) * sizeof(SessionStmt));
        st = &s->stmts[s->nstmts++];
        st->name = xstrdup(name);
        memset(&st->parse, 0, sizeof(st->parse));
    }
    buf_reset(&st->parse);
    buf_append(&st->parse, msg, len);
}

void session_stmt_close(Session *s, const uint8_t *msg, size_t len)
{
    ProtoReader r = {msg, len, PROTO_HEADER_LEN};
    uint8_t kind;
    const char *name;
    if (len < PROTO_HEADER_LEN || msg[0] != 'C' || !proto_read_u8(&r, &kind) || kind != 'S' ||
        !proto_read_str(&r, &name))
        return;
    SessionStmt *st = stmt_find(s, name);
    if (st)
        stmt_remove(s, st);
}

/* The pair for name in the packed list: its offset, or -1. */
static long param_find(const Buf *b, const char *name)
{
    size_t pos = 0;
    while (pos < b->len) {
        const char *n = (const char *)b->data + pos;
        size_t nlen = strlen(n) + 1;
        if (strcmp(n, name) == 0)
            return (long)pos;
        pos += nlen + strlen(n + nlen) + 1;
    }
    return -1;
}

bool session_param_set(Session *s, const char *name, const char *value)
{
    long at = param_find(&s->params, name);
    if (at >= 0) {
        const char *old = (const char *)s->params.data + at + strlen(name) + 1;
        if (strcmp(old, value) == 0)
            return false;
        size_t pair = strlen(name) + 1 + strlen(old) + 1;
        memmove(s->params.data + at, s->params.data + at + pair, s->params.len - (size_t)at - pair);
        s->params.len -= pair;
    }
    buf_append(&s->params, name, strlen(name) + 1);
    buf_append(&s->params, value, strlen(value) + 1);
    return true;
}

const char *session_param_get(const Session *s, const char *name)
{
    long at = param_find(&s->params, name);
    return at < 0 ? NULL : (const char *)s->params.data + at + strlen(name) + 1;
}

void session_free_auth(Session *s)
{
    if (s->scram) {
        scram_server_free(s->scram);
        free(s->scram);
        s->scram = NULL;
    }
    if (s->cred) {
        explicit_bzero(s->cred, sizeof(*s->cred));
        free(s->cred);
        s->cred = NULL;
    }
}

void session_free_tracking(Session *s)
{
    while (s->nstmts > 0)
        stmt_remove(s, &s->stmts[s->nstmts - 1]);
    free(s->stmts);
    s->stmts = NULL;
    buf_free(&s->params);
    for (size_t i = 0; i < s->nparams; i++) {
        free(s->param_names[i]);
        free(s->param_values[i]);
    }
    free(s->param_names);
    free(s->param_values);
    s->param_names = s->param_values = NULL;
    s->nparams = 0;
    free(s->user);
    free(s->database);
    s->user = s->database = NULL;
    buf_free(&s->startup);
}
