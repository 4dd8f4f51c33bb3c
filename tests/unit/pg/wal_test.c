/*
 * wal_test.c - WAL file names, segment numbers and the long page header.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "pg/wal.h"

typedef struct {
    const char *name;
    bool valid;
    WalFileKind kind;
    uint32_t tli, log, seg;
} NameCase;

static void test_names(void **state)
{
    (void)state;
    const NameCase cases[] = {
        {"000000010000000000000001", true, WAL_FILE_SEGMENT, 1, 0, 1},
        {"0000000A00000003000000FF", true, WAL_FILE_SEGMENT, 10, 3, 255},
        {"000000010000000000000001.partial", true, WAL_FILE_PARTIAL, 1, 0, 1},
        {"000000010000000000000002.00000028.backup", true, WAL_FILE_BACKUP, 1, 0, 2},
        {"00000002.history", true, WAL_FILE_HISTORY, 2, 0, 0},
        {"00000000.history", false, 0, 0, 0, 0},
        {"000000000000000000000001", false, 0, 0, 0, 0}, /* timeline 0 */
        {"00000001000000000000001", false, 0, 0, 0, 0},  /* 23 digits */
        {"0000000100000000000000010", false, 0, 0, 0, 0},
        {"00000001000000000000000a", false, 0, 0, 0, 0}, /* lower case */
        {"000000010000000000000001.part", false, 0, 0, 0, 0},
        {"000000010000000000000002.0000002.backup", false, 0, 0, 0, 0},
        {"RECOVERYXLOG", false, 0, 0, 0, 0},
        {"", false, 0, 0, 0, 0},
        {"../../etc/passwd", false, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        WalFileName n;
        bool ok = wal_name_parse(cases[i].name, &n);
        if (ok != cases[i].valid)
            fail_msg("\"%s\": expected %s", cases[i].name, cases[i].valid ? "valid" : "invalid");
        if (!ok) {
            assert_int_equal(err_code(), DD_EXIT_USAGE);
            continue;
        }
        assert_int_equal(n.kind, cases[i].kind);
        assert_int_equal(n.tli, cases[i].tli);
        assert_int_equal(n.log, cases[i].log);
        assert_int_equal(n.seg, cases[i].seg);
    }
}

static void test_segno(void **state)
{
    (void)state;
    WalFileName n;
    assert_true(wal_name_parse("000000010000000300000004", &n));
    assert_int_equal(wal_segno(&n, 16u << 20), 3 * 256 + 4);
    assert_int_equal(wal_segno(&n, 64u << 20), 3 * 64 + 4);
    char out[25];
    wal_segment_name(1, 3 * 256 + 4, 16u << 20, out);
    assert_string_equal(out, "000000010000000300000004");
    wal_segment_name(0x1F, 0x1234, 1u << 30, out);
    assert_string_equal(out, "0000001F0000048D00000000");
    /* An end LSN exactly on a boundary belongs to the segment before. */
    assert_int_equal(wal_segno_of_lsn(0x3000000, 16u << 20, true), 2);
    assert_int_equal(wal_segno_of_lsn(0x3000000, 16u << 20, false), 3);
    assert_int_equal(wal_segno_of_lsn(0x3000028, 16u << 20, true), 3);
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void test_header(void **state)
{
    (void)state;
    uint8_t page[WAL_LONG_HEADER_LEN] = {0};
    page[0] = 0x10;
    page[1] = 0xD1;
    page[2] = 0x02; /* XLP_LONG_HEADER */
    put32(page + 4, 1);
    uint64_t addr = 0x3000000, sysid = 7711989887697829710ull;
    memcpy(page + 8, &addr, 8);
    memcpy(page + 24, &sysid, 8);
    put32(page + 32, 16u << 20);
    put32(page + 36, 8192);
    WalSegmentHeader h;
    assert_true(wal_segment_header(page, sizeof(page), &h));
    assert_int_equal(h.sysid, sysid);
    assert_int_equal(h.pageaddr, addr);
    assert_int_equal(h.seg_size, 16u << 20);

    assert_false(wal_segment_header(page, 10, &h));
    page[2] = 0;
    assert_false(wal_segment_header(page, sizeof(page), &h));
    assert_string_equal(err_message(), "the first page has no long header");
    page[2] = 2;
    page[0] = 0x0D; /* PostgreSQL 14's magic */
    assert_false(wal_segment_header(page, sizeof(page), &h));
    assert_int_equal(err_code(), DD_EXIT_CONFLICT);
    page[0] = 0x10;
    put32(page + 32, 3u << 20);
    assert_false(wal_segment_header(page, sizeof(page), &h));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_segno),
        cmocka_unit_test(test_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
