/*
 * walside_test.c - history and backup history files (issue 16): wal-push
 * archived a garbage 00000002.history and a garbage .backup file, and every
 * restore then failed to start; both are checked now.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "pg/walside.h"

typedef struct {
    const char *title;
    uint32_t tli;
    const char *text;
    const char *error; /* NULL: accepted; else a part of the message */
} HistoryCase;

static const HistoryCase history_cases[] = {
    {"a promotion's file", 2, "1\t0/3000000\tno recovery target specified\n", NULL},
    {"two parents, a comment, a blank line", 3,
     "# comment\n\n1\t0/3000000\tno recovery target specified\n2\t0/5000A28\tat restore point "
     "\"x\"\n",
     NULL},
    {"no newline at the end, CRLF", 2, "1\t0/3000000\treason\r", NULL},
    {"garbage", 2, "hello world\n", "line 1: expected a numeric timeline ID"},
    {"no switch point", 2, "1\tnowhere\n", "line 1: expected a timeline ID and a switch point"},
    {"a parent not below the file's timeline", 2, "2\t0/3000000\tx\n",
     "timeline 2 is not after 0 and before 2"},
    {"parents not increasing", 4, "2\t0/3000000\tx\n1\t0/4000000\ty\n",
     "line 2: timeline 1 is not after 2 and before 4"},
    {"timeline 0", 2, "0\t0/3000000\tx\n", "timeline 0 is not after"},
    {"empty", 2, "", "has no entry"},
    {"comments only", 2, "# nothing\n", "has no entry"},
    {"binary", 2, "1\t0/3\x01\n", "is not text: byte 0x01"},
};

static void test_history(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(history_cases) / sizeof(history_cases[0]); i++) {
        const HistoryCase *c = &history_cases[i];
        bool ok = walside_history_check(c->tli, c->text, strlen(c->text));
        if (ok != (c->error == NULL))
            fail_msg("%s: %s", c->title, ok ? "accepted" : err_message());
        if (!ok) {
            assert_int_equal(err_code(), DD_EXIT_CORRUPT);
            if (!strstr(err_message(), c->error))
                fail_msg("%s: message \"%s\" lacks \"%s\"", c->title, err_message(), c->error);
        }
        err_clear();
    }
}

#define BACKUP_OK                                                                                  \
    "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n"                              \
    "STOP WAL LOCATION: 0/2000100 (file 000000010000000000000002)\n"                               \
    "CHECKPOINT LOCATION: 0/2000060\nBACKUP METHOD: streamed\nBACKUP FROM: primary\n"              \
    "START TIME: 2026-11-30 09:30:00 UTC\nLABEL: pg_basebackup base backup\n"                      \
    "START TIMELINE: 1\nSTOP TIME: 2026-11-30 09:30:01 UTC\nSTOP TIMELINE: 1\n"

static void test_backup(void **state)
{
    (void)state;
    static const struct {
        const char *title, *name, *text, *error;
    } rows[] = {
        {"genuine", "000000010000000000000002.00000028.backup", BACKUP_OK, NULL},
        {"garbage", "000000010000000000000002.00000028.backup", "garbage\n",
         "does not start with \"START WAL LOCATION"},
        {"another segment's content", "000000010000000000000003.00000028.backup", BACKUP_OK,
         "which would be named \"000000010000000000000002.00000028.backup\""},
        {"no stop line", "000000010000000000000002.00000028.backup",
         "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n", "no \"STOP WAL"},
        {"binary", "000000010000000000000002.00000028.backup", "START\x00", "is not text"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        size_t len = strlen(rows[i].text) + (strcmp(rows[i].title, "binary") == 0);
        bool ok = walside_backup_check(rows[i].name, 16u << 20, rows[i].text, len);
        if (ok != (rows[i].error == NULL))
            fail_msg("%s: %s", rows[i].title, ok ? "accepted" : err_message());
        if (!ok && !strstr(err_message(), rows[i].error))
            fail_msg("%s: message \"%s\" lacks \"%s\"", rows[i].title, err_message(),
                     rows[i].error);
        err_clear();
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_history),
        cmocka_unit_test(test_backup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
