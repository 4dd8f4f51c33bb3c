/*
 * testdir.h - a temporary directory for unit tests, and files in it: made
 * under /tmp, removed with everything it holds. Header-only: a test program
 * includes it once.
 *
 *   static char root[64];
 *   setup:    assert_int_equal(testdir_make(root, sizeof(root), "preflight"), 0);
 *   teardown: assert_int_equal(testdir_remove(root), 0);
 */
#ifndef DD_TESTS_TESTDIR_H
#define DD_TESTS_TESTDIR_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "common/fsutil.h"
#include "common/mem.h"
#include "storage/storage.h"

/* A new directory "/tmp/dd-NAME.XXXXXX", its path in dir; 0, or -1 (cmocka's setup convention). */
static inline int testdir_make(char *dir, size_t size, const char *name)
{
    snprintf(dir, size, "/tmp/dd-%s.XXXXXX", name);
    return mkdtemp(dir) ? 0 : -1;
}

/* Remove dir and everything in it: 0 when it is gone (cmocka's teardown convention). */
static inline int testdir_remove(const char *dir)
{
    char *cmd = xasprintf("rm -rf '%s'", dir);
    int rc = system(cmd);
    free(cmd);
    return rc;
}

/* The file dir/name holding text, with mode (0755: a program). */
static inline void testdir_put(const char *dir, const char *name, const char *text, mode_t mode)
{
    char *path = xasprintf("%s/%s", dir, name);
    assert_true(fs_write_file(path, text, strlen(text), mode));
    free(path);
}

/* A program dir/name that does nothing and exits 0 (a stand-in for pg_ctl and the others). */
static inline void testdir_tool(const char *dir, const char *name)
{
    testdir_put(dir, name, "#!/bin/sh\nexit 0\n", 0755);
}

/* A POSIX storage on dir/name (the one way every caller opens one), its root created. */
static inline Storage *testdir_storage(const char *dir, const char *name)
{
    char *path = xasprintf("%s/%s", dir, name);
    Storage *s = NULL;
    assert_true(storage_open(&(StorageConfig){.type = STORAGE_POSIX, .path = path}, &s));
    assert_true(storage_root_create(s));
    free(path);
    return s;
}

#endif
