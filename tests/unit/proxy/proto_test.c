/*
 * proto_test.c - protocol framing: whole, partial, oversized and garbage
 * frames; startup packets of every kind and their errors; built messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proxy/proto.h"

static void test_header(void **state)
{
    (void)state;
    const struct {
        const char *title;
        uint8_t bytes[5];
        size_t len;
        ProtoStatus want;
        uint32_t length;
    } cases[] = {
        {"whole header", {'Q', 0, 0, 0, 13}, 5, PROTO_OK, 13},
        {"minimum length", {'S', 0, 0, 0, 4}, 5, PROTO_OK, 4},
        {"empty", {0}, 0, PROTO_INCOMPLETE, 0},
        {"partial header", {'Q', 0, 0}, 3, PROTO_INCOMPLETE, 0},
        {"length under 4", {'Q', 0, 0, 0, 3}, 5, PROTO_BAD, 0},
        {"oversized (> 1 GiB)", {'d', 0x40, 0, 0, 1}, 5, PROTO_BAD, 0},
        {"garbage (HTTP)", {'G', 'E', 'T', ' ', '/'}, 5, PROTO_BAD, 0},
        {"largest allowed", {'d', 0x40, 0, 0, 0}, 5, PROTO_OK, 1u << 30},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ProtoHeader h = {0};
        ProtoStatus st = proto_header(cases[i].bytes, cases[i].len, PROTO_MAX_FRAME, &h);
        if (st != cases[i].want)
            fail_msg("%s: status %d, expected %d", cases[i].title, st, cases[i].want);
        if (st == PROTO_OK && (h.length != cases[i].length || h.type != cases[i].bytes[0]))
            fail_msg("%s: length %u", cases[i].title, h.length);
    }
    ProtoHeader h;
    const uint8_t bad[5] = {'Q', 0, 0, 0, 2};
    assert_int_equal(proto_header(bad, 5, PROTO_MAX_FRAME, &h), PROTO_BAD);
    assert_string_equal(err_message(), "invalid message length 2 for message type 0x51");
    assert_int_equal(err_code(), DD_EXIT_PROTOCOL);
}

/* Build a startup packet from a code and a body. */
static size_t packet(uint8_t *out, uint32_t code, const char *body, size_t body_len)
{
    proto_put32(out, (uint32_t)(8 + body_len));
    proto_put32(out + 4, code);
    memcpy(out + 8, body, body_len);
    return 8 + body_len;
}

static void test_startup(void **state)
{
    (void)state;
    uint8_t p[256];
    ProtoStartup st;
    static const char body[] = "user\0alice\0database\0db\0application_name\0x\0";
    size_t n = packet(p, PROTO_VERSION_3, body, sizeof(body));
    uint32_t len;
    assert_int_equal(proto_startup_length(p, 3, &len), PROTO_INCOMPLETE);
    assert_int_equal(proto_startup_length(p, n, &len), PROTO_OK);
    assert_int_equal(len, n);
    assert_true(proto_startup_parse(p, n, &st));
    assert_int_equal(st.kind, PROTO_STARTUP_NORMAL);
    assert_string_equal(st.user, "alice");
    assert_string_equal(st.database, "db");
    assert_int_equal(st.nparams, 3);
    assert_string_equal(st.names[2], "application_name");

    static const char only_user[] = "user\0bob\0";
    n = packet(p, PROTO_VERSION_3, only_user, sizeof(only_user));
    assert_true(proto_startup_parse(p, n, &st));
    assert_string_equal(st.database, "bob");

    n = packet(p, PROTO_CODE_SSL, "", 0);
    assert_true(proto_startup_parse(p, n, &st));
    assert_int_equal(st.kind, PROTO_STARTUP_SSL);
    n = packet(p, PROTO_CODE_GSSENC, "", 0);
    assert_true(proto_startup_parse(p, n, &st));
    assert_int_equal(st.kind, PROTO_STARTUP_GSSENC);
    n = packet(p, PROTO_CODE_CANCEL, "\0\0\0\7\0\0\1\0", 8);
    assert_true(proto_startup_parse(p, n, &st));
    assert_int_equal(st.kind, PROTO_STARTUP_CANCEL);
    assert_int_equal(st.cancel_pid, 7);
    assert_int_equal(st.cancel_key, 256);
}

static void test_startup_errors(void **state)
{
    (void)state;
    const struct {
        const char *title;
        uint32_t code;
        const char *body;
        size_t len;
        const char *error;
    } cases[] = {
        {"no user", PROTO_VERSION_3, "database\0d\0", 12,
         "no PostgreSQL user name specified in startup packet"},
        {"empty user", PROTO_VERSION_3, "user\0\0", 7,
         "no PostgreSQL user name specified in startup packet"},
        {"no terminator", PROTO_VERSION_3, "user\0a\0", 7,
         "invalid startup packet layout: expected terminator as last byte"},
        {"name without value", PROTO_VERSION_3, "user\0a\0x\0", 9,
         "invalid startup packet layout: parameter \"x\" has no value"},
        {"bytes after terminator", PROTO_VERSION_3, "user\0a\0\0zz", 10,
         "invalid startup packet layout: expected terminator as last byte"},
        {"replication", PROTO_VERSION_3, "user\0a\0replication\0true\0", 24,
         "replication connections are not supported by the proxy"},
        {"protocol 2", 0x00020000, "user\0a\0", 8,
         "unsupported frontend protocol 2.0: server "
         "supports 3.0"},
        {"long SSL request", PROTO_CODE_SSL, "x", 1, "invalid length of encryption request"},
        {"short cancel", PROTO_CODE_CANCEL, "1234", 4, "invalid length of cancel request"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t p[256];
        ProtoStartup st;
        size_t n = packet(p, cases[i].code, cases[i].body, cases[i].len);
        if (proto_startup_parse(p, n, &st))
            fail_msg("%s: accepted", cases[i].title);
        if (strcmp(err_message(), cases[i].error) != 0)
            fail_msg("%s: \"%s\"", cases[i].title, err_message());
    }
    uint8_t big[4];
    uint32_t len;
    proto_put32(big, PROTO_MAX_STARTUP + 1);
    assert_int_equal(proto_startup_length(big, 4, &len), PROTO_BAD);
    assert_string_equal(err_message(), "invalid length of startup packet: 10001 bytes");
    proto_put32(big, 7);
    assert_int_equal(proto_startup_length(big, 4, &len), PROTO_BAD);
}

static void test_build(void **state)
{
    (void)state;
    Buf b = {0};
    proto_ready(&b, 'I');
    assert_int_equal(b.len, 6);
    assert_memory_equal(b.data, "Z\0\0\0\5I", 6);
    buf_reset(&b);
    proto_error(&b, "FATAL", "08006", "gone");
    ProtoHeader h;
    assert_int_equal(proto_header(b.data, b.len, PROTO_MAX_FRAME, &h), PROTO_OK);
    assert_int_equal(h.type, 'E');
    assert_int_equal(1 + h.length, b.len);
    char state_[8], msg[32];
    proto_error_fields(b.data + 5, b.len - 5, state_, sizeof(state_), msg, sizeof(msg));
    assert_string_equal(state_, "08006");
    assert_string_equal(msg, "gone");
    buf_reset(&b);
    const char *names[] = {"user", "database"}, *values[] = {"u", "d"};
    proto_startup_message(&b, 2, names, values);
    ProtoStartup st;
    assert_true(proto_startup_parse(b.data, b.len, &st));
    assert_string_equal(st.user, "u");
    assert_string_equal(st.database, "d");
    buf_reset(&b);
    proto_cancel_request(&b, 5, 6);
    assert_true(proto_startup_parse(b.data, b.len, &st));
    assert_int_equal(st.kind, PROTO_STARTUP_CANCEL);
    assert_int_equal(st.cancel_key, 6);
    buf_free(&b);
}

static void test_reader(void **state)
{
    (void)state;
    const uint8_t data[] = {'a', 'b', 0, 0, 0, 0, 9, 'x'};
    ProtoReader r = {data, sizeof(data), 0};
    const char *s;
    int32_t v;
    uint8_t c;
    const uint8_t *bytes;
    assert_true(proto_read_str(&r, &s));
    assert_string_equal(s, "ab");
    assert_true(proto_read_i32(&r, &v));
    assert_int_equal(v, 9);
    assert_false(proto_read_str(&r, &s)); /* "x" has no NUL */
    assert_false(proto_read_bytes(&r, 2, &bytes));
    assert_true(proto_read_u8(&r, &c));
    assert_false(proto_read_u8(&r, &c));
    assert_false(proto_read_i32(&r, &v));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header),         cmocka_unit_test(test_startup),
        cmocka_unit_test(test_startup_errors), cmocka_unit_test(test_build),
        cmocka_unit_test(test_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
