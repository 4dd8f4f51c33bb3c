/*
 * tls_test.c - client-tls-protocols as PgBouncer spells it, and the
 * checks tls_init makes before it touches a file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/ssl.h>
#include <string.h>

#include "proxy/tls.h"

static void test_protocols(void **state)
{
    (void)state;
    const struct {
        const char *text;
        bool ok;
        int min, max;
    } cases[] = {
        {"secure", true, TLS1_2_VERSION, 0},
        {NULL, true, TLS1_2_VERSION, 0},
        {"all", true, TLS1_VERSION, 0},
        {"tlsv1.3", true, TLS1_3_VERSION, TLS1_3_VERSION},
        {"tlsv1.2,tlsv1.3", true, TLS1_2_VERSION, TLS1_3_VERSION},
        {"TLSv1.3, tlsv1.2", true, TLS1_2_VERSION, TLS1_3_VERSION},
        {"sslv3", false, 0, 0},
        {"tlsv1.2,bogus", false, 0, 0},
        {"", false, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int lo = -1, hi = -1;
        bool ok = tls_parse_protocols(cases[i].text, &lo, &hi);
        if (ok != cases[i].ok)
            fail_msg("\"%s\": %s", cases[i].text ? cases[i].text : "(null)",
                     ok ? "accepted" : err_message());
        if (ok && (lo != cases[i].min || hi != cases[i].max))
            fail_msg("\"%s\": %x-%x, expected %x-%x", cases[i].text ? cases[i].text : "(null)", lo,
                     hi, cases[i].min, cases[i].max);
        if (!ok)
            assert_int_equal(err_code(), DD_EXIT_CONFIG);
    }
}

static void test_init_checks(void **state)
{
    (void)state;
    const struct {
        ProxyOptions o;
        const char *error; /* NULL: no context, no error */
    } cases[] = {
        {{0}, NULL},
        {{.client_tls_mode = "disable", .server_tls_mode = "disable"}, NULL},
        {{.client_tls_mode = "require"},
         "[proxy] client-tls-mode = require needs client-tls-cert-file and client-tls-key-file"},
        {{.client_tls_mode = "verify-ca",
          .client_tls_cert_file = "/x.crt",
          .client_tls_key_file = "/x.key"},
         "[proxy] client-tls-mode = verify-ca needs client-tls-ca-file"},
        {{.client_tls_mode = "sometimes"}, "invalid [proxy] client-tls-mode \"sometimes\""},
        {{.client_tls_mode = "require",
          .client_tls_cert_file = "/nonexistent.crt",
          .client_tls_key_file = "/nonexistent.key"},
         "could not load the certificate \"/nonexistent.crt\" ([proxy] client-tls-cert-file)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        Tls t;
        bool ok = tls_init(&t, &cases[i].o);
        if (!cases[i].error) {
            assert_true(ok);
            assert_null(t.client_ctx);
            tls_free(&t);
            continue;
        }
        if (ok || strncmp(err_message(), cases[i].error, strlen(cases[i].error)) != 0)
            fail_msg("case %zu: expected \"%s\", got %s", i, cases[i].error,
                     ok ? "success" : err_message());
        assert_int_equal(err_code(), DD_EXIT_CONFIG);
    }
    /* server-tls-mode prefer builds a client context, with no file needed */
    Tls t;
    ProxyOptions o = {.server_tls_mode = "prefer"};
    assert_true(tls_init(&t, &o));
    assert_non_null(t.server_ctx);
    assert_int_equal(t.server_mode, TLS_SERVER_PREFER);
    tls_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_protocols),
        cmocka_unit_test(test_init_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
