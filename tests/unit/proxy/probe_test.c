/*
 * probe_test.c - the role probe (proxy/probe.c) against a fake server that
 * answers libpq's startup with the in_hot_standby it is told: after a
 * switch, a probe that still sees recovery (the promotion not finished) is
 * made again soon, not after probe_interval (an hour here, so only the
 * re-probe can bring the next connection); without a switch, or once a
 * primary is seen, nothing more comes until the interval.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proxy/internal.h"
#include "proxy/proto.h"
#include "unit/proxytest.h"

/* Run the proxy's loop for about ms milliseconds. */
static void spin(Proxy *p, int ms)
{
    for (int i = 0; i < ms; i++) {
        event_base_loop(p->base, EVLOOP_NONBLOCK);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

/* The next probe connection, waiting at most about 10 s; -1: none came. */
static int next_probe(Proxy *p, int lfd, int ms)
{
    for (int i = 0; i < ms; i++) {
        int fd = accept(lfd, NULL, NULL);
        if (fd >= 0)
            return fd;
        assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
        spin(p, 1);
    }
    return -1;
}

/* One startup packet (length-prefixed, no type byte) into b. */
static void read_startup(Proxy *p, int fd, Buf *b)
{
    buf_reset(b);
    for (int i = 0; i < 10000; i++) {
        uint8_t tmp[1024];
        ssize_t n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
        if (n > 0)
            buf_append(b, tmp, (size_t)n);
        if (b->len >= 4 && b->len >= proto_get32(b->data))
            return;
        assert_true(n != 0);
        spin(p, 1);
    }
    fail_msg("no startup packet from the probe");
}

/* Answer one probe like PostgreSQL with trust, reporting in_hot_standby = hs. */
static void answer_probe(Proxy *p, int lfd, const char *hs)
{
    int fd = next_probe(p, lfd, 10000);
    if (fd < 0)
        fail_msg("no probe came (in_hot_standby = %s next)", hs);
    Buf b = {0};
    read_startup(p, fd, &b);
    /* SSLRequest or GSSENCRequest (8 bytes): refused, the startup follows. */
    while (b.len == 8 &&
           (proto_get32(b.data + 4) == 80877103 || proto_get32(b.data + 4) == 80877104)) {
        assert_int_equal(send(fd, "N", 1, 0), 1);
        read_startup(p, fd, &b);
    }
    buf_reset(&b);
    proto_auth(&b, 0, NULL, 0);
    proto_param_status(&b, "in_hot_standby", hs);
    proto_backend_key(&b, 4242, 99);
    proto_ready(&b, 'I');
    assert_int_equal(send(fd, b.data, b.len, 0), (ssize_t)b.len);
    buf_free(&b);
    /* The probe reads it and closes (Terminate, then EOF). */
    for (int i = 0; i < 10000; i++) {
        uint8_t tmp[64];
        if (recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT) == 0)
            break;
        spin(p, 1);
    }
    close(fd);
    spin(p, 5);
}

static void test_reprobe_after_switch(void **state)
{
    (void)state;
    int sport, lport;
    int lfd = listen_any(&sport);
    assert_int_equal(fcntl(lfd, F_SETFL, O_NONBLOCK), 0);
    char server[64];
    snprintf(server, sizeof(server), "host=127.0.0.1 port=%d user=alice", sport);
    Proxy *p = proxytest_new(server, 3600, &lport);

    /* The first probe, at start: a standby. Nothing more without a switch. */
    answer_probe(p, lfd, "on");
    assert_int_equal(p->role, PROXY_ROLE_REPLICA);
    assert_int_equal(next_probe(p, lfd, 300), -1);

    /* A switch whose promotion is not finished: the first probe sees recovery... */
    proxy_probe_now(p);
    answer_probe(p, lfd, "on");
    assert_int_equal(p->role, PROXY_ROLE_REPLICA);
    answer_probe(p, lfd, "on");
    /* ... and one made again soon sees the primary: /primary answers 200. */
    answer_probe(p, lfd, "off");
    assert_int_equal(p->role, PROXY_ROLE_PRIMARY);
    /* Seen: back to the interval. */
    assert_int_equal(next_probe(p, lfd, 1500), -1);

    proxy_free(p);
    close(lfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reprobe_after_switch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
