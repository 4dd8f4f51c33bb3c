/*
 * maint_rollback.c - "drydock maint rollback [--json]": parse, call
 * maint/rollback.h, print the report (each step predicted vs actual, the
 * hold, the outcome).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "maint/rollback.h"

static const char maint_rollback_help[] =
    "usage: drydock maint rollback [--json]\n\n"
    "After \"maint run\" has switched the traffic to the green primary, return it to a\n"
    "cluster with the old configuration, with every transaction committed on the\n"
    "green primary, holding clients as briefly as the switch did. The plan's rollback\n"
    "line says how: the old primary rewound to follow the new one (pg_rewind), or,\n"
    "when it cannot be (data checksums changed, or neither checksums nor\n"
    "wal_log_hints), rebuilt from a fresh backup of the new primary with its old\n"
    "settings (its old directory kept aside as DATA.rollback-N); then switched back to.\n"
    "Journalled: after a crash, \"maint rollback\" or \"maint resume\" continues it.\n"
    "\"maint finish\" then removes the green directories and the one kept aside.\n\n"
    "  --json   one JSON object: run, outcome (\"rolled back\" or \"failed\"), hold_ms,\n"
    "           mechanism, rebuild, predicted_s/low_s/high_s, steps with\n"
    "           predicted_s, actual_s and ok\n";

static void print_report(const MaintRollbackResult *r)
{
    if (!r->run)
        return;
    if (r->mechanism[0])
        printf("\nrollback: %s\n", r->mechanism);
    printf("step              predicted   actual\n");
    for (int i = 0; i < RSTEP__COUNT; i++) {
        const RollbackStepResult *s = &r->steps[i];
        if (!s->enabled)
            continue;
        if (s->ran)
            printf("%-17s %7.1f s %7.1f s%s\n", rollback_step_name((RollbackStepId)i),
                   s->predicted_s, s->actual_s, s->ok ? "" : "  FAILED");
        else
            printf("%-17s %7.1f s       -\n", rollback_step_name((RollbackStepId)i),
                   s->predicted_s);
    }
    if (r->hold_ms >= 0)
        printf("clients held: %.1f ms (%d sessions)\n", r->hold_ms, r->held);
    printf("maintenance #%lld: %s\n", (long long)r->run, r->outcome ? r->outcome : "failed");
}

int cli_maint_rollback_do(const Config *cfg, bool json)
{
    MaintRunOpts o = {.json = json, .out = stdout};
    MaintRollbackResult r;
    bool ok = maint_rollback(cfg, &o, &r);
    if (json) {
        cli_maint_print_json(maint_rollback_json(&r), ok);
    } else {
        print_report(&r);
    }
    fflush(stdout);
    return ok ? DD_EXIT_OK : cli_fail();
}

int cli_maint_rollback(CliContext *ctx, int argc, char **argv)
{
    bool json = false;
    int rc = cli_opt_json("maint rollback", maint_rollback_help, argc, argv, &json);
    if (rc != DD_EXIT_OK)
        return cli_exit(rc);
    if (optind < argc)
        return cli_usage("maint rollback", "unexpected argument \"%s\"", argv[optind]);
    const Config *cfg = cli_config(ctx);
    if (!cfg)
        return DD_EXIT_CONFIG;
    return cli_maint_rollback_do(cfg, json);
}
