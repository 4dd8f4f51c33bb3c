/*
 * crc32c_test.c - CRC-32C: the standard check value, and the fast path (three
 * interleaved streams joined by a table shift, for inputs of 3 KiB and more)
 * against a bit-at-a-time reference on every length around its run size, at
 * odd alignments, and fed in pieces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/crc32c.h"

static uint32_t reference(const uint8_t *p, size_t len)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

static void test_check_value(void **state)
{
    (void)state;
    assert_int_equal(crc32c_final(crc32c_update(crc32c_init(), "123456789", 9)), 0xE3069283u);
    assert_int_equal(crc32c_final(crc32c_update(crc32c_init(), "", 0)), 0);
}

static void test_lengths(void **state)
{
    (void)state;
    enum { MAX = 13000 };
    static uint8_t data[MAX + 16];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof(data); i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (uint8_t)(x >> 16);
    }
    size_t lens[] = {0,    1,    7,    8,    9,    1023, 3071, 3072,  3073, 3079,
                     3080, 4096, 6143, 6144, 6145, 8192, 9216, 12288, MAX};
    for (size_t a = 0; a < 3; a++) /* alignment */
        for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
            const uint8_t *p = data + a * 3;
            uint32_t want = reference(p, lens[i]);
            uint32_t got = crc32c_final(crc32c_update(crc32c_init(), p, lens[i]));
            if (got != want)
                fail_msg("length %zu at +%zu: %08x, want %08x", lens[i], a * 3, got, want);
            /* in two pieces, the first long enough for the fast path */
            size_t cut = lens[i] / 2 + 5 < lens[i] ? lens[i] / 2 + 5 : lens[i];
            got = crc32c_final(
                crc32c_update(crc32c_update(crc32c_init(), p, cut), p + cut, lens[i] - cut));
            if (got != want)
                fail_msg("length %zu in pieces: %08x, want %08x", lens[i], got, want);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_value),
        cmocka_unit_test(test_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
