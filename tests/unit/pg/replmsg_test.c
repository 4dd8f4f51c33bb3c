/*
 * replmsg_test.c - the replication stream's messages: XLogData and keepalive
 * parsing (every length accepted or refused with its message), and the
 * standby status update's bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "pg/replmsg.h"

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

typedef struct {
    const char *title;
    uint8_t kind;
    size_t len; /* whole message */
    bool ok;
    const char *error;
} ParseCase;

static void test_parse_lengths(void **state)
{
    (void)state;
    const ParseCase cases[] = {
        {"XLogData, header only", 'w', 25, true, NULL},
        {"XLogData with 100 bytes", 'w', 125, true, NULL},
        {"XLogData one byte short", 'w', 24, false,
         "replication message 'w' (XLogData) is 24 bytes, expected at least 25"},
        {"keepalive", 'k', 18, true, NULL},
        {"keepalive one byte long", 'k', 19, false,
         "replication message 'k' (keepalive) is 19 bytes, expected 18"},
        {"keepalive one byte short", 'k', 17, false,
         "replication message 'k' (keepalive) is 17 bytes, expected 18"},
        {"unknown printable kind", 'x', 10, false, "unknown replication message 'x' (10 bytes)"},
        {"unknown binary kind", 0x01, 3, false, "unknown replication message 0x01 (3 bytes)"},
        {"empty", 0, 0, false, "replication message is empty"},
    };
    uint8_t buf[256] = {0};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const ParseCase *c = &cases[i];
        print_message("case: %s\n", c->title);
        memset(buf, 0, sizeof(buf));
        buf[0] = c->kind;
        ReplMsg m;
        bool ok = replmsg_parse(buf, c->len, &m);
        assert_int_equal(ok, c->ok);
        if (!ok) {
            assert_string_equal(err_message(), c->error);
            assert_int_equal(err_code(), DD_EXIT_PROTOCOL);
            err_clear();
        }
    }
}

static void test_parse_fields(void **state)
{
    (void)state;
    uint8_t w[25 + 4];
    w[0] = 'w';
    put64(w + 1, 0x100000028ULL);
    put64(w + 9, 0x200000000ULL);
    put64(w + 17, 777);
    memcpy(w + 25, "WAL!", 4);
    ReplMsg m;
    assert_true(replmsg_parse(w, sizeof(w), &m));
    assert_int_equal(m.kind, REPLMSG_XLOGDATA);
    assert_int_equal(m.data_start, 0x100000028ULL);
    assert_int_equal(m.wal_end, 0x200000000ULL);
    assert_int_equal(m.send_time, 777);
    assert_int_equal(m.len, 4);
    assert_memory_equal(m.data, "WAL!", 4);
    assert_ptr_equal(m.data, w + 25);

    /* Invariant 2: a payload that would run past 2^64 is refused. */
    put64(w + 1, UINT64_MAX - 1);
    assert_false(replmsg_parse(w, sizeof(w), &m));
    assert_int_equal(err_code(), DD_EXIT_PROTOCOL);
    err_clear();

    uint8_t k[18];
    k[0] = 'k';
    put64(k + 1, 0x3000148);
    put64(k + 9, 42);
    for (int req = 0; req <= 2; req++) {
        k[17] = (uint8_t)req;
        assert_true(replmsg_parse(k, sizeof(k), &m));
        assert_int_equal(m.kind, REPLMSG_KEEPALIVE);
        assert_int_equal(m.wal_end, 0x3000148);
        assert_int_equal(m.send_time, 42);
        assert_int_equal(m.reply_requested, req != 0);
        assert_int_equal(m.len, 0);
    }
}

static void test_status(void **state)
{
    (void)state;
    uint8_t out[REPLMSG_STATUS_LEN];
    replmsg_status(out, 0x0102030405060708ULL, 0x1112131415161718ULL, 0, 0x2122232425262728LL,
                   true);
    const uint8_t want[REPLMSG_STATUS_LEN] = {'r',  0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                              0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0,
                                              0,    0,    0,    0,    0,    0,    0,    0x21, 0x22,
                                              0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 1};
    assert_memory_equal(out, want, sizeof(want));
    replmsg_status(out, 1, 1, 1, 1, false);
    assert_int_equal(out[33], 0);
}

static void test_time(void **state)
{
    (void)state;
    assert_int_equal(replmsg_pg_time(946684800.0), 0);
    assert_int_equal(replmsg_pg_time(946684801.5), 1500000);
    assert_true(replmsg_unix_time(1500000) == 946684801.5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_lengths),
        cmocka_unit_test(test_parse_fields),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
