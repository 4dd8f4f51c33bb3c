/*
 * posix_test.c - the POSIX storage driver: atomic puts, exclusive puts,
 * listing hides temporary files, reads, missing objects, removal of the
 * temporary files of dead writers only.
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
#include <sys/wait.h>
#include <unistd.h>

#include "storage/storage.h"
#include "unit/testdir.h"

static char root[64];

/* The storage on dir, opened the one way every caller opens one. */
static Storage *open_posix(const char *dir)
{
    Storage *s = NULL;
    assert_true(storage_open(&(StorageConfig){.type = STORAGE_POSIX, .path = dir}, &s));
    return s;
}

static int setup(void **state)
{
    (void)state;
    return testdir_make(root, sizeof(root), "storage");
}

static int teardown(void **state)
{
    (void)state;
    return testdir_remove(root);
}

static void test_put_get_list(void **state)
{
    (void)state;
    Storage *s = open_posix(root);
    assert_true(storage_put(s, "a/b/c.obj", "hello", 5, (StoragePutOpts){0}));
    assert_true(storage_put(s, "a/b/d.obj", "world", 5, (StoragePutOpts){0}));
    Buf b = {0};
    bool found;
    assert_true(storage_get(s, "a/b/c.obj", &b, &found));
    assert_true(found);
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.data, "hello", 5);
    buf_reset(&b);
    assert_true(storage_get(s, "a/b/none", &b, &found));
    assert_false(found);

    /* A write in progress is not listed, and aborting leaves nothing. */
    StorageWrite *w = storage_write_begin(s, "a/b/e.obj");
    assert_non_null(w);
    assert_true(storage_write_append(w, "partial", 7));
    StrList names = {0};
    assert_true(storage_list(s, "a/b", &names));
    assert_int_equal(names.len, 2);
    assert_string_equal(names.items[0], "c.obj");
    assert_string_equal(names.items[1], "d.obj");
    strlist_free(&names);
    storage_write_abort(w);
    bool exists = true;
    assert_true(storage_exists(s, "a/b/e.obj", &exists));
    assert_false(exists);

    /* Overwrite replaces whole; exclusive refuses. */
    assert_true(storage_put(s, "a/b/c.obj", "HELLO!", 6, (StoragePutOpts){0}));
    assert_false(storage_put(s, "a/b/c.obj", "x", 1, (StoragePutOpts){.exclusive = true}));
    assert_int_equal(err_code(), DD_EXIT_CONFLICT);
    assert_true(storage_get(s, "a/b/c.obj", &b, &found));
    assert_memory_equal(b.data, "HELLO!", 6);

    /* read_at beyond the end is corruption, not a crash. */
    StorageRead *r = storage_read_open(s, "a/b/c.obj", &found);
    assert_non_null(r);
    char two[2];
    assert_true(storage_read_at(r, 4, two, 2));
    assert_memory_equal(two, "O!", 2);
    assert_false(storage_read_at(r, 5, two, 2));
    assert_int_equal(err_code(), DD_EXIT_CORRUPT);
    storage_read_close(r);

    assert_true(storage_remove(s, "a/b/c.obj"));
    assert_true(storage_remove(s, "a/b/c.obj")); /* missing is fine */
    assert_true(storage_list(s, "missing/dir", &names));
    assert_int_equal(names.len, 0);
    buf_free(&b);
    storage_free(s);
}

static void test_read_only_dir(void **state)
{
    (void)state;
    if (geteuid() == 0)
        skip(); /* root ignores permissions */
    char ro[128];
    snprintf(ro, sizeof(ro), "%s/ro", root);
    assert_int_equal(mkdir(ro, 0500), 0);
    Storage *s = open_posix(ro);
    assert_false(storage_put(s, "x", "y", 1, (StoragePutOpts){0}));
    assert_int_equal(err_code(), DD_EXIT_IO);
    storage_free(s);
}

static void touch(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
}

static bool present(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static void test_remove_orphans(void **state)
{
    (void)state;
    /* A pid that certainly exited: a child we reaped. */
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(0);
    assert_int_equal(waitpid(child, NULL, 0), child);
    char dir[128], dead[64], live[64];
    snprintf(dir, sizeof(dir), "%s/orphans", root);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(dead, sizeof(dead), "p.pack.dd-tmp.%d.0", (int)child);
    snprintf(live, sizeof(live), "p.pack.dd-tmp.%d.1", (int)getpid());
    touch(dir, dead);
    touch(dir, live);
    touch(dir, "p.pack");
    Storage *s = open_posix(root);
    size_t removed = 0;
    assert_true(storage_remove_orphans(s, "orphans", 0, &removed));
    assert_int_equal(removed, 1);
    assert_false(present(dir, dead));
    assert_true(present(dir, live)); /* a writer still running */
    assert_true(present(dir, "p.pack"));
    removed = 0;
    assert_true(storage_remove_orphans(s, "missing-dir", 0, &removed));
    assert_int_equal(removed, 0);
    storage_free(s);
}

static void test_locks(void **state)
{
    (void)state;
    Storage *s = open_posix(root);
    StorageLock *a = NULL, *b = NULL;
    bool busy = false;
    char holder[128];
    assert_true(storage_lock(s, "k", false, "owner A", &a, &busy, holder, sizeof(holder)));
    assert_false(storage_lock(s, "k", false, "owner B", &b, &busy, holder, sizeof(holder)));
    assert_true(busy);
    assert_string_equal(holder, "owner A");
    assert_null(b);
    assert_true(storage_lock_check(a));
    storage_unlock(a);
    /* Shared holders coexist; an exclusive one is refused while they hold. */
    assert_true(storage_lock(s, "k", true, "r1", &a, &busy, holder, sizeof(holder)));
    assert_true(storage_lock(s, "k", true, "r2", &b, &busy, holder, sizeof(holder)));
    StorageLock *c = NULL;
    assert_false(storage_lock(s, "k", false, "w", &c, &busy, holder, sizeof(holder)));
    assert_true(busy);
    storage_unlock(a);
    storage_unlock(b);
    assert_true(storage_lock(s, "k", false, "w", &c, &busy, holder, sizeof(holder)));
    storage_unlock(c);
    storage_free(s);
}

static void test_root_state(void **state)
{
    (void)state;
    char dir[128];
    snprintf(dir, sizeof(dir), "%s/new-root", root);
    Storage *s = open_posix(dir);
    bool exists = true, empty = false;
    assert_true(storage_root_state(s, &exists, &empty));
    assert_false(exists);
    assert_true(storage_root_create(s));
    assert_true(storage_root_state(s, &exists, &empty));
    assert_true(exists && empty);
    assert_true(storage_put(s, "a/b", "x", 1, (StoragePutOpts){0}));
    assert_true(storage_root_state(s, &exists, &empty));
    assert_false(empty);
    storage_free(s);
}

/* What cannot be opened, created or locked is one error naming it. */
static void test_refusals(void **state)
{
    (void)state;
    Storage *s = NULL;
    assert_false(storage_open(&(StorageConfig){.type = (StorageType)7, .path = root}, &s));
    assert_int_equal(err_code(), DD_EXIT_CONFIG);
    assert_string_equal(err_message(), "unknown storage type 7");
    err_clear();

    /* A root under a regular file cannot be created. */
    char file[128], dir[160], want[256];
    snprintf(file, sizeof(file), "%s/plain", root);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(dir, sizeof(dir), "%s/repo", file);
    s = open_posix(dir);
    assert_false(storage_root_create(s));
    snprintf(want, sizeof(want), "could not create directory \"%s\": Not a directory", dir);
    assert_string_equal(err_message(), want);
    err_clear();
    /* Nor locked by a writer: the repository's owner cannot be known. */
    StorageLock *l = NULL;
    bool busy = true;
    char holder[64];
    assert_false(storage_lock(s, "k", false, "owner A", &l, &busy, holder, sizeof(holder)));
    assert_null(l);
    snprintf(want, sizeof(want), "could not stat repository \"%s\": Not a directory", dir);
    assert_string_equal(err_message(), want);
    err_clear();
    storage_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_list),   cmocka_unit_test(test_read_only_dir),
        cmocka_unit_test(test_remove_orphans), cmocka_unit_test(test_locks),
        cmocka_unit_test(test_root_state),     cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
