/*
 * io.c - non-blocking sockets with buffers (io.h).
 */
#include "proxy/io.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/mem.h"

#define IO_READ_CHUNK 65536

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
    if (!io->connecting && !io->failed && evbuffer_get_length(io->out) > 0)
        (void)evbuffer_write(io->out, io->fd);
    event_free(io->rev);
    event_free(io->wev);
    evbuffer_free(io->in);
    evbuffer_free(io->out);
    close(io->fd);
    free(io);
}

void io_set_reading(Io *io, bool on)
{
    if (on == io->reading)
        return;
    io->reading = on;
    if (on && !io->read_stopped && !io->connecting)
        event_add(io->rev, NULL);
    else if (!on)
        event_del(io->rev);
}

void io_consumed(Io *io)
{
    if (io->read_stopped && evbuffer_get_length(io->in) < io->read_max) {
        io->read_stopped = false;
        if (io->reading)
            event_add(io->rev, NULL);
    }
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

void io_flush(Io *io)
{
    if (io->connecting || io->failed)
        return;
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

static void io_read_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    Io *io = arg;
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
