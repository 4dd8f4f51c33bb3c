/*
 * proxytest.h - an in-process proxy on free loopback ports for the unit
 * tests that drive its event loop (proxy_test, probe_test). Header-only:
 * each test program includes it once.
 */
#ifndef DD_TESTS_PROXYTEST_H
#define DD_TESTS_PROXYTEST_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy/internal.h"

/* A listening loopback socket on a free port (*port). */
static inline int listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static inline int free_port(void)
{
    int port;
    close(listen_any(&port));
    return port;
}

/*
 * A proxy for server (a conninfo) trusting its clients, at most 2 of them,
 * probing the server's role every probe_interval seconds (0: never);
 * *lport is its listen port. The mandatory admin token file is made 0600
 * by mkstemp and removed once the proxy has read it.
 */
static inline Proxy *proxytest_new(const char *server, double probe_interval, int *lport)
{
    char listen[32], admin[32];
    *lport = free_port();
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", *lport);
    snprintf(admin, sizeof(admin), "127.0.0.1:%d", free_port());
    char token[] = "/tmp/drydock-proxy-test-token.XXXXXX";
    int tfd = mkstemp(token);
    assert_true(tfd >= 0);
    assert_int_equal(write(tfd, "0123456789abcdef0123\n", 21), 21);
    close(tfd);
    ProxyOptions opt = {.listen = listen,
                        .admin = admin,
                        .auth = AUTH_TRUST,
                        .credentials = "/nonexistent/credentials",
                        .server = server,
                        .login_timeout = 5,
                        .pause_timeout = 5,
                        .max_clients = 2,
                        .admin_token_file = token,
                        .probe_interval = probe_interval};
    Proxy *p = proxy_new(&opt);
    unlink(token);
    assert_non_null(p);
    return p;
}

#endif
