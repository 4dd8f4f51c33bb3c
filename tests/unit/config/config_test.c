/*
 * config_test.c - the configuration parser: a good file, defaults, and every
 * error path with its exact message.
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

#include "common/mem.h"
#include "config/config.h"
#include "config/inifile.h"

static void test_full_file(void **state)
{
    (void)state;
    const char *text = "[repository]\n"
                       "path = /var/lib/drydock/repo\n"
                       "compress = lz4   ; fast\n"
                       "compress-level = 1\n"
                       "[cluster]\n"
                       "primary = host=127.0.0.1 port=5432 user=postgres dbname=postgres\n"
                       "primary-data = /var/lib/postgresql/15/main\n"
                       "standby = host=127.0.0.1 port=5433\n"
                       "standby-data = /srv/standby\n"
                       "[proxy]\n"
                       "listen = 127.0.0.1:6432\n"
                       "admin = 127.0.0.1:6480\n"
                       "auth = trust\n"
                       "credentials = /etc/drydock/credentials\n";
    Config c;
    assert_true(config_parse_string(text, "t.conf", &c));
    assert_string_equal(c.repo_path, "/var/lib/drydock/repo");
    assert_int_equal(c.compress, CODEC_LZ4);
    assert_int_equal(c.compress_level, 1);
    assert_string_equal(c.primary, "host=127.0.0.1 port=5432 user=postgres dbname=postgres");
    assert_string_equal(c.standby_data, "/srv/standby");
    assert_int_equal(c.proxy_auth, AUTH_TRUST);
    /* proxy server defaults to the primary */
    assert_string_equal(c.proxy_server, c.primary);
    config_free(&c);
}

static void test_defaults(void **state)
{
    (void)state;
    Config c;
    assert_true(config_parse_string("", "empty.conf", &c));
    assert_null(c.repo_path);
    assert_int_equal(c.compress, CODEC_ZSTD);
    assert_int_equal(c.compress_level, 3);
    assert_int_equal(c.archive_timeout, 60);
    assert_string_equal(c.bin, "/usr/lib/postgresql/15/bin");
    assert_string_equal(c.proxy_listen, "127.0.0.1:6432");
    assert_int_equal(c.proxy_auth, AUTH_SCRAM);
    config_free(&c);
}

typedef struct {
    const char *title;
    const char *text;
    const char *message;
} BadConfig;

/* Each case must be refused (exit 3) with exactly its message. */
static void expect_refused(const BadConfig *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        Config c;
        err_clear();
        if (config_parse_string(cases[i].text, "t.conf", &c))
            fail_msg("case \"%s\": accepted", cases[i].title);
        assert_int_equal(err_code(), DD_EXIT_CONFIG);
        if (strcmp(err_message(), cases[i].message) != 0)
            fail_msg("case \"%s\":\n got      %s\n expected %s", cases[i].title, err_message(),
                     cases[i].message);
    }
}

static void test_errors(void **state)
{
    (void)state;
    const BadConfig cases[] = {
        {"unknown key", "[repository]\npath = /r\ncolour = blue\n",
         "configuration file \"t.conf\", line 3: unknown key \"colour\" in [repository]"},
        {"unknown section", "[repo]\npath = /r\n",
         "configuration file \"t.conf\", line 2: unknown section [repo]"},
        {"key outside a section", "path = /r\n",
         "configuration file \"t.conf\", line 1: key \"path\" is outside any section"},
        {"relative path", "[repository]\npath = repo\n",
         "configuration file \"t.conf\", line 2: key \"path\" in [repository]: expected an "
         "absolute path, got \"repo\""},
        {"bad codec", "[repository]\ncompress = gzip\n",
         "configuration file \"t.conf\", line 2: key \"compress\" in [repository]: expected "
         "zstd, lz4 or none, got \"gzip\""},
        {"level not a number", "[repository]\ncompress-level = fast\n",
         "configuration file \"t.conf\", line 2: key \"compress-level\" in [repository]: "
         "expected an integer from 0 to 19, got \"fast\""},
        {"level out of range for lz4", "[repository]\ncompress = lz4\ncompress-level = 15\n",
         "configuration file \"t.conf\": key \"compress-level\" in [repository] is 15, expected "
         "1 to 12 for lz4"},
        {"duplicate key", "[cluster]\nprimary = a\nprimary = b\n",
         "configuration file \"t.conf\", line 3: key \"primary\" in [cluster] is set twice"},
        {"bad address", "[proxy]\nlisten = 6432\n",
         "configuration file \"t.conf\", line 2: key \"listen\" in [proxy]: expected host:port, "
         "got \"6432\""},
        {"bad auth", "[proxy]\nauth = md5\n",
         "configuration file \"t.conf\", line 2: key \"auth\" in [proxy]: expected "
         "scram-sha-256 or trust, got \"md5\""},
        {"empty value", "[cluster]\nstandby =\n",
         "configuration file \"t.conf\", line 2: key \"standby\" in [cluster]: expected a "
         "non-empty value"},
        {"garbage line", "[cluster]\nthis is not ini\n",
         "configuration file \"t.conf\", line 2: expected \"[section]\" or \"key = value\""},
    };
    expect_refused(cases, sizeof(cases) / sizeof(cases[0]));
}

/*
 * Issue 16 (and 15): a realistic long line is accepted; a line past the
 * limit is "line too long"; the first of two mistakes is reported whole; a
 * binary file or a byte a terminal must not see is never echoed raw. Before:
 * the long line was split ("line 3: expected ..."), the two mistakes gave
 * line 2 with the key of line 3, and bytes were printed as they were.
 */
static void test_truthful_errors(void **state)
{
    (void)state;
    char conninfo[400];
    snprintf(conninfo, sizeof(conninfo),
             "host=db.internal.example.com port=5432 user=drydock dbname=postgres "
             "sslmode=verify-full sslrootcert=/etc/drydock/tls/root-ca-2026.crt "
             "sslcert=/etc/drydock/tls/drydock-client-2026.crt "
             "sslkey=/etc/drydock/tls/drydock-client-2026.key");
    assert_true(strlen(conninfo) > 199);
    char *text = xasprintf("[cluster]\nprimary = %s\nstandby = x\n", conninfo);
    Config c;
    assert_true(config_parse_string(text, "t.conf", &c));
    assert_string_equal(c.primary, conninfo);
    config_free(&c);
    free(text);

    size_t big = INIFILE_MAX_LINE + 10;
    char *huge = xmalloc(big + 32);
    memcpy(huge, "[cluster]\nprimary = ", 20);
    memset(huge + 20, 'x', big);
    memcpy(huge + 20 + big, "\n", 2);
    assert_false(config_parse_string(huge, "t.conf", &c));
    char *expect = xasprintf("configuration file \"t.conf\", line 2: line too long: %zu bytes, "
                             "at most %d",
                             big + 10, INIFILE_MAX_LINE);
    assert_string_equal(err_message(), expect);
    free(expect);
    free(huge);

    const BadConfig cases[] = {
        {"two mistakes: the first, whole", "[repository]\ncompress = gzip\ncolour = blue\n",
         "configuration file \"t.conf\", line 2: key \"compress\" in [repository]: expected "
         "zstd, lz4 or none, got \"gzip\""},
        {"a syntax error after a bad key", "[repository]\ncolour = blue\nnot ini\n",
         "configuration file \"t.conf\", line 2: unknown key \"colour\" in [repository]"},
        {"a control byte", "[cluster]\nprimary = a\x1b[31mb\n",
         "configuration file \"t.conf\", line 2: not text: byte 0x1b at column 12"},
        {"bytes that are not UTF-8 are escaped", "[repository]\ncompress = \xff\xfe\n",
         "configuration file \"t.conf\", line 2: key \"compress\" in [repository]: expected "
         "zstd, lz4 or none, got \"\\xFF\\xFE\""},
        {"a C1 control in UTF-8 is escaped, other UTF-8 is not",
         "[repository]\ncompress = \xc2\x9b\xc3\xa9\n",
         "configuration file \"t.conf\", line 2: key \"compress\" in [repository]: expected "
         "zstd, lz4 or none, got \"\\xC2\\x9B\xc3\xa9\""},
        {"a choice with a tab and a stray byte is escaped (fuzz config)",
         "[repository]\ntype = a\t\xff\n",
         "configuration file \"t.conf\", line 2: key \"type\" in [repository]: expected "
         "one of posix|s3, got \"a\\x09\\xFF\""},
        {"an unclosed section", "[cluster\nprimary = a\n",
         "configuration file \"t.conf\", line 1: expected \"[section]\" or \"key = value\""},
    };
    expect_refused(cases, sizeof(cases) / sizeof(cases[0]));
    /* a binary file: NULs and all, refused at its first line, nothing raw */
    static const char bin[] = "\x7f"
                              "ELF\x02\x01\x01\x00\x00\x00\n[x]";
    assert_false(config_parse_bytes(bin, sizeof(bin) - 1, "t.conf", &c));
    assert_string_equal(err_message(),
                        "configuration file \"t.conf\", line 1: not text: byte 0x7f at column 1");
}

/* Files that cannot be configurations: missing, a directory (it read as empty before). */
static void test_load_errors(void **state)
{
    (void)state;
    static const struct {
        const char *path, *message;
    } rows[] = {
        {"/nonexistent/drydock.conf", "could not open configuration file "
                                      "\"/nonexistent/drydock.conf\" (from --config): No such "
                                      "file or directory"},
        {"/tmp", "configuration file \"/tmp\" (from --config) is a directory, not a file"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        Config c;
        assert_false(config_load(rows[i].path, &c));
        assert_int_equal(err_code(), DD_EXIT_CONFIG);
        assert_string_equal(err_message(), rows[i].message);
    }
}

static void test_env_path(void **state)
{
    (void)state;
    char path[] = "/tmp/drydock-config-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "[repository]\npath = /x\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    setenv("DRYDOCK_CONFIG", path, 1);
    Config c;
    assert_true(config_load(NULL, &c));
    assert_string_equal(c.repo_path, "/x");
    assert_string_equal(c.file, path);
    config_free(&c);
    unsetenv("DRYDOCK_CONFIG");
    unlink(path);
}

static void test_require(void **state)
{
    (void)state;
    Config c;
    assert_true(config_parse_string("", "t.conf", &c));
    assert_false(config_require(&c, "cluster", "primary", c.primary));
    assert_string_equal(err_message(),
                        "configuration file \"t.conf\": key \"primary\" in [cluster] is required "
                        "here");
    config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_file),       cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_errors),          cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_env_path),        cmocka_unit_test(test_require),
        cmocka_unit_test(test_truthful_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
