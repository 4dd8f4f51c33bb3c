/*
 * tsmap_test.c - --tablespace-map parsing, resolution against a backup's
 * tablespaces, and the tablespace_map file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/mem.h"
#include "restore/tsmap.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static ManifestTablespace ts[] = {{16384, "/srv/ts/fast"}, {16385, "/srv/ts/slow"}};
static const TsName names[] = {{1663, "pg_default"}, {16384, "fast"}, {16385, "slow"}};

typedef struct {
    const char *title;
    const char *args[4];
    const char *expected[2]; /* locations of ts[0], ts[1]; NULL: an error */
    const char *error;
} Case;

static const Case cases[] = {
    {"no mapping: recorded locations", {NULL}, {"/srv/ts/fast", "/srv/ts/slow"}},
    {"by oid", {"16384=/new/a", NULL}, {"/new/a", "/srv/ts/slow"}},
    {"by recorded directory, trailing slash",
     {"/srv/ts/slow/=/new/b", NULL},
     {"/srv/ts/fast", "/new/b"}},
    {"both", {"16385=/new/b", "16384=/new/a", NULL}, {"/new/a", "/new/b"}},
    {"by name", {"slow=/new/b", NULL}, {"/srv/ts/fast", "/new/b"}},
    {"a name that is not a tablespace of the backup",
     {"pg_default=/new/a", NULL},
     {NULL},
     "--tablespace-map names \"pg_default\", which is not a tablespace of backup \"B1\""},
    {"by name and by oid",
     {"fast=/new/a", "16384=/new/c", NULL},
     {NULL},
     "tablespace 16384 (\"/srv/ts/fast\") is mapped twice by --tablespace-map"},
    {"unknown tablespace",
     {"99=/new/a", NULL},
     {NULL},
     "--tablespace-map names \"99\", which is not a tablespace of backup \"B1\""},
    {"mapped twice, two names",
     {"16384=/new/a", "/srv/ts/fast=/new/c", NULL},
     {NULL},
     "tablespace 16384 (\"/srv/ts/fast\") is mapped twice by --tablespace-map"},
    {"two in one directory",
     {"16384=/srv/ts/slow", NULL},
     {NULL},
     "tablespaces 16384 and 16385 would both be restored to \"/srv/ts/slow\""},
};

static void test_resolve(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const Case *c = &cases[i];
        TsMap m = {0};
        for (size_t j = 0; c->args[j]; j++)
            if (!tsmap_add(&m, c->args[j]))
                fail_msg("%s: add %s: %s", c->title, c->args[j], err_message());
        char **loc = NULL;
        err_clear();
        bool ok = tsmap_resolve(&m, ts, 2, names, 3, "B1", &loc);
        if (c->expected[0]) {
            if (!ok)
                fail_msg("%s: %s", c->title, err_message());
            for (size_t j = 0; j < 2; j++)
                if (strcmp(loc[j], c->expected[j]) != 0)
                    fail_msg("%s: location %zu is %s", c->title, j, loc[j]);
            tsmap_free_locations(loc, 2);
        } else {
            if (ok)
                fail_msg("%s: expected an error", c->title);
            if (strcmp(err_message(), c->error) != 0 || err_code() != DD_EXIT_USAGE)
                fail_msg("%s:\n got      %s\n expected %s", c->title, err_message(), c->error);
        }
        tsmap_free(&m);
    }
}

static void test_add_errors(void **state)
{
    (void)state;
    static const struct {
        const char *arg, *error;
    } bad[] = {
        {"16384", "invalid --tablespace-map \"16384\": expected NAME=DIR"},
        {"=/x", "invalid --tablespace-map \"=/x\": expected NAME=DIR"},
        {"16384=", "invalid --tablespace-map \"16384=\": expected NAME=DIR"},
        {"16384=rel/dir",
         "invalid --tablespace-map \"16384=rel/dir\": the directory must be an absolute path"},
        {"16384=/a\nb", "invalid --tablespace-map: a line break is not allowed"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        TsMap m = {0};
        err_clear();
        assert_false(tsmap_add(&m, bad[i].arg));
        assert_string_equal(err_message(), bad[i].error);
        assert_int_equal(err_code(), DD_EXIT_USAGE);
        tsmap_free(&m);
    }
    TsMap m = {0};
    assert_true(tsmap_add(&m, "1=/a"));
    assert_false(tsmap_add(&m, "1=/b"));
    assert_string_equal(err_message(), "tablespace \"1\" is mapped twice by --tablespace-map");
    tsmap_free(&m);
}

static void test_render(void **state)
{
    (void)state;
    char *loc[] = {"/new/a", "/odd\\dir\nx"};
    Buf b = {0};
    tsmap_render(ts, loc, 2, &b);
    buf_append(&b, "", 1);
    assert_string_equal((char *)b.data, "16384 /new/a\n16385 /odd\\\\dir\\\nx\n");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_add_errors),
        cmocka_unit_test(test_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
