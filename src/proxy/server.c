/*
 * server.c - the server side of a session: a non-blocking connection to
 * PostgreSQL that the proxy authenticates itself (SCRAM-SHA-256, md5,
 * cleartext or trust) with the credentials file, then forwarding of the
 * server's messages to the client.
 *
 * Handshake (phases in internal.h): TCP connect -> [SSLRequest, 'S', TLS
 * handshake, per server-tls-mode (tls.h)] -> StartupMessage with the
 * client's user, database and startup parameters -> authentication ->
 * ParameterStatus / BackendKeyData up to ReadyForQuery. A connection that
 * replaces another (switch, or reconnect after a terminated transaction)
 * then replays the session's named Parse messages and a Sync, swallowing
 * their answers (REPLAY). Only then is it READY.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "proxy/internal.h"
#include "proxy/proto.h"
#include "proxy/tls.h"

static void server_handshake(Server *srv);

void server_send(Server *srv, const Buf *b)
{
    if (srv->io && b->len)
        io_write(srv->io, b->data, b->len);
}

void server_free(Server *srv)
{
    if (!srv)
        return;
    if (srv->io) {
        /* Terminate, best effort (io_free sends it): the backend ends at once. */
        static const uint8_t term[5] = {'X', 0, 0, 0, 4};
        if (srv->phase == SERVER_READY && srv->frame_left == 0)
            evbuffer_add(srv->io->out, term, sizeof(term));
        io_free(srv->io);
    }
    if (srv->timer)
        event_free(srv->timer);
    scram_client_free(&srv->scram);
    free(srv);
}

static void server_fail(Server *srv, const char *sqlstate, const char *fmt, ...) DD_PRINTF(3, 4);

static void server_fail(Server *srv, const char *sqlstate, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    proxy_server_failed(srv->session, srv, sqlstate, msg);
}

static void server_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    Server *srv = arg;
    if (srv->phase != SERVER_READY)
        server_fail(srv, "08006", "could not connect to server: %s", "timeout");
}

static void send_startup(Server *srv)
{
    Session *s = srv->session;
    const char *names[PROTO_MAX_PARAMS + 2], *values[PROTO_MAX_PARAMS + 2];
    size_t n = 0;
    names[n] = "user";
    values[n++] = s->user;
    names[n] = "database";
    values[n++] = s->database;
    for (size_t i = 0; i < s->nparams && n < PROTO_MAX_PARAMS + 2; i++) {
        names[n] = s->param_names[i];
        values[n++] = s->param_values[i];
    }
    Buf b = {0};
    proto_startup_message(&b, n, names, values);
    server_send(srv, &b);
    buf_free(&b);
    srv->phase = SERVER_AUTH;
}

static void server_read_cb(Io *io, void *arg)
{
    (void)io;
    Server *srv = arg;
    Session *s = srv->session; /* stays allocated until the reaper runs */
    if (srv->phase == SERVER_READY) {
        if (srv != s->pre_server) /* one opened ahead is left unread until a switch takes it */
            server_pump(s);
        return;
    }
    server_handshake(srv);
    /* srv may be gone (failed) or have moved on (ready, pumped): find it again. */
    if (s->server == srv || s->next_server == srv || s->pre_server == srv)
        io_consumed(srv->io);
}

static void server_drained_cb(Io *io, void *arg)
{
    (void)io;
    Server *srv = arg;
    Session *s = srv->session;
    if (srv == s->server && s->read_blocked && s->client && s->state == SESSION_ACTIVE) {
        s->read_blocked = false;
        io_set_reading(s->client, true);
        client_pump(s);
    }
}

/* A switch's connection reached PHASE: at debug level, ms since the switch began. */
static void server_switch_trace(const Server *srv, const char *phase)
{
    const Session *s = srv->session;
    if ((srv == s->next_server || srv == s->pre_server) && log_level() >= LOG_DEBUG)
        log_debug("session %u: switch: %s after %.1f ms", s->id, phase,
                  proxy_ms_since(s->proxy->switch_started));
}

/* Connected: ask for TLS first when server-tls-mode wants it, else start up. */
static void server_connected(Server *srv)
{
    const Tls *t = &srv->session->proxy->tls;
    server_switch_trace(srv, "TCP connected");
    if (t->server_mode == TLS_SERVER_DISABLE) {
        send_startup(srv);
        return;
    }
    if (srv->addr.ss_family == AF_UNIX) { /* PostgreSQL has no TLS on Unix sockets */
        if (t->server_mode >= TLS_SERVER_REQUIRE)
            server_fail(srv, "08006", "%s",
                        "server-tls-mode requires TLS, and the server is on a Unix socket");
        else
            send_startup(srv);
        return;
    }
    static const uint8_t sslreq[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};
    io_write(srv->io, sslreq, sizeof(sslreq));
    srv->phase = SERVER_SSLREQ;
}

/* The server's one-byte answer to the SSLRequest; false when srv was failed. */
static bool server_ssl_answer(Server *srv)
{
    const Tls *t = &srv->session->proxy->tls;
    uint8_t c;
    if (evbuffer_remove(srv->io->in, &c, 1) < 1)
        return true;
    if (c == 'S' && evbuffer_get_length(srv->io->in) > 0) {
        server_fail(srv, "08P01", "%s", "received unencrypted data after the server's SSL answer");
        return false;
    }
    if (c == 'S') {
        struct ssl_st *ssl = tls_server_ssl(t, srv->host);
        if (!ssl) {
            server_fail(srv, "08006", "%s", "could not create a TLS connection");
            return false;
        }
        srv->phase = SERVER_TLS;
        io_start_tls(srv->io, ssl, false);
        return true;
    }
    if (c == 'N' && t->server_mode < TLS_SERVER_REQUIRE) {
        send_startup(srv);
        return true;
    }
    server_fail(srv, "08006", "%s",
                c == 'N' ? "the server does not accept TLS, and server-tls-mode requires it"
                         : "unexpected answer to the SSL request from the server");
    return false;
}

static void server_event_cb(Io *io, IoEvent what, void *arg)
{
    Server *srv = arg;
    if (what & IO_CONNECTED) {
        server_connected(srv);
        return;
    }
    if (what & IO_TLS_DONE) {
        srv->tls = true;
        send_startup(srv);
        return;
    }
    if ((what & IO_ERROR) && srv->phase == SERVER_TLS) {
        server_fail(srv, "08006", "could not connect to server: TLS handshake failed: %s",
                    io->tls_error);
        return;
    }
    if (srv->phase == SERVER_READY) {
        if (!proxy_pre_failed(srv->session, srv, "server closed the connection"))
            proxy_server_lost(srv->session, "server closed the connection unexpectedly");
        return;
    }
    server_fail(srv, "08006", "could not connect to server: %s",
                (what & IO_ERROR) && io->error ? strerror(io->error)
                                               : "connection closed during startup");
}

Server *server_connect(Session *s, const ServerTarget *t)
{
    Proxy *p = s->proxy;
    Server *srv = xcalloc(1, sizeof(Server));
    srv->session = s;
    snprintf(srv->host, sizeof(srv->host), "%s", t->host);
    memcpy(&srv->addr, &t->addr, t->addr_len);
    srv->addr_len = t->addr_len;
    srv->io = io_connect(p->base, (struct sockaddr *)&srv->addr, srv->addr_len, PROXY_BUF_HIGH,
                         server_read_cb, server_drained_cb, server_event_cb, srv);
    if (!srv->io) {
        err_set(DD_EXIT_PG, "could not connect to server: %s", strerror(errno));
        server_free(srv);
        return NULL;
    }
    io_set_reading(srv->io, true);
    srv->timer = evtimer_new(p->base, server_timeout_cb, srv);
    struct timeval tv = {p->opt.login_timeout, 0};
    evtimer_add(srv->timer, &tv);
    srv->phase = SERVER_TCP;
    return srv;
}

/* Send a 'p' message (password, SASL) to the server. */
static void send_password_msg(Server *srv, const void *data, size_t len, const char *mech)
{
    Buf b = {0};
    size_t off = proto_begin(&b, 'p');
    if (mech) {
        proto_add_str(&b, mech);
        proto_add_i32(&b, (uint32_t)len);
    }
    buf_append(&b, data, len);
    proto_end(&b, off);
    server_send(srv, &b);
    buf_free(&b);
}

/*
 * Whether the server may have a password by cleartext (code 3) or md5 (5):
 * only when [proxy] server-auth allows that method, and cleartext only over
 * TLS. Fails the server (false) otherwise.
 */
static bool server_password_allowed(Server *srv, uint32_t code)
{
    const char *allowed = srv->session->proxy->opt.server_auth;
    bool md5_ok = allowed && (strcmp(allowed, "md5") == 0 || strcmp(allowed, "password") == 0);
    bool plain_ok = allowed && strcmp(allowed, "password") == 0;
    if (code == 5 && !md5_ok) {
        server_fail(srv, "28000",
                    "the server asks for an md5 password and [proxy] server-auth = %s does not "
                    "allow md5",
                    allowed ? allowed : "scram-sha-256");
        return false;
    }
    if (code == 3 && !plain_ok) {
        server_fail(srv, "28000",
                    "the server asks for a cleartext password and [proxy] server-auth = %s does "
                    "not allow sending one",
                    allowed ? allowed : "scram-sha-256");
        return false;
    }
    if (code == 3 && !srv->tls) {
        server_fail(srv, "28000", "%s",
                    "the server asks for a cleartext password over an unencrypted connection: "
                    "the proxy sends none");
        return false;
    }
    return true;
}

/* Answer an AuthenticationXXX request; false when the server was failed. */
static bool server_auth_request(Server *srv, const uint8_t *body, size_t len)
{
    Session *s = srv->session;
    /* Not const: SCRAM caches the keys it derives in the credential. */
    Credential *cred = (Credential *)auth_credentials_find(&s->proxy->creds, s->user);
    uint32_t code = proto_get32(body);
    const char *data = (const char *)body + 4;
    size_t dlen = len - 4;
    Buf out = {0};
    bool ok = true;
    if (code == 0) {
        srv->phase = SERVER_STARTUP;
        return true;
    }
    if (!cred) {
        server_fail(srv, "28P01",
                    "the server asks a password for user \"%s\" and the proxy's credentials file "
                    "has none",
                    s->user);
        return false;
    }
    if ((code == 3 || code == 5) && !server_password_allowed(srv, code))
        return false;
    if (code == 3 && cred->kind == CRED_PLAIN) {
        send_password_msg(srv, cred->secret, strlen(cred->secret) + 1, NULL);
    } else if (code == 5 && dlen >= 4) {
        char md5[36];
        ok = auth_md5_response(cred, s->user, (const uint8_t *)data, md5);
        if (ok)
            send_password_msg(srv, md5, strlen(md5) + 1, NULL);
    } else if (code == 10) {
        if (!memmem(data, dlen, "SCRAM-SHA-256\0", 14)) {
            err_set(DD_EXIT_PG, "the server offers no SASL mechanism the proxy supports");
            ok = false;
        } else {
            srv->scram.max_iterations = s->proxy->opt.scram_max_iterations;
            scram_client_first(&srv->scram, &out);
            srv->scram_used = true;
            send_password_msg(srv, out.data, out.len, "SCRAM-SHA-256");
        }
    } else if (code == 11 && srv->scram_used) {
        ok = scram_client_final(&srv->scram, cred, s->has_client_key ? s->client_key : NULL, data,
                                dlen, &out);
        if (ok)
            send_password_msg(srv, out.data, out.len, NULL);
    } else if (code == 12 && srv->scram_used) {
        ok = scram_client_verify(&srv->scram, data, dlen);
    } else {
        err_set(DD_EXIT_PG, "unsupported authentication request %u from the server", code);
        ok = false;
    }
    buf_free(&out);
    if (!ok)
        server_fail(srv, "28000", "%s", err_message());
    return ok;
}

/* The server is ready: replay prepared statements if this replaces another. */
static void server_startup_done(Server *srv)
{
    Session *s = srv->session;
    if (s->welcomed && s->nstmts > 0 && srv->phase != SERVER_REPLAY) {
        Buf b = {0};
        for (size_t i = 0; i < s->nstmts; i++)
            buf_append(&b, s->stmts[i].parse.data, s->stmts[i].parse.len);
        static const uint8_t sync[5] = {'S', 0, 0, 0, 4};
        buf_append(&b, sync, sizeof(sync));
        server_send(srv, &b);
        buf_free(&b);
        srv->phase = SERVER_REPLAY;
        server_switch_trace(srv, "authenticated, re-preparing");
        return;
    }
    server_switch_trace(srv, "ready");
    srv->phase = SERVER_READY;
    event_free(srv->timer); /* its deadline is met: the memory goes with it */
    srv->timer = NULL;
    proxy_server_ready(s, srv);
}

/* Handle one handshake message; false when srv is gone. */
static bool server_handshake_msg(Server *srv, uint8_t type, const uint8_t *body, size_t len)
{
    Session *s = srv->session;
    Buf fwd = {0};
    switch (type) {
    case 'R':
        if (len < 4 || srv->phase != SERVER_AUTH) {
            server_fail(srv, "08P01", "%s", "unexpected authentication message from the server");
            return false;
        }
        return server_auth_request(srv, body, len);
    case 'E': {
        char state[8], msg[400];
        proto_error_fields(body, len, state, sizeof(state), msg, sizeof(msg));
        if (srv->phase == SERVER_REPLAY) {
            log_warn("session %u: re-preparing a statement failed: %s", s->id, msg);
            return true;
        }
        proxy_server_failed(s, srv, state[0] ? state : "08006", msg);
        return false;
    }
    case 'S': {
        ProtoReader r = {body, len, 0};
        const char *name, *value;
        if (proto_read_str(&r, &name) && proto_read_str(&r, &value) &&
            session_param_set(s, name, value)) {
            proto_param_status(&fwd, name, value);
            client_send(s, &fwd); /* a change, or the first value the client sees */
            buf_free(&fwd);
        }
        return true;
    }
    case 'K':
        if (len >= 8) {
            srv->pid = proto_get32(body);
            srv->key = proto_get32(body + 4);
        }
        return true;
    case 'N':
    case '1':
    case 'v':
        return true; /* notices and the replay's ParseComplete are not the client's */
    case 'Z':
        server_startup_done(srv);
        return false; /* srv may have moved on: stop this loop, pump if ready */
    default:
        server_fail(srv, "08P01", "%s", "unexpected message from the server during its startup");
        return false;
    }
}

static void server_handshake(Server *srv)
{
    if (srv->phase == SERVER_SSLREQ) {
        if (!server_ssl_answer(srv) || srv->phase == SERVER_SSLREQ)
            return;
        if (srv->phase == SERVER_TLS)
            return;
    }
    Buf msg = {0};
    for (;;) {
        struct evbuffer *in = srv->io->in;
        uint8_t hdr[PROTO_HEADER_LEN];
        ProtoHeader h;
        if (evbuffer_copyout(in, hdr, sizeof(hdr)) < (ev_ssize_t)sizeof(hdr))
            break;
        if (proto_header(hdr, sizeof(hdr), PROXY_HANDSHAKE_MAX, &h) != PROTO_OK) {
            server_fail(srv, "08P01", "invalid message from the server: %s", err_message());
            break;
        }
        if (evbuffer_get_length(in) < 1 + (size_t)h.length)
            break;
        buf_reset(&msg);
        buf_reserve(&msg, 1 + h.length);
        evbuffer_remove(in, msg.data, 1 + h.length);
        msg.len = 1 + h.length;
        Session *s = srv->session;
        if (!server_handshake_msg(srv, h.type, msg.data + PROTO_HEADER_LEN,
                                  msg.len - PROTO_HEADER_LEN)) {
            /* After ReadyForQuery the server may already have sent more: pump it. */
            if (h.type == 'Z' && s->server == srv && srv->phase == SERVER_READY)
                server_pump(s);
            break;
        }
    }
    buf_free(&msg);
}

/* A ParameterStatus while forwarding: remember it (it is forwarded anyway). */
static void track_param(Session *s, const uint8_t *msg, size_t len)
{
    ProtoReader r = {msg, len, PROTO_HEADER_LEN};
    const char *name, *value;
    if (proto_read_str(&r, &name) && proto_read_str(&r, &value))
        (void)session_param_set(s, name, value);
}

/* Look at the next server message; false to stop pumping. */
static bool server_next_message(Session *s, Server *srv, struct evbuffer *in, size_t avail)
{
    uint8_t hdr[PROTO_HEADER_LEN + 1];
    ProtoHeader h;
    evbuffer_copyout(in, hdr, sizeof(hdr));
    if (proto_header(hdr, avail, PROTO_MAX_FRAME, &h) != PROTO_OK) {
        proxy_server_lost(s, "invalid message from the server");
        return false;
    }
    uint64_t total = 1 + (uint64_t)h.length;
    if (h.type == 'Z') {
        if (avail < PROTO_HEADER_LEN + 1)
            return false;
        evbuffer_remove_buffer(in, s->client->out, (size_t)total);
        s->proxy->counters.bytes_out += total;
        session_track_ready(s, hdr[PROTO_HEADER_LEN]);
        if (hdr[PROTO_HEADER_LEN] == 'I')
            s->proxy->counters.transactions++;
        proxy_after_ready(s);
        return s->state != SESSION_CLOSED && s->server == srv;
    }
    if (h.type == 'S' && total <= PROXY_TRACK_MAX) {
        if (avail < total)
            return false;
        track_param(s, evbuffer_pullup(in, (ev_ssize_t)total), (size_t)total);
    }
    srv->frame_left = total;
    return true;
}

/* Move server messages to the client until input or room runs out. */
static void server_pump_frames(Session *s, Server *srv)
{
    struct evbuffer *in = srv->io->in;
    struct evbuffer *out = s->client->out;
    for (;;) {
        if (evbuffer_get_length(out) >= PROXY_BUF_HIGH) {
            io_flush(s->client);
            if (evbuffer_get_length(out) >= PROXY_BUF_HIGH) {
                /* The client's drained callback restarts us. */
                srv->write_blocked = true;
                io_set_reading(srv->io, false);
                return;
            }
        }
        size_t avail = evbuffer_get_length(in);
        if (srv->frame_left > 0) {
            if (avail == 0)
                return;
            size_t n = avail < srv->frame_left ? avail : (size_t)srv->frame_left;
            evbuffer_remove_buffer(in, out, n);
            srv->frame_left -= n;
            s->proxy->counters.bytes_out += n;
            continue;
        }
        if (avail < PROTO_HEADER_LEN || !server_next_message(s, srv, in, avail))
            return;
    }
}

void server_pump(Session *s)
{
    Server *srv = s->server;
    if (!srv || srv->phase != SERVER_READY || !s->client)
        return;
    server_pump_frames(s, srv);
    if (s->state == SESSION_CLOSED)
        return;
    io_flush(s->client);
    if (s->server == srv)
        io_consumed(srv->io);
}
