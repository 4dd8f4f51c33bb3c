/*
 * conn_test.c - connection strings are shown without their secrets (issue
 * 16): every form a user wrote that printed a password before (the second
 * of two password parameters, a percent-encoded key, sslpassword in
 * key=value form, a malformed URI, an unquoted value with a space), and
 * libpq's parse errors, which quote values and whole URIs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "pg/conn.h"

typedef struct {
    const char *title;
    const char *conninfo;
    const char *shown; /* what pg_conninfo_redact() gives */
    bool parses;
} RedactCase;

static const RedactCase cases[] = {
    {"URI user:password", "postgresql://u:SECRET@h:5432/db",
     "user=u password=******** dbname=db host=h port=5432", true},
    {"URI sslpassword then password (the second one printed before)",
     "postgresql://h/db?sslpassword=x&password=SECRET",
     "password=******** dbname=db host=h sslpassword=********", true},
    {"URI percent-encoded key (libpq decodes it)", "postgresql://h/db?%70assword=SECRET",
     "password=******** dbname=db host=h", true},
    {"key=value sslpassword", "host=h sslpassword=SECRET", "host=h sslpassword=********", true},
    {"key=value quoted password with a space", "host=h password='my SECRET'",
     "password=******** host=h", true},
    {"values that need quoting are quoted back",
     "host=h application_name='a b' options='-c x=\\'y\\''",
     "host=h options='-c x=\\'y\\'' application_name='a b'", true},
    {"malformed URI (libpq's message quotes it whole)", "postgresql://u:SECRET@[h/db",
     "(unparsable connection string)", false},
    {"unquoted password with a space", "host=h password=my SECRET",
     "(unparsable connection string)", false},
    {"a misspelled key with a secret", "host=h passwrod=SECRET", "(unparsable connection string)",
     false},
};

static void test_redact(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const RedactCase *c = &cases[i];
        char *shown = pg_conninfo_redact(c->conninfo);
        if (strcmp(shown, c->shown) != 0)
            fail_msg("%s: shown as [%s], expected [%s]", c->title, shown, c->shown);
        assert_null(strstr(shown, "SECRET"));
        free(shown);
        bool ok = pg_conninfo_check(c->conninfo, "primary");
        if (ok != c->parses)
            fail_msg("%s: check %s", c->title, ok ? "passed" : "failed");
        if (!ok) {
            assert_int_equal(err_code(), DD_EXIT_CONFIG);
            if (strstr(err_message(), "SECRET"))
                fail_msg("%s: the error shows the secret: %s", c->title, err_message());
            assert_non_null(strstr(err_message(), "invalid connection string for the primary: "));
        }
        err_clear();
    }
}

/* libpq's own messages: values hidden, punctuation and keywords kept, first line only. */
static void test_parse_error(void **state)
{
    (void)state;
    static const struct {
        const char *msg, *shown;
    } rows[] = {
        {"missing \"=\" after \"SECRET\" in connection info string\n",
         "missing \"=\" after \"...\" in connection info string"},
        {"invalid URI query parameter: \"password\"\nsecond line",
         "invalid URI query parameter: \"password\""},
        {"invalid percent-encoded token: \"%zzSECRET\"", "invalid percent-encoded token: \"...\""},
        {"unterminated quoted string \"", "unterminated quoted string \""},
        {NULL, "out of memory"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char out[256];
        pg_conninfo_error(rows[i].msg, out, sizeof(out));
        assert_string_equal(out, rows[i].shown);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_parse_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
