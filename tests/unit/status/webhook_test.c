/*
 * webhook_test.c - delivery end to end, in process: a notifier opened with
 * .deliver sends what a maintenance posts to a receiver (common/httpd on
 * loopback, in a thread) that refuses the first request. Every event
 * arrives, signed, exactly once accepted, in order; the refused one is
 * retried and its failure is kept on the outbox row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/event.h>
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/httpd.h"
#include "common/mem.h"
#include "config/config.h"
#include "status/notify.h"
#include "status/setup.h"
#include "status/webhook.h"

#define SECRET "hook-secret-1"

static struct event_base *base;
static Httpd *receiver;
static pthread_t thread;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int requests;
static StrList accepted; /* "delivery event" of each 2xx answer */
static int bad_signatures;

static void h_hook(HttpdReq *req, void *arg)
{
    (void)arg;
    size_t len;
    const void *body = httpd_req_body(req, &len);
    char want[WEBHOOK_SIGNATURE_LEN];
    webhook_sign(SECRET, body, len, want);
    const char *got = httpd_req_header(req, "X-Drydock-Signature");
    pthread_mutex_lock(&mu);
    bool first = requests++ == 0;
    if (!got || strcmp(got, want) != 0)
        bad_signatures++;
    if (!first) {
        char *line = xasprintf("%s %s", httpd_req_header(req, "X-Drydock-Delivery"),
                               httpd_req_header(req, "X-Drydock-Event"));
        strlist_push_owned(&accepted, line);
    }
    pthread_mutex_unlock(&mu);
    if (first)
        httpd_reply_error(req, 500, "not now");
    else
        httpd_reply(req, 204, "text/plain", "", 0);
}

static void h_quit(HttpdReq *req, void *arg)
{
    (void)arg;
    httpd_reply(req, 200, "text/plain", "", 0);
    event_base_loopexit(base, NULL);
}

static void *serve(void *arg)
{
    (void)arg;
    event_base_dispatch(base);
    return NULL;
}

static size_t accepted_count(void)
{
    pthread_mutex_lock(&mu);
    size_t n = accepted.len;
    pthread_mutex_unlock(&mu);
    return n;
}

static void test_delivery_with_retry(void **state)
{
    (void)state;
    static const HttpdRoute routes[] = {{HTTPD_POST, "/hook", h_hook, NULL, false, false},
                                        {HTTPD_POST, "/quit", h_quit, NULL, false, false}};
    base = event_base_new();
    HttpdOptions ho = {.listen = "127.0.0.1:0"};
    assert_true(httpd_start(base, &ho, routes, 2, &receiver));
    assert_int_equal(pthread_create(&thread, NULL, serve, NULL), 0);

    char dir[] = "/tmp/webhook_test.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *secret = xasprintf("%s/secret", dir);
    FILE *f = fopen(secret, "w");
    fputs(SECRET "\n", f);
    fclose(f);
    chmod(secret, 0600);
    char *text = xasprintf("[status]\nstore = %s/s.db\nwebhook = http://127.0.0.1:%d/hook\n"
                           "webhook-secret-file = %s\n",
                           dir, httpd_port(receiver), secret);
    Config cfg;
    assert_true(config_parse_string(text, "t.conf", &cfg));
    StatusNotifier *n;
    StatusNotifyOptions opt = {.deliver = true};
    assert_true(status_notify_open(&cfg, &opt, &n));
    StatusNotifyPlan plan = {
        .title = "Upgrade", .window_start = 1000, .window_end = 4600, .predicted_s = 600};
    int64_t id;
    assert_true(status_notify_scheduled(n, &plan, &id));
    assert_true(status_notify_in_progress(n, id));
    assert_true(status_notify_completed(n, id));
    /* created; updated + component; updated + component: 5 events. */
    for (int i = 0; i < 600 && accepted_count() < 5; i++)
        usleep(50000); /* a bounded wait (the retry comes after 5 s), not a timed assertion */
    status_notify_close(n);
    assert_int_equal(accepted_count(), 5);
    assert_int_equal(bad_signatures, 0);
    assert_int_equal(requests, 6); /* the refused first one, sent again */
    /* In order, each once. */
    assert_string_equal(accepted.items[0], "1 maintenance.created");
    assert_string_equal(accepted.items[1], "2 component.updated");
    assert_string_equal(accepted.items[2], "3 maintenance.updated");
    assert_string_equal(accepted.items[4], "5 maintenance.updated");

    StatusSetup setup;
    StatusStore *st;
    assert_true(status_setup(&cfg, &setup));
    assert_true(status_setup_open(&setup, &st));
    StatusOutboxItem *items;
    size_t count;
    assert_true(status_store_outbox_recent(st, 10, &items, &count));
    assert_int_equal(count, 5);
    assert_int_equal(items[4].attempts, 2);
    assert_true(items[4].delivered_at != 0);
    status_outbox_free(items, count);
    status_store_close(st);
    status_setup_free(&setup);

    /* Stop the receiver from its own thread (libevent is not told about threads here). */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)httpd_port(receiver))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    const char *quit = "POST /quit HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
    assert_int_equal(send(fd, quit, strlen(quit), 0), (ssize_t)strlen(quit));
    pthread_join(thread, NULL);
    close(fd);
    httpd_free(receiver);
    event_base_free(base);
    config_free(&cfg);
    char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(text);
    free(secret);
    strlist_free(&accepted);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delivery_with_retry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
