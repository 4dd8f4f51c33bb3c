/*
 * proxy.c - "drydock proxy": run the traffic proxy in the foreground.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"
#include "common/sdnotify.h"
#include "proxy/proxy.h"

static const char proxy_help[] =
    "usage: drydock proxy\n\n"
    "Runs the PostgreSQL traffic proxy in the foreground, logging to stderr, with\n"
    "the [proxy] section of the configuration: listen, admin, auth, credentials,\n"
    "server, login-timeout, pause-timeout, max-clients, probe-interval, and its TLS\n"
    "(client-tls-*, server-tls-*), server-auth and admin-* keys. SIGTERM or SIGINT\n"
    "stop it (clients get FATAL 57P01); SIGHUP reloads the credentials file and\n"
    "the TLS certificates without dropping sessions.\n"
    "[proxy] admin-token-file is mandatory: without it the proxy does not start\n"
    "(exit 3); \"drydock proxy-ctl token-create FILE\" makes one.\n"
    "\"drydock proxy-ctl\" pauses, resumes and switches it.\n";

int cli_cmd_proxy(CliContext *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {0}};
    CliOpts cli = {.command = argv[0], .shortopts = "+h", .longopts = longopts, .help = proxy_help};
    cli_opt_next(&cli, argc, argv); /* --help is its only option */
    int cfg_rc;
    const Config *cfg = cli_config_opts(ctx, &cli, argc, argv, &cfg_rc);
    if (!cfg)
        return cfg_rc;
    if (!config_require(cfg, "proxy", "server", cfg->proxy_server))
        return cli_fail();
    ProxyOptions opt = {
        .listen = cfg->proxy_listen,
        .admin = cfg->proxy_admin,
        .auth = cfg->proxy_auth,
        .credentials = cfg->proxy_credentials,
        .server = cfg->proxy_server,
        .login_timeout = cfg->proxy_login_timeout,
        .pause_timeout = cfg->proxy_pause_timeout,
        .stats_period = cfg->proxy_stats_period,
        .max_clients = cfg->proxy_max_clients,
        .server_auth = cfg->proxy_server_auth,
        .scram_max_iterations = cfg->proxy_server_scram_max_iterations,
        .client_tls_mode = cfg->proxy_client_tls_mode,
        .client_tls_cert_file = cfg->proxy_client_tls_cert_file,
        .client_tls_key_file = cfg->proxy_client_tls_key_file,
        .client_tls_ca_file = cfg->proxy_client_tls_ca_file,
        .client_tls_protocols = cfg->proxy_client_tls_protocols,
        .client_tls_ciphers = cfg->proxy_client_tls_ciphers,
        .server_tls_mode = cfg->proxy_server_tls_mode,
        .server_tls_ca_file = cfg->proxy_server_tls_ca_file,
        .admin_token_file = cfg->proxy_admin_token_file,
        .admin_reads_open = strcmp(cfg->proxy_admin_read_auth, "none") == 0,
        .admin_socket = cfg->proxy_admin_socket,
        .admin_tls_cert_file = cfg->proxy_admin_tls_cert_file,
        .admin_tls_key_file = cfg->proxy_admin_tls_key_file,
        .switch_servers = {cfg->proxy_server, cfg->primary, cfg->standby, NULL},
        .probe_interval = cfg->proxy_probe_interval,
        .config_file = cfg->file,
    };
    Proxy *p = proxy_new(&opt);
    if (!p)
        return cli_fail();
    /* Listening: a Type=notify unit may now start what depends on the proxy. */
    if (!sd_notify_state("READY=1"))
        log_warn("could not tell systemd the proxy is ready ($NOTIFY_SOCKET)");
    bool ok = proxy_run(p);
    proxy_free(p);
    if (!ok)
        return cli_fail();
    log_info("stopped");
    return DD_EXIT_OK;
}
