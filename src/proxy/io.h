/*
 * io.h - a non-blocking socket with an input and an output buffer, for the
 * proxy's client and server connections.
 *
 * Why not libevent's bufferevent: it asks the kernel how much there is to
 * read (ioctl) before every read and arms and disarms its write event around
 * every write (two epoll_ctl calls), five system calls a message where a
 * proxy needs two. Here the read event stays armed (EV_PERSIST) and a write
 * is attempted at once (io_flush); the write event is armed only when the
 * kernel did not take everything.
 *
 * Callbacks run from the event loop only, never from inside io_write() /
 * io_flush(): a write error is reported on the next loop iteration, so a
 * caller that writes never sees its connection freed under it.
 *
 * TLS (io_start_tls): the same buffers hold clear text; reads and writes
 * go through OpenSSL's SSL_read / SSL_write on the non-blocking socket
 * (no BIO pair, no extra copy), with the events armed as OpenSSL asks
 * (a read that wants a write arms the write event, and so on). The
 * handshake runs from the same events and ends with IO_TLS_DONE.
 */
#ifndef DD_PROXY_IO_H
#define DD_PROXY_IO_H

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

typedef enum {
    IO_CONNECTED = 1, /* an outgoing connection is established */
    IO_EOF = 2,       /* the peer closed */
    IO_ERROR = 4,     /* read, write or connect failed (errno in io->error) */
    IO_TLS_DONE = 8   /* the TLS handshake completed */
} IoEvent;

typedef struct Io Io;
typedef void (*IoCb)(Io *io, void *arg);
typedef void (*IoEventCb)(Io *io, IoEvent what, void *arg);

struct Io {
    evutil_socket_t fd;
    struct event *rev, *wev;
    struct evbuffer *in, *out;
    IoCb on_read;    /* new bytes in `in` */
    IoCb on_drained; /* `out` was full and is now empty */
    IoEventCb on_event;
    void *arg;
    size_t read_max; /* stop reading while `in` holds this much */
    bool connecting, reading, read_stopped, failed;
    int error;
    struct ssl_st *ssl;    /* TLS, once io_start_tls() was called */
    bool handshaking;      /* ... and until IO_TLS_DONE */
    bool read_wants_write; /* SSL_read asked for the socket to be writable */
    char tls_error[160];   /* why the handshake or a TLS read/write failed */
};

/* Wrap an accepted socket (made non-blocking here); reading starts at once. */
Io *io_new(struct event_base *base, evutil_socket_t fd, size_t read_max, IoCb on_read,
           IoCb on_drained, IoEventCb on_event, void *arg);
/* Start connecting to addr; NULL (errno set) when the connect fails at once. */
Io *io_connect(struct event_base *base, const struct sockaddr *addr, socklen_t len, size_t read_max,
               IoCb on_read, IoCb on_drained, IoEventCb on_event, void *arg);
/* Close the socket after one last attempt to send what is queued. */
void io_free(Io *io);

/*
 * Start TLS on the connection (its buffers must be empty): as the server
 * (accepted socket) or the client, with an SSL object made by the caller
 * from its context (owned by io from now on). IO_TLS_DONE or IO_ERROR
 * (io->tls_error) follow from the event loop.
 */
void io_start_tls(Io *io, struct ssl_st *ssl, bool server);

/* Queue bytes and try to send them now. */
void io_write(Io *io, const void *data, size_t len);
/* Try to send what is queued now; arms the write event for the rest. */
void io_flush(Io *io);
/* Stop or restart reading (backpressure, held sessions). */
void io_set_reading(Io *io, bool on);
/* After the caller consumed input: restart reading if it stopped on read_max. */
void io_consumed(Io *io);

#endif
