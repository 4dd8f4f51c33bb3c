/*
 * cli.h - what the subcommands share. cli/ only parses, calls a module and
 * prints; the work lives in the modules.
 *
 * Each subcommand is one file with one entry point, cli_cmd_<name>(), that
 * gets argv with argv[0] = the subcommand's name and returns an exit code
 * (error.h). Global options (--config, --quiet, --verbose) are taken out of
 * argv by main() before the subcommand sees it.
 */
#ifndef DD_CLI_CLI_H
#define DD_CLI_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>

#include "cli/opts.h"
#include "common/error.h"
#include "config/config.h"
#include "repo/repo.h"
#include "restore/catalog.h"

typedef struct {
    const char *config_path; /* --config, or NULL */
    Config cfg;
    bool cfg_loaded;
} CliContext;

/* Load the configuration once; returns NULL after printing the error. */
const Config *cli_config(CliContext *ctx);

/*
 * For a command that takes options only, after getopt: the configuration,
 * or NULL with *rc set (DD_EXIT_USAGE for a stray argument, DD_EXIT_CONFIG).
 */
const Config *cli_config_no_args(CliContext *ctx, int argc, char **argv, int *rc);

/*
 * The same right after a command's option loop (cli/opts.h): when the loop
 * stopped the command (--help, a bad option), NULL with *rc its exit code.
 */
const Config *cli_config_opts(CliContext *ctx, const CliOpts *o, int argc, char **argv, int *rc);

/*
 * The repository opened and its catalog loaded, for the commands that read
 * the backups and the archive (info, metrics). cli_open_catalog() is called
 * after getopt: it refuses a stray argument, loads the configuration, opens
 * the repository and loads the catalog; on failure it prints the error,
 * leaves nothing open and returns the exit code, else DD_EXIT_OK.
 * cli_close_catalog() frees what it opened.
 */
typedef struct {
    const Config *cfg;
    Repo *repo;
    Catalog cat;
} CliCatalog;

int cli_open_catalog(CliContext *ctx, int argc, char **argv, CliCatalog *out);
void cli_close_catalog(CliCatalog *cc);

/* Print the current error on one line and return its exit code. */
int cli_fail(void);

/* Print a usage error for the command (one line + hint) and return DD_EXIT_USAGE. */
int cli_usage(const char *command, const char *fmt, ...) DD_PRINTF(2, 3);

/*
 * The usage error for the option getopt_long() just refused (it returned
 * '?', opterr being 0): "option \"--jobs\" needs a value" for a known option
 * given without its value, else "unknown option \"...\"". Returns DD_EXIT_USAGE.
 */
int cli_bad_option(const char *command, const struct option *longopts, char **argv);

/*
 * Parse an option's whole decimal integer in [lo, hi]; false (no error set:
 * the caller says which option with cli_usage) for anything else.
 */
bool cli_parse_int(const char *s, long lo, long hi, int *out);

typedef int (*CliCommandFn)(CliContext *ctx, int argc, char **argv);

int cli_cmd_repo_create(CliContext *ctx, int argc, char **argv);
int cli_cmd_wal_push(CliContext *ctx, int argc, char **argv);
int cli_cmd_wal_fetch(CliContext *ctx, int argc, char **argv);
int cli_cmd_wal_receive(CliContext *ctx, int argc, char **argv);
int cli_cmd_check(CliContext *ctx, int argc, char **argv);
int cli_cmd_backup(CliContext *ctx, int argc, char **argv);
int cli_cmd_info(CliContext *ctx, int argc, char **argv);
int cli_cmd_restore(CliContext *ctx, int argc, char **argv);
int cli_cmd_verify(CliContext *ctx, int argc, char **argv);
int cli_cmd_expire(CliContext *ctx, int argc, char **argv);
int cli_cmd_proxy(CliContext *ctx, int argc, char **argv);
int cli_cmd_proxy_ctl(CliContext *ctx, int argc, char **argv);
int cli_cmd_switchover(CliContext *ctx, int argc, char **argv);
int cli_cmd_status(CliContext *ctx, int argc, char **argv);
int cli_cmd_maint(CliContext *ctx, int argc, char **argv);
int cli_cmd_metrics(CliContext *ctx, int argc, char **argv);
int cli_cmd_debug(CliContext *ctx, int argc, char **argv);

/* "drydock maint SUB": one entry point a subcommand (cli/maint.c dispatches). */
int cli_maint_plan(CliContext *ctx, int argc, char **argv);
int cli_maint_rehearse(CliContext *ctx, int argc, char **argv);
int cli_maint_run(CliContext *ctx, int argc, char **argv);
int cli_maint_status(CliContext *ctx, int argc, char **argv);
int cli_maint_resume(CliContext *ctx, int argc, char **argv);
int cli_maint_abort(CliContext *ctx, int argc, char **argv);
int cli_maint_finish(CliContext *ctx, int argc, char **argv);
int cli_maint_rollback(CliContext *ctx, int argc, char **argv);
/* maint rollback's work and report (also "maint resume" of a rollback under way). */
int cli_maint_rollback_do(const Config *cfg, bool json);
/* The report of a maint command as one JSON line, with "error" and "hint" when !ok; frees out. */
void cli_maint_print_json(json_t *out, bool ok);
int cli_cmd_repo_copy(CliContext *ctx, int argc, char **argv);
int cli_cmd_repo_rekey(CliContext *ctx, int argc, char **argv);

/* A command whose module is still being written: it says so and exits 2 (usage). */
#define CLI_PENDING(fn, name)                                                                      \
    int fn(CliContext *ctx, int argc, char **argv)                                                 \
    {                                                                                              \
        (void)ctx;                                                                                 \
        (void)argc;                                                                                \
        (void)argv;                                                                                \
        return cli_usage(name, "\"%s\" is not available in this build yet", name);                 \
    }

#endif
