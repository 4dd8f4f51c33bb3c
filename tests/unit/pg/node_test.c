/*
 * node_test.c - where a conninfo points (libpq's defaults), when two
 * endpoints are one server, and the control file's version check.
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
#include <unistd.h>

#include "common/fsutil.h"
#include "common/mem.h"
#include "pg/control.h"
#include "pg/node.h"

typedef struct {
    const char *title;
    const char *conninfo;
    const char *pghost, *pgport; /* environment; NULL: unset */
    const char *host, *port;
} EndpointCase;

static const EndpointCase endpoint_cases[] = {
    {"nothing given: the socket directory and 5432", "dbname=x", NULL, NULL, "/var/run/postgresql",
     "5432"},
    {"host and port", "host=10.0.0.1 port=6000", NULL, NULL, "10.0.0.1", "6000"},
    {"hostaddr wins over host", "host=db hostaddr=10.0.0.2", NULL, NULL, "10.0.0.2", "5432"},
    {"the first of a list", "host=a,b port=7000,7001", NULL, NULL, "a", "7000"},
    {"a URI", "postgresql://u:pw@db.example:6001/x", NULL, NULL, "db.example", "6001"},
    {"a socket directory", "host=/tmp port=5999", NULL, NULL, "/tmp", "5999"},
    {"PGHOST and PGPORT as libpq reads them", "user=x", "10.1.1.1", "6543", "10.1.1.1", "6543"},
    {"the conninfo over the environment", "host=h port=1", "10.1.1.1", "6543", "h", "1"},
};

static void test_endpoint_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(endpoint_cases) / sizeof(endpoint_cases[0]); i++) {
        const EndpointCase *c = &endpoint_cases[i];
        print_message("case: %s\n", c->title);
        if (c->pghost)
            setenv("PGHOST", c->pghost, 1);
        else
            unsetenv("PGHOST");
        if (c->pgport)
            setenv("PGPORT", c->pgport, 1);
        else
            unsetenv("PGPORT");
        PgEndpoint ep;
        assert_true(pg_endpoint_parse(c->conninfo, &ep));
        assert_string_equal(ep.host, c->host);
        assert_string_equal(ep.port, c->port);
    }
    unsetenv("PGHOST");
    unsetenv("PGPORT");
    PgEndpoint ep;
    assert_false(pg_endpoint_parse("host='unterminated", &ep));
    assert_int_equal(err_code(), DD_EXIT_CONFIG);
    assert_non_null(strstr(err_message(), "invalid server connection string: "));
}

static void test_endpoint_same(void **state)
{
    (void)state;
    const struct {
        const char *a, *b;
        bool same;
    } cases[] = {
        {"host=localhost", "host=127.0.0.1 port=5432", true},
        {"host=::1 port=5432", "host=/var/run/postgresql", true},
        {"port=5432", "host=127.0.0.1", true}, /* the default socket is local too */
        {"host=127.0.0.1 port=5432", "host=127.0.0.1 port=05432", true},
        {"host=127.0.0.1 port=5432", "host=127.0.0.1 port=5433", false},
        {"host=db1", "host=db2", false},
        {"host=db1", "host=localhost", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        PgEndpoint a, b;
        assert_true(pg_endpoint_parse(cases[i].a, &a));
        assert_true(pg_endpoint_parse(cases[i].b, &b));
        if (pg_endpoint_same(&a, &b) != cases[i].same)
            fail_msg("\"%s\" vs \"%s\": expected %s", cases[i].a, cases[i].b,
                     cases[i].same ? "same" : "different");
    }
}

/* A data directory whose pg_control starts with these 16 bytes (or fewer). */
static char *control_dir(uint32_t version, size_t len)
{
    char tmpl[] = "/tmp/dd-node-XXXXXX";
    char *dir = xstrdup(mkdtemp(tmpl));
    char *global = xasprintf("%s/global", dir);
    assert_int_equal(mkdir(global, 0700), 0);
    uint8_t buf[16] = {0};
    uint64_t sysid = 7312345678901234567ull;
    uint32_t catalog = 202209061;
    memcpy(buf, &sysid, 8);
    memcpy(buf + 8, &version, 4);
    memcpy(buf + 12, &catalog, 4);
    char *path = xasprintf("%s/pg_control", global);
    assert_true(fs_write_file(path, buf, len, 0600));
    free(path);
    free(global);
    return dir;
}

static void control_dir_free(char *dir)
{
    char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(dir);
}

static void test_control_version(void **state)
{
    (void)state;
    PgControl ctl;
    char *dir = control_dir(1300, 16);
    assert_true(pg_control_read(dir, &ctl));
    assert_true(ctl.system_id == 7312345678901234567ull);
    assert_int_equal(ctl.control_version, 1300);
    assert_int_equal(ctl.catalog_version, 202209061);
    control_dir_free(dir);

    dir = control_dir(1201, 16); /* PostgreSQL 13 and 14 */
    assert_false(pg_control_read(dir, &ctl));
    assert_int_equal(err_code(), DD_EXIT_PG);
    char *want = xasprintf("control file \"%s/global/pg_control\" has version 1201, expected 1300 "
                           "(PostgreSQL 15)",
                           dir);
    assert_string_equal(err_message(), want);
    free(want);
    control_dir_free(dir);

    dir = control_dir(1300, 10);
    assert_false(pg_control_read(dir, &ctl));
    assert_int_equal(err_code(), DD_EXIT_CORRUPT);
    control_dir_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoint_parse),
        cmocka_unit_test(test_endpoint_same),
        cmocka_unit_test(test_control_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
