/*
 * rand_test.c - rand_bytes fills what it is given, and two draws differ.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>

#include "common/rand.h"

static void test_bytes(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 16, 33, 257, 70000}; /* getrandom returns at most 32 MiB - 1 */
    static uint8_t a[70001], b[70001];
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t n = sizes[k];
        memset(a, 0, sizeof(a));
        memset(b, 0, sizeof(b));
        rand_bytes(a, n);
        rand_bytes(b, n);
        if (n >= 16)
            assert_memory_not_equal(a, b, n); /* 2^-128 to fail by chance */
        assert_int_equal(a[n], 0);            /* nothing past the end */
    }
    /* Every byte value appears in 70000 bytes (each misses with odds ~e^-273). */
    bool seen[256] = {0};
    for (size_t i = 0; i < 70000; i++)
        seen[a[i]] = true;
    for (int v = 0; v < 256; v++)
        assert_true(seen[v]);
}

static void test_hex(void **state)
{
    (void)state;
    char x[33], y[33];
    memset(x, 'Z', sizeof(x));
    rand_hex(x, 16);
    rand_hex(y, 16);
    assert_int_equal(strlen(x), 32);
    assert_int_equal(strspn(x, "0123456789abcdef"), 32);
    assert_string_not_equal(x, y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytes),
        cmocka_unit_test(test_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
