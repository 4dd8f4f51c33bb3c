/*
 * bytes_test.c - the small shared pieces: fixed-order integers, the SHA-256
 * set, the positional read/write loops.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/endian.h"
#include "common/fsutil.h"
#include "common/shaset.h"

static void test_endian(void **state)
{
    (void)state;
    const uint8_t b[8] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
    assert_int_equal(le_get16(b), 0x0201);
    assert_int_equal(le_get32(b), 0x04030201);
    assert_true(le_get64(b) == 0x0807060504030201ull);
    assert_int_equal(be_get32(b), 0x01020304);
    uint8_t o[8] = {0};
    le_put64(o, 0x0807060504030201ull);
    assert_memory_equal(o, b, 8);
    memset(o, 0, sizeof(o));
    le_put32(o, 0x04030201);
    le_put16(o + 4, 0x0605);
    assert_memory_equal(o, b, 6);
    be_put32(o, 0x01020304);
    assert_memory_equal(o, b, 4);
    const uint8_t hi[4] = {0xff, 0xff, 0xff, 0xff}; /* no sign extension */
    assert_true(le_get64((const uint8_t[8]){0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}) == 0xffffffffull);
    assert_int_equal(be_get32(hi), 0xffffffffu);
}

static void sha_of(uint8_t out[SHA256_LEN], unsigned v)
{
    memset(out, 0, SHA256_LEN);
    out[0] = (uint8_t)(v >> 8);
    out[31] = (uint8_t)v;
}

static void test_sha_set(void **state)
{
    (void)state;
    ShaSet s = {0};
    uint8_t sha[SHA256_LEN];
    sha_of(sha, 1);
    assert_false(sha_set_has(&s, sha)); /* empty */
    for (unsigned i = 1000; i-- > 0;) { /* descending, every one twice */
        sha_of(sha, i * 2);
        sha_set_add(&s, sha);
        sha_set_add(&s, sha);
    }
    sha_set_sort(&s);
    assert_int_equal(s.n, 1000);
    for (unsigned i = 0; i < 2000; i++) {
        sha_of(sha, i);
        assert_int_equal(sha_set_has(&s, sha), i % 2 == 0);
    }
    sha_set_free(&s);
    assert_int_equal(s.n, 0);
    assert_null(s.sha);
}

static void test_positional(void **state)
{
    (void)state;
    char path[] = "/tmp/dd-bytes-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    uint8_t data[100000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7);
    assert_true(fs_pwrite_all(fd, data, sizeof(data), 5000, path));
    uint8_t back[200000];
    size_t got = 0;
    assert_true(fs_pread_full(fd, back, 1000, 5000, &got, path));
    assert_int_equal(got, 1000);
    assert_memory_equal(back, data, 1000);
    assert_true(fs_pread_full(fd, back, sizeof(back), 5000, &got, path)); /* past the end */
    assert_int_equal(got, sizeof(data));
    assert_memory_equal(back, data, sizeof(data));
    close(fd);
    int ro = open(path, O_RDONLY);
    assert_false(fs_pwrite_all(ro, data, 10, 0, path));
    assert_int_equal(err_code(), DD_EXIT_IO);
    close(ro);
    assert_false(fs_pread_full(-1, back, 10, 0, &got, "nowhere"));
    assert_string_equal(err_message(), "could not read file \"nowhere\": Bad file descriptor");
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endian),
        cmocka_unit_test(test_sha_set),
        cmocka_unit_test(test_positional),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
