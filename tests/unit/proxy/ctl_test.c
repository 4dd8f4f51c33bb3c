/*
 * ctl_test.c - the admin API's client: every reply shape the contract has
 * and the broken ones, through the pure parsers; the one mapping from HTTP
 * status to exit code; opening (addresses, token files).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proxy/ctl.h"

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
        {"a 404", 404, "{\"error\":\"no such path\"}", DD_EXIT_USAGE,
         "the proxy refused GET /status (HTTP 404): no such path"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ProxyStatus st;
        bool ok = proxy_ctl_parse_status(cases[i].code, cases[i].body, &st);
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
        {"bad request", 400, "{\"error\":\"timeout must be a number\"}", DD_EXIT_USAGE,
         "the proxy refused POST /pause (HTTP 400): timeout must be a number"},
        {"conflict without a reason", 409, "{}", DD_EXIT_CONFLICT,
         "the proxy refused POST /pause (HTTP 409): no reason given"},
        {"200 but not paused", 200, "{\"paused\":false,\"held\":0}", DD_EXIT_PROTOCOL,
         "the proxy answered POST /pause with \"paused\": false"},
        {"no held", 200, "{\"paused\":true}", DD_EXIT_PROTOCOL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ProxyPauseReply r;
        bool ok = proxy_ctl_parse_pause(cases[i].code, cases[i].body, &r);
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
    assert_true(proxy_ctl_parse_resume(200, "{\"paused\":false,\"paused_ms\":42.5}", &ms));
    assert_true(ms > 42.4 && ms < 42.6);
    assert_true(proxy_ctl_parse_resume(200, "{\"paused\":false,\"paused_ms\":42}", &ms));
    assert_true(ms > 41.9 && ms < 42.1);
    assert_false(proxy_ctl_parse_resume(409, "{\"error\":\"not paused\"}", &ms));
    assert_int_equal(err_code(), DD_EXIT_CONFLICT);
    assert_string_equal(err_message(), "the proxy refused POST /resume (HTTP 409): not paused");

    ProxySwitchReply sw;
    assert_true(
        proxy_ctl_parse_switch(200, "{\"switched\":7,\"failed\":1,\"switch_ms\":12.5}", &sw));
    assert_int_equal(sw.switched, 7);
    assert_int_equal(sw.failed, 1);
    assert_false(proxy_ctl_parse_switch(200, "{\"switched\":7}", &sw));
    assert_int_equal(err_code(), DD_EXIT_PROTOCOL);
    assert_false(proxy_ctl_parse_switch(409, "{\"error\":\"not paused\"}", &sw));
    assert_string_equal(err_message(), "the proxy refused POST /switch (HTTP 409): not paused");
}

static void test_exit_for_status(void **state)
{
    (void)state;
    const struct {
        long status;
        DdExit exit;
    } cases[] = {
        {200, DD_EXIT_OK},     {204, DD_EXIT_OK},       {400, DD_EXIT_USAGE},
        {401, DD_EXIT_CONFIG}, {403, DD_EXIT_CONFIG},   {404, DD_EXIT_USAGE},
        {405, DD_EXIT_USAGE},  {408, DD_EXIT_TIMEOUT},  {409, DD_EXIT_CONFLICT},
        {415, DD_EXIT_USAGE},  {500, DD_EXIT_PROTOCOL}, {302, DD_EXIT_PROTOCOL},
        {0, DD_EXIT_PROTOCOL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (proxy_ctl_exit_for_status(cases[i].status) != cases[i].exit)
            fail_msg("HTTP %ld: exit %d, expected %d", cases[i].status,
                     proxy_ctl_exit_for_status(cases[i].status), cases[i].exit);
    /* The parsers raise the same codes. */
    ProxyStatus st;
    assert_false(proxy_ctl_parse_status(401, "{\"error\":\"a bearer token is required\"}", &st));
    assert_int_equal(err_code(), DD_EXIT_CONFIG);
    assert_string_equal(err_message(),
                        "the proxy refused GET /status (HTTP 401): a bearer token is required");
    proxy_status_free(&st);
}

static char *token_file(const char *text, mode_t mode)
{
    char *path = strdup("/tmp/ctl_test.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    fchmod(fd, mode);
    close(fd);
    return path;
}

static void test_open(void **state)
{
    (void)state;
    const char *bad[] = {NULL, "", "localhost", ":80", "host:", "host:0", "host:70000", "h:1x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ProxyCtl *c = proxy_ctl_open(&(ProxyCtlOptions){.admin = bad[i]});
        if (c)
            fail_msg("\"%s\" accepted", bad[i] ? bad[i] : "(null)");
        assert_int_equal(err_code(), DD_EXIT_CONFIG);
    }
    ProxyCtl *c = proxy_ctl_open(&(ProxyCtlOptions){.admin = "127.0.0.1:6480"});
    assert_non_null(c);
    proxy_ctl_close(c);
    c = proxy_ctl_open(&(ProxyCtlOptions){.admin = "::1:6480"});
    assert_non_null(c);
    proxy_ctl_close(c);
    c = proxy_ctl_open(&(ProxyCtlOptions){.socket = "/run/drydock/admin.sock"});
    assert_non_null(c);
    proxy_ctl_close(c);

    const struct {
        const char *title, *text;
        mode_t mode;
        const char *error; /* NULL: accepted */
    } tokens[] = {
        {"a good token", "0123456789abcdef0123\n", 0600, NULL},
        {"readable by the group", "0123456789abcdef0123\n", 0640, "has group or world access"},
        {"too short", "short\n", 0600, "must hold one line of 16 to 1000 printable"},
        {"two words", "0123456789 abcdef0123\n", 0600, "must hold one line of 16 to 1000"},
    };
    for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
        char *path = token_file(tokens[i].text, tokens[i].mode);
        c = proxy_ctl_open(&(ProxyCtlOptions){.admin = "127.0.0.1:1", .token_file = path});
        if (!tokens[i].error && !c)
            fail_msg("%s: refused: %s", tokens[i].title, err_message());
        if (tokens[i].error &&
            (c || err_code() != DD_EXIT_CONFIG || !strstr(err_message(), tokens[i].error)))
            fail_msg("%s: expected \"%s\", got %s", tokens[i].title, tokens[i].error,
                     c ? "success" : err_message());
        proxy_ctl_close(c);
        unlink(path);
        free(path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status),        cmocka_unit_test(test_pause),
        cmocka_unit_test(test_resume_switch), cmocka_unit_test(test_exit_for_status),
        cmocka_unit_test(test_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
