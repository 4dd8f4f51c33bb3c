/*
 * target_test.c - recovery target options: parsing, validation, rendering.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* Error cases leave the rendering fields out. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "common/mem.h"
#include "restore/target.h"

typedef struct {
    const char *title;
    const char *opts[6]; /* "option=value" or "option", NULL-terminated */
    const char *error;   /* expected message, or NULL */
    int timeline;        /* TargetTimeline for the rendering */
    const char *render;  /* expected settings when there is no error */
} Case;

static const Case cases[] = {
    {"no target: end of the archive, latest timeline",
     {NULL},
     NULL,
     TARGET_TIMELINE_LATEST,
     "recovery_target_timeline = 'latest'\n"},
    {"time with zone, default action promote",
     {"target-time=2026-11-25 06:05:00.25+01", NULL},
     NULL,
     TARGET_TIMELINE_CURRENT,
     "recovery_target_time = '2026-11-25 05:05:00.250000+00'\n"
     "recovery_target_inclusive = 'on'\n"
     "recovery_target_action = 'promote'\n"
     "recovery_target_timeline = 'current'\n"},
    {"time without zone is UTC, exclusive, pause",
     {"target-time=2026-01-02T03:04:05", "target-exclusive", "target-action=pause", NULL},
     NULL,
     TARGET_TIMELINE_LATEST,
     "recovery_target_time = '2026-01-02 03:04:05.000000+00'\n"
     "recovery_target_inclusive = 'off'\n"
     "recovery_target_action = 'pause'\n"
     "recovery_target_timeline = 'latest'\n"},
    {"lsn",
     {"target-lsn=16/B374D848", "target-action=shutdown", NULL},
     NULL,
     TARGET_TIMELINE_CURRENT,
     "recovery_target_lsn = '16/B374D848'\n"
     "recovery_target_inclusive = 'on'\n"
     "recovery_target_action = 'shutdown'\n"
     "recovery_target_timeline = 'current'\n"},
    {"xid",
     {"target-xid=4294967295", NULL},
     NULL,
     TARGET_TIMELINE_LATEST,
     "recovery_target_xid = '4294967295'\n"
     "recovery_target_inclusive = 'on'\n"
     "recovery_target_action = 'promote'\n"
     "recovery_target_timeline = 'latest'\n"},
    {"restore point name with a quote and a backslash",
     {"target-name=it's a\\b", NULL},
     NULL,
     TARGET_TIMELINE_LATEST,
     "recovery_target_name = 'it''s a\\\\b'\n"
     "recovery_target_action = 'promote'\n"
     "recovery_target_timeline = 'latest'\n"},
    {"immediate",
     {"target=immediate", NULL},
     NULL,
     TARGET_TIMELINE_CURRENT,
     "recovery_target = 'immediate'\n"
     "recovery_target_action = 'promote'\n"
     "recovery_target_timeline = 'current'\n"},
    {"bad time",
     {"target-time=yesterday", NULL},
     "invalid --target-time \"yesterday\": expected \"YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]]\" "
     "(no zone means UTC)"},
    {"bad lsn",
     {"target-lsn=0/XYZ", NULL},
     "invalid --target-lsn \"0/XYZ\": expected an LSN such as \"0/3000028\""},
    {"lsn without slash",
     {"target-lsn=3000028", NULL},
     "invalid --target-lsn \"3000028\": expected an LSN such as \"0/3000028\""},
    {"xid too small",
     {"target-xid=2", NULL},
     "invalid --target-xid \"2\": expected a transaction id from 3 to 4294967295"},
    {"xid too large",
     {"target-xid=4294967296", NULL},
     "invalid --target-xid \"4294967296\": expected a transaction id from 3 to 4294967295"},
    {"xid negative",
     {"target-xid=-5", NULL},
     "invalid --target-xid \"-5\": expected a transaction id from 3 to 4294967295"},
    {"empty name",
     {"target-name=", NULL},
     "invalid --target-name \"\": expected a restore point name of 1 to 63 printable bytes"},
    {"name too long",
     {"target-name=0123456789012345678901234567890123456789012345678901234567890123", NULL},
     "invalid --target-name \"0123456789012345678901234567890123456789012345678901234567890123\":"
     " expected a restore point name of 1 to 63 printable bytes"},
    {"target other than immediate",
     {"target=latest", NULL},
     "invalid --target \"latest\": the only value is \"immediate\""},
    {"bad action",
     {"target-time=2026-01-01 00:00:00", "target-action=stop", NULL},
     "invalid --target-action \"stop\": expected promote, pause or shutdown"},
    {"two targets",
     {"target-time=2026-01-01 00:00:00", "target-lsn=0/1", NULL},
     "only one recovery target may be given, got --target-time and --target-lsn"},
    {"same target twice", {"target-xid=10", "target-xid=11", NULL}, "--target-xid was given twice"},
    {"action without target",
     {"target-action=pause", NULL},
     "--target-action needs a recovery target (--target-time, --target-lsn, --target-xid, "
     "--target-name or --target immediate)"},
    {"exclusive with a name",
     {"target-name=x", "target-exclusive", NULL},
     "--target-exclusive applies only to --target-time, --target-lsn and --target-xid"},
    {"exclusive without target",
     {"target-exclusive", NULL},
     "--target-exclusive applies only to --target-time, --target-lsn and --target-xid"},
};

static bool apply(RecoveryTarget *t, const char *opt)
{
    char name[64];
    const char *eq = strchr(opt, '=');
    if (!eq)
        return target_option(t, opt, NULL);
    snprintf(name, sizeof(name), "%.*s", (int)(eq - opt), opt);
    return target_option(t, name, eq + 1);
}

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const Case *c = &cases[i];
        RecoveryTarget t = {0};
        bool ok = true;
        err_clear();
        for (size_t j = 0; ok && c->opts[j]; j++)
            ok = apply(&t, c->opts[j]);
        if (ok)
            ok = target_validate(&t);
        if (c->error) {
            if (ok)
                fail_msg("%s: expected an error", c->title);
            if (strcmp(err_message(), c->error) != 0)
                fail_msg("%s:\n got      %s\n expected %s", c->title, err_message(), c->error);
            assert_int_equal(err_code(), DD_EXIT_USAGE);
            continue;
        }
        if (!ok)
            fail_msg("%s: unexpected error %s", c->title, err_message());
        Buf b = {0};
        target_render(&t, (TargetTimeline)c->timeline, &b);
        buf_append(&b, "", 1);
        if (strcmp((char *)b.data, c->render) != 0)
            fail_msg("%s:\n got\n%s expected\n%s", c->title, (char *)b.data, c->render);
        buf_free(&b);
    }
}

static void test_lsn_roundtrip(void **state)
{
    (void)state;
    uint64_t lsn = 0;
    char out[32];
    assert_true(target_parse_lsn("0/3000028", &lsn));
    assert_int_equal(lsn, 0x3000028);
    target_format_lsn(0x16B374D848ull, out, sizeof(out));
    assert_string_equal(out, "16/B374D848");
    assert_false(target_parse_lsn("/1", &lsn));
    assert_false(target_parse_lsn("1/", &lsn));
    assert_false(target_parse_lsn("123456789/1", &lsn));
}

static void test_describe(void **state)
{
    (void)state;
    RecoveryTarget t = {0};
    char out[128];
    target_describe(&t, out, sizeof(out));
    assert_string_equal(out, "end of the archive");
    assert_true(target_option(&t, "target-time", "2026-11-25 06:05:00+00"));
    target_describe(&t, out, sizeof(out));
    assert_string_equal(out, "time 2026-11-25 06:05:00.000+00");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_lsn_roundtrip),
        cmocka_unit_test(test_describe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
