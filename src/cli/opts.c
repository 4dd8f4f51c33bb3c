/*
 * opts.c - see opts.h.
 */
#include "cli/opts.h"

#include <stdio.h>

#include "cli/cli.h"

int cli_opt_next(CliOpts *o, int argc, char **argv)
{
    if (!o->started) {
        optind = o->first > 0 ? o->first : 1;
        opterr = 0;
        o->started = true;
        o->rc = DD_EXIT_OK;
    }
    int c = getopt_long(argc, argv, o->shortopts, o->longopts, NULL);
    if (c == -1)
        return 0;
    if (c == 'h') {
        fputs(o->help, stdout);
        o->rc = CLI_HELP;
        return 0;
    }
    if (c == '?' || c == ':' || c == 0) {
        o->rc = cli_bad_option(o->command, o->longopts, argv);
        return 0;
    }
    return c;
}

int cli_exit(int rc)
{
    return rc == CLI_HELP ? DD_EXIT_OK : rc;
}

int cli_opt_json(const char *command, const char *help, int argc, char **argv, bool *json)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {0}};
    CliOpts o = {.command = command, .shortopts = "hj", .longopts = longopts, .help = help};
    while (cli_opt_next(&o, argc, argv) != 0)
        *json = true; /* 'j': the only other value */
    return o.rc;
}

const Config *cli_config_opts(CliContext *ctx, const CliOpts *o, int argc, char **argv, int *rc)
{
    if (o->rc != DD_EXIT_OK) {
        *rc = cli_exit(o->rc);
        return NULL;
    }
    return cli_config_no_args(ctx, argc, argv, rc);
}
