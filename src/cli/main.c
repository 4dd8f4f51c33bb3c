/*
 * main.c - drydock's entry point: global options, then one subcommand.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"

#define DRYDOCK_VERSION "0.1.0"

typedef struct {
    const char *name;
    CliCommandFn fn;
    const char *summary;
} CliCommand;

static const CliCommand commands[] = {
    {"repo-create", cli_cmd_repo_create, "create the repository for the configured cluster"},
    {"wal-push", cli_cmd_wal_push,
     "archive one WAL file (archive_command = 'drydock wal-push %p')"},
    {"wal-fetch", cli_cmd_wal_fetch,
     "restore one WAL file (restore_command = 'drydock wal-fetch %f %p')"},
    {"wal-receive", cli_cmd_wal_receive,
     "stream WAL from the primary into the archive (a service)"},
    {"check", cli_cmd_check, "prove that archiving works end to end"},
    {"backup", cli_cmd_backup, "take a block-incremental backup, from the standby by default"},
    {"info", cli_cmd_info, "list backups and the recoverable window"},
    {"metrics", cli_cmd_metrics, "the repository's health for Prometheus (node_exporter)"},
    {"restore", cli_cmd_restore, "restore a backup, to a point in time or as a new standby"},
    {"verify", cli_cmd_verify, "check every object in the repository"},
    {"expire", cli_cmd_expire, "remove old backups and the WAL no backup needs"},
    {"proxy", cli_cmd_proxy, "run the traffic proxy"},
    {"proxy-ctl", cli_cmd_proxy_ctl, "pause, resume or switch the proxy; show its status"},
    {"switchover", cli_cmd_switchover, "move the traffic from the primary to its standby"},
    {"maint", cli_cmd_maint, "plan, rehearse or run a maintenance (drydock maint --help)"},
    {"status", cli_cmd_status, "the status page: serve, export, post maintenances and incidents"},
    {"repo-copy", cli_cmd_repo_copy, "copy the repository to a directory or bucket, verified"},
    {"repo-rekey", cli_cmd_repo_rekey, "rotate the passphrase of an encrypted repository"},
    {"debug", cli_cmd_debug, NULL}, /* a support tool, not listed (README "Support tools") */
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
    fprintf(out,
            "drydock %s - maintenance of a live PostgreSQL cluster\n\n"
            "usage: drydock [--config FILE] [--quiet|--verbose] COMMAND [options]\n"
            "       drydock help COMMAND | --help | -V\n\n"
            "commands:\n",
            DRYDOCK_VERSION);
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (commands[i].summary)
            fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n\"drydock help COMMAND\" (or \"drydock COMMAND --help\") describes a command;\n"
                 "README.md and \"man drydock\" have the rest.\n");
}

const Config *cli_config(CliContext *ctx)
{
    if (ctx->cfg_loaded)
        return &ctx->cfg;
    if (!config_load(ctx->config_path, &ctx->cfg)) {
        log_failure();
        return NULL;
    }
    ctx->cfg_loaded = true;
    log_set_destination(ctx->cfg.log_destination);
    return &ctx->cfg;
}

const Config *cli_config_no_args(CliContext *ctx, int argc, char **argv, int *rc)
{
    if (optind < argc) {
        *rc = cli_usage(argv[0], "unexpected argument \"%s\"", argv[optind]);
        return NULL;
    }
    const Config *cfg = cli_config(ctx);
    *rc = cfg ? DD_EXIT_OK : DD_EXIT_CONFIG;
    return cfg;
}

int cli_open_catalog(CliContext *ctx, int argc, char **argv, CliCatalog *out)
{
    int rc;
    *out = (CliCatalog){0};
    out->cfg = cli_config_no_args(ctx, argc, argv, &rc);
    if (!out->cfg)
        return rc;
    if (!repo_open(out->cfg, &out->repo) || !catalog_load(out->repo, &out->cat)) {
        rc = cli_fail();
        repo_close(out->repo);
        out->repo = NULL;
        return rc;
    }
    return DD_EXIT_OK;
}

void cli_close_catalog(CliCatalog *cc)
{
    catalog_free(&cc->cat);
    repo_close(cc->repo);
    cc->repo = NULL;
}

int cli_fail(void)
{
    log_failure();
    return err_code() == DD_EXIT_OK ? DD_EXIT_FAIL : (int)err_code();
}

int cli_usage(const char *command, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_error("%s. HINT: see \"drydock %s --help\"", msg, command);
    return DD_EXIT_USAGE;
}

int cli_bad_option(const char *command, const struct option *longopts, char **argv)
{
    const char *arg = argv[optind - 1];
    if (strncmp(arg, "--", 2) == 0) {
        size_t len = strcspn(arg + 2, "=");
        for (const struct option *o = longopts; o && o->name; o++)
            if (strlen(o->name) == len && strncmp(o->name, arg + 2, len) == 0 &&
                o->has_arg == required_argument)
                return cli_usage(command, "option \"--%s\" needs a value", o->name);
    }
    return cli_usage(command, "unknown option \"%s\"", arg);
}

bool cli_parse_int(const char *s, long lo, long hi, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

/*
 * Take the global options out of argv wherever they are (so that
 * "drydock wal-push --config F %p" works as well as the canonical order).
 */
static int take_global_options(CliContext *ctx, int argc, char **argv, int *out_argc)
{
    int n = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (i < argc)
                argv[n++] = argv[i++];
            break;
        }
        if (strcmp(a, "--config") == 0) {
            if (i + 1 >= argc) {
                log_error("option --config needs a file name. HINT: drydock --config FILE ...");
                return DD_EXIT_USAGE;
            }
            ctx->config_path = argv[++i];
        } else if (strncmp(a, "--config=", 9) == 0) {
            ctx->config_path = a + 9;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            log_set_level(LOG_QUIET);
        } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            log_set_level(LOG_DEBUG);
        } else {
            argv[n++] = argv[i];
        }
    }
    argv[n] = NULL;
    *out_argc = n;
    return DD_EXIT_OK;
}

int main(int argc, char **argv)
{
    CliContext ctx = {0};
    int rc = take_global_options(&ctx, argc - 1, argv + 1, &argc);
    if (rc != DD_EXIT_OK)
        return rc;
    argv++;
    if (argc < 1) {
        usage(stderr);
        return DD_EXIT_USAGE;
    }
    if (strcmp(argv[0], "help") == 0 && argc >= 2) {
        /* "drydock help CMD [SUB]" is "drydock CMD [SUB] --help". */
        static char *hargv[8]; /* argv points here from now on */
        int n = 0;
        for (int i = 1; i < argc && n < 6; i++)
            hargv[n++] = argv[i];
        hargv[n++] = (char *)"--help";
        hargv[n] = NULL;
        argv = hargv;
        argc = n;
    } else if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0 ||
               strcmp(argv[0], "help") == 0) {
        usage(stdout);
        return DD_EXIT_OK;
    }
    if (strcmp(argv[0], "--version") == 0 || strcmp(argv[0], "-V") == 0 ||
        strcmp(argv[0], "version") == 0) {
        printf("drydock %s\n", DRYDOCK_VERSION);
        return DD_EXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(argv[0], commands[i].name) == 0) {
            log_set_command(commands[i].name);
            rc = commands[i].fn(&ctx, argc, argv);
            if (ctx.cfg_loaded)
                config_free(&ctx.cfg);
            return rc;
        }
    }
    log_error("unknown command \"%s\". HINT: \"drydock --help\" lists the commands", argv[0]);
    return DD_EXIT_USAGE;
}
