/*
 * s3req_test.c - the S3 request layer's pure parts: the retry policy (what
 * is retried and what is a real answer), the backoff's bounds, key and
 * query encoding for SigV4, the two time formats S3 uses, and the client's
 * configuration checks (endpoint, credentials file mode).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/s3req.h"

static void test_retry_policy(void **state)
{
    (void)state;
    static const struct {
        const char *title;
        int curl;
        long status;
        const char *code;
        bool retry;
    } cases[] = {
        {"connection refused (endpoint down)", CURLE_COULDNT_CONNECT, 0, NULL, true},
        {"timeout", CURLE_OPERATION_TIMEDOUT, 0, NULL, true},
        {"reset while receiving", CURLE_RECV_ERROR, 0, NULL, true},
        {"reset while sending", CURLE_SEND_ERROR, 0, NULL, true},
        {"empty reply", CURLE_GOT_NOTHING, 0, NULL, true},
        {"TLS certificate refused", CURLE_PEER_FAILED_VERIFICATION, 0, NULL, false},
        {"malformed URL", CURLE_URL_MALFORMAT, 0, NULL, false},
        {"200", CURLE_OK, 200, NULL, false},
        {"500 InternalError", CURLE_OK, 500, "InternalError", true},
        {"503 SlowDown", CURLE_OK, 503, "SlowDown", true},
        {"502 from a proxy, no body", CURLE_OK, 502, "", true},
        {"429", CURLE_OK, 429, "", true},
        {"400 RequestTimeout", CURLE_OK, 400, "RequestTimeout", true},
        {"403 refused", CURLE_OK, 403, "AccessDenied", false},
        {"403 signature", CURLE_OK, 403, "SignatureDoesNotMatch", false},
        {"404 missing", CURLE_OK, 404, "NoSuchKey", false},
        {"412 changed", CURLE_OK, 412, "PreconditionFailed", false},
        {"501 NotImplemented (a conditional PUT on Swift)", CURLE_OK, 501, "NotImplemented", false},
        {"400 bad request", CURLE_OK, 400, "InvalidArgument", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (s3req_retryable(cases[i].curl, cases[i].status, cases[i].code) != cases[i].retry)
            fail_msg("case \"%s\": expected %s", cases[i].title,
                     cases[i].retry ? "a retry" : "no retry");
}

static void test_backoff(void **state)
{
    (void)state;
    /* Full jitter: from 0 up to base * 2^attempt, never above the cap. */
    assert_true(s3req_backoff(0, 0.0) == 0.0);
    assert_true(s3req_backoff(0, 0.999) < S3REQ_BACKOFF_BASE);
    assert_true(s3req_backoff(3, 0.5) == S3REQ_BACKOFF_BASE * 8 * 0.5);
    for (int a = 0; a < 100; a++)
        assert_true(s3req_backoff(a, 0.999999) <= S3REQ_BACKOFF_CAP);
    assert_true(s3req_backoff(50, 0.999999) > S3REQ_BACKOFF_CAP * 0.99);
}

static void test_encode(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        bool keep_slash;
        const char *out;
    } cases[] = {
        {"wal/0000000100000000/000000010000000000000001", true,
         "wal/0000000100000000/000000010000000000000001"},
        {"a b+c/d~e_f.g-h", true, "a%20b%2Bc/d~e_f.g-h"},
        {"p/q/", false, "p%2Fq%2F"},
        {"\xc3\xa9=&?", false, "%C3%A9%3D%26%3F"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        Buf b = {0};
        s3req_encode(&b, cases[i].in, cases[i].keep_slash);
        buf_append(&b, "", 1);
        assert_string_equal((char *)b.data, cases[i].out);
        buf_free(&b);
    }
}

static void test_times(void **state)
{
    (void)state;
    assert_true(s3req_parse_time("Mon, 30 Nov 2026 09:00:00 GMT") == 1796029200.0);
    assert_true(s3req_parse_time("2026-11-30T09:00:00.250Z") == 1796029200.25);
    assert_true(s3req_parse_time("yesterday") == 0);
}

static void test_client_config(void **state)
{
    (void)state;
    char path[] = "/tmp/drydock-s3cred-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "[default]\naws_access_key_id = AK\naws_secret_access_key = SK\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    StorageConfig cfg = {.type = STORAGE_S3,
                         .s3 = {.endpoint = "http://127.0.0.1:9000/",
                                .bucket = "bk",
                                .prefix = "/some/where/",
                                .credentials_file = path}};
    S3Client c;
    assert_int_equal(chmod(path, 0644), 0);
    assert_false(s3req_client_init(&c, &cfg));
    assert_int_equal(err_code(), DD_EXIT_CONFIG);
    assert_non_null(strstr(err_message(), "has mode 0644, expected 0600"));
    assert_int_equal(chmod(path, 0600), 0);
    assert_true(s3req_client_init(&c, &cfg));
    assert_string_equal(c.base, "http://127.0.0.1:9000/bk");
    assert_string_equal(c.prefix, "some/where/");
    assert_string_equal(c.access_key, "AK");
    assert_string_equal(c.sigv4, "aws:amz:us-east-1:s3");
    s3req_client_free(&c);
    cfg.s3.host_style = true;
    cfg.s3.region = "eu-west-3";
    assert_true(s3req_client_init(&c, &cfg));
    assert_string_equal(c.base, "http://bk.127.0.0.1:9000");
    assert_string_equal(c.sigv4, "aws:amz:eu-west-3:s3");
    s3req_client_free(&c);
    cfg.s3.endpoint = "ftp://x";
    assert_false(s3req_client_init(&c, &cfg));
    assert_non_null(strstr(err_message(), "is not http[s]://host[:port]"));
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry_policy),  cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_encode),        cmocka_unit_test(test_times),
        cmocka_unit_test(test_client_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
