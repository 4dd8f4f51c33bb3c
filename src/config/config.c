/*
 * config.c - the table of every configuration key, and its validation.
 *
 * Rules:
 *  1. Every key lives in exactly one row of config_keys[]; nothing else in
 *     drydock reads the INI file.
 *  2. A key appears at most once; a repeat is an error (ambiguity is a bug).
 *  3. Defaults are applied before parsing, so an absent key has its default.
 *  4. Errors name file, line, section and key, and say what was expected.
 */
#include "config/config.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

typedef enum { KEY_STRING, KEY_PATH, KEY_INT, KEY_CODEC, KEY_AUTH, KEY_ADDR, KEY_CHOICE } KeyType;

typedef struct {
    const char *section;
    const char *key;
    KeyType type;
    size_t offset;
    const char *def;     /* default as text, or NULL for "unset" */
    long min, max;       /* KEY_INT */
    const char *choices; /* KEY_CHOICE: "a|b|c", stored as the string */
} ConfigKey;

#define STR_KEY(s, k, field, d)                                                                    \
    {                                                                                              \
        s, k, KEY_STRING, offsetof(Config, field), d, 0, 0, NULL                                   \
    }
#define PATH_KEY(s, k, field, d)                                                                   \
    {                                                                                              \
        s, k, KEY_PATH, offsetof(Config, field), d, 0, 0, NULL                                     \
    }
#define ADDR_KEY(s, k, field, d)                                                                   \
    {                                                                                              \
        s, k, KEY_ADDR, offsetof(Config, field), d, 0, 0, NULL                                     \
    }
#define CHOICE_KEY(s, k, field, d, choices)                                                        \
    {                                                                                              \
        s, k, KEY_CHOICE, offsetof(Config, field), d, 0, 0, choices                                \
    }
#define INT_KEY(s, k, field, d, lo, hi)                                                            \
    {                                                                                              \
        s, k, KEY_INT, offsetof(Config, field), d, lo, hi, NULL                                    \
    }

static const ConfigKey config_keys[] = {
    PATH_KEY("repository", "path", repo_path, NULL),
    {"repository", "compress", KEY_CODEC, offsetof(Config, compress), "zstd", 0, 0, NULL},
    INT_KEY("repository", "compress-level", compress_level, "3", 0, 19),
    INT_KEY("repository", "archive-timeout", archive_timeout, "60", 1, 86400),
    CHOICE_KEY("repository", "type", repo_type, "posix", "posix|s3"),
    STR_KEY("repository", "s3-endpoint", s3_endpoint, NULL),
    STR_KEY("repository", "s3-bucket", s3_bucket, NULL),
    STR_KEY("repository", "s3-region", s3_region, "us-east-1"),
    STR_KEY("repository", "s3-prefix", s3_prefix, NULL),
    CHOICE_KEY("repository", "s3-uri-style", s3_uri_style, "path", "path|host"),
    PATH_KEY("repository", "s3-credentials-file", s3_credentials_file, NULL),
    PATH_KEY("repository", "s3-ca-file", s3_ca_file, NULL),
    CHOICE_KEY("repository", "s3-verify-tls", s3_verify_tls, "yes", "yes|no"),
    INT_KEY("repository", "s3-retry-timeout", s3_retry_timeout, "60", 1, 86400),
    INT_KEY("repository", "s3-lock-lease", s3_lock_lease, "60", 2, 86400),
    INT_KEY("repository", "archive-queue-max", archive_queue_max, "0", 0, 16777216),
    CHOICE_KEY("repository", "cipher", cipher, "none", "none|aes-256-gcm"),
    PATH_KEY("repository", "cipher-pass-file", cipher_pass_file, NULL),
    STR_KEY("repository", "cipher-pass-command", cipher_pass_command, NULL),

    STR_KEY("cluster", "primary", primary, NULL),
    PATH_KEY("cluster", "primary-data", primary_data, NULL),
    STR_KEY("cluster", "standby", standby, NULL),
    PATH_KEY("cluster", "standby-data", standby_data, NULL),
    PATH_KEY("cluster", "bin", bin, "/usr/lib/postgresql/15/bin"),

    ADDR_KEY("proxy", "listen", proxy_listen, "127.0.0.1:6432"),
    ADDR_KEY("proxy", "admin", proxy_admin, "127.0.0.1:6480"),
    {"proxy", "auth", KEY_AUTH, offsetof(Config, proxy_auth), "scram-sha-256", 0, 0, NULL},
    PATH_KEY("proxy", "credentials", proxy_credentials, "/etc/drydock/credentials"),
    STR_KEY("proxy", "server", proxy_server, NULL),
    INT_KEY("proxy", "login-timeout", proxy_login_timeout, "10", 1, 3600),
    INT_KEY("proxy", "pause-timeout", proxy_pause_timeout, "10", 1, 86400),
    INT_KEY("proxy", "max-clients", proxy_max_clients, "10000", 1, 1000000),
};

#define N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

typedef struct {
    Config *cfg;
    const char *name;
    bool seen[N_KEYS];
    char error[768];
    char hint[256];
} ParseState;

static bool set_value(const ConfigKey *k, Config *cfg, const char *value, char *why, size_t len)
{
    void *field = (char *)cfg + k->offset;
    switch (k->type) {
    case KEY_STRING:
    case KEY_PATH:
        if (value[0] == '\0') {
            snprintf(why, len, "expected a non-empty value");
            return false;
        }
        if (k->type == KEY_PATH && value[0] != '/') {
            snprintf(why, len, "expected an absolute path, got \"%s\"", value);
            return false;
        }
        free(*(char **)field);
        *(char **)field = xstrdup(value);
        return true;
    case KEY_ADDR: {
        const char *colon = strrchr(value, ':');
        char *end = NULL;
        long port = colon ? strtol(colon + 1, &end, 10) : 0;
        if (!colon || colon == value || !end || *end || port < 1 || port > 65535) {
            snprintf(why, len, "expected host:port, got \"%s\"", value);
            return false;
        }
        free(*(char **)field);
        *(char **)field = xstrdup(value);
        return true;
    }
    case KEY_INT: {
        char *end = NULL;
        errno = 0;
        long v = strtol(value, &end, 10);
        if (errno || end == value || *end || v < k->min || v > k->max) {
            snprintf(why, len, "expected an integer from %ld to %ld, got \"%s\"", k->min, k->max,
                     value);
            return false;
        }
        *(int *)field = (int)v;
        return true;
    }
    case KEY_CHOICE: {
        size_t n = strlen(value);
        const char *c = k->choices;
        bool match = false;
        while (*c && !match) {
            size_t seg = strcspn(c, "|");
            match = seg == n && strncmp(c, value, n) == 0;
            c += seg + (c[seg] == '|');
        }
        if (!match) {
            snprintf(why, len, "expected one of %s, got \"%s\"", k->choices, value);
            return false;
        }
        free(*(char **)field);
        *(char **)field = xstrdup(value);
        return true;
    }
    case KEY_CODEC:
        if (!codec_parse(value, (Codec *)field)) {
            snprintf(why, len, "expected zstd, lz4 or none, got \"%s\"", value);
            return false;
        }
        return true;
    case KEY_AUTH:
        if (strcmp(value, "scram-sha-256") == 0)
            *(AuthMethod *)field = AUTH_SCRAM;
        else if (strcmp(value, "trust") == 0)
            *(AuthMethod *)field = AUTH_TRUST;
        else {
            snprintf(why, len, "expected scram-sha-256 or trust, got \"%s\"", value);
            return false;
        }
        return true;
    }
    return false;
}

static bool section_known(const char *section)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (strcmp(config_keys[i].section, section) == 0)
            return true;
    return false;
}

static int config_handler(void *user, const char *section, const char *key, const char *value)
{
    ParseState *st = user;
    if (!key) /* a section header alone (inih with INI_CALL_HANDLER_ON_NEW_SECTION) */
        return 1;
    if (!section[0]) {
        snprintf(st->error, sizeof(st->error), "key \"%s\" is outside any section", key);
        snprintf(st->hint, sizeof(st->hint), "put it under [repository], [cluster] or [proxy]");
        return 0;
    }
    if (!section_known(section)) {
        snprintf(st->error, sizeof(st->error), "unknown section [%s]", section);
        snprintf(st->hint, sizeof(st->hint),
                 "the sections are [repository], [cluster] and [proxy]");
        return 0;
    }
    for (size_t i = 0; i < N_KEYS; i++) {
        const ConfigKey *k = &config_keys[i];
        if (strcmp(k->section, section) != 0 || strcmp(k->key, key) != 0)
            continue;
        if (st->seen[i]) {
            snprintf(st->error, sizeof(st->error), "key \"%s\" in [%s] is set twice", key, section);
            snprintf(st->hint, sizeof(st->hint), "keep one of the two lines");
            return 0;
        }
        st->seen[i] = true;
        char why[512];
        if (!set_value(k, st->cfg, value, why, sizeof(why))) {
            snprintf(st->error, sizeof(st->error), "key \"%s\" in [%s]: %s", key, section, why);
            return 0;
        }
        return 1;
    }
    snprintf(st->error, sizeof(st->error), "unknown key \"%s\" in [%s]", key, section);
    snprintf(st->hint, sizeof(st->hint), "see the Configuration section of README.md for the keys");
    return 0;
}

static void config_defaults(Config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    char why[512];
    for (size_t i = 0; i < N_KEYS; i++)
        if (config_keys[i].def &&
            !set_value(&config_keys[i], cfg, config_keys[i].def, why, sizeof(why)))
            abort(); /* a bad default is a programming error */
}

static bool config_finish(Config *cfg, ParseState *st, int rc)
{
    if (rc != 0) {
        if (rc > 0 && !st->error[0])
            snprintf(st->error, sizeof(st->error), "expected \"[section]\" or \"key = value\"");
        if (rc < 0)
            snprintf(st->error, sizeof(st->error), "could not read the file");
        err_set(DD_EXIT_CONFIG, "configuration file \"%s\", line %d: %s", st->name, rc, st->error);
        if (st->hint[0])
            err_hint("%s", st->hint);
        config_free(cfg);
        return false;
    }
    int lo, hi;
    codec_level_range(cfg->compress, &lo, &hi);
    if (cfg->compress != CODEC_NONE && (cfg->compress_level < lo || cfg->compress_level > hi)) {
        err_set(DD_EXIT_CONFIG,
                "configuration file \"%s\": key \"compress-level\" in [repository] is %d, "
                "expected %d to %d for %s",
                st->name, cfg->compress_level, lo, hi, codec_name(cfg->compress));
        config_free(cfg);
        return false;
    }
    if (!cfg->proxy_server && cfg->primary)
        cfg->proxy_server = xstrdup(cfg->primary);
    return true;
}

bool config_parse_string(const char *text, const char *name, Config *out)
{
    ParseState st = {.cfg = out, .name = name};
    config_defaults(out);
    out->file = xstrdup(name);
    int rc = ini_parse_string(text, config_handler, &st);
    return config_finish(out, &st, rc);
}

bool config_load(const char *explicit_path, Config *out)
{
    const char *path = explicit_path;
    const char *how = "--config";
    if (!path || !path[0]) {
        path = getenv("DRYDOCK_CONFIG");
        how = "$DRYDOCK_CONFIG";
    }
    if (!path || !path[0]) {
        path = CONFIG_DEFAULT_PATH;
        how = "the default path";
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        err_set(DD_EXIT_CONFIG, "could not open configuration file \"%s\" (from %s): %s", path, how,
                strerror(errno));
        err_hint("give the file with --config FILE or $DRYDOCK_CONFIG; README.md shows an "
                 "example");
        return false;
    }
    ParseState st = {.cfg = out, .name = path};
    config_defaults(out);
    out->file = xstrdup(path);
    int rc = ini_parse_file(f, config_handler, &st);
    fclose(f);
    return config_finish(out, &st, rc);
}

bool config_require(const Config *cfg, const char *section, const char *key, const char *value)
{
    if (value && value[0])
        return true;
    err_set(DD_EXIT_CONFIG, "configuration file \"%s\": key \"%s\" in [%s] is required here",
            cfg->file ? cfg->file : "(none)", key, section);
    err_hint("add \"%s = ...\" under [%s]", key, section);
    return false;
}

void config_free(Config *cfg)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        KeyType t = config_keys[i].type;
        if (t == KEY_STRING || t == KEY_PATH || t == KEY_ADDR || t == KEY_CHOICE) {
            char **field = (char **)((char *)cfg + config_keys[i].offset);
            free(*field);
            *field = NULL;
        }
    }
    free(cfg->proxy_server);
    cfg->proxy_server = NULL;
    free(cfg->file);
    cfg->file = NULL;
}
