/*
 * plan_test.c - cutting files into work units, and the delta comparison of
 * a chunk with what is on disk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "common/hash.h"
#include "common/mem.h"
#include "restore/plan.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define K 1024u

/* Files given as chunk lengths in KiB, 0-terminated; a NULL list is a directory. */
static void make_files(const unsigned *const *spec, size_t n, ManifestFile *out)
{
    for (size_t i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        out[i].path = "f";
        if (!spec[i]) {
            out[i].mode = S_IFDIR | 0700;
            continue;
        }
        out[i].mode = S_IFREG | 0600;
        size_t c = 0;
        while (spec[i][c])
            c++;
        out[i].chunks = xcalloc(c ? c : 1, sizeof(ManifestChunk));
        out[i].nchunks = c;
        for (size_t j = 0; j < c; j++) {
            out[i].chunks[j].len = spec[i][j] * K;
            out[i].size += spec[i][j] * K;
        }
    }
}

static void test_units(void **state)
{
    (void)state;
    static const unsigned big[] = {128, 128, 128, 128, 128, 64, 0};
    static const unsigned small[] = {8, 0};
    static const unsigned empty[] = {0};
    static const unsigned huge_chunk[] = {512, 8, 0};
    const unsigned *const spec[] = {big, NULL, small, empty, huge_chunk};
    ManifestFile f[5];
    make_files(spec, 5, f);
    PlanUnit *u = NULL;
    size_t n = plan_units(f, 5, 300 * K, &u);
    /* big: 128+128 | 128+128 | 128+64; small: 8; empty: none; huge: 512 (over) | 8 */
    static const PlanUnit want[] = {
        {0, 0, 2, 0, 256 * K}, {0, 2, 2, 256 * K, 256 * K}, {0, 4, 2, 512 * K, 192 * K},
        {2, 0, 1, 0, 8 * K},   {4, 0, 1, 0, 512 * K},       {4, 1, 1, 512 * K, 8 * K},
    };
    assert_int_equal(n, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < n; i++) {
        if (u[i].file != want[i].file || u[i].first != want[i].first ||
            u[i].nchunks != want[i].nchunks || u[i].offset != want[i].offset ||
            u[i].bytes != want[i].bytes)
            fail_msg("unit %zu: file %zu first %zu n %zu offset %llu bytes %llu", i, u[i].file,
                     u[i].first, u[i].nchunks, (unsigned long long)u[i].offset,
                     (unsigned long long)u[i].bytes);
    }
    free(u);
    for (size_t i = 0; i < 5; i++)
        free(f[i].chunks);
}

static void test_chunk_same(void **state)
{
    (void)state;
    uint8_t data[8192];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7);
    ManifestChunk c = {.len = sizeof(data)};
    sha256(data, sizeof(data), c.sha256);
    assert_true(plan_chunk_same(NULL, &c, data, sizeof(data)));
    assert_false(plan_chunk_same(NULL, &c, data, sizeof(data) - 1)); /* file ends early */
    data[4000] ^= 1;
    assert_false(plan_chunk_same(NULL, &c, data, sizeof(data))); /* one bit differs */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_chunk_same),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
