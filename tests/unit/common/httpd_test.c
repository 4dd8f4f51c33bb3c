/*
 * httpd_test.c - the HTTP layer over a real loopback socket: a server on
 * its own event base in a thread, a raw socket client in the test. Routes,
 * 404/405, the bearer token, the Host and Content-Type checks, the body
 * limit, deferred answers, a caller hanging up, the loopback-only rule and
 * the 0600 secret file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/httpd.h"
#include "common/mem.h"

static struct event_base *base;
static Httpd *srv, *srv_hosts;
static pthread_t thread;
static int kept_count, gone_count;

static void h_hello(HttpdReq *req, void *arg)
{
    (void)arg;
    httpd_reply(req, 200, "text/plain; charset=utf-8", "hi\n", 3);
}

static void h_echo(HttpdReq *req, void *arg)
{
    (void)arg;
    json_t *o = httpd_req_json(req);
    if (o)
        httpd_reply_json(req, 200, o);
}

static void h_tail(HttpdReq *req, void *arg)
{
    (void)arg;
    httpd_reply_json(req, 200, json_pack("{s:s}", "tail", httpd_req_tail(req)));
}

static void later_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    httpd_reply(arg, 200, "text/plain", "late\n", 5);
}

static void h_later(HttpdReq *req, void *arg)
{
    (void)arg;
    httpd_req_keep(req, NULL, NULL);
    struct timeval tv = {0, 10000};
    event_base_once(base, -1, EV_TIMEOUT, later_cb, req, &tv);
}

static void on_gone(HttpdReq *req, void *arg)
{
    (void)arg;
    gone_count++;
    assert_true(httpd_req_gone(req));
    httpd_reply_error(req, 500, "nobody listens"); /* dropped; frees the request */
}

static void h_hang(HttpdReq *req, void *arg)
{
    (void)arg;
    kept_count++;
    httpd_req_keep(req, on_gone, NULL);
}

static void h_counts(HttpdReq *req, void *arg)
{
    (void)arg;
    httpd_reply_json(req, 200, json_pack("{s:i,s:i}", "kept", kept_count, "gone", gone_count));
}

static void h_forget(HttpdReq *req, void *arg)
{
    (void)req;
    (void)arg;
}

static void h_quit(HttpdReq *req, void *arg)
{
    (void)arg;
    httpd_reply(req, 200, "text/plain", "bye\n", 4);
    event_base_loopexit(base, NULL);
}

static const HttpdRoute routes[] = {
    {HTTPD_GET, "/hello", h_hello, NULL, false, false},
    {HTTPD_POST, "/echo", h_echo, NULL, true, true},
    {HTTPD_GET, "/pre/*", h_tail, NULL, false, false},
    {HTTPD_GET, "/later", h_later, NULL, false, false},
    {HTTPD_GET, "/hang", h_hang, NULL, false, false},
    {HTTPD_GET, "/counts", h_counts, NULL, false, false},
    {HTTPD_GET, "/forget", h_forget, NULL, false, false},
    {HTTPD_GET, "/quit", h_quit, NULL, false, false},
};

static void *serve(void *arg)
{
    (void)arg;
    event_base_dispatch(base);
    return NULL;
}

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return; /* the server may close early (413): the answer tells */
        data += n;
        len -= (size_t)n;
    }
}

/* Send raw (with "Connection: close" added after the request line's headers) and read all. */
static char *exchange(int port, const char *head, const char *body)
{
    int fd = connect_to(port);
    char *req = xasprintf("%sConnection: close\r\nContent-Length: %zu\r\n\r\n", head,
                          body ? strlen(body) : 0);
    send_all(fd, req, strlen(req));
    if (body)
        send_all(fd, body, strlen(body));
    free(req);
    Buf out = {0};
    char chunk[4096];
    ssize_t n;
    while ((n = recv(fd, chunk, sizeof(chunk), 0)) > 0)
        buf_append(&out, chunk, (size_t)n);
    close(fd);
    buf_append(&out, "", 1);
    return (char *)out.data;
}

static int status_of(const char *reply)
{
    int code = 0;
    return sscanf(reply, "HTTP/1.%*d %d", &code) == 1 ? code : -1;
}

static int setup(void **state)
{
    (void)state;
    base = event_base_new();
    HttpdOptions opt = {.listen = "127.0.0.1:0", .max_body = 1024, .token = "s3cret"};
    assert_true(httpd_start(base, &opt, routes, sizeof(routes) / sizeof(routes[0]), &srv));
    HttpdOptions hopt = {.listen = "127.0.0.1:0", .hosts = "good.example,good.example:80"};
    assert_true(httpd_start(base, &hopt, routes, 1, &srv_hosts));
    assert_int_equal(pthread_create(&thread, NULL, serve, NULL), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    /* The loop may stop before the answer is flushed: do not wait for it. */
    int fd = connect_to(httpd_port(srv));
    const char *quit = "GET /quit HTTP/1.1\r\nHost: x\r\n\r\n";
    send_all(fd, quit, strlen(quit));
    pthread_join(thread, NULL);
    httpd_free(srv);
    httpd_free(srv_hosts);
    event_base_free(base);
    close(fd);
    return 0;
}

typedef struct {
    const char *title;
    const char *head; /* request line and headers, each ending in \r\n */
    const char *body;
    int status;
    const char *contains; /* in the reply (headers or body) */
} Case;

#define BEARER "Authorization: Bearer s3cret\r\n"
#define JSON   "Content-Type: application/json\r\n"

static const Case cases[] = {
    {"a GET route answers", "GET /hello HTTP/1.1\r\nHost: a\r\n", NULL, 200, "\r\n\r\nhi\n"},
    {"HEAD matches a GET route", "HEAD /hello HTTP/1.1\r\nHost: a\r\n", NULL, 200, "text/plain"},
    {"unknown path is 404", "GET /nope HTTP/1.1\r\nHost: a\r\n", NULL, 404,
     "{\"error\":\"no such page: \\\"/nope\\\"\"}"},
    {"wrong method is 405 with Allow", "POST /hello HTTP/1.1\r\nHost: a\r\n", NULL, 405,
     "Allow: GET, HEAD"},
    {"prefix route gives the tail", "GET /pre/a%20b HTTP/1.1\r\nHost: a\r\n", NULL, 200,
     "{\"tail\":\"a b\"}"},
    {"token-less write is 401", "POST /echo HTTP/1.1\r\nHost: a\r\n" JSON, "{\"x\":1}", 401,
     "WWW-Authenticate: Bearer"},
    {"wrong token is 401", "POST /echo HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer s3cre\r\n" JSON,
     "{\"x\":1}", 401, "Bearer <token>"},
    {"other scheme is 401",
     "POST /echo HTTP/1.1\r\nHost: a\r\nAuthorization: Basic czNjcmV0\r\n" JSON, "{}", 401,
     "WWW-Authenticate"},
    {"right token passes", "POST /echo HTTP/1.1\r\nHost: a\r\n" BEARER JSON, "{\"x\":1}", 200,
     "{\"x\":1}"},
    {"form body is 415",
     "POST /echo HTTP/1.1\r\nHost: a\r\n" BEARER
     "Content-Type: application/x-www-form-urlencoded\r\n",
     "x=1", 415, "application/json"},
    {"no content type is 415", "POST /echo HTTP/1.1\r\nHost: a\r\n" BEARER, NULL, 415,
     "Content-Type"},
    {"json with charset passes",
     "POST /echo HTTP/1.1\r\nHost: a\r\n" BEARER
     "Content-Type: application/json; charset=utf-8\r\n",
     "{\"y\":2}", 200, "{\"y\":2}"},
    {"bad JSON is 400", "POST /echo HTTP/1.1\r\nHost: a\r\n" BEARER JSON, "{nope", 400,
     "invalid JSON body"},
    {"a handler that forgets is 500", "GET /forget HTTP/1.1\r\nHost: a\r\n", NULL, 500,
     "gave no answer"},
    {"a deferred answer arrives", "GET /later HTTP/1.1\r\nHost: a\r\n", NULL, 200, "late\n"},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const Case *c = &cases[i];
        char *reply = exchange(httpd_port(srv), c->head, c->body);
        if (status_of(reply) != c->status || !strstr(reply, c->contains))
            fail_msg("%s: got\n%s", c->title, reply);
        free(reply);
    }
}

static void test_body_limit(void **state)
{
    (void)state;
    char *big = xmalloc(4097);
    memset(big, 'a', 4096);
    big[4096] = '\0';
    big[0] = '"';
    big[4095] = '"';
    char *reply = exchange(httpd_port(srv), "POST /echo HTTP/1.1\r\nHost: a\r\n" BEARER JSON, big);
    assert_int_equal(status_of(reply), 413);
    free(reply);
    free(big);
}

static void test_host_check(void **state)
{
    (void)state;
    char *ok =
        exchange(httpd_port(srv_hosts), "GET /hello HTTP/1.1\r\nHost: GOOD.example\r\n", NULL);
    assert_int_equal(status_of(ok), 200);
    char *bad =
        exchange(httpd_port(srv_hosts), "GET /hello HTTP/1.1\r\nHost: evil.example\r\n", NULL);
    assert_int_equal(status_of(bad), 403);
    assert_non_null(strstr(bad, "Host header"));
    char *none = exchange(httpd_port(srv_hosts), "GET /hello HTTP/1.0\r\n", NULL);
    assert_int_equal(status_of(none), 403);
    free(ok);
    free(bad);
    free(none);
}

/* Poll /counts until field reaches want (a bounded wait, not a timed assertion). */
static void wait_count(const char *field, int want)
{
    for (int i = 0; i < 2000; i++) {
        char *r = exchange(httpd_port(srv), "GET /counts HTTP/1.1\r\nHost: a\r\n", NULL);
        char key[32];
        snprintf(key, sizeof(key), "\"%s\":", field);
        const char *p = strstr(r, key);
        int v = p ? atoi(p + strlen(key)) : -1;
        free(r);
        if (v == want)
            return;
        usleep(5000);
    }
    fail_msg("%s never reached %d", field, want);
}

static void test_caller_hangs_up(void **state)
{
    (void)state;
    int fd = connect_to(httpd_port(srv));
    const char *req = "GET /hang HTTP/1.1\r\nHost: a\r\n\r\n";
    send_all(fd, req, strlen(req));
    wait_count("kept", 1);
    close(fd);
    wait_count("gone", 1);
}

static void test_remote_refused(void **state)
{
    (void)state;
    struct event_base *b = event_base_new();
    Httpd *h = NULL;
    static const struct {
        const char *listen;
        bool remote;
        bool ok;
        const char *msg;
    } rows[] = {
        {"0.0.0.0:0", false, false, "may only listen on a loopback address, not \"0.0.0.0:0\""},
        {"8.8.8.8:0", false, false, "may only listen on a loopback address"},
        {"127.0.0.1", false, false, "invalid listen address \"127.0.0.1\" for the test server"},
        {"127.0.0.1:99999", false, false, "invalid listen address"},
        {"[::1]:0", false, true, NULL},
        {"localhost:0", false, true, NULL},
        {"0.0.0.0:0", true, true, NULL},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        HttpdOptions o = {
            .listen = rows[i].listen, .allow_remote = rows[i].remote, .what = "test server"};
        err_clear();
        bool ok = httpd_start(b, &o, routes, 1, &h);
        if (ok != rows[i].ok)
            fail_msg("%s: expected %s, got %s (%s)", rows[i].listen, rows[i].ok ? "ok" : "failure",
                     ok ? "ok" : "failure", err_message());
        if (!ok) {
            assert_int_equal(err_code(), DD_EXIT_CONFIG);
            assert_non_null(strstr(err_message(), rows[i].msg));
        }
        httpd_free(h);
        h = NULL;
    }
    event_base_free(b);
}

static void test_secret_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/httpd_test.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = xasprintf("%s/token", dir);
    FILE *f = fopen(path, "w");
    fputs("  tok-123 \nsecond line\n", f);
    fclose(f);
    char *s = NULL;
    chmod(path, 0644);
    err_clear();
    assert_false(httpd_secret_load(path, "token file", &s));
    assert_non_null(strstr(err_message(), "has group or world access (mode 0644)"));
    chmod(path, 0600);
    assert_true(httpd_secret_load(path, "token file", &s));
    assert_string_equal(s, "tok-123");
    free(s);
    f = fopen(path, "w");
    fputs(" \n", f);
    fclose(f);
    assert_false(httpd_secret_load(path, "token file", &s));
    assert_non_null(strstr(err_message(), "is empty"));
    unlink(path);
    assert_false(httpd_secret_load(path, "token file", &s));
    assert_non_null(strstr(err_message(), "could not open token file"));
    rmdir(dir);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_body_limit),
        cmocka_unit_test(test_host_check),
        cmocka_unit_test(test_caller_hangs_up),
    };
    const struct CMUnitTest offline[] = {
        cmocka_unit_test(test_remote_refused),
        cmocka_unit_test(test_secret_file),
    };
    int rc = cmocka_run_group_tests_name("httpd", tests, setup, teardown);
    return rc + cmocka_run_group_tests_name("httpd_offline", offline, NULL, NULL);
}
