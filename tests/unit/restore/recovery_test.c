/*
 * recovery_test.c - the settings a restore writes, --set checking, and the
 * rewrite of postgresql.auto.conf.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/mem.h"
#include "common/fsutil.h"
#include "restore/recovery.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

typedef struct {
    const char *title;
    const char *target[2]; /* option=value */
    const char *sets[4];
    int port;
    const char *standby_of;
    const char *expected; /* the block without its first (comment) line */
} Case;

#define RC                                                                                         \
    "restore_command = '/usr/bin/drydock --config ''/etc/dd conf/x.conf'' wal-fetch %f %p'\n"      \
    "recovery_end_command = '/usr/bin/drydock --config ''/etc/dd conf/x.conf'' wal-fetch "         \
    "--cleanup'\n"

static const Case cases[] = {
    {"end of the archive",
     {NULL},
     {NULL},
     0,
     NULL,
     RC "recovery_target_timeline = 'latest'\n"
        "archive_mode = 'off'\n"},
    {"time target, port and sets",
     {"target-time=2026-11-25 06:00:00+00"},
     {"work_mem=7MB", "my.setting=it's", NULL},
     5499,
     NULL,
     RC "recovery_target_time = '2026-11-25 06:00:00.000000+00'\n"
        "recovery_target_inclusive = 'on'\n"
        "recovery_target_action = 'promote'\n"
        "recovery_target_timeline = 'current'\n"
        "archive_mode = 'off'\n"
        "port = '5499'\n"
        "work_mem = '7MB'\n"
        "my.setting = 'it''s'\n"},
    {"a --set wins over drydock's setting",
     {"target=immediate"},
     {"archive_mode=on", "recovery_target_action=pause", "PORT=1", NULL},
     5499,
     NULL,
     RC "recovery_target = 'immediate'\n"
        "recovery_target_timeline = 'current'\n"
        "archive_mode = 'on'\n"
        "recovery_target_action = 'pause'\n"
        "PORT = '1'\n"},
    {"standby",
     {NULL},
     {NULL},
     0,
     "host=10.0.0.1 port=5432 user=rep password=s'x",
     RC "primary_conninfo = 'host=10.0.0.1 port=5432 user=rep password=s''x'\n"
        "recovery_target_timeline = 'latest'\n"},
};

static void fill(const Case *c, RecoveryTarget *t, StrList *sets, RecoveryOpts *o)
{
    memset(t, 0, sizeof(*t));
    for (size_t j = 0; c->target[j]; j++) {
        char name[32];
        const char *eq = strchr(c->target[j], '=');
        snprintf(name, sizeof(name), "%.*s", (int)(eq - c->target[j]), c->target[j]);
        assert_true(target_option(t, name, eq + 1));
    }
    memset(sets, 0, sizeof(*sets));
    for (size_t j = 0; c->sets[j]; j++)
        strlist_push(sets, c->sets[j]);
    *o = (RecoveryOpts){.drydock_path = "/usr/bin/drydock",
                        .config_path = "/etc/dd conf/x.conf",
                        .target = t,
                        .timeline = c->target[0] ? TARGET_TIMELINE_CURRENT : TARGET_TIMELINE_LATEST,
                        .port = c->port,
                        .sets = sets,
                        .standby_of = c->standby_of};
}

static void test_render(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const Case *c = &cases[i];
        RecoveryTarget t;
        StrList sets;
        RecoveryOpts o;
        fill(c, &t, &sets, &o);
        Buf b = {0};
        recovery_render(&o, &b);
        buf_append(&b, "", 1);
        const char *body = strchr((char *)b.data, '\n') + 1;
        if (strcmp(body, c->expected) != 0)
            fail_msg("%s: got\n%s\nexpected\n%s", c->title, body, c->expected);
        buf_free(&b);
        strlist_free(&sets);
    }
}

static void test_set_check(void **state)
{
    (void)state;
    static const struct {
        const char *arg, *error;
    } sets[] = {
        {"work_mem=64MB", NULL},
        {"a.b_c$=", NULL},
        {"=1", "invalid --set \"=1\": expected NAME=VALUE with a parameter name such as "
               "work_mem=64MB"},
        {"work_mem", "invalid --set \"work_mem\": expected NAME=VALUE with a parameter name such "
                     "as work_mem=64MB"},
        {"9x=1", "invalid --set \"9x=1\": expected NAME=VALUE with a parameter name such as "
                 "work_mem=64MB"},
        {"a.=1", "invalid --set \"a.=1\": expected NAME=VALUE with a parameter name such as "
                 "work_mem=64MB"},
        {"work mem=1", "invalid --set \"work mem=1\": expected NAME=VALUE with a parameter name "
                       "such as work_mem=64MB"},
        {"x=a\nport=1", "invalid --set \"x\": the value must be one line"},
    };
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
        err_clear();
        bool ok = recovery_set_check(sets[i].arg);
        if (sets[i].error == NULL) {
            if (!ok)
                fail_msg("%s: %s", sets[i].arg, err_message());
            continue;
        }
        assert_false(ok);
        assert_string_equal(err_message(), sets[i].error);
        assert_int_equal(err_code(), DD_EXIT_USAGE);
    }
}

static void test_write(void **state)
{
    (void)state;
    char dir[] = "/tmp/dd-recovery-test.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *conf = xasprintf("%s/postgresql.auto.conf", dir);
    char *standby = xasprintf("%s/standby.signal", dir);
    char *recovery = xasprintf("%s/recovery.signal", dir);
    const char *old = "# Do not edit this file manually!\n"
                      "work_mem = '1MB'\n"
                      "primary_conninfo = 'host=old'\n"
                      "  Archive_Mode = 'on'\n"
                      "shared_buffers = '64MB'";
    assert_true(fs_write_file(conf, old, strlen(old), 0644));
    assert_true(fs_write_file(standby, "", 0, 0600));
    const Case c = {"write", {NULL}, {"work_mem=7MB", NULL}, 0, NULL, NULL};
    RecoveryTarget t;
    StrList sets;
    RecoveryOpts o;
    fill(&c, &t, &sets, &o);
    assert_true(recovery_write(dir, &o));
    Buf b = {0};
    bool found;
    assert_true(fs_read_file(conf, &b, &found));
    buf_append(&b, "", 1);
    char *text = (char *)b.data;
    char *block = strstr(text, "# Added by drydock");
    assert_non_null(block);
    *block = '\0';
    assert_string_equal(text, "# Do not edit this file manually!\nshared_buffers = '64MB'\n");
    assert_string_equal(strchr(block + 1, '\n') + 1, RC "recovery_target_timeline = 'latest'\n"
                                                        "archive_mode = 'off'\n"
                                                        "work_mem = '7MB'\n");
    struct stat st;
    assert_int_equal(stat(conf, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(access(standby, F_OK), -1);
    assert_int_equal(access(recovery, F_OK), 0);
    unlink(conf);
    unlink(recovery);
    rmdir(dir);
    buf_free(&b);
    strlist_free(&sets);
    free(conf);
    free(standby);
    free(recovery);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_set_check),
        cmocka_unit_test(test_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
