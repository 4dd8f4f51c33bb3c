/*
 * io.c - non-blocking sockets with buffers (io.h).
 */
#include "proxy/io.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/mem.h"

#define IO_READ_CHUNK 65536
#define IO_TLS_RECORD 16384 /* the largest TLS record's payload */

static void io_read_cb(evutil_socket_t fd, short what, void *arg);
static void io_write_cb(evutil_socket_t fd, short what, void *arg);

static Io *io_alloc(struct event_base *base, evutil_socket_t fd, size_t read_max, IoCb on_read,
                    IoCb on_drained, IoEventCb on_event, void *arg)
{
    Io *io = xcalloc(1, sizeof(Io));
    io->fd = fd;
    io->in = evbuffer_new();
    io->out = evbuffer_new();
    io->rev = event_new(base, fd, EV_READ | EV_PERSIST, io_read_cb, io);
    io->wev = event_new(base, fd, EV_WRITE, io_write_cb, io);
    io->read_max = read_max;
    io->on_read = on_read;
    io->on_drained = on_drained;
    io->on_event = on_event;
    io->arg = arg;
    evutil_make_socket_nonblocking(fd);
    evutil_make_socket_closeonexec(fd);
    return io;
}

static void nodelay(evutil_socket_t fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* fails on AF_UNIX: fine */
}

Io *io_new(struct event_base *base, evutil_socket_t fd, size_t read_max, IoCb on_read,
           IoCb on_drained, IoEventCb on_event, void *arg)
{
    Io *io = io_alloc(base, fd, read_max, on_read, on_drained, on_event, arg);
    nodelay(fd);
    io_set_reading(io, true);
    return io;
}

Io *io_connect(struct event_base *base, const struct sockaddr *addr, socklen_t len, size_t read_max,
               IoCb on_read, IoCb on_drained, IoEventCb on_event, void *arg)
{
    evutil_socket_t fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    if (connect(fd, addr, len) != 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        errno = e;
        return NULL;
    }
    Io *io = io_alloc(base, fd, read_max, on_read, on_drained, on_event, arg);
    nodelay(fd);
    io->connecting = true;
    event_add(io->wev, NULL);
    return io;
}

void io_free(Io *io)
{
    if (!io)
        return;
    if (!io->connecting && !io->failed && !io->handshaking && evbuffer_get_length(io->out) > 0)
        io_flush(io); /* one last attempt, without waiting */
    if (io->ssl) {
        if (!io->failed && !io->handshaking)
            (void)SSL_shutdown(io->ssl); /* close_notify, best effort */
        SSL_free(io->ssl);
    }
    event_free(io->rev);
    event_free(io->wev);
    evbuffer_free(io->in);
    evbuffer_free(io->out);
    close(io->fd);
    free(io);
}

/* OpenSSL may hold decrypted bytes the socket will not signal again: read them. */
static void io_kick_pending(Io *io)
{
    if (io->ssl && !io->handshaking && io->reading && !io->read_stopped && SSL_has_pending(io->ssl))
        event_active(io->rev, EV_READ, 0);
}

void io_set_reading(Io *io, bool on)
{
    if (on == io->reading)
        return;
    io->reading = on;
    if (on && !io->read_stopped && !io->connecting) {
        event_add(io->rev, NULL);
        io_kick_pending(io);
    } else if (!on && !io->handshaking) {
        event_del(io->rev);
    }
}

void io_consumed(Io *io)
{
    if (io->read_stopped && evbuffer_get_length(io->in) < io->read_max) {
        io->read_stopped = false;
        if (io->reading) {
            event_add(io->rev, NULL);
            io_kick_pending(io);
        }
    }
}

/* Remember why TLS failed (the first OpenSSL error, or the system error). */
static void io_tls_failed(Io *io, int ssl_err)
{
    unsigned long e = ERR_get_error();
    if (e != 0)
        ERR_error_string_n(e, io->tls_error, sizeof(io->tls_error));
    else if (ssl_err == SSL_ERROR_SYSCALL && errno != 0)
        snprintf(io->tls_error, sizeof(io->tls_error), "%s", strerror(errno));
    else
        snprintf(io->tls_error, sizeof(io->tls_error), "the peer closed the connection");
    ERR_clear_error();
}

/* Drive the handshake; true once it is done (IO_TLS_DONE was reported). */
static bool io_handshake(Io *io)
{
    ERR_clear_error();
    int rc = SSL_do_handshake(io->ssl);
    if (rc == 1) {
        io->handshaking = false;
        event_del(io->wev);
        if (!io->reading)
            event_del(io->rev);
        io_kick_pending(io);
        io->on_event(io, IO_TLS_DONE, io->arg);
        return true;
    }
    int err = SSL_get_error(io->ssl, rc);
    if (err == SSL_ERROR_WANT_READ) {
        event_add(io->rev, NULL);
        return false;
    }
    if (err == SSL_ERROR_WANT_WRITE) {
        event_add(io->wev, NULL);
        return false;
    }
    io_tls_failed(io, err);
    io->failed = true;
    io->error = EPROTO;
    event_del(io->rev);
    io->on_event(io, IO_ERROR, io->arg);
    return false;
}

void io_start_tls(Io *io, struct ssl_st *ssl, bool server)
{
    io->ssl = ssl;
    io->handshaking = true;
    SSL_set_fd(ssl, io->fd);
    SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (server)
        SSL_set_accept_state(ssl);
    else
        SSL_set_connect_state(ssl);
    /* From the loop, not the caller's stack (io.h): the first step waits for an event. */
    event_add(io->rev, NULL);
    event_active(io->wev, EV_WRITE, 0);
}

/* Report a failure from the event loop, not from the caller's stack. */
static void io_fail_later(Io *io, int error)
{
    if (io->failed)
        return;
    io->failed = true;
    io->error = error;
    event_del(io->rev);
    event_active(io->wev, EV_WRITE, 0);
}

/* Send through TLS what fits; arms the write event for the rest. */
static void io_flush_tls(Io *io)
{
    while (evbuffer_get_length(io->out) > 0) {
        /*
         * One record of up to 16 KiB at a time, made contiguous: messages
         * queued in several pieces go out in one record and one write(),
         * not one each.
         */
        size_t len = evbuffer_get_length(io->out);
        if (len > IO_TLS_RECORD)
            len = IO_TLS_RECORD;
        unsigned char *data = evbuffer_pullup(io->out, (ev_ssize_t)len);
        ERR_clear_error();
        int n = SSL_write(io->ssl, data, (int)len);
        if (n > 0) {
            evbuffer_drain(io->out, (size_t)n);
            continue;
        }
        int err = SSL_get_error(io->ssl, n);
        if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
            event_add(io->wev, NULL);
            return;
        }
        io_tls_failed(io, err);
        io_fail_later(io, EPIPE);
        return;
    }
}

void io_flush(Io *io)
{
    if (io->connecting || io->failed || io->handshaking)
        return;
    if (io->ssl) {
        io_flush_tls(io);
        return;
    }
    while (evbuffer_get_length(io->out) > 0) {
        int n = evbuffer_write(io->out, io->fd);
        if (n > 0)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (errno == EINTR)
                continue;
            event_add(io->wev, NULL);
            return;
        }
        io_fail_later(io, n < 0 ? errno : EPIPE);
        return;
    }
}

void io_write(Io *io, const void *data, size_t len)
{
    evbuffer_add(io->out, data, len);
    io_flush(io);
}

/* Read what TLS gives, up to read_max; false when the connection ended (reported). */
static bool io_read_tls(Io *io)
{
    io->read_wants_write = false;
    while (evbuffer_get_length(io->in) < io->read_max) {
        struct evbuffer_iovec v;
        if (evbuffer_reserve_space(io->in, IO_READ_CHUNK, &v, 1) < 1)
            return true;
        ERR_clear_error();
        int n = SSL_read(io->ssl, v.iov_base, v.iov_len > INT32_MAX ? INT32_MAX : (int)v.iov_len);
        if (n > 0) {
            v.iov_len = (size_t)n;
            evbuffer_commit_space(io->in, &v, 1);
            /*
             * With read-ahead (tls.c) OpenSSL took what the socket had; when
             * none of it is left, stop: the socket's next bytes raise the
             * (level-triggered) event again, and the read that would only
             * say EAGAIN is saved.
             */
            if (!SSL_has_pending(io->ssl))
                return true;
            continue;
        }
        evbuffer_commit_space(io->in, &v, 0);
        int err = SSL_get_error(io->ssl, n);
        if (err == SSL_ERROR_WANT_READ)
            return true;
        if (err == SSL_ERROR_WANT_WRITE) {
            io->read_wants_write = true;
            event_add(io->wev, NULL);
            return true;
        }
        event_del(io->rev);
        if (err == SSL_ERROR_ZERO_RETURN) {
            io->error = 0;
            io->on_event(io, IO_EOF, io->arg);
        } else {
            io_tls_failed(io, err);
            io->error = err == SSL_ERROR_SYSCALL && errno ? errno : EPROTO;
            io->on_event(io, err == SSL_ERROR_SYSCALL && !errno ? IO_EOF : IO_ERROR, io->arg);
        }
        return false;
    }
    return true;
}

static void io_read_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    Io *io = arg;
    if (io->ssl) {
        if (io->handshaking) {
            io_handshake(io);
            return;
        }
        size_t before = evbuffer_get_length(io->in);
        if (!io_read_tls(io))
            return;
        if (evbuffer_get_length(io->in) >= io->read_max) {
            io->read_stopped = true;
            event_del(io->rev);
        }
        if (evbuffer_get_length(io->in) > before)
            io->on_read(io, io->arg);
        return;
    }
    struct evbuffer_iovec v[2];
    int nv = evbuffer_reserve_space(io->in, IO_READ_CHUNK, v, 2);
    struct iovec iov[2];
    for (int i = 0; i < nv; i++) {
        iov[i].iov_base = v[i].iov_base;
        iov[i].iov_len = v[i].iov_len;
    }
    ssize_t n = readv(fd, iov, nv);
    if (n <= 0) {
        evbuffer_commit_space(io->in, v, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        io->error = n < 0 ? errno : 0;
        event_del(io->rev);
        io->on_event(io, n == 0 ? IO_EOF : IO_ERROR, io->arg);
        return;
    }
    for (int i = 0; i < nv; i++) {
        size_t take = (size_t)n < v[i].iov_len ? (size_t)n : v[i].iov_len;
        v[i].iov_len = take;
        n -= (ssize_t)take;
    }
    evbuffer_commit_space(io->in, v, nv);
    if (evbuffer_get_length(io->in) >= io->read_max) {
        io->read_stopped = true;
        event_del(io->rev);
    }
    io->on_read(io, io->arg);
}

static void io_write_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    Io *io = arg;
    if (io->failed) {
        io->on_event(io, IO_ERROR, io->arg);
        return;
    }
    if (io->handshaking) {
        io_handshake(io);
        return;
    }
    if (io->read_wants_write) {
        io_read_cb(fd, EV_READ, io); /* may report the end: then io is not touched again */
        return;
    }
    if (io->connecting) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        io->connecting = false;
        if (err != 0) {
            io->failed = true;
            io->error = err;
            io->on_event(io, IO_ERROR, io->arg);
            return;
        }
        if (io->reading)
            event_add(io->rev, NULL);
        io->on_event(io, IO_CONNECTED, io->arg);
        return;
    }
    io_flush(io);
    if (evbuffer_get_length(io->out) == 0 && !io->failed && io->on_drained)
        io->on_drained(io, io->arg);
}
