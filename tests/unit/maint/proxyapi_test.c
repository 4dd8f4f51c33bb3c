/*
 * proxyapi_test.c - the admin API's replies, every shape the contract has
 * and the broken ones, through the pure parsers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "maint/proxyapi.h"

typedef struct {
    const char *title;
    long code;
    const char *body;
    DdExit exit; /* DD_EXIT_OK: parses */
    const char *message;
} ReplyCase;

static void check_error(const ReplyCase *c, bool ok)
{
    if (c->exit == DD_EXIT_OK) {
        if (!ok)
            fail_msg("%s: unexpected error: %s", c->title, err_message());
        return;
    }
    if (ok)
        fail_msg("%s: parsed, expected an error", c->title);
    if (err_code() != c->exit)
        fail_msg("%s: exit %d, expected %d (%s)", c->title, err_code(), c->exit, err_message());
    if (c->message && strcmp(err_message(), c->message) != 0)
        fail_msg("%s: message \"%s\", expected \"%s\"", c->title, err_message(), c->message);
}

static void test_status(void **state)
{
    (void)state;
    const ReplyCase cases[] = {
        {"a running proxy", 200,
         "{\"paused\":false,\"server\":\"host=127.0.0.1 port=5432\",\"clients\":3,"
         "\"sessions\":[{\"id\":1,\"tx\":\"idle\"},{\"id\":2,\"tx\":\"in-transaction\"},"
         "{\"id\":3,\"tx\":\"failed\"}],\"counters\":{}}",
         DD_EXIT_OK, NULL},
        {"no server", 200, "{\"paused\":false,\"clients\":0,\"sessions\":[]}", DD_EXIT_PROTOCOL,
         "the proxy's reply to GET /status lacks \"server\" of the expected type"},
        {"paused is a string", 200,
         "{\"paused\":\"no\",\"server\":\"x\",\"clients\":0,\"sessions\":[]}", DD_EXIT_PROTOCOL,
         "the proxy's reply to GET /status lacks \"paused\" of the expected type"},
        {"not JSON", 200, "<html>hello</html>", DD_EXIT_PROTOCOL,
         "the proxy's reply to GET /status (HTTP 200) is not a JSON object"},
        {"a JSON array", 200, "[1,2]", DD_EXIT_PROTOCOL,
         "the proxy's reply to GET /status (HTTP 200) is not a JSON object"},
        {"empty", 200, "", DD_EXIT_PROTOCOL, NULL},
        {"a 404", 404, "{\"error\":\"no such path\"}", DD_EXIT_FAIL,
         "the proxy refused GET /status (HTTP 404): no such path"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ProxyStatus st;
        bool ok = proxyapi_parse_status(cases[i].code, cases[i].body, &st);
        check_error(&cases[i], ok);
        if (ok && i == 0) {
            assert_false(st.paused);
            assert_string_equal(st.server, "host=127.0.0.1 port=5432");
            assert_int_equal(st.clients, 3);
            assert_int_equal(st.sessions, 3);
            assert_int_equal(st.in_transaction, 2);
        }
        proxy_status_free(&st);
    }
}

static void test_pause(void **state)
{
    (void)state;
    const ReplyCase cases[] = {
        {"held", 200, "{\"paused\":true,\"held\":8,\"wait_ms\":1.5}", DD_EXIT_OK, NULL},
        {"held after cancelling", 200,
         "{\"paused\":true,\"held\":8,\"cancelled\":2,\"wait_ms\":3000}", DD_EXIT_OK, NULL},
        {"deadline, resumed", 408,
         "{\"paused\":false,\"error\":\"2 sessions still in a transaction\",\"open\":[3,7]}",
         DD_EXIT_TIMEOUT,
         "the proxy refused POST /pause (HTTP 408): 2 sessions still in a transaction (sessions "
         "still open: 3, 7)"},
        {"bad request", 400, "{\"error\":\"timeout must be a number\"}", DD_EXIT_FAIL,
         "the proxy refused POST /pause (HTTP 400): timeout must be a number"},
        {"conflict without a reason", 409, "{}", DD_EXIT_CONFLICT,
         "the proxy refused POST /pause (HTTP 409): no reason given"},
        {"200 but not paused", 200, "{\"paused\":false,\"held\":0}", DD_EXIT_PROTOCOL,
         "the proxy answered POST /pause with \"paused\": false"},
        {"no held", 200, "{\"paused\":true}", DD_EXIT_PROTOCOL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ProxyPauseReply r;
        bool ok = proxyapi_parse_pause(cases[i].code, cases[i].body, &r);
        check_error(&cases[i], ok);
        if (ok) {
            assert_true(r.paused);
            assert_int_equal(r.held, 8);
            assert_int_equal(r.cancelled, i == 1 ? 2 : 0);
        }
    }
}

static void test_resume_switch(void **state)
{
    (void)state;
    double ms = -1;
    assert_true(proxyapi_parse_resume(200, "{\"paused\":false,\"paused_ms\":42.5}", &ms));
    assert_true(ms > 42.4 && ms < 42.6);
    assert_true(proxyapi_parse_resume(200, "{\"paused\":false,\"paused_ms\":42}", &ms));
    assert_true(ms > 41.9 && ms < 42.1);
    assert_false(proxyapi_parse_resume(409, "{\"error\":\"not paused\"}", &ms));
    assert_int_equal(err_code(), DD_EXIT_CONFLICT);
    assert_string_equal(err_message(), "the proxy refused POST /resume (HTTP 409): not paused");

    ProxySwitchReply sw;
    assert_true(
        proxyapi_parse_switch(200, "{\"switched\":7,\"failed\":1,\"switch_ms\":12.5}", &sw));
    assert_int_equal(sw.switched, 7);
    assert_int_equal(sw.failed, 1);
    assert_false(proxyapi_parse_switch(200, "{\"switched\":7}", &sw));
    assert_int_equal(err_code(), DD_EXIT_PROTOCOL);
    assert_false(proxyapi_parse_switch(409, "{\"error\":\"not paused\"}", &sw));
    assert_string_equal(err_message(), "the proxy refused POST /switch (HTTP 409): not paused");
}

static void test_open(void **state)
{
    (void)state;
    const char *bad[] = {NULL, "", "localhost", ":80", "host:", "host:0", "host:70000", "h:1x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ProxyApi *api = proxyapi_open(bad[i]);
        if (api)
            fail_msg("\"%s\" accepted", bad[i] ? bad[i] : "(null)");
        assert_int_equal(err_code(), DD_EXIT_CONFIG);
    }
    ProxyApi *api = proxyapi_open("127.0.0.1:6480");
    assert_non_null(api);
    proxyapi_close(api);
    api = proxyapi_open("::1:6480");
    assert_non_null(api);
    proxyapi_close(api);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_pause),
        cmocka_unit_test(test_resume_switch),
        cmocka_unit_test(test_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
