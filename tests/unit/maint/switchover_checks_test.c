/*
 * switchover_checks_test.c - the checks a switchover makes before it pauses
 * the proxy (maint/switchover.h), against scripted servers (unit/fakepq.h):
 * each way the primary or the target is not what a switchover needs is
 * refused with its one-line error ("switchover aborted at step "checks": ...;
 * nothing was changed"), the proxy not
 * contacted, every connection closed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fsutil.h"
#include "maint/switchover.h"
#include "unit/fakepq.h"
#include "unit/testdir.h"

#define ROW1(v)                                                                                    \
    {                                                                                              \
        PGRES_TUPLES_OK, 1, 1, {(v)}, NULL                                                         \
    }

static char root[64];
static char *data, *bin;

/* What the servers answer; each case changes some of it. */
typedef struct {
    const char *title;
    const char *pri_recovery, *may_mark, *pri_datadir;
    const char *tgt_sysid, *tgt_recovery;
    const char *status; /* of the target's WAL receiver; NULL: none */
    const char *sender_port, *may_promote;
    const char *flush, *replay;
    bool no_data, no_pg_ctl;
    DdExit code;
    const char *message; /* "%s": the primary's data directory */
} CheckCase;

static const CheckCase base = {.pri_recovery = "f",
                               .may_mark = "t",
                               .pri_datadir = "",
                               .tgt_sysid = "42",
                               .tgt_recovery = "t",
                               .status = "streaming",
                               .sender_port = "5432",
                               .may_promote = "t",
                               .flush = "0/3000000",
                               .replay = "0/3000000"};

static const CheckCase cases[] = {
    {.title = "the primary's data directory unknown",
     .no_data = true,
     .code = DD_EXIT_CONFIG,
     .message = "the primary's data directory is not known: it cannot be stopped"},
    {.title = "no pg_ctl",
     .no_pg_ctl = true,
     .code = DD_EXIT_CONFIG,
     .message = "no executable pg_ctl in \"%s\""},
    {.title = "the primary is in recovery",
     .pri_recovery = "t",
     .code = DD_EXIT_PG,
     .message = "the primary (host=p) is in recovery: it is not a primary"},
    {.title = "no right to mark a restore point",
     .may_mark = "f",
     .code = DD_EXIT_PG,
     .message = "the role connecting to the primary may not run pg_create_restore_point()"},
    {.title = "the primary's data directory is another",
     .pri_datadir = "/srv/other",
     .code = DD_EXIT_CONFIG,
     .message = "the primary's data directory is \"/srv/other\", not \"%s\""},
    {.title = "the target is a primary",
     .tgt_recovery = "f",
     .code = DD_EXIT_PG,
     .message = "the target (host=t) is not in recovery: it is not a standby"},
    {.title = "the target is of another cluster",
     .tgt_sysid = "43",
     .code = DD_EXIT_CONFLICT,
     .message = "the target (host=t) belongs to another cluster than the primary"},
    {.title = "the target has no WAL receiver",
     .status = "",
     .code = DD_EXIT_PG,
     .message = "the target (host=t) is not streaming from the primary (no WAL receiver)"},
    {.title = "the target's receiver is starting",
     .status = "starting",
     .code = DD_EXIT_PG,
     .message = "the target (host=t) is not streaming from the primary (starting)"},
    {.title = "no right to promote",
     .may_promote = "f",
     .code = DD_EXIT_PG,
     .message = "the role connecting to the target may not run pg_promote()"},
    {.title = "the target is a cascading standby",
     .sender_port = "5433",
     .code = DD_EXIT_PG,
     .message = "the target (host=t) streams from port 5433, not from the primary's port 5432"},
    {.title = "the target lags",
     .flush = "0/5000000",
     .code = DD_EXIT_PG,
     .message = "the target is 33554432 bytes behind the primary (--max-lag 1024)"},
    {.title = "the target replayed nothing",
     .replay = "none",
     .code = DD_EXIT_PG,
     .message = "the target has replayed no WAL yet"},
};

/* msg with its "%s" (if any) replaced by val. */
static void subst(const char *msg, const char *val, char *out, size_t len)
{
    const char *at = strstr(msg, "%s");
    if (!at)
        snprintf(out, len, "%s", msg);
    else
        snprintf(out, len, "%.*s%s%s", (int)(at - msg), msg, val, at + 2);
}

#define PICK(f) (c->f ? c->f : base.f)

static void script(const CheckCase *c)
{
    fakepq_reset();
    FakeResult s[] = {
        {PGRES_COMMAND_OK, 0, 0, {0}, NULL}, /* SET synchronous_commit */
        {PGRES_TUPLES_OK,
         1,
         7,
         {"42", "150004", PICK(pri_recovery), "1", "16777216", "on", PICK(pri_datadir)},
         NULL},
        ROW1(PICK(may_mark)),
        {PGRES_TUPLES_OK,
         1,
         7,
         {PICK(tgt_sysid), "150004", PICK(tgt_recovery), "1", "16777216", "on", ""},
         NULL},
        {PGRES_TUPLES_OK,
         1,
         3,
         {c->status && !c->status[0] ? NULL : PICK(status), PICK(sender_port), PICK(may_promote)},
         NULL},
        ROW1("0"), /* other standbys */
        ROW1(PICK(flush)),
        ROW1(PICK(replay)),
    };
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
        fakepq.exec[fakepq.n_exec++] = s[i];
}

static void test_checks(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const CheckCase *c = &cases[i];
        script(c);
        SwitchoverOpts o = {.primary = "host=p",
                            .primary_data = c->no_data ? NULL : data,
                            .target = "host=t",
                            .bin = c->no_pg_ctl ? root : bin, /* root has no pg_ctl */
                            .max_lag = 1024,
                            .pause_timeout = 10};
        SwitchoverReport r;
        bool ok = switchover_run(&o, &r);
        char msg[400], want[512];
        subst(c->message, c->no_pg_ctl ? root : data, msg, sizeof(msg));
        snprintf(want, sizeof(want),
                 "switchover aborted at step \"checks\": %s; nothing was changed", msg);
        if (ok || err_code() != c->code || strcmp(err_message(), want) != 0)
            fail_msg("%s: %s %d [%s], expected %d [%s]", c->title, ok ? "passed" : "refused",
                     err_code(), err_message(), c->code, want);
        if (err_hint_text()[0] == '\0')
            fail_msg("%s: no hint", c->title);
        if (fakepq.open_conns != 0 || fakepq.open_results != 0)
            fail_msg("%s: %d connections, %d results left open", c->title, fakepq.open_conns,
                     fakepq.open_results);
        assert_false(r.promoted);
        err_clear();
        switchover_report_free(&r);
    }
}

static int setup(void **state)
{
    (void)state;
    assert_int_equal(testdir_make(root, sizeof(root), "sw-checks"), 0);
    data = xasprintf("%s/data", root);
    bin = xasprintf("%s/bin", root);
    assert_int_equal(mkdir(data, 0700), 0);
    assert_int_equal(mkdir(bin, 0755), 0);
    testdir_put(data, "PG_VERSION", "15\n", 0600);
    testdir_tool(bin, "pg_ctl");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(testdir_remove(root), 0);
    free(data);
    free(bin);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
