/*
 * session_test.c - the session state machine (every arrow of the diagram,
 * and no other) and the transaction-boundary tracking, including the
 * extended protocol, plus named prepared statements and parameters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proxy/proto.h"
#include "proxy/session.h"

static int hook_calls;
static SessionState hook_old;

static void hook(Session *s, SessionState old)
{
    (void)s;
    hook_calls++;
    hook_old = old;
}

static void test_transitions(void **state)
{
    (void)state;
    /* The arrows of the diagram in session.h, and only those. */
    const SessionState allowed[][2] = {
        {SESSION_STARTUP, SESSION_AUTH},      {SESSION_STARTUP, SESSION_CONNECTING},
        {SESSION_STARTUP, SESSION_HELD},      {SESSION_STARTUP, SESSION_CLOSED},
        {SESSION_AUTH, SESSION_CONNECTING},   {SESSION_AUTH, SESSION_HELD},
        {SESSION_AUTH, SESSION_CLOSED},       {SESSION_CONNECTING, SESSION_ACTIVE},
        {SESSION_CONNECTING, SESSION_CLOSED}, {SESSION_ACTIVE, SESSION_HELD},
        {SESSION_ACTIVE, SESSION_CLOSED},     {SESSION_HELD, SESSION_ACTIVE},
        {SESSION_HELD, SESSION_CONNECTING},   {SESSION_HELD, SESSION_SWITCHING},
        {SESSION_HELD, SESSION_CLOSED},       {SESSION_SWITCHING, SESSION_HELD},
        {SESSION_SWITCHING, SESSION_CLOSED},
    };
    size_t n_allowed = sizeof(allowed) / sizeof(allowed[0]);
    for (int from = 0; from < SESSION_N_STATES; from++) {
        for (int to = 0; to < SESSION_N_STATES; to++) {
            bool want = false;
            for (size_t i = 0; i < n_allowed; i++)
                want |= allowed[i][0] == (SessionState)from && allowed[i][1] == (SessionState)to;
            if (session_transition_valid((SessionState)from, (SessionState)to) != want)
                fail_msg("%s -> %s: expected %s", session_state_name((SessionState)from),
                         session_state_name((SessionState)to), want ? "allowed" : "refused");
        }
    }
    assert_false(session_transition_valid(SESSION_N_STATES, SESSION_CLOSED));
    assert_string_equal(session_state_name(SESSION_SWITCHING), "switching");
}

static void test_set_state(void **state)
{
    (void)state;
    Session s = {.state = SESSION_STARTUP, .hook = hook};
    hook_calls = 0;
    assert_true(session_set_state(&s, SESSION_AUTH));
    assert_int_equal(hook_calls, 1);
    assert_int_equal(hook_old, SESSION_STARTUP);
    assert_false(session_set_state(&s, SESSION_ACTIVE)); /* auth -> active skips the server */
    assert_int_equal(s.state, SESSION_AUTH);
    assert_int_equal(hook_calls, 1);
    assert_true(session_set_state(&s, SESSION_CONNECTING));
    assert_true(session_set_state(&s, SESSION_ACTIVE));
    assert_true(session_set_state(&s, SESSION_HELD));
    assert_true(session_set_state(&s, SESSION_SWITCHING));
    assert_true(session_set_state(&s, SESSION_HELD));
    assert_true(session_set_state(&s, SESSION_ACTIVE));
    assert_true(session_set_state(&s, SESSION_CLOSED));
    assert_false(session_set_state(&s, SESSION_ACTIVE)); /* closed is final */
}

/* Feed client message types and ReadyForQuery statuses; check the boundary. */
static void test_boundary(void **state)
{
    (void)state;
    Session s = {.tx = 'I'};
    assert_true(session_at_boundary(&s));

    /* Simple query in autocommit. */
    session_track_client(&s, 'Q');
    assert_false(session_at_boundary(&s));
    session_track_ready(&s, 'I');
    assert_true(session_at_boundary(&s));

    /* BEGIN; ...; COMMIT: not a boundary in between. */
    session_track_client(&s, 'Q');
    session_track_ready(&s, 'T');
    assert_false(session_at_boundary(&s));
    assert_string_equal(session_tx_name(&s), "in-transaction");
    session_track_client(&s, 'Q');
    session_track_ready(&s, 'E');
    assert_string_equal(session_tx_name(&s), "failed");
    assert_false(session_at_boundary(&s));
    session_track_client(&s, 'Q');
    session_track_ready(&s, 'I');
    assert_true(session_at_boundary(&s));

    /* Extended protocol: Parse/Bind/Execute without Sync is not a boundary. */
    session_track_client(&s, 'P');
    session_track_client(&s, 'B');
    session_track_client(&s, 'E');
    assert_false(session_at_boundary(&s));
    session_track_client(&s, 'H'); /* Flush answers nothing with ReadyForQuery */
    assert_false(session_at_boundary(&s));
    session_track_client(&s, 'S');
    assert_false(session_at_boundary(&s));
    session_track_ready(&s, 'I');
    assert_true(session_at_boundary(&s));

    /* Two pipelined Syncs: the boundary is after the second ReadyForQuery. */
    session_track_client(&s, 'B');
    session_track_client(&s, 'E');
    session_track_client(&s, 'S');
    session_track_client(&s, 'B');
    session_track_client(&s, 'E');
    session_track_client(&s, 'S');
    session_track_ready(&s, 'I');
    assert_false(session_at_boundary(&s));
    session_track_ready(&s, 'I');
    assert_true(session_at_boundary(&s));

    /* COPY data belongs to the query that started it. */
    session_track_client(&s, 'Q');
    session_track_client(&s, 'd');
    session_track_client(&s, 'c');
    assert_false(session_at_boundary(&s));
    session_track_ready(&s, 'I');
    assert_true(session_at_boundary(&s));

    /* A stray ReadyForQuery does not underflow. */
    session_track_ready(&s, 'I');
    assert_int_equal(s.pending, 0);
}

static void parse_msg(Buf *b, const char *name, const char *query)
{
    size_t off = proto_begin(b, 'P');
    proto_add_str(b, name);
    proto_add_str(b, query);
    proto_add_i16(b, 0);
    proto_end(b, off);
}

static void test_statements(void **state)
{
    (void)state;
    Session s = {0};
    Buf b = {0};
    parse_msg(&b, "s1", "select 1");
    session_stmt_parse(&s, b.data, b.len);
    buf_reset(&b);
    parse_msg(&b, "", "select 2"); /* unnamed: not kept */
    session_stmt_parse(&s, b.data, b.len);
    buf_reset(&b);
    parse_msg(&b, "s2", "select 3");
    session_stmt_parse(&s, b.data, b.len);
    assert_int_equal(s.nstmts, 2);
    assert_memory_equal(s.stmts[1].parse.data, b.data, b.len);
    buf_reset(&b);
    parse_msg(&b, "s1", "select 4"); /* same name again: replaced */
    session_stmt_parse(&s, b.data, b.len);
    assert_int_equal(s.nstmts, 2);
    assert_memory_equal(s.stmts[0].parse.data, b.data, b.len);

    buf_reset(&b);
    size_t off = proto_begin(&b, 'C');
    proto_add_u8(&b, 'S');
    proto_add_str(&b, "s1");
    proto_end(&b, off);
    session_stmt_close(&s, b.data, b.len);
    assert_int_equal(s.nstmts, 1);
    assert_string_equal(s.stmts[0].name, "s2");

    const uint8_t truncated[] = {'P', 0, 0, 0, 6, 'x'}; /* name without NUL: ignored */
    session_stmt_parse(&s, truncated, sizeof(truncated));
    assert_int_equal(s.nstmts, 1);

    assert_true(session_param_set(&s, "TimeZone", "UTC"));
    assert_false(session_param_set(&s, "TimeZone", "UTC"));
    assert_true(session_param_set(&s, "TimeZone", "Europe/Paris"));
    assert_string_equal(session_param_get(&s, "TimeZone"), "Europe/Paris");
    assert_null(session_param_get(&s, "nope"));
    /* Changing one in the middle keeps the others. */
    assert_true(session_param_set(&s, "a", "1"));
    assert_true(session_param_set(&s, "bb", "22"));
    assert_true(session_param_set(&s, "TimeZone", "UTC"));
    assert_string_equal(session_param_get(&s, "a"), "1");
    assert_string_equal(session_param_get(&s, "bb"), "22");
    assert_string_equal(session_param_get(&s, "TimeZone"), "UTC");
    assert_true(session_param_set(&s, "a", ""));
    assert_string_equal(session_param_get(&s, "a"), "");
    assert_string_equal(session_param_get(&s, "bb"), "22");
    session_free_tracking(&s);
    assert_int_equal(s.nstmts, 0);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transitions),
        cmocka_unit_test(test_set_state),
        cmocka_unit_test(test_boundary),
        cmocka_unit_test(test_statements),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
