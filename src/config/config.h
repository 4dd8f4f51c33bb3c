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
#include <stddef.h>

#include "common/compress.h"
#include "common/error.h"
#include "common/log.h"

#define CONFIG_DEFAULT_PATH "/etc/drydock/drydock.conf"

typedef enum { AUTH_SCRAM = 0, AUTH_TRUST = 1 } AuthMethod;

typedef struct {
    char *file; /* the file this was read from */

    /* [global] */
    LogDestination log_destination; /* stderr | syslog */

    /* [repository] */
    char *repo_path;
    Codec compress;
    int compress_level;
    int archive_timeout; /* seconds: check / backup wait for WAL this long */
    int keep_backups;    /* retention applied by a bare "expire": 0 = not set */
    int keep_days;       /* likewise, in days */
    char *repo_type;     /* "posix" | "s3" */
    char *s3_endpoint, *s3_bucket, *s3_region, *s3_prefix;
    char *s3_uri_style; /* "path" | "host" */
    char *s3_credentials_file, *s3_ca_file;
    /* WAL-guided backups read everything every N backups, or when the last
     * full read is older than D days (backup/guide.h); 0: never */
    int backup_full_every, backup_full_days;
    char *s3_verify_tls; /* "yes" | "no" */
    int s3_retry_timeout, s3_lock_lease;
    int archive_queue_max; /* MiB of WAL waiting before wal-push drops (walbacklog.h); 0: never */
    char *cipher;          /* "none" | "aes-256-gcm": set at repo-create */
    char *cipher_pass_file, *cipher_pass_command;
    char *cipher_key_cache; /* "on" | "off": the host-side key cache (repo/keycache.h) */

    /* [cluster] */
    char *primary;      /* libpq conninfo */
    char *primary_data; /* data directory */
    char *standby;
    char *standby_data;
    char *bin;       /* PostgreSQL binaries */
    char *state_dir; /* drydock's state on this host (journal, topology); see config_state_dir() */
    char *file_primary, *file_standby; /* [cluster] as the file says, before config/topology.h */

    /* [proxy] */
    char *proxy_listen;      /* host:port clients connect to */
    char *proxy_admin;       /* host:port of the admin HTTP API (loopback) */
    AuthMethod proxy_auth;   /* how clients authenticate */
    char *proxy_credentials; /* userlist file, mode 0600 */
    char *proxy_server;      /* conninfo of the server sessions go to; default: primary */
    int proxy_login_timeout; /* seconds a client has to finish its startup */
    int proxy_pause_timeout; /* default deadline of a pause, seconds */
    int proxy_stats_period;  /* seconds between the proxy's summary log lines; 0: none */
    int proxy_max_clients;   /* refuse connections past this */
    /* [proxy] TLS, server authentication and the admin API's lock */
    char *proxy_client_tls_mode; /* disable | allow | prefer | require */
    char *proxy_client_tls_cert_file, *proxy_client_tls_key_file, *proxy_client_tls_ca_file;
    char *proxy_client_tls_protocols, *proxy_client_tls_ciphers;
    char *proxy_server_tls_mode; /* disable | prefer | require | verify-ca | verify-full */
    char *proxy_server_tls_ca_file;
    char
        *proxy_server_auth; /* weakest password method to servers: scram-sha-256 | md5 | password */
    int proxy_server_scram_max_iterations;
    char *proxy_admin_token_file; /* bearer token, mode 0600 */
    char *proxy_admin_read_auth;  /* token | none: whether GET needs the token */
    char *proxy_admin_socket;     /* Unix socket of the admin API */
    char *proxy_admin_tls_cert_file, *proxy_admin_tls_key_file, *proxy_admin_tls_ca_file;
    int proxy_probe_interval; /* seconds between probes of the server's role (health endpoints) */

    /* [status] (README "Status page") */
    char *status_listen;              /* host:port of "drydock status serve" (loopback) */
    char *status_store;               /* the SQLite file of the status page */
    char *status_token_file;          /* bearer token of the write API, mode 0600 */
    char *status_title;               /* the page's title */
    char *status_time_zone;           /* IANA zone the page shows times in */
    char *status_components;          /* comma-separated component names */
    char *status_webhooks;            /* URLs, one a line ("webhook" may repeat) */
    char *status_webhook_secret_file; /* HMAC key of the webhook signatures, mode 0600 */
    char *status_url;                 /* the page's public URL, for feeds and links */
} Config;

/*
 * Read and validate the configuration. explicit_path may be NULL (then the
 * environment and the default path are tried in that order).
 */
DD_MUST_CHECK bool config_load(const char *explicit_path, Config *out);

/* Parse configuration text (for tests and fuzzing); name is used in messages. */
DD_MUST_CHECK bool config_parse_string(const char *text, const char *name, Config *out);
/* Likewise for len bytes that may hold NULs (a binary file given as configuration). */
DD_MUST_CHECK bool config_parse_bytes(const char *text, size_t len, const char *name, Config *out);

/*
 * The state directory: [cluster] state-dir, else "<repository path>-state"
 * beside a POSIX repository (never inside it: the repository may move to an
 * object store), else /var/lib/drydock/state. A new string.
 */
char *config_state_dir(const Config *cfg);

/* Fail with a clear message when a key a command needs is not set. */
DD_MUST_CHECK bool config_require(const Config *cfg, const char *section, const char *key,
                                  const char *value);

void config_free(Config *cfg);

#endif
