/*
 * cancel.c - a CancelRequest to a server (a client's cancel, or a pause
 * that cancels open transactions), on its own short connection, with the
 * sessions' server-tls-mode (tls.h):
 *
 *   disable, or a Unix socket:  TCP connect -> CancelRequest
 *   prefer:     SSLRequest -> 'S': TLS handshake -> CancelRequest
 *                          -> 'N': CancelRequest in the clear
 *   require and above:  as prefer, but 'N' or a failed handshake drops the
 *                       cancel (a warning): the key never goes out in clear
 *
 * PostgreSQL reads a CancelRequest after an SSLRequest and TLS as it does
 * in the clear. The server closes the connection once it has read it; the
 * connection is freed then, or after CANCEL_TIMEOUT_S, whichever is first.
 * Cancels are best effort, as libpq's PQcancel: nothing reports back.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"
#include "proxy/internal.h"
#include "proxy/proto.h"
#include "proxy/tls.h"

#define CANCEL_TIMEOUT_S 5

typedef struct {
    Io *io;
    struct event *timer;
    TlsServerMode mode;
    const Tls *tls;
    char host[256];
    uint32_t pid, key;
    bool asked_ssl; /* waiting for the answer to the SSLRequest */
    bool sent;      /* the CancelRequest is queued */
} Cancel;

static void cancel_free(Cancel *c)
{
    if (c->io)
        io_free(c->io);
    if (c->timer)
        event_free(c->timer);
    explicit_bzero(&c->key, sizeof(c->key));
    free(c);
}

static void cancel_send(Cancel *c)
{
    Buf b = {0};
    proto_cancel_request(&b, c->pid, c->key);
    io_write(c->io, b.data, b.len);
    buf_free(&b);
    c->sent = true;
}

static void cancel_read_cb(Io *io, void *arg)
{
    Cancel *c = arg;
    uint8_t answer;
    if (!c->asked_ssl) { /* nothing is expected after the cancel: the server closes */
        evbuffer_drain(io->in, evbuffer_get_length(io->in));
        return;
    }
    if (evbuffer_remove(io->in, &answer, 1) < 1)
        return;
    c->asked_ssl = false;
    struct ssl_st *ssl =
        answer == 'S' && evbuffer_get_length(io->in) == 0 ? tls_server_ssl(c->tls, c->host) : NULL;
    if (ssl) {
        io_start_tls(io, ssl, false);
    } else if (answer == 'N' && c->mode < TLS_SERVER_REQUIRE) {
        cancel_send(c);
    } else {
        log_warn("cancel request to %s not sent: %s", c->host,
                 answer == 'N' ? "the server does not accept TLS, and server-tls-mode requires it"
                               : "could not start TLS with the server");
        cancel_free(c);
    }
}

static void cancel_event_cb(Io *io, IoEvent what, void *arg)
{
    (void)io;
    Cancel *c = arg;
    if (what & IO_CONNECTED) {
        if (c->mode == TLS_SERVER_DISABLE) {
            cancel_send(c);
        } else {
            static const uint8_t sslreq[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};
            io_write(c->io, sslreq, sizeof(sslreq));
            c->asked_ssl = true;
        }
        return;
    }
    if (what & IO_TLS_DONE) {
        cancel_send(c);
        return;
    }
    if ((what & IO_ERROR) && !c->sent)
        log_warn("cancel request to %s not sent: %s", c->host,
                 c->io->tls_error[0] ? c->io->tls_error : strerror(c->io->error));
    cancel_free(c); /* EOF: the server has read it; or an error */
}

static void cancel_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    cancel_free(arg);
}

void server_cancel(Proxy *p, const Server *srv)
{
    if (srv->pid == 0)
        return;
    Cancel *c = xcalloc(1, sizeof(Cancel));
    c->tls = &p->tls;
    c->mode = srv->addr.ss_family == AF_UNIX ? TLS_SERVER_DISABLE : p->tls.server_mode;
    snprintf(c->host, sizeof(c->host), "%s", srv->host);
    c->pid = srv->pid;
    c->key = srv->key;
    c->io = io_connect(p->base, (const struct sockaddr *)&srv->addr, srv->addr_len, 1024,
                       cancel_read_cb, NULL, cancel_event_cb, c);
    if (!c->io) {
        cancel_free(c);
        return;
    }
    io_set_reading(c->io, true);
    c->timer = evtimer_new(p->base, cancel_timeout_cb, c);
    struct timeval tv = {CANCEL_TIMEOUT_S, 0};
    evtimer_add(c->timer, &tv);
}
