/*
 * mfile_test.c - the maintenance-file parser: a complete file, the window in
 * its zone, durations, and every error path with its exact message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maint/mfile.h"

static void test_full_file(void **state)
{
    (void)state;
    const char *text = "[maintenance]\n"
                       "title = Enable data checksums\n"
                       "description = A pause of about a second at the switch.\n"
                       "window-start = 2026-12-05 22:00 Europe/Paris\n"
                       "window-length = 1.5h\n"
                       "pause-timeout = 15\n"
                       "keep-old-primary = 7d\n"
                       "standby-lag-limit = 16MB\n"
                       "text-completed = Done.\n"
                       "[green]\n"
                       "data = /srv/green\n"
                       "port = 5442\n"
                       "standby-data = /srv/green-standby\n"
                       "standby-port = 5443\n"
                       "tablespace-map = 16385=/srv/ts-green\n"
                       "[change]\n"
                       "set = shared_buffers = 256MB\n"
                       "set = Max_Connections = 200\n"
                       "set = log_line_prefix = %m [%p] \n"
                       "file = pg_hba.conf = /etc/passwd\n"
                       "data-checksums = enable\n"
                       "sql-after = /etc/passwd\n";
    MaintFile m;
    if (!mfile_parse_string(text, "m.ini", &m))
        fail_msg("%s", err_message());
    assert_string_equal(m.title, "Enable data checksums");
    /* 22:00 in Paris in winter is 21:00 UTC. */
    assert_true(m.window_start == 1796504400.0);
    assert_string_equal(m.window_zone, "Europe/Paris");
    char when[128];
    mfile_window_local(&m, when, sizeof(when));
    assert_string_equal(when, "2026-12-05 22:00 Europe/Paris (2026-12-05 21:00 UTC)");
    assert_true(m.window_length == 5400.0);
    assert_int_equal(m.pause_timeout, 15);
    assert_true(m.keep_old_primary == 7 * 86400.0);
    assert_int_equal(m.standby_lag_limit, 16 << 20);
    assert_string_equal(m.text_completed, "Done.");
    assert_null(m.text_scheduled);
    assert_string_equal(m.green_data, "/srv/green");
    assert_int_equal(m.green_port, 5442);
    assert_int_equal(m.green_standby_port, 5443);
    assert_string_equal(m.tablespace_map, "16385=/srv/ts-green");
    assert_int_equal(m.nchanges, 6);
    assert_int_equal(m.changes[0].type, MCHANGE_SET);
    assert_string_equal(m.changes[0].name, "shared_buffers");
    assert_string_equal(m.changes[0].value, "256MB");
    assert_int_equal(m.changes[0].line, 17);
    assert_string_equal(m.changes[1].name, "max_connections"); /* lower-cased */
    assert_string_equal(m.changes[2].value, "%m [%p]");
    assert_int_equal(m.changes[3].type, MCHANGE_FILE);
    assert_string_equal(m.changes[3].name, "pg_hba.conf");
    assert_string_equal(m.changes[3].value, "/etc/passwd");
    assert_int_equal(m.changes[4].type, MCHANGE_CHECKSUMS);
    assert_string_equal(m.changes[4].name, "data_checksums");
    assert_string_equal(m.changes[4].value, "enable");
    assert_int_equal(m.changes[5].type, MCHANGE_SQL_AFTER);
    assert_int_equal(m.changes[5].line, 22);
    assert_string_equal(mfile_kind_name(MKIND_IMPOSSIBLE), "impossible");
    assert_string_equal(mfile_change_type_name(MCHANGE_CHECKSUMS), "data-checksums");
    mfile_free(&m);
}

typedef struct {
    const char *title;
    const char *text;
    double expected;
} WindowCase;

static void test_window_zones(void **state)
{
    (void)state;
    const WindowCase cases[] = {
        {"UTC", "2026-12-05 22:00 UTC", 1796508000.0},
        {"summer time in Paris", "2026-07-01 12:00:30 Europe/Paris", 1782900030.0},
        {"New York in winter", "2026-12-05 17:00 America/New_York", 1796508000.0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text),
                 "[maintenance]\ntitle = t\nwindow-start = %s\n[change]\nset = a = 1\n",
                 cases[i].text);
        MaintFile m;
        if (!mfile_parse_string(text, "m.ini", &m))
            fail_msg("case \"%s\": %s", cases[i].title, err_message());
        if (m.window_start != cases[i].expected)
            fail_msg("case \"%s\": %.0f, expected %.0f", cases[i].title, m.window_start,
                     cases[i].expected);
        mfile_free(&m);
    }
    assert_null(getenv("TZ")); /* restored */
}

typedef struct {
    const char *title;
    const char *text;
    const char *message;
    const char *hint; /* NULL: not checked */
} BadFile;

#define HEAD "[maintenance]\ntitle = t\n"
#define CHG  "[change]\nset = work_mem = 64MB\n"

static void test_errors(void **state)
{
    (void)state;
    const BadFile cases[] = {
        {"unknown key", HEAD "colour = blue\n",
         "maintenance file \"m.ini\", line 3: unknown key \"colour\" in [maintenance]", NULL},
        {"unknown section", "[maint]\ntitle = t\n",
         "maintenance file \"m.ini\", line 2: unknown section [maint]",
         "the sections are [maintenance], [green] and [change]"},
        {"key outside a section", "title = t\n",
         "maintenance file \"m.ini\", line 1: key \"title\" is outside any section", NULL},
        {"garbage line", HEAD "this is not ini\n",
         "maintenance file \"m.ini\", line 3: expected \"[section]\" or \"key = value\"", NULL},
        {"key twice", HEAD "title = u\n",
         "maintenance file \"m.ini\", line 3: key \"title\" in [maintenance] is set twice",
         "keep one of the two lines"},
        {"empty title", "[maintenance]\ntitle =\n",
         "maintenance file \"m.ini\", line 2: key \"title\" in [maintenance]: expected a "
         "non-empty value",
         NULL},
        {"no title", CHG, "maintenance file \"m.ini\": key \"title\" in [maintenance] is required",
         NULL},
        {"no change", HEAD, "maintenance file \"m.ini\": no change", NULL},
        {"window without zone", HEAD "window-start = 2026-12-05 22:00\n",
         "maintenance file \"m.ini\", line 3: key \"window-start\" in [maintenance]: expected "
         "\"YYYY-MM-DD HH:MM Zone/Name\", got \"2026-12-05 22:00\"",
         "give the local time and its IANA zone, e.g. \"2026-12-05 22:00 Europe/Paris\""},
        {"window unknown zone", HEAD "window-start = 2026-12-05 22:00 Mars/Olympus\n",
         "maintenance file \"m.ini\", line 3: key \"window-start\" in [maintenance]: unknown time "
         "zone \"Mars/Olympus\"",
         NULL},
        {"window zone as a path", HEAD "window-start = 2026-12-05 22:00 ../../etc/passwd\n",
         "maintenance file \"m.ini\", line 3: key \"window-start\" in [maintenance]: unknown time "
         "zone \"../../etc/passwd\"",
         NULL},
        {"window bad month", HEAD "window-start = 2026-13-05 22:00 UTC\n",
         "maintenance file \"m.ini\", line 3: key \"window-start\" in [maintenance]: expected "
         "\"YYYY-MM-DD HH:MM Zone/Name\", got \"2026-13-05 22:00 UTC\"",
         NULL},
        {"window in a DST gap", HEAD "window-start = 2026-03-29 02:30 Europe/Paris\n",
         "maintenance file \"m.ini\", line 3: key \"window-start\" in [maintenance]: 2026-03-29 "
         "02:30 does not exist in Europe/Paris",
         NULL},
        {"window trailing junk", HEAD "window-start = 2026-12-05 22:00 UTC extra\n",
         "maintenance file \"m.ini\", line 3: key \"window-start\" in [maintenance]: expected "
         "\"YYYY-MM-DD HH:MM Zone/Name\", got \"2026-12-05 22:00 UTC extra\"",
         NULL},
        {"length without unit", HEAD "window-length = 60\n",
         "maintenance file \"m.ini\", line 3: key \"window-length\" in [maintenance]: expected a "
         "duration such as 90s, 30min, 2h or 7d (at most 366d), got \"60\"",
         NULL},
        {"length bad unit", HEAD "window-length = 1w\n",
         "maintenance file \"m.ini\", line 3: key \"window-length\" in [maintenance]: expected a "
         "duration such as 90s, 30min, 2h or 7d (at most 366d), got \"1w\"",
         NULL},
        {"a tab and a stray byte are shown escaped", HEAD "window-length = 1\th\xff\n",
         "maintenance file \"m.ini\", line 3: key \"window-length\" in [maintenance]: expected a "
         "duration such as 90s, 30min, 2h or 7d (at most 366d), got \"1\\x09h\\xFF\"",
         NULL},
        {"length negative", HEAD "window-length = -1h\n",
         "maintenance file \"m.ini\", line 3: key \"window-length\" in [maintenance]: expected a "
         "duration such as 90s, 30min, 2h or 7d (at most 366d), got \"-1h\"",
         NULL},
        {"length zero", HEAD "window-length = 0s\n",
         "maintenance file \"m.ini\", line 3: key \"window-length\" in [maintenance]: expected a "
         "duration such as 90s, 30min, 2h or 7d (at most 366d), got \"0s\"",
         NULL},
        {"pause timeout fraction", HEAD "pause-timeout = 1.5\n",
         "maintenance file \"m.ini\", line 3: key \"pause-timeout\" in [maintenance]: expected a "
         "duration such as 90s, 30min, 2h or 7d (whole seconds, at most 1d), got \"1.5\"",
         NULL},
        {"lag limit without unit", HEAD "standby-lag-limit = 1000\n",
         "maintenance file \"m.ini\", line 3: key \"standby-lag-limit\" in [maintenance]: expected "
         "a size such as 512kB, 64MB or 2GB, got \"1000\"",
         NULL},
        {"lag limit bad unit", HEAD "standby-lag-limit = 1MiB\n",
         "maintenance file \"m.ini\", line 3: key \"standby-lag-limit\" in [maintenance]: expected "
         "a size such as 512kB, 64MB or 2GB, got \"1MiB\"",
         NULL},
        {"pause timeout over a day", HEAD "pause-timeout = 2d\n",
         "maintenance file \"m.ini\", line 3: key \"pause-timeout\" in [maintenance]: expected a "
         "duration such as 90s, 30min, 2h or 7d (whole seconds, at most 1d), got \"2d\"",
         NULL},
        {"length over a year", HEAD "window-length = 400d\n",
         "maintenance file \"m.ini\", line 3: key \"window-length\" in [maintenance]: expected a "
         "duration such as 90s, 30min, 2h or 7d (at most 366d), got \"400d\"",
         NULL},
        {"window before 1970", HEAD "window-start = 1969-12-31 23:00 UTC\n",
         "maintenance file \"m.ini\", line 3: key \"window-start\" in [maintenance]: expected "
         "\"YYYY-MM-DD HH:MM Zone/Name\", got \"1969-12-31 23:00 UTC\"",
         NULL},
        {"sql-after relative", HEAD "[change]\nsql-after = after.sql\n",
         "maintenance file \"m.ini\", line 4: key \"sql-after\" in [change]: expected an absolute "
         "path, got \"after.sql\"",
         NULL},
        {"length without start", HEAD "window-length = 1h\n" CHG,
         "maintenance file \"m.ini\": key \"window-length\" in [maintenance] needs window-start",
         NULL},
        {"relative green data", HEAD "[green]\ndata = green\n",
         "maintenance file \"m.ini\", line 4: key \"data\" in [green]: expected an absolute path, "
         "got \"green\"",
         NULL},
        {"bad port", HEAD "[green]\nport = 70000\n",
         "maintenance file \"m.ini\", line 4: key \"port\" in [green]: expected a port from 1 to "
         "65535, got \"70000\"",
         NULL},
        {"green data without port", HEAD "[green]\ndata = /g\n" CHG,
         "maintenance file \"m.ini\": [green] needs both data and port", NULL},
        {"standby without port", HEAD "[green]\ndata = /g\nport = 1\nstandby-data = /s\n" CHG,
         "maintenance file \"m.ini\": [green] needs both standby-data and standby-port", NULL},
        {"standby without green", HEAD "[green]\nstandby-data = /s\nstandby-port = 2\n" CHG,
         "maintenance file \"m.ini\": [green] has a standby but no data", NULL},
        {"same ports",
         HEAD "[green]\ndata = /g\nport = 7\nstandby-data = /s\nstandby-port = 7\n" CHG,
         "maintenance file \"m.ini\": [green] port and standby-port are both 7", NULL},
        {"same dirs",
         HEAD "[green]\ndata = /g\nport = 7\nstandby-data = /g\nstandby-port = 8\n" CHG,
         "maintenance file \"m.ini\": [green] data and standby-data are both \"/g\"", NULL},
        {"set without value", HEAD "[change]\nset = shared_buffers\n",
         "maintenance file \"m.ini\", line 4: key \"set\" in [change]: expected \"NAME = VALUE\", "
         "got \"shared_buffers\"",
         "e.g. \"set = shared_buffers = 256MB\""},
        {"set empty value", HEAD "[change]\nset = shared_buffers =\n",
         "maintenance file \"m.ini\", line 4: key \"set\" in [change]: expected \"NAME = VALUE\", "
         "got \"shared_buffers =\"",
         NULL},
        {"set bad name", HEAD "[change]\nset = shared buffers = 1\n",
         "maintenance file \"m.ini\", line 4: key \"set\" in [change]: \"shared buffers\" is not "
         "a setting name",
         NULL},
        {"set twice", HEAD "[change]\nset = work_mem = 1MB\nset = WORK_MEM = 2MB\n",
         "maintenance file \"m.ini\", line 5: key \"set\" in [change]: setting \"work_mem\" is "
         "changed twice (also line 4)",
         NULL},
        {"file without path", HEAD "[change]\nfile = pg_hba.conf\n",
         "maintenance file \"m.ini\", line 4: key \"file\" in [change]: expected \"NAME = PATH\", "
         "got \"pg_hba.conf\"",
         NULL},
        {"file name escapes", HEAD "[change]\nfile = ../pg_hba.conf = /etc/passwd\n",
         "maintenance file \"m.ini\", line 4: key \"file\" in [change]: \"../pg_hba.conf\" is not "
         "a file name relative to the data directory",
         NULL},
        {"file postgresql.conf", HEAD "[change]\nfile = postgresql.conf = /etc/passwd\n",
         "maintenance file \"m.ini\", line 4: key \"file\" in [change]: \"postgresql.conf\" "
         "cannot be replaced",
         "change settings one by one with \"set = NAME = VALUE\""},
        {"file relative source", HEAD "[change]\nfile = pg_hba.conf = hba\n",
         "maintenance file \"m.ini\", line 4: key \"file\" in [change]: expected an absolute "
         "path, got \"hba\"",
         NULL},
        {"file missing source", HEAD "[change]\nfile = pg_hba.conf = /nonexistent/hba\n",
         "maintenance file \"m.ini\", line 4: key \"file\" in [change]: could not read "
         "\"/nonexistent/hba\": No such file or directory",
         NULL},
        {"file is a directory", HEAD "[change]\nfile = pg_hba.conf = /tmp\n",
         "maintenance file \"m.ini\", line 4: key \"file\" in [change]: \"/tmp\" is not a "
         "regular file",
         NULL},
        {"file twice",
         HEAD "[change]\nfile = pg_hba.conf = /etc/passwd\nfile = pg_hba.conf = "
              "/etc/passwd\n",
         "maintenance file \"m.ini\", line 5: key \"file\" in [change]: file \"pg_hba.conf\" is "
         "changed twice (also line 4)",
         NULL},
        {"checksums bad", HEAD "[change]\ndata-checksums = on\n",
         "maintenance file \"m.ini\", line 4: key \"data-checksums\" in [change]: expected enable "
         "or disable, got \"on\"",
         NULL},
        {"checksums twice", HEAD "[change]\ndata-checksums = enable\ndata-checksums = disable\n",
         "maintenance file \"m.ini\", line 5: key \"data-checksums\" in [change]: data-checksums "
         "\"data_checksums\" is changed twice (also line 4)",
         NULL},
        {"sql-after missing", HEAD "[change]\nsql-after = /nonexistent.sql\n",
         "maintenance file \"m.ini\", line 4: key \"sql-after\" in [change]: could not read "
         "\"/nonexistent.sql\": No such file or directory",
         NULL},
        {"continuation of a non-text key", HEAD "[change]\nset = a = 1\n  set = b = 2\n",
         "maintenance file \"m.ini\", line 5: key \"set\" in [change] continues on an indented "
         "line",
         "only text keys (title, description, text-*) may continue; unindent the line"},
        {"first error wins", HEAD "colour = blue\nshape = round\n",
         "maintenance file \"m.ini\", line 3: unknown key \"colour\" in [maintenance]", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        MaintFile m;
        err_clear();
        if (mfile_parse_string(cases[i].text, "m.ini", &m))
            fail_msg("case \"%s\": accepted", cases[i].title);
        assert_int_equal(err_code(), DD_EXIT_CONFIG);
        if (strcmp(err_message(), cases[i].message) != 0)
            fail_msg("case \"%s\":\n got      %s\n expected %s", cases[i].title, err_message(),
                     cases[i].message);
        if (cases[i].hint && strcmp(err_hint_text(), cases[i].hint) != 0)
            fail_msg("case \"%s\": hint\n got      %s\n expected %s", cases[i].title,
                     err_hint_text(), cases[i].hint);
        if (!err_hint_text()[0])
            fail_msg("case \"%s\": no hint", cases[i].title);
    }
}

static void test_continuation(void **state)
{
    (void)state;
    const char *text = "[maintenance]\ntitle = t\ndescription = The database pauses\n"
                       "   for about a second.\n  ; a comment, not a continuation\n"
                       "\tThen it is back.\n[change]\nset = a = 1\n";
    MaintFile m;
    if (!mfile_parse_string(text, "m.ini", &m))
        fail_msg("%s", err_message());
    assert_string_equal(m.description, "The database pauses for about a second. Then it is back.");
    assert_int_equal(m.changes[0].line, 8);
    mfile_free(&m);
}

static void test_long_line(void **state)
{
    (void)state;
    char text[1024];
    int n = snprintf(text, sizeof(text), "[maintenance]\ntitle = t\ndescription = ");
    memset(text + n, 'x', 400);
    strcpy(text + n + 400, "\n[change]\nset = a = 1\n");
    MaintFile m;
    assert_false(mfile_parse_string(text, "m.ini", &m));
    assert_string_equal(err_message(),
                        "maintenance file \"m.ini\", line 3: line longer than 198 characters");
}

static void test_load(void **state)
{
    (void)state;
    MaintFile m;
    assert_false(mfile_load("/nonexistent/m.ini", &m));
    assert_int_equal(err_code(), DD_EXIT_CONFIG);
    assert_string_equal(err_message(),
                        "could not open maintenance file \"/nonexistent/m.ini\": No such file or "
                        "directory");

    char path[] = "/tmp/drydock-mfile-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "[maintenance]\ntitle = t\n\n; comment\n[change]\nset = a = 1\n"
                       "set = b = 2";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    if (!mfile_load(path, &m))
        fail_msg("%s", err_message());
    assert_string_equal(m.file, path);
    assert_int_equal(m.nchanges, 2);
    assert_int_equal(m.changes[0].line, 6);
    assert_int_equal(m.changes[1].line, 7); /* last line without a newline */
    mfile_free(&m);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_file), cmocka_unit_test(test_window_zones),
        cmocka_unit_test(test_errors),    cmocka_unit_test(test_continuation),
        cmocka_unit_test(test_long_line), cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
