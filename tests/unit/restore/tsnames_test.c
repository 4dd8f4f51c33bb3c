/*
 * tsnames_test.c - tablespace names from pg_tablespace heap pages: which
 * tuples count (visibility hints), and malformed line pointers skipped.
 * (tests/integration/restore_more.sh checks a real PostgreSQL 15 file.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "restore/tsnames.h"

static uint8_t page[2 * 8192];
static size_t upper;

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Add a tuple (or a raw line pointer when flags != 1) to the page at base. */
static void add(uint8_t *base, uint32_t oid, const char *name, uint32_t xmax, uint16_t infomask,
                uint32_t flags)
{
    uint16_t lower = (uint16_t)(base[12] | base[13] << 8);
    size_t len = 24 + 4 + 64 + 4; /* header, oid, name, spcowner */
    upper -= len;
    uint8_t *t = base + upper;
    memset(t, 0, len);
    put32(t, 2);        /* xmin */
    put32(t + 4, xmax); /* xmax */
    put16(t + 20, infomask);
    t[22] = 24; /* t_hoff */
    put32(t + 24, oid);
    memcpy(t + 28, name, strlen(name));
    put32(base + lower, (uint32_t)upper | flags << 15 | (uint32_t)len << 17);
    put16(base + 12, (uint16_t)(lower + 4));
}

static void test_parse(void **state)
{
    (void)state;
    memset(page, 0, sizeof(page));
    put16(page + 12, 24);
    upper = 8192;
    add(page, 1663, "pg_default", 0, 0, 1);
    add(page, 16384, "old_name", 731, 0x0400, 1);           /* updated (xmax committed) */
    add(page, 16384, "new_name", 0, 0x0800, 1);             /* the new version */
    add(page, 16390, "dropped", 735, 0, 1);                 /* deleted, no hint yet */
    add(page, 16391, "aborted", 0, 0x0200, 1);              /* inserter aborted */
    add(page, 16392, "locked", 740, 0x0080, 1);             /* xmax only a locker */
    add(page, 16393, "unused", 0, 0, 0);                    /* LP_UNUSED */
    put32(page + 24 + 4 * 7, 8000 | 1u << 15 | 400u << 17); /* runs past the page */
    put16(page + 12, 24 + 4 * 8);
    /* A second page with one tuple. */
    put16(page + 8192 + 12, 24);
    upper = 8192;
    add(page + 8192, 16400, "second_page", 0, 0, 1);

    TsName *names = NULL;
    size_t n = tsnames_parse(page, sizeof(page), &names);
    static const struct {
        uint32_t oid;
        const char *name;
    } want[] = {
        {1663, "pg_default"}, {16384, "new_name"}, {16392, "locked"}, {16400, "second_page"}};
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(names[i].oid, want[i].oid);
        assert_string_equal(names[i].name, want[i].name);
    }
    free(names);
    /* A short file (not a whole page) gives nothing. */
    assert_int_equal(tsnames_parse(page, 100, &names), 0);
    free(names);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
