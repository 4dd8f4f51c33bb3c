/*
 * testdata.h - a fixture file of a unit test, read whole: the path is taken
 * relative to the test's own source (pass __FILE__), so the test runs from
 * any directory. Header-only: a test program includes it once.
 *
 *   size_t len;
 *   char *text = testdata_read(__FILE__, "data/walrec_expected.txt", &len);
 *   uint8_t *seg = testdata_zst(__FILE__, "data/walrec_cut_a.zst", 1 << 20, &len);
 */
#ifndef DD_TESTS_TESTDATA_H
#define DD_TESTS_TESTDATA_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <zstd.h>

#include "common/fsutil.h"
#include "common/mem.h"

/* The file at REL from the directory of SOURCE, NUL-terminated (*len without it); fails the test
 * when it cannot be read. */
static inline char *testdata_read(const char *source, const char *rel, size_t *len)
{
    char path[512];
    const char *slash = strrchr(source, '/');
    snprintf(path, sizeof(path), "%.*s/%s", slash ? (int)(slash - source) : 1, slash ? source : ".",
             rel);
    Buf b = {0};
    bool found = false;
    if (!fs_read_file(path, &b, &found) || !found)
        fail_msg("could not read \"%s\"", path);
    buf_append(&b, "", 1);
    *len = b.len - 1;
    return (char *)b.data;
}

/* A zstd-compressed fixture of exactly size bytes, decompressed. */
static inline uint8_t *testdata_zst(const char *source, const char *rel, size_t size, size_t *len)
{
    size_t n;
    char *z = testdata_read(source, rel, &n);
    uint8_t *out = xmalloc(size);
    *len = ZSTD_decompress(out, size, z, n);
    free(z);
    assert_int_equal(*len, size);
    return out;
}

#endif
