/*
 * maint.c - "drydock maint SUB": plan, rehearse, run, status, resume, abort,
 * rollback, finish. This file only dispatches; each subcommand has its own
 * file (cli/maint_plan.c, ...) and the work lives in maint/.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"

static const struct {
    const char *name;
    CliCommandFn fn;
    const char *summary;
} maint_commands[] = {
    {"plan", cli_maint_plan, "FILE: the steps, each with its predicted duration, and findings"},
    {"rehearse", cli_maint_rehearse, "FILE: run the plan on throwaway clones; predicted vs actual"},
    {"run", cli_maint_run, "FILE: carry the plan out on the live clusters, journalled"},
    {"status", cli_maint_status, "the current or last maintenance, and what can be done from here"},
    {"resume", cli_maint_resume, "continue a maintenance whose run died"},
    {"abort", cli_maint_abort, "undo a maintenance that has not switched yet"},
    {"rollback", cli_maint_rollback,
     "after the switch: back to a cluster with the old configuration"},
    {"finish", cli_maint_finish, "end a maintenance: remove the old primary kept for rollback"},
};
#define N_MAINT (sizeof(maint_commands) / sizeof(maint_commands[0]))

static void maint_usage(FILE *out)
{
    fprintf(out, "usage: drydock maint SUBCOMMAND [options]\n\nsubcommands:\n");
    for (size_t i = 0; i < N_MAINT; i++)
        fprintf(out, "  %-10s %s\n", maint_commands[i].name, maint_commands[i].summary);
    fprintf(out, "\n\"drydock maint SUBCOMMAND --help\" describes one.\n");
}

int cli_cmd_maint(CliContext *ctx, int argc, char **argv)
{
    if (argc < 2) {
        maint_usage(stderr);
        return DD_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        maint_usage(stdout);
        return DD_EXIT_OK;
    }
    for (size_t i = 0; i < N_MAINT; i++) {
        if (strcmp(argv[1], maint_commands[i].name) == 0)
            return maint_commands[i].fn(ctx, argc - 1, argv + 1);
    }
    log_error("unknown maint subcommand \"%s\". HINT: \"drydock maint --help\" lists them",
              argv[1]);
    return DD_EXIT_USAGE;
}
