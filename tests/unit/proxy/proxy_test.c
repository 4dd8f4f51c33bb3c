/*
 * proxy_test.c - the proxy in-process against a scripted fake server: the
 * handshake, forwarding, and where a pause may hold a session (only after
 * the ReadyForQuery that answers a Sync), with exact control of every byte.
 *
 * The test drives the proxy's event loop itself (event_base_loop with
 * EVLOOP_NONBLOCK) between blocking socket calls of the fake client and the
 * fake server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
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

typedef struct {
    Proxy *p;
    int lport;
    int server_listen;
    int client, server; /* the fake client's and the fake server's sockets */
} Rig;

/* Run the proxy's loop for about ms milliseconds. */
static void spin(Rig *r, int ms)
{
    for (int i = 0; i < ms; i++) {
        event_base_loop(r->p->base, EVLOOP_NONBLOCK);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

/* Read one whole message from fd while spinning the loop; returns its type. */
static uint8_t read_msg(Rig *r, int fd, Buf *out)
{
    buf_reset(out);
    for (int i = 0; i < 2000; i++) {
        uint8_t tmp[4096];
        ssize_t n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT | MSG_PEEK);
        if (n >= 5) {
            uint32_t len = proto_get32(tmp + 1);
            if ((size_t)n >= 1 + len || n == (ssize_t)sizeof(tmp)) {
                buf_reserve(out, 1 + len);
                assert_int_equal(recv(fd, out->data, 1 + len, MSG_WAITALL), (ssize_t)(1 + len));
                out->len = 1 + len;
                return out->data[0];
            }
        }
        if (n == 0)
            return 0; /* closed */
        spin(r, 1);
    }
    fail_msg("no message arrived");
    return 0;
}

/* True when nothing is waiting on fd (after letting the proxy run). */
static bool quiet(Rig *r, int fd)
{
    spin(r, 30);
    uint8_t b;
    return recv(fd, &b, 1, MSG_DONTWAIT | MSG_PEEK) < 0 && errno == EAGAIN;
}

static void send_all(int fd, const Buf *b)
{
    assert_int_equal(send(fd, b->data, b->len, 0), (ssize_t)b->len);
}

/* A frame with just a type and an optional string payload. */
static void send_msg(int fd, uint8_t type, const char *payload)
{
    Buf b = {0};
    size_t off = proto_begin(&b, type);
    if (payload)
        proto_add_str(&b, payload);
    proto_end(&b, off);
    send_all(fd, &b);
    buf_free(&b);
}

static int connect_proxy(Rig *r)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)r->lport),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        fail_msg("connect to the proxy on %d: %s", r->lport, strerror(errno));
    return fd;
}

static int rig_setup(void **state)
{
    static Rig r;
    memset(&r, 0, sizeof(r));
    int sport;
    r.server_listen = listen_any(&sport);
    char server[64];
    snprintf(server, sizeof(server), "host=127.0.0.1 port=%d", sport);
    int lport;
    r.p = proxytest_new(server, 0, &lport);

    /* client: startup */
    r.lport = lport;
    r.client = connect_proxy(&r);
    Buf b = {0};
    const char *names[] = {"user", "database"}, *values[] = {"alice", "db"};
    proto_startup_message(&b, 2, names, values);
    send_all(r.client, &b);
    spin(&r, 20);

    /* server: accept, check the startup packet, answer like PostgreSQL with trust */
    r.server = accept(r.server_listen, NULL, NULL);
    assert_true(r.server >= 0);
    uint8_t head[256];
    ssize_t n = recv(r.server, head, sizeof(head), 0);
    ProtoStartup st;
    assert_true(n > 8 && proto_startup_parse(head, (size_t)n, &st));
    assert_string_equal(st.user, "alice");
    assert_string_equal(st.database, "db");
    buf_reset(&b);
    proto_auth(&b, 0, NULL, 0);
    proto_param_status(&b, "server_version", "15.99");
    proto_backend_key(&b, 4242, 99);
    proto_ready(&b, 'I');
    send_all(r.server, &b);
    buf_free(&b);

    /* client: AuthenticationOk, the parameter, the proxy's own key, ready */
    Buf m = {0};
    assert_int_equal(read_msg(&r, r.client, &m), 'R');
    assert_int_equal(read_msg(&r, r.client, &m), 'S');
    assert_int_equal(read_msg(&r, r.client, &m), 'K');
    assert_int_not_equal(proto_get32(m.data + 5), 4242); /* not the server's pid */
    assert_int_equal(read_msg(&r, r.client, &m), 'Z');
    buf_free(&m);
    assert_int_equal(proxy_count_state(r.p, SESSION_ACTIVE), 1);
    *state = &r;
    return 0;
}

static int rig_teardown(void **state)
{
    Rig *r = *state;
    close(r->client);
    close(r->server);
    close(r->server_listen);
    proxy_free(r->p);
    return 0;
}

static void test_forwarding(void **state)
{
    Rig *r = *state;
    Buf m = {0};
    send_msg(r->client, 'Q', "select 1");
    assert_int_equal(read_msg(r, r->server, &m), 'Q');
    assert_string_equal((char *)m.data + 5, "select 1");
    Buf b = {0};
    proto_param_status(&b, "TimeZone", "UTC"); /* asynchronous, mid-query */
    proto_ready(&b, 'T');
    send_all(r->server, &b);
    assert_int_equal(read_msg(r, r->client, &m), 'S');
    assert_int_equal(read_msg(r, r->client, &m), 'Z');
    assert_string_equal(session_tx_name(r->p->sessions), "in-transaction");
    assert_string_equal(session_param_get(r->p->sessions, "TimeZone"), "UTC");
    buf_free(&b);
    buf_free(&m);
}

/*
 * Extended protocol: after Parse/Bind/Execute without a Sync the session is
 * not at a boundary, even though its last ReadyForQuery said idle; the pause
 * completes only after the ReadyForQuery that answers the Sync, and a query
 * sent during the pause reaches the server only after resume.
 */
static void test_pause_extended(void **state)
{
    Rig *r = *state;
    Buf m = {0};
    Buf b = {0};
    size_t off = proto_begin(&b, 'P'); /* a named statement */
    proto_add_str(&b, "s1");
    proto_add_str(&b, "select 1");
    proto_add_i16(&b, 0);
    proto_end(&b, off);
    off = proto_begin(&b, 'E'); /* Execute the unnamed portal, no row limit */
    proto_add_str(&b, "");
    proto_add_i32(&b, 0);
    proto_end(&b, off);
    send_all(r->client, &b);
    buf_reset(&b);
    assert_int_equal(read_msg(r, r->server, &m), 'P');
    assert_int_equal(read_msg(r, r->server, &m), 'E');

    assert_int_equal(proxy_pause(r->p, 5, false, NULL, NULL), PROXY_STARTED);
    spin(r, 10);
    assert_int_equal(r->p->phase, PROXY_PAUSING); /* mid-batch: not a boundary */

    send_msg(r->client, 'S', NULL); /* the Sync still goes through */
    assert_int_equal(read_msg(r, r->server, &m), 'S');
    assert_int_equal(r->p->phase, PROXY_PAUSING);
    proto_ready(&b, 'I');
    send_all(r->server, &b);
    assert_int_equal(read_msg(r, r->client, &m), 'Z');
    spin(r, 10);
    assert_int_equal(r->p->phase, PROXY_PAUSED);
    assert_int_equal(proxy_count_state(r->p, SESSION_HELD), 1);
    assert_int_equal(r->p->sessions->nstmts, 1);

    send_msg(r->client, 'Q', "select 2");
    assert_true(quiet(r, r->server)); /* held */
    double ms;
    assert_int_equal(proxy_resume(r->p, &ms), PROXY_DONE);
    assert_int_equal(read_msg(r, r->server, &m), 'Q');
    assert_string_equal((char *)m.data + 5, "select 2");
    assert_int_equal(proxy_resume(r->p, &ms), PROXY_ERR_NOT_PAUSED);
    buf_free(&b);
    buf_free(&m);
}

/*
 * Switch: the held session gets a connection to the new server, its named
 * statement is prepared there again (the answers are not the client's), a
 * changed parameter reaches the client, the old connection is terminated.
 */
static void test_switch(void **state)
{
    Rig *r = *state;
    Buf b = {0}, m = {0};
    size_t off = proto_begin(&b, 'P');
    proto_add_str(&b, "s1");
    proto_add_str(&b, "select 1");
    proto_add_i16(&b, 0);
    proto_end(&b, off);
    Buf parse = {0};
    buf_append(&parse, b.data, b.len);
    off = proto_begin(&b, 'S');
    proto_end(&b, off);
    send_all(r->client, &b);
    assert_int_equal(read_msg(r, r->server, &m), 'P');
    assert_int_equal(read_msg(r, r->server, &m), 'S');
    buf_reset(&b);
    off = proto_begin(&b, '1');
    proto_end(&b, off);
    proto_ready(&b, 'I');
    send_all(r->server, &b);
    assert_int_equal(read_msg(r, r->client, &m), '1');
    assert_int_equal(read_msg(r, r->client, &m), 'Z');

    assert_int_equal(proxy_pause(r->p, 5, false, NULL, NULL), PROXY_STARTED);
    spin(r, 5);
    assert_int_equal(r->p->phase, PROXY_PAUSED);
    int port2;
    int listen2 = listen_any(&port2);
    char conninfo[64];
    snprintf(conninfo, sizeof(conninfo), "host=127.0.0.1 port=%d", port2);
    /* Only to a server the configuration names: not this one yet. */
    assert_int_equal(proxy_switch(r->p, conninfo, NULL, NULL), PROXY_ERR_NOT_ALLOWED);
    assert_int_equal(err_code(), DD_EXIT_CONFIG);
    assert_int_equal(r->p->phase, PROXY_PAUSED);
    assert_true(proxy_target_init(&r->p->allowed[r->p->nallowed++], conninfo));
    assert_int_equal(proxy_switch(r->p, conninfo, NULL, NULL), PROXY_STARTED);
    spin(r, 10);
    int server2 = accept(listen2, NULL, NULL);
    assert_true(server2 >= 0);
    uint8_t head[256];
    ProtoStartup st;
    ssize_t n = recv(server2, head, sizeof(head), 0);
    assert_true(n > 8 && proto_startup_parse(head, (size_t)n, &st));
    assert_string_equal(st.user, "alice");
    buf_reset(&b);
    proto_auth(&b, 0, NULL, 0);
    proto_param_status(&b, "server_version", "16.0");
    proto_backend_key(&b, 777, 1);
    proto_ready(&b, 'I');
    send_all(server2, &b);
    assert_int_equal(read_msg(r, server2, &m), 'P'); /* the replay */
    assert_memory_equal(m.data, parse.data, parse.len);
    assert_int_equal(read_msg(r, server2, &m), 'S');
    buf_reset(&b);
    off = proto_begin(&b, '1');
    proto_end(&b, off);
    proto_ready(&b, 'I');
    send_all(server2, &b);
    spin(r, 10);
    assert_int_equal(r->p->phase, PROXY_PAUSED);
    assert_int_equal(r->p->switch_ok, 1);
    assert_int_equal(read_msg(r, r->client, &m), 'S'); /* the changed parameter, nothing else */
    assert_string_equal((char *)m.data + 5, "server_version");
    assert_true(quiet(r, r->client));
    assert_int_equal(read_msg(r, r->server, &m), 'X'); /* the old connection is terminated */

    double ms;
    assert_int_equal(proxy_resume(r->p, &ms), PROXY_DONE);
    send_msg(r->client, 'Q', "select 3");
    assert_int_equal(read_msg(r, server2, &m), 'Q');
    close(server2);
    close(listen2);
    buf_free(&parse);
    buf_free(&b);
    buf_free(&m);
}

/* Pause, then a second fake server that the configuration names; its accepted socket. */
static int paused_with_second(Rig *r, int *listen2, char *conninfo, size_t len)
{
    assert_int_equal(proxy_pause(r->p, 5, false, NULL, NULL), PROXY_STARTED);
    spin(r, 5);
    assert_int_equal(r->p->phase, PROXY_PAUSED);
    int port2;
    *listen2 = listen_any(&port2);
    snprintf(conninfo, len, "host=127.0.0.1 port=%d", port2);
    assert_true(proxy_target_init(&r->p->allowed[r->p->nallowed++], conninfo));
    int opened = -1;
    assert_int_equal(proxy_preconnect(r->p, conninfo, &opened), PROXY_DONE);
    assert_int_equal(opened, 1);
    spin(r, 10);
    int server2 = accept(*listen2, NULL, NULL);
    assert_true(server2 >= 0);
    uint8_t head[256];
    ProtoStartup st;
    ssize_t n = recv(server2, head, sizeof(head), 0);
    assert_true(n > 8 && proto_startup_parse(head, (size_t)n, &st));
    assert_string_equal(st.user, "alice");
    Buf b = {0};
    proto_auth(&b, 0, NULL, 0);
    proto_backend_key(&b, 778, 1);
    proto_ready(&b, 'I');
    send_all(server2, &b);
    buf_free(&b);
    spin(r, 10);
    return server2;
}

/*
 * Connecting ahead (preconnect.c): while paused the held session gets its
 * connection to the next server, and keeps its current one; the switch
 * there takes it over at once, and the client's next query goes to it.
 */
static void test_preconnect_switch(void **state)
{
    Rig *r = *state;
    int listen2;
    char conninfo[64];
    int server2 = paused_with_second(r, &listen2, conninfo, sizeof(conninfo));
    assert_true(r->p->sessions->pre_ready);
    assert_int_equal(r->p->switch_ok, 0);
    assert_true(quiet(r, r->server)); /* the current connection is kept */
    assert_int_equal(proxy_switch(r->p, conninfo, NULL, NULL), PROXY_STARTED);
    assert_int_equal(r->p->phase, PROXY_PAUSED); /* done at once */
    assert_int_equal(r->p->switch_ok, 1);
    Buf m = {0};
    assert_int_equal(read_msg(r, r->server, &m), 'X'); /* the old connection is terminated */
    double ms;
    assert_int_equal(proxy_resume(r->p, &ms), PROXY_DONE);
    send_msg(r->client, 'Q', "select 4");
    assert_int_equal(read_msg(r, server2, &m), 'Q');
    close(server2);
    close(listen2);
    buf_free(&m);
}

/* A resume without a switch closes what was opened ahead; clients stay on their server. */
static void test_preconnect_resume(void **state)
{
    Rig *r = *state;
    int listen2;
    char conninfo[64];
    int server2 = paused_with_second(r, &listen2, conninfo, sizeof(conninfo));
    double ms;
    assert_int_equal(proxy_resume(r->p, &ms), PROXY_DONE);
    Buf m = {0};
    assert_int_equal(read_msg(r, server2, &m), 'X');
    assert_null(r->p->sessions->pre_server);
    send_msg(r->client, 'Q', "select 5");
    assert_int_equal(read_msg(r, r->server, &m), 'Q');
    /* Not paused: nothing is opened ahead. */
    int opened = -1;
    assert_int_equal(proxy_preconnect(r->p, conninfo, &opened), PROXY_ERR_NOT_PAUSED);
    close(server2);
    close(listen2);
    buf_free(&m);
}

/* The server going away gives the client FATAL 08006 and ends the session. */
static void test_server_lost(void **state)
{
    Rig *r = *state;
    Buf m = {0};
    close(r->server);
    r->server = -1;
    assert_int_equal(read_msg(r, r->client, &m), 'E');
    char code[8], text[128];
    proto_error_fields(m.data + 5, m.len - 5, code, sizeof(code), text, sizeof(text));
    assert_string_equal(code, "08006");
    assert_int_equal(read_msg(r, r->client, &m), 0); /* closed */
    assert_int_equal(r->p->nclients, 0);
    assert_int_equal(r->p->counters.server_errors, 1);
    buf_free(&m);
}

/* max-clients (2 here): the third connection gets FATAL 53300 and is closed. */
static void test_max_clients(void **state)
{
    Rig *r = *state;
    Buf m = {0};
    int second = connect_proxy(r);
    spin(r, 10);
    assert_int_equal(r->p->nclients, 2);
    int third = connect_proxy(r);
    assert_int_equal(read_msg(r, third, &m), 'E');
    char code[8], text[64];
    proto_error_fields(m.data + 5, m.len - 5, code, sizeof(code), text, sizeof(text));
    assert_string_equal(code, "53300");
    assert_int_equal(read_msg(r, third, &m), 0);
    assert_int_equal(r->p->nclients, 2);
    close(second);
    close(third);
    buf_free(&m);
}

/* The error code of the FATAL that ends fd's session. */
static void expect_fatal(Rig *r, int fd, const char *sqlstate)
{
    Buf m = {0};
    assert_int_equal(read_msg(r, fd, &m), 'E');
    char code[8], text[256];
    proto_error_fields(m.data + 5, m.len - 5, code, sizeof(code), text, sizeof(text));
    assert_string_equal(code, sqlstate);
    assert_int_equal(read_msg(r, fd, &m), 0); /* closed */
    buf_free(&m);
}

/* No lease without a pause; none to renew on a pause given without one. */
static void test_lease_needs_pause(void **state)
{
    Rig *r = *state;
    assert_int_equal(proxy_lease(r->p, 1.0, false), PROXY_ERR_NOT_PAUSED);
    assert_int_equal(proxy_pause(r->p, 5, false, NULL, NULL), PROXY_STARTED);
    assert_int_equal(proxy_lease(r->p, 0, false),
                     PROXY_ERR_NOT_PAUSED); /* renew: there is no lease */
    assert_int_equal(proxy_lease(r->p, 1.0, false), PROXY_DONE);
    assert_int_equal(proxy_lease(r->p, 0, false), PROXY_DONE);
    double ms;
    assert_int_equal(proxy_resume(r->p, &ms), PROXY_DONE);
    assert_int_equal(r->p->lease_s, 0);
}

/* Renewals keep the clients held; without them, before a promotion, the proxy resumes. */
static void test_lease_expires_before_promotion(void **state)
{
    Rig *r = *state;
    Buf m = {0};
    assert_int_equal(proxy_pause(r->p, 5, false, NULL, NULL), PROXY_STARTED);
    /* A lease of 1 s, renewed every 100 ms for longer than the lease. (It was
     * 0.1 s, and a loaded machine stalled one spin past it while renewing.) */
    assert_int_equal(proxy_lease(r->p, 1.0, false), PROXY_DONE);
    spin(r, 5);
    assert_int_equal(r->p->phase, PROXY_PAUSED);
    send_msg(r->client, 'Q', "select 2");
    for (int i = 0; i < 15; i++) { /* 1.5 s, renewed every 100 ms */
        spin(r, 100);
        assert_int_equal(proxy_lease(r->p, 0, false), PROXY_DONE);
    }
    assert_int_equal(r->p->phase, PROXY_PAUSED);
    assert_true(quiet(r, r->server)); /* still held */
    spin(r, 1200);                    /* no renewal: the lease runs out */
    assert_int_equal(r->p->phase, PROXY_RUNNING);
    assert_int_equal(read_msg(r, r->server, &m), 'Q'); /* resumed on the same server */
    assert_string_equal((char *)m.data + 5, "select 2");
    buf_free(&m);
}

/*
 * After "promoting" the proxy cannot know which server is the primary: at
 * the lease's end held clients get 57P01, new ones too until a resume.
 */
static void test_lease_expires_after_promotion(void **state)
{
    Rig *r = *state;
    assert_int_equal(proxy_pause(r->p, 5, false, NULL, NULL), PROXY_STARTED);
    assert_int_equal(proxy_lease(r->p, 0.05, false), PROXY_DONE);
    spin(r, 5);
    assert_int_equal(proxy_lease(r->p, 0, true), PROXY_DONE);
    send_msg(r->client, 'Q', "select 2");
    expect_fatal(r, r->client, "57P01");
    assert_true(r->p->fenced);
    assert_int_equal(proxy_lease(r->p, 1.0, false),
                     PROXY_ERR_NOT_PAUSED); /* fenced: nothing to renew */

    int second = connect_proxy(r);
    Buf b = {0};
    const char *names[] = {"user", "database"}, *values[] = {"bob", "db"};
    proto_startup_message(&b, 2, names, values);
    send_all(second, &b);
    Buf m = {0};
    assert_int_equal(read_msg(r, second, &m), 'R'); /* trust: AuthenticationOk, then refused */
    while (m.data[0] != 'E')
        assert_int_not_equal(read_msg(r, second, &m), 0);
    char code[8], text[256];
    proto_error_fields(m.data + 5, m.len - 5, code, sizeof(code), text, sizeof(text));
    assert_string_equal(code, "57P01");
    close(second);

    double ms;
    assert_int_equal(proxy_resume(r->p, &ms), PROXY_DONE); /* the operator's way out */
    assert_false(r->p->fenced);
    buf_free(&b);
    buf_free(&m);
}

/*
 * Fenced by a lease that ran out after "promoting", the other way out (the
 * one maint resume takes, switchover_adopt): /switch to the promoted server,
 * then /resume; new sessions then go there.
 */
static void test_lease_fence_switch_then_resume(void **state)
{
    Rig *r = *state;
    assert_int_equal(proxy_pause(r->p, 5, false, NULL, NULL), PROXY_STARTED);
    assert_int_equal(proxy_lease(r->p, 0.05, true), PROXY_DONE);
    send_msg(r->client, 'Q', "select 2");
    expect_fatal(r, r->client, "57P01");
    assert_true(r->p->fenced);
    assert_int_equal(r->p->phase, PROXY_PAUSED);

    int port2;
    int listen2 = listen_any(&port2);
    char conninfo[64], port_text[16];
    snprintf(conninfo, sizeof(conninfo), "host=127.0.0.1 port=%d", port2);
    snprintf(port_text, sizeof(port_text), "port=%d", port2);
    assert_true(proxy_target_init(&r->p->allowed[r->p->nallowed++], conninfo));
    ProxyResult sw = proxy_switch(r->p, conninfo, NULL, NULL);
    assert_true(sw == PROXY_STARTED || sw == PROXY_DONE); /* no session held: nothing to move */
    spin(r, 10);
    double ms;
    assert_int_equal(proxy_resume(r->p, &ms), PROXY_DONE);
    assert_false(r->p->fenced);
    assert_int_equal(r->p->phase, PROXY_RUNNING);
    assert_non_null(strstr(r->p->target.redacted, port_text));

    int second = connect_proxy(r);
    Buf b = {0};
    const char *names[] = {"user", "database"}, *values[] = {"bob", "db"};
    proto_startup_message(&b, 2, names, values);
    send_all(second, &b);
    spin(r, 20);
    int server2 = accept(listen2, NULL, NULL); /* the new session goes to the new server */
    assert_true(server2 >= 0);
    close(server2);
    close(second);
    close(listen2);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_forwarding, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_pause_extended, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_switch, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_preconnect_switch, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_preconnect_resume, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_server_lost, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_max_clients, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_lease_needs_pause, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_lease_expires_before_promotion, rig_setup,
                                        rig_teardown),
        cmocka_unit_test_setup_teardown(test_lease_fence_switch_then_resume, rig_setup,
                                        rig_teardown),
        cmocka_unit_test_setup_teardown(test_lease_expires_after_promotion, rig_setup,
                                        rig_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
