/*
 * config.c - the table of every configuration key, and its validation.
 *
 * Rules:
 *  1. Every key lives in exactly one row of config_keys[]; nothing else in
 *     drydock reads the INI file.
 *  2. A key appears at most once; a repeat is an error (ambiguity is a bug).
 *  3. Defaults are applied before parsing, so an absent key has its default.
 *  4. Errors name file, line, section and key, and say what was expected:
 *     the first error of the file, whole (parsing stops there); what the
 *     file says is shown escaped (inifile_escape), never raw.
 */
#include "config/config.h"
#include "config/topology.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/mem.h"
#include "config/inifile.h"

typedef enum {
    KEY_STRING,
    KEY_PATH,
    KEY_INT,
    KEY_CODEC,
    KEY_AUTH,
    KEY_ADDR,
    KEY_LOGDEST,
    KEY_CHOICE,
    KEY_LIST
} KeyType;

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
    {"global", "log-destination", KEY_LOGDEST, offsetof(Config, log_destination), "stderr", 0, 0,
     NULL},

    PATH_KEY("repository", "path", repo_path, NULL),
    {"repository", "compress", KEY_CODEC, offsetof(Config, compress), "zstd", 0, 0, NULL},
    INT_KEY("repository", "compress-level", compress_level, "3", 0, 19),
    INT_KEY("repository", "archive-timeout", archive_timeout, "60", 1, 86400),
    INT_KEY("repository", "keep-backups", keep_backups, "0", 0, 100000),
    INT_KEY("repository", "keep-days", keep_days, "0", 0, 100000),
    INT_KEY("repository", "backup-full-every", backup_full_every, "10", 0, 100000),
    INT_KEY("repository", "backup-full-days", backup_full_days, "7", 0, 100000),
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
    CHOICE_KEY("repository", "cipher-key-cache", cipher_key_cache, "on", "on|off"),

    STR_KEY("cluster", "primary", primary, NULL),
    PATH_KEY("cluster", "primary-data", primary_data, NULL),
    STR_KEY("cluster", "standby", standby, NULL),
    PATH_KEY("cluster", "standby-data", standby_data, NULL),
    PATH_KEY("cluster", "bin", bin, "/usr/lib/postgresql/15/bin"),
    PATH_KEY("cluster", "state-dir", state_dir, NULL),

    ADDR_KEY("proxy", "listen", proxy_listen, "127.0.0.1:6432"),
    ADDR_KEY("proxy", "admin", proxy_admin, "127.0.0.1:6480"),
    {"proxy", "auth", KEY_AUTH, offsetof(Config, proxy_auth), "scram-sha-256", 0, 0, NULL},
    PATH_KEY("proxy", "credentials", proxy_credentials, "/etc/drydock/credentials"),
    STR_KEY("proxy", "server", proxy_server, NULL),
    INT_KEY("proxy", "login-timeout", proxy_login_timeout, "10", 1, 3600),
    INT_KEY("proxy", "pause-timeout", proxy_pause_timeout, "10", 1, 86400),
    INT_KEY("proxy", "stats-period", proxy_stats_period, "60", 0, 86400),
    INT_KEY("proxy", "max-clients", proxy_max_clients, "10000", 1, 1000000),
    /* The proxy's TLS, admin API lock and server authentication (README "Proxy"). */
    CHOICE_KEY("proxy", "client-tls-mode", proxy_client_tls_mode, "disable",
               "disable|allow|prefer|require|verify-ca|verify-full"),
    PATH_KEY("proxy", "client-tls-cert-file", proxy_client_tls_cert_file, NULL),
    PATH_KEY("proxy", "client-tls-key-file", proxy_client_tls_key_file, NULL),
    PATH_KEY("proxy", "client-tls-ca-file", proxy_client_tls_ca_file, NULL),
    STR_KEY("proxy", "client-tls-protocols", proxy_client_tls_protocols, "secure"),
    STR_KEY("proxy", "client-tls-ciphers", proxy_client_tls_ciphers, "default"),
    CHOICE_KEY("proxy", "server-tls-mode", proxy_server_tls_mode, "prefer",
               "disable|prefer|require|verify-ca|verify-full"),
    PATH_KEY("proxy", "server-tls-ca-file", proxy_server_tls_ca_file, NULL),
    CHOICE_KEY("proxy", "server-auth", proxy_server_auth, "scram-sha-256",
               "scram-sha-256|md5|password"),
    INT_KEY("proxy", "server-scram-max-iterations", proxy_server_scram_max_iterations, "65536",
            4096, 10000000),
    PATH_KEY("proxy", "admin-token-file", proxy_admin_token_file, NULL),
    CHOICE_KEY("proxy", "admin-read-auth", proxy_admin_read_auth, "token", "token|none"),
    PATH_KEY("proxy", "admin-socket", proxy_admin_socket, NULL),
    PATH_KEY("proxy", "admin-tls-cert-file", proxy_admin_tls_cert_file, NULL),
    PATH_KEY("proxy", "admin-tls-key-file", proxy_admin_tls_key_file, NULL),
    PATH_KEY("proxy", "admin-tls-ca-file", proxy_admin_tls_ca_file, NULL),
    INT_KEY("proxy", "probe-interval", proxy_probe_interval, "5", 1, 86400),

    ADDR_KEY("status", "listen", status_listen, "127.0.0.1:8080"),
    PATH_KEY("status", "store", status_store, NULL),
    PATH_KEY("status", "token-file", status_token_file, NULL),
    STR_KEY("status", "title", status_title, "Service status"),
    STR_KEY("status", "time-zone", status_time_zone, "UTC"),
    STR_KEY("status", "components", status_components, "Database"),
    /* A KEY_LIST may repeat (rule 2's one exception): each line adds a value. */
    {"status", "webhook", KEY_LIST, offsetof(Config, status_webhooks), NULL, 0, 0, NULL},
    PATH_KEY("status", "webhook-secret-file", status_webhook_secret_file, NULL),
    STR_KEY("status", "url", status_url, NULL),
};

#define N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

typedef struct {
    Config *cfg;
    const char *name;
    bool seen[N_KEYS];
    char error[768];
    char hint[256];
} ParseState;

/* What the file says, fit for a message (escaped, at most 200 bytes of it). */
static const char *esc(const char *s, char *buf, size_t len)
{
    inifile_escape(s, 200, buf, len);
    return buf;
}

static bool set_value(const ConfigKey *k, Config *cfg, const char *value, char *why, size_t len)
{
    void *field = (char *)cfg + k->offset;
    char e[256];
    switch (k->type) {
    case KEY_STRING:
    case KEY_PATH:
        if (value[0] == '\0') {
            snprintf(why, len, "expected a non-empty value");
            return false;
        }
        if (k->type == KEY_PATH && value[0] != '/') {
            snprintf(why, len, "expected an absolute path, got \"%s\"", esc(value, e, sizeof(e)));
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
            snprintf(why, len, "expected host:port, got \"%s\"", esc(value, e, sizeof(e)));
            return false;
        }
        free(*(char **)field);
        *(char **)field = xstrdup(value);
        return true;
    }
    case KEY_LIST: {
        char **list = (char **)field;
        if (value[0] == '\0' || strchr(value, '\n')) {
            snprintf(why, len, "expected a non-empty value");
            return false;
        }
        char *joined = *list ? xasprintf("%s\n%s", *list, value) : xstrdup(value);
        free(*list);
        *list = joined;
        return true;
    }
    case KEY_INT: {
        char *end = NULL;
        errno = 0;
        long v = strtol(value, &end, 10);
        if (errno || end == value || *end || v < k->min || v > k->max) {
            snprintf(why, len, "expected an integer from %ld to %ld, got \"%s\"", k->min, k->max,
                     esc(value, e, sizeof(e)));
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
            snprintf(why, len, "expected one of %s, got \"%s\"", k->choices,
                     esc(value, e, sizeof(e)));
            return false;
        }
        free(*(char **)field);
        *(char **)field = xstrdup(value);
        return true;
    }
    case KEY_CODEC:
        if (!codec_parse(value, (Codec *)field)) {
            snprintf(why, len, "expected zstd, lz4 or none, got \"%s\"", esc(value, e, sizeof(e)));
            return false;
        }
        return true;
    case KEY_LOGDEST:
        if (strcmp(value, "stderr") == 0)
            *(LogDestination *)field = LOG_DEST_STDERR;
        else if (strcmp(value, "syslog") == 0)
            *(LogDestination *)field = LOG_DEST_SYSLOG;
        else {
            snprintf(why, len, "expected stderr or syslog, got \"%s\"", esc(value, e, sizeof(e)));
            return false;
        }
        return true;
    case KEY_AUTH:
        if (strcmp(value, "scram-sha-256") == 0)
            *(AuthMethod *)field = AUTH_SCRAM;
        else if (strcmp(value, "trust") == 0)
            *(AuthMethod *)field = AUTH_TRUST;
        else {
            snprintf(why, len, "expected scram-sha-256 or trust, got \"%s\"",
                     esc(value, e, sizeof(e)));
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
    char ek[256], es[256];
    key = esc(key, ek, sizeof(ek));
    const char *raw_section = section;
    section = esc(section, es, sizeof(es));
    if (!key) /* a section header alone (inih with INI_CALL_HANDLER_ON_NEW_SECTION) */
        return 1;
    if (!section[0]) {
        snprintf(st->error, sizeof(st->error), "key \"%s\" is outside any section", key);
        snprintf(st->hint, sizeof(st->hint), "put it under [repository], [cluster] or [proxy]");
        return 0;
    }
    if (!section_known(raw_section)) {
        snprintf(st->error, sizeof(st->error), "unknown section [%s]", section);
        snprintf(st->hint, sizeof(st->hint),
                 "the sections are [repository], [cluster] and [proxy]");
        return 0;
    }
    for (size_t i = 0; i < N_KEYS; i++) {
        const ConfigKey *k = &config_keys[i];
        if (strcmp(k->section, raw_section) != 0 || strcmp(k->key, key) != 0)
            continue;
        if (st->seen[i] && k->type != KEY_LIST) {
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

static bool config_line(void *user, const char *section, const char *key, const char *value)
{
    return config_handler(user, section, key, value) != 0;
}

/* Parse len bytes of text as the file name; the first error, whole, in st. */
static bool config_parse_text(const char *text, size_t len, const char *name, Config *out)
{
    ParseState st = {.cfg = out, .name = name};
    config_defaults(out);
    out->file = xstrdup(name);
    bool syntax = false;
    char why[256];
    int rc = inifile_parse(text, len, config_line, &st, &syntax, why, sizeof(why));
    if (rc > 0 && syntax) {
        snprintf(st.error, sizeof(st.error), "%s", why);
        snprintf(st.hint, sizeof(st.hint),
                 "the file is INI text: \"[section]\" and \"key = value\" lines of at most %d "
                 "bytes (README.md, Configuration); is it the right file?",
                 INIFILE_MAX_LINE);
    }
    return config_finish(out, &st, rc);
}

bool config_parse_string(const char *text, const char *name, Config *out)
{
    return config_parse_text(text, strlen(text), name, out);
}

bool config_parse_bytes(const char *text, size_t len, const char *name, Config *out)
{
    return config_parse_text(text, len, name, out);
}

#define CONFIG_MAX_FILE (1u << 20) /* a configuration file of a MiB is not one */

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
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && !S_ISREG(st.st_mode)) {
        fclose(f);
        err_set(DD_EXIT_CONFIG, "configuration file \"%s\" (from %s) is %s, not a file", path, how,
                S_ISDIR(st.st_mode) ? "a directory" : "a special file");
        err_hint("give the configuration file itself, e.g. --config %s/drydock.conf", path);
        return false;
    }
    char *text = xmalloc(CONFIG_MAX_FILE + 1);
    size_t len = fread(text, 1, CONFIG_MAX_FILE + 1, f);
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad || len > CONFIG_MAX_FILE) {
        free(text);
        if (bad)
            err_set(DD_EXIT_CONFIG, "could not read configuration file \"%s\"", path);
        else
            err_set(DD_EXIT_CONFIG, "configuration file \"%s\" is larger than %u bytes", path,
                    CONFIG_MAX_FILE);
        err_hint("give the configuration file with --config FILE");
        return false;
    }
    bool ok = config_parse_text(text, len, path, out);
    free(text);
    /* The roles a switchover or a maintenance recorded (config/topology.h). */
    bool applied;
    if (ok && !topology_apply(out, &applied)) {
        config_free(out);
        return false;
    }
    return ok;
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

char *config_state_dir(const Config *cfg)
{
    if (cfg->state_dir)
        return xstrdup(cfg->state_dir);
    bool posix = !cfg->repo_type || strcmp(cfg->repo_type, "posix") == 0;
    if (posix && cfg->repo_path) {
        size_t n = strlen(cfg->repo_path);
        while (n > 1 && cfg->repo_path[n - 1] == '/')
            n--;
        return xasprintf("%.*s-state", (int)n, cfg->repo_path);
    }
    return xstrdup("/var/lib/drydock/state");
}

void config_free(Config *cfg)
{
    for (size_t i = 0; i < N_KEYS; i++) {
        KeyType t = config_keys[i].type;
        if (t == KEY_STRING || t == KEY_PATH || t == KEY_ADDR || t == KEY_CHOICE || t == KEY_LIST) {
            char **field = (char **)((char *)cfg + config_keys[i].offset);
            free(*field);
            *field = NULL;
        }
    }
    free(cfg->proxy_server);
    cfg->proxy_server = NULL;
    free(cfg->file_primary);
    free(cfg->file_standby);
    cfg->file_primary = cfg->file_standby = NULL;
    free(cfg->file);
    cfg->file = NULL;
}
