/*
 * opts.h - a subcommand's option loop, written once.
 *
 * cli_opt_next() is getopt_long() with what every subcommand does alike.
 * Its first call starts over at argv[first] (argv[1] when first is 0) with
 * getopt's own messages off; --help (the long option whose value is 'h')
 * prints the command's help on stdout; an option getopt refuses (unknown,
 * or without its value) is the usage error of cli_bad_option(). It returns
 * the next option's value, or 0 when the loop is over; o->rc then says why:
 * DD_EXIT_OK at the end of the options (optind is the first operand),
 * CLI_HELP after --help (the command stops there and exits 0: cli_exit),
 * DD_EXIT_USAGE after the usage error (printed).
 *
 *   CliOpts o = {.command = argv[0], .shortopts = "h", .longopts = longopts,
 *                .help = expire_help};
 *   int c;
 *   while ((c = cli_opt_next(&o, argc, argv)) != 0)
 *       switch (c) { case 'b': ...; }
 *   if (o.rc != DD_EXIT_OK)
 *       return cli_exit(o.rc);
 *
 * A value the caller's loop does not expect (an option only one of the
 * commands sharing a table takes) is the caller's to refuse, with
 * cli_bad_option().
 */
#ifndef DD_CLI_OPTS_H
#define DD_CLI_OPTS_H

#include <getopt.h>
#include <stdbool.h>

#include "common/error.h"

/* What a parse step returns after printing --help: the command exits 0. */
#define CLI_HELP (-1)

typedef struct {
    const char *command;           /* in usage errors: "backup", "maint plan" */
    const char *shortopts;         /* getopt's: "h", "+h", "hj:"... */
    const struct option *longopts; /* --help's value is 'h' */
    const char *help;              /* printed on stdout by --help */
    int first;                     /* the first argument to parse (0: 1) */
    int rc;                        /* set when cli_opt_next() returns 0 */
    bool started;
} CliOpts;

int cli_opt_next(CliOpts *o, int argc, char **argv);

/* A parse step's result as the command's exit code: CLI_HELP is 0. */
int cli_exit(int rc);

/*
 * The options of a command whose only option is --json (-j; and --help,
 * -h): DD_EXIT_OK with *json set, else CLI_HELP or DD_EXIT_USAGE, as
 * o->rc above. The operands are argv[optind..].
 */
int cli_opt_json(const char *command, const char *help, int argc, char **argv, bool *json);

#endif
