/*
 * client.c - the client side of a session: accepting, the startup packet,
 * encryption requests (TLS when configured, tls.h), cancel requests,
 * authentication (SCRAM-SHA-256[-PLUS] or trust), and forwarding client
 * messages to the server.
 *
 * Forwarding is done message by message at the framing level: the header
 * (type, length) is read to track the session (session_track_client), the
 * body is moved in pieces as it comes, so a 1 GiB COPY row never sits in
 * memory whole. Parse and Close messages up to PROXY_TRACK_MAX bytes are
 * looked at whole, to remember named prepared statements.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "common/log.h"
#include "common/rand.h"
#include "proxy/internal.h"
#include "proxy/proto.h"
#include "proxy/tls.h"

static void client_startup(Session *s);
static void client_auth(Session *s);

void client_send(Session *s, const Buf *b)
{
    if (!s->client || b->len == 0)
        return;
    io_write(s->client, b->data, b->len);
    s->proxy->counters.bytes_out += b->len;
}

void client_fatal(Session *s, const char *sqlstate, const char *message)
{
    Buf b = {0};
    proto_error(&b, "FATAL", sqlstate, message);
    client_send(s, &b);
    buf_free(&b);
    proxy_session_close(s, message);
}

static void client_protocol_error(Session *s)
{
    log_info("client %s dropped: %s", s->client_addr, err_message());
    client_fatal(s, "08P01", err_message());
}

static void client_read_cb(Io *io, void *arg)
{
    (void)io;
    Session *s = arg;
    switch (s->state) {
    case SESSION_STARTUP:
        client_startup(s);
        break;
    case SESSION_AUTH:
        client_auth(s);
        break;
    case SESSION_ACTIVE:
        client_pump(s);
        break;
    default: /* held, connecting, switching: the bytes wait in the buffer */
        break;
    }
    if (s->state != SESSION_CLOSED && s->client)
        io_consumed(s->client);
}

static void client_drained_cb(Io *io, void *arg)
{
    (void)io;
    Session *s = arg;
    Server *srv = s->server;
    if (srv && srv->write_blocked && srv->io) {
        srv->write_blocked = false;
        io_set_reading(srv->io, true);
        server_pump(s);
    }
}

static void client_event_cb(Io *io, IoEvent what, void *arg)
{
    Session *s = arg;
    if (what & IO_TLS_DONE) {
        s->tls = true;
        if (!tls_cbind_end_point(io->ssl, s->cbind, &s->cbind_len))
            s->cbind_len = 0; /* no SCRAM-SHA-256-PLUS for this one */
        return;
    }
    if ((what & IO_ERROR) && io->handshaking) {
        log_info("client %s dropped: TLS handshake failed: %s", s->client_addr, io->tls_error);
        proxy_session_close(s, "TLS handshake failed");
        return;
    }
    if (what & (IO_EOF | IO_ERROR))
        proxy_session_close(s, "client disconnected");
}

static void login_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    Session *s = arg;
    if (s->state == SESSION_STARTUP || s->state == SESSION_AUTH) {
        log_info("client %s dropped: it did not finish its startup in %d s", s->client_addr,
                 s->proxy->opt.login_timeout);
        client_fatal(s, "08P01", "canceling authentication due to timeout");
    }
}

static void format_addr(const struct sockaddr *sa, char *out, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
    }
    snprintf(out, len, "%s:%u", host, port);
}

/*
 * The secret half of a session's BackendKeyData (the other is its id, as
 * PostgreSQL's is a pid): a cancel request must name both. From the kernel's
 * generator, so that it cannot be derived from the time or a process id.
 */
uint32_t client_cancel_key(void)
{
    return rand_u32();
}

void client_accept(Proxy *p, evutil_socket_t fd, const struct sockaddr *sa, int salen)
{
    (void)salen;
    p->counters.connections++;
    if (p->nclients >= (size_t)p->opt.max_clients) {
        Buf b = {0};
        proto_error(&b, "FATAL", "53300", "sorry, too many clients already");
        if (write(fd, b.data, b.len) < 0) { /* best effort */
        }
        buf_free(&b);
        evutil_closesocket(fd);
        return;
    }
    Session *s = xcalloc(1, sizeof(Session));
    s->proxy = p;
    s->id = ++p->next_id;
    if (s->id == 0)
        s->id = ++p->next_id;
    s->key = client_cancel_key();
    s->tx = 'I';
    s->hook = proxy_session_hook;
    p->nstate[SESSION_STARTUP]++;
    format_addr(sa, s->client_addr, sizeof(s->client_addr));
    s->client =
        io_new(p->base, fd, PROXY_BUF_HIGH, client_read_cb, client_drained_cb, client_event_cb, s);
    s->login_timer = evtimer_new(p->base, login_timeout_cb, s);
    struct timeval tv = {p->opt.login_timeout, 0};
    evtimer_add(s->login_timer, &tv);
    s->next = p->sessions;
    if (p->sessions)
        p->sessions->prev = s;
    p->sessions = s;
    p->nclients++;
}

/* Keep the startup parameters to send them to every server of the session. */
static void keep_startup(Session *s, const ProtoStartup *st)
{
    s->user = xstrdup(st->user);
    s->database = xstrdup(st->database);
    s->param_names = xcalloc(st->nparams + 1, sizeof(char *));
    s->param_values = xcalloc(st->nparams + 1, sizeof(char *));
    for (size_t i = 0; i < st->nparams; i++) {
        if (strcmp(st->names[i], "user") == 0 || strcmp(st->names[i], "database") == 0)
            continue;
        s->param_names[s->nparams] = xstrdup(st->names[i]);
        s->param_values[s->nparams] = xstrdup(st->values[i]);
        s->nparams++;
    }
}

static void start_auth(Session *s)
{
    Proxy *p = s->proxy;
    Buf b = {0};
    if (p->opt.auth == AUTH_TRUST) {
        proto_auth(&b, 0, NULL, 0);
        client_send(s, &b);
        buf_free(&b);
        proxy_session_start_server(s);
        return;
    }
    const Credential *c = auth_credentials_find(&p->creds, s->user);
    s->cred = xmalloc(sizeof(Credential));
    if (!c || !c->has_scram) {
        /* Fail at the proof, as for a wrong password: the user's existence is not told. */
        auth_scram_mock(s->cred, s->user, p->mock_secret);
        s->mock_auth = true;
    } else {
        *s->cred = *c;
        s->cred->user = s->user;
        s->cred->secret = NULL;
    }
    s->scram = xcalloc(1, sizeof(ScramServer));
    if (s->tls && s->cbind_len > 0) {
        /* Over TLS, the client may bind the exchange to the proxy's certificate. */
        s->scram->plus_offered = true;
        memcpy(s->scram->cbind, s->cbind, s->cbind_len);
        s->scram->cbind_len = s->cbind_len;
        proto_auth(&b, 10, "SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0", 34);
    } else {
        proto_auth(&b, 10, "SCRAM-SHA-256\0", 15);
    }
    client_send(s, &b);
    buf_free(&b);
    session_set_state(s, SESSION_AUTH);
}

/*
 * An SSLRequest (or GSSENCRequest, always declined): 'S' and a TLS
 * handshake when client-tls-mode allows it, else 'N' and the client goes on
 * in clear or gives up. Bytes sent after the request and before the
 * handshake would be read as if encrypted: refused (CVE-2021-23214).
 */
static void client_encryption_request(Session *s, bool ssl)
{
    Proxy *p = s->proxy;
    SSL *tls = ssl && !s->client->ssl ? tls_client_ssl(&p->tls) : NULL;
    if (!tls) {
        io_write(s->client, "N", 1);
        return;
    }
    if (evbuffer_get_length(s->client->in) > 0) {
        SSL_free(tls);
        err_set(DD_EXIT_PROTOCOL, "%s", "received unencrypted data after SSL request");
        client_protocol_error(s);
        return;
    }
    io_write(s->client, "S", 1);
    io_start_tls(s->client, tls, true);
}

/* client-tls-mode = require and stronger: plain clients, and wrong certificates, are refused. */
static bool client_tls_refused(Session *s)
{
    const Tls *t = &s->proxy->tls;
    const char *why = NULL;
    if (t->client_mode >= TLS_CLIENT_REQUIRE && !s->tls)
        why = "the proxy accepts only TLS connections: connect with sslmode=require or stronger";
    else if (t->client_mode == TLS_CLIENT_VERIFY_FULL &&
             !tls_client_cert_matches(s->client->ssl, s->user))
        why = "the common name of the client certificate is not the user name";
    if (!why)
        return false;
    log_info("client %s (user \"%s\") refused: %s", s->client_addr, s->user, why);
    s->proxy->counters.auth_failures++;
    client_fatal(s, "28000", why);
    return true;
}

static void client_startup(Session *s)
{
    struct evbuffer *in = s->client->in;
    while (s->state == SESSION_STARTUP) {
        uint8_t head[4];
        uint32_t n;
        if (evbuffer_copyout(in, head, 4) < 4)
            return;
        if (proto_startup_length(head, 4, &n) != PROTO_OK) {
            client_protocol_error(s);
            return;
        }
        if (evbuffer_get_length(in) < n)
            return;
        buf_reset(&s->startup);
        buf_reserve(&s->startup, n);
        evbuffer_remove(in, s->startup.data, n);
        s->startup.len = n;
        ProtoStartup st;
        if (!proto_startup_parse(s->startup.data, n, &st)) {
            client_protocol_error(s);
            return;
        }
        if (st.kind == PROTO_STARTUP_SSL || st.kind == PROTO_STARTUP_GSSENC) {
            client_encryption_request(s, st.kind == PROTO_STARTUP_SSL);
            if (s->state == SESSION_CLOSED || s->client->ssl)
                return; /* the handshake runs; the startup packet comes through TLS */
            continue;
        }
        if (st.kind == PROTO_STARTUP_CANCEL) {
            proxy_cancel_request(s->proxy, st.cancel_pid, st.cancel_key);
            proxy_session_close(s, "cancel request");
            return;
        }
        keep_startup(s, &st);
        buf_free(&s->startup); /* what is kept was copied: the packet can go */
        if (client_tls_refused(s))
            return;
        start_auth(s);
    }
}

/* One whole message of the auth phase, or NULL (incomplete / dropped). */
static bool auth_message(Session *s, Buf *msg)
{
    struct evbuffer *in = s->client->in;
    uint8_t hdr[PROTO_HEADER_LEN];
    ProtoHeader h;
    if (evbuffer_copyout(in, hdr, sizeof(hdr)) < (ev_ssize_t)sizeof(hdr))
        return false;
    if (proto_header(hdr, sizeof(hdr), PROXY_TRACK_MAX, &h) != PROTO_OK) {
        client_protocol_error(s);
        return false;
    }
    if (h.type != 'p') {
        err_set(DD_EXIT_PROTOCOL, "expected SASL response, got message type %d", h.type);
        client_protocol_error(s);
        return false;
    }
    if (evbuffer_get_length(in) < 1 + (size_t)h.length)
        return false;
    buf_reserve(msg, 1 + h.length);
    evbuffer_remove(in, msg->data, 1 + h.length);
    msg->len = 1 + h.length;
    return true;
}

static void auth_failed(Session *s)
{
    s->proxy->counters.auth_failures++;
    log_info("client %s: %s", s->client_addr, err_message());
    if (err_code() == DD_EXIT_PROTOCOL && strncmp(err_message(), "password", 8) == 0) {
        client_fatal(s, "28P01", err_message());
    } else {
        client_fatal(s, "08P01", err_message());
    }
}

static void client_auth(Session *s)
{
    Buf msg = {0}, out = {0}, reply = {0};
    while (s->state == SESSION_AUTH && auth_message(s, &msg)) {
        ProtoReader r = {msg.data, msg.len, PROTO_HEADER_LEN};
        const char *data = (const char *)msg.data + PROTO_HEADER_LEN;
        size_t dlen = msg.len - PROTO_HEADER_LEN;
        buf_reset(&out);
        buf_reset(&reply);
        if (!s->scram->server_first) {
            const char *mech;
            int32_t n;
            const uint8_t *body;
            bool ok = proto_read_str(&r, &mech);
            s->scram->plus_chosen =
                ok && s->scram->plus_offered && strcmp(mech, "SCRAM-SHA-256-PLUS") == 0;
            if (!ok || (strcmp(mech, "SCRAM-SHA-256") != 0 && !s->scram->plus_chosen) ||
                !proto_read_i32(&r, &n) || n < 0 || !proto_read_bytes(&r, (size_t)n, &body)) {
                err_set(DD_EXIT_PROTOCOL,
                        "malformed SASLInitialResponse: expected mechanism "
                        "SCRAM-SHA-256%s",
                        s->scram->plus_offered ? " or SCRAM-SHA-256-PLUS" : "");
                auth_failed(s);
                break;
            }
            if (!scram_server_first(s->scram, s->cred, (const char *)body, (size_t)n, &out)) {
                auth_failed(s);
                break;
            }
            proto_auth(&reply, 11, out.data, out.len);
            client_send(s, &reply);
        } else {
            bool ok = scram_server_final(s->scram, s->cred, data, dlen, &out);
            if (ok && s->mock_auth) /* cannot happen (random keys); never let it through */
                ok = err_set(DD_EXIT_PROTOCOL, "password authentication failed for user \"%s\"",
                             s->user);
            if (!ok) {
                if (s->mock_auth)
                    log_info("client %s: user \"%s\" has no SCRAM secret in the credentials file",
                             s->client_addr, s->user);
                auth_failed(s);
                break;
            }
            memcpy(s->client_key, s->scram->client_key, SCRAM_KEY_LEN);
            s->has_client_key = true;
            proto_auth(&reply, 12, out.data, out.len);
            proto_auth(&reply, 0, NULL, 0);
            client_send(s, &reply);
            session_free_auth(s);
            proxy_session_start_server(s);
        }
        buf_reset(&msg);
    }
    buf_free(&msg);
    buf_free(&out);
    buf_free(&reply);
}

/* The transaction of this session was terminated by a pause: fail it once. */
static void client_abort_reply(Session *s)
{
    Buf b = {0};
    proto_error(&b, "ERROR", "57014",
                "the transaction was terminated by the proxy: a pause reached its deadline");
    proto_ready(&b, 'I');
    client_send(s, &b);
    buf_free(&b);
    s->abort_tx = false;
}

/* Look at the next client message; false to stop pumping. */
static bool client_next_message(Session *s, struct evbuffer *in, size_t avail)
{
    Proxy *p = s->proxy;
    uint8_t hdr[PROTO_HEADER_LEN];
    ProtoHeader h;
    evbuffer_copyout(in, hdr, sizeof(hdr));
    if (proto_header(hdr, sizeof(hdr), PROTO_MAX_FRAME, &h) != PROTO_OK) {
        client_protocol_error(s);
        return false;
    }
    if (proxy_phase_holds(p->phase) && session_at_boundary(s)) {
        session_set_state(s, SESSION_HELD);
        proxy_check_pause(p);
        return false;
    }
    if (h.type == 'X') {
        proxy_session_close(s, "client terminated the session");
        return false;
    }
    uint64_t total = 1 + (uint64_t)h.length;
    if (s->abort_tx) {
        s->cframe_left = total;
        s->cframe_discard = true;
        if (h.type == 'Q' || h.type == 'S')
            client_abort_reply(s);
        return true;
    }
    if ((h.type == 'P' || h.type == 'C') && total <= PROXY_TRACK_MAX) {
        if (avail < total)
            return false; /* the read watermark is above PROXY_TRACK_MAX: it will come */
        const uint8_t *msg = evbuffer_pullup(in, (ev_ssize_t)total);
        if (h.type == 'P')
            session_stmt_parse(s, msg, total);
        else
            session_stmt_close(s, msg, total);
    }
    session_track_client(s, h.type);
    if (h.type == 'Q' || h.type == 'E')
        p->counters.queries++;
    s->cframe_left = total;
    s->cframe_discard = false;
    return true;
}

/* Move whole and partial client messages to the server until input or room runs out. */
static void client_pump_frames(Session *s, Server *srv)
{
    struct evbuffer *in = s->client->in;
    struct evbuffer *out = srv->io->out;
    while (s->state == SESSION_ACTIVE) {
        if (evbuffer_get_length(out) >= PROXY_BUF_HIGH) {
            io_flush(srv->io);
            if (evbuffer_get_length(out) >= PROXY_BUF_HIGH) {
                /* The server's drained callback restarts us. */
                s->read_blocked = true;
                io_set_reading(s->client, false);
                return;
            }
        }
        size_t avail = evbuffer_get_length(in);
        if (s->cframe_left > 0) {
            if (avail == 0)
                return;
            size_t n = avail < s->cframe_left ? avail : (size_t)s->cframe_left;
            if (s->cframe_discard)
                evbuffer_drain(in, n);
            else
                evbuffer_remove_buffer(in, out, n);
            s->cframe_left -= n;
            s->proxy->counters.bytes_in += n;
            continue;
        }
        if (avail < PROTO_HEADER_LEN || !client_next_message(s, in, avail))
            return;
    }
}

void client_pump(Session *s)
{
    Server *srv = s->server;
    if (s->state != SESSION_ACTIVE || !srv || srv->phase != SERVER_READY || !s->client)
        return;
    if (s->read_blocked && evbuffer_get_length(srv->io->out) < PROXY_BUF_HIGH) {
        /* The server drained while the session was held: its callback did not restart us. */
        s->read_blocked = false;
        io_set_reading(s->client, true);
    }
    client_pump_frames(s, srv);
    if (s->state == SESSION_CLOSED)
        return;
    if (s->server == srv)
        io_flush(srv->io);
    if (s->client)
        io_consumed(s->client);
}
