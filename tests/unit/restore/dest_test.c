/*
 * dest_test.c - the destination of a restore, on a scratch directory: the
 * layout (directories, sized files, tablespace symlinks), the refusals, and
 * the delta cleanup (what is removed, what is kept, never following a link
 * out of the data directory).
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
#include "restore/dest.h"
#include "unit/testdir.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define DIRM (S_IFDIR | 0700)
#define REGM (S_IFREG | 0600)

static char root[64];
static char *dir, *ts_loc, *outside;

static ManifestFile files[] = {
    {"PG_VERSION", REGM, 3},
    {"base", DIRM},
    {"base/1", DIRM},
    {"base/1/123", REGM, 16384},
    {"pg_tblspc", DIRM},
    {"pg_tblspc/16384", DIRM},
    {"pg_tblspc/16384/PG_15_x", DIRM},
    {"pg_tblspc/16384/PG_15_x/1", DIRM},
    {"pg_tblspc/16384/PG_15_x/1/999", REGM, 8192},
    {"pg_wal", DIRM},
    {"pg_wal/archive_status", DIRM},
};
static ManifestTablespace tablespaces[] = {{16384, NULL}};
static Manifest m = {.files = files,
                     .nfiles = sizeof(files) / sizeof(files[0]),
                     .tablespaces = tablespaces,
                     .ntablespaces = 1};

static bool exists(const char *rel)
{
    char *p = xasprintf("%s/%s", dir, rel);
    struct stat st;
    bool r = lstat(p, &st) == 0;
    free(p);
    return r;
}

static void touch(const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("x", f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    assert_int_equal(testdir_make(root, sizeof(root), "dest"), 0);
    dir = xasprintf("%s/data", root);
    ts_loc = xasprintf("%s/ts", root);
    outside = xasprintf("%s/outside", root);
    tablespaces[0].location = ts_loc;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(testdir_remove(root), 0);
    free(dir);
    free(ts_loc);
    free(outside);
    return 0;
}

static void test_layout_and_delta(void **state)
{
    (void)state;
    char *loc[] = {ts_loc};
    RestoreDest d = {dir, &m, loc, false};
    size_t ndirs, nfiles, removed;
    assert_true(dest_check(&d));
    assert_true(dest_layout(&d, &ndirs, &nfiles));
    assert_int_equal(nfiles, 3);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    char *f = xasprintf("%s/base/1/123", dir);
    assert_int_equal(stat(f, &st), 0);
    assert_int_equal(st.st_size, 16384);
    free(f);
    char link[512], *lp = xasprintf("%s/pg_tblspc/16384", dir);
    ssize_t n = readlink(lp, link, sizeof(link) - 1);
    assert_true(n > 0);
    link[n] = '\0';
    assert_string_equal(link, ts_loc);
    free(lp);
    f = xasprintf("%s/PG_15_x/1/999", ts_loc);
    assert_int_equal(stat(f, &st), 0);
    free(f);

    /* Not empty: refused without delta. */
    err_clear();
    assert_false(dest_check(&d));
    char *want = xasprintf("destination directory \"%s\" is not empty", dir);
    assert_string_equal(err_message(), want);
    assert_int_equal(err_code(), DD_EXIT_USAGE);
    free(want);

    /* Extras, a type change, WAL, a foreign symlink; then delta cleans. */
    char *p;
    touch(p = xasprintf("%s/extra", dir)), free(p);
    touch(p = xasprintf("%s/base/1/stale", dir)), free(p);
    touch(p = xasprintf("%s/pg_wal/000000010000000000000001", dir)), free(p);
    touch(p = xasprintf("%s/PG_15_x/1/old", ts_loc)), free(p);
    assert_int_equal(mkdir(p = xasprintf("%s/base/2", dir), 0700), 0), free(p);
    touch(p = xasprintf("%s/base/2/x", dir)), free(p);
    assert_int_equal(unlink(p = xasprintf("%s/PG_VERSION", dir)), 0), free(p);
    assert_int_equal(mkdir(p = xasprintf("%s/PG_VERSION", dir), 0700), 0), free(p);
    assert_int_equal(mkdir(outside, 0700), 0);
    touch(p = xasprintf("%s/precious", outside)), free(p);
    assert_int_equal(symlink(outside, p = xasprintf("%s/base/link", dir)), 0), free(p);
    d.delta = true;
    assert_true(dest_check(&d));
    assert_true(dest_clean(&d, &removed));
    assert_int_equal(removed, 7);
    assert_false(exists("extra"));
    assert_false(exists("base/1/stale"));
    assert_false(exists("base/2"));
    assert_false(exists("base/link"));
    assert_false(exists("PG_VERSION"));
    assert_false(exists("pg_wal/000000010000000000000001"));
    assert_false(exists("pg_tblspc/16384/PG_15_x/1/old"));
    assert_true(exists("base/1/123"));
    assert_true(exists("pg_tblspc/16384/PG_15_x/1/999"));
    assert_true(exists("pg_wal/archive_status"));
    assert_int_equal(stat(p = xasprintf("%s/precious", outside), &st), 0), free(p);
    assert_true(dest_layout(&d, &ndirs, &nfiles));
    assert_true(exists("PG_VERSION"));

    /* A live postmaster.pid (ours) refuses delta. */
    FILE *pid = fopen(p = xasprintf("%s/postmaster.pid", dir), "w");
    free(p);
    fprintf(pid, "%d\n%s\n", (int)getpid(), dir);
    fclose(pid);
    err_clear();
    assert_false(dest_check(&d));
    want = xasprintf("a server is running in destination directory \"%s\" (pid %d)", dir,
                     (int)getpid());
    assert_string_equal(err_message(), want);
    free(want);
}

static void test_tablespace_in_use(void **state)
{
    (void)state;
    /* A new data directory whose tablespace location holds files: refused. */
    char *other = xasprintf("%s/data2", root);
    char *loc[] = {ts_loc};
    RestoreDest d = {other, &m, loc, false};
    err_clear();
    assert_false(dest_check(&d));
    char *want = xasprintf("location \"%s\" of tablespace 16384 is not empty: it may be in use "
                           "by another cluster",
                           ts_loc);
    assert_string_equal(err_message(), want);
    assert_int_equal(err_code(), DD_EXIT_USAGE);
    free(want);
    /* With delta too: the link of data2 does not point there. */
    d.delta = true;
    assert_false(dest_check(&d));
    free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_and_delta),
        cmocka_unit_test(test_tablespace_in_use),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
