/*
 * config.h - drydock's INI configuration, parsed and validated in one place.
 *
 * The file is found as --config FILE, else $DRYDOCK_CONFIG, else
 * /etc/drydock/drydock.conf. Every key has one row in the table in
 * config.c that gives its section, type, range and default; a key that is
 * not in the table, a value of the wrong type, or a missing file is a
 * one-line error naming the file, the line and the key (DD_EXIT_CONFIG).
 */
#ifndef DD_CONFIG_CONFIG_H
#define DD_CONFIG_CONFIG_H

#include <stdbool.h>

#include "common/compress.h"
#include "common/error.h"

#define CONFIG_DEFAULT_PATH "/etc/drydock/drydock.conf"

typedef enum { AUTH_SCRAM = 0, AUTH_TRUST = 1 } AuthMethod;

typedef struct {
    char *file; /* the file this was read from */

    /* [repository] */
    char *repo_path;
    Codec compress;
    int compress_level;
    int archive_timeout; /* seconds: check / backup wait for WAL this long */
    char *repo_type;     /* "posix" | "s3" */
    char *s3_endpoint, *s3_bucket, *s3_region, *s3_prefix;
    char *s3_uri_style; /* "path" | "host" */
    char *s3_credentials_file, *s3_ca_file;
    char *s3_verify_tls; /* "yes" | "no" */
    int s3_retry_timeout, s3_lock_lease;
    int archive_queue_max; /* MiB of WAL waiting before wal-push drops (walbacklog.h); 0: never */
    char *cipher;          /* "none" | "aes-256-gcm": set at repo-create */
    char *cipher_pass_file, *cipher_pass_command;

    /* [cluster] */
    char *primary;      /* libpq conninfo */
    char *primary_data; /* data directory */
    char *standby;
    char *standby_data;
    char *bin; /* PostgreSQL binaries */

    /* [proxy] */
    char *proxy_listen;      /* host:port clients connect to */
    char *proxy_admin;       /* host:port of the admin HTTP API (loopback) */
    AuthMethod proxy_auth;   /* how clients authenticate */
    char *proxy_credentials; /* userlist file, mode 0600 */
    char *proxy_server;      /* conninfo of the server sessions go to; default: primary */
    int proxy_login_timeout; /* seconds a client has to finish its startup */
    int proxy_pause_timeout; /* default deadline of a pause, seconds */
    int proxy_max_clients;   /* refuse connections past this */
} Config;

/*
 * Read and validate the configuration. explicit_path may be NULL (then the
 * environment and the default path are tried in that order).
 */
DD_MUST_CHECK bool config_load(const char *explicit_path, Config *out);

/* Parse configuration text (for tests and fuzzing); name is used in messages. */
DD_MUST_CHECK bool config_parse_string(const char *text, const char *name, Config *out);

/* Fail with a clear message when a key a command needs is not set. */
DD_MUST_CHECK bool config_require(const Config *cfg, const char *section, const char *key,
                                  const char *value);

void config_free(Config *cfg);

#endif
