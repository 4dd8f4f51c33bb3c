/*
 * journal_damage_test.c - the maintenance journal where it cannot be kept:
 * a state directory that cannot be created, a journal.db that is not a
 * database (journal.h's opener, its lock, and the status page's reader,
 * runreport.h). Each is one line naming the file, exit 5 (I/O) or the
 * system's error, never a crash; a journal that was never written reads as
 * "no maintenance".
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
#include "common/mem.h"
#include "maint/journal.h"
#include "maint/runreport.h"
#include "unit/testdir.h"

static char root[64];

static int setup(void **state)
{
    (void)state;
    assert_int_equal(testdir_make(root, sizeof(root), "journal-damage"), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(testdir_remove(root), 0);
    return 0;
}

static void test_state_dir_under_a_file(void **state)
{
    (void)state;
    char *file = xasprintf("%s/plain", root);
    assert_true(fs_write_file(file, "x", 1, 0600));
    char *dir = xasprintf("%s/state", file);
    Journal *j = NULL;
    assert_false(journal_open(dir, &j));
    assert_null(j);
    char *want = xasprintf("could not create the state directory \"%s\": Not a directory", dir);
    assert_string_equal(err_message(), want);
    free(want);
    err_clear();
    JournalLock *l = NULL;
    assert_false(journal_lock(dir, "maint run", &l));
    assert_non_null(strstr(err_message(), "could not create the state directory"));
    err_clear();
    journal_close(NULL);
    free(dir);
    free(file);
}

static void test_not_a_database(void **state)
{
    (void)state;
    char *dir = xasprintf("%s/state", root);
    char *db = xasprintf("%s/journal.db", dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    const char junk[] = "this is not an SQLite database, but it is long enough to be read as one "
                        "that is damaged: SQLite reads the first hundred bytes as its header.";
    assert_true(fs_write_file(db, junk, sizeof(junk), 0600));

    Journal *j = NULL;
    assert_false(journal_open(dir, &j));
    assert_int_equal(err_code(), DD_EXIT_IO);
    char *want =
        xasprintf("journal \"%s\": creating the schema failed: file is not a database", db);
    assert_string_equal(err_message(), want);
    assert_non_null(strstr(err_hint_text(), "disk and permissions"));
    free(want);
    err_clear();

    json_t *report = NULL;
    assert_false(runreport_load_file(db, 1, &report));
    assert_null(report);
    assert_int_equal(err_code(), DD_EXIT_IO);
    want = xasprintf("could not read the maintenance journal \"%s\": file is not a database", db);
    assert_string_equal(err_message(), want);
    free(want);
    err_clear();

    /* Through the configuration: the state directory's journal. */
    Config cfg = {.state_dir = dir};
    assert_false(runreport_load(&cfg, 1, &report));
    assert_int_equal(err_code(), DD_EXIT_IO);
    err_clear();
    /* No journal at all: no maintenance ran here, no report, no error. */
    Config none = {.state_dir = root};
    assert_true(runreport_load(&none, 1, &report));
    assert_null(report);
    free(db);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_state_dir_under_a_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_database, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
