/*
 * maint_plan.c - "drydock maint plan FILE [--json]": the plan of a
 * maintenance, with each step's predicted duration and the findings.
 * Nothing is changed anywhere. Exit 12 when a finding is an error, after
 * printing the plan.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "maint/mfile.h"
#include "maint/plan.h"
#include "maint/runpost.h"

static const char maint_plan_help[] =
    "usage: drydock maint plan FILE [--json]\n\n"
    "Reads the maintenance file FILE, classifies each change from the primary's\n"
    "pg_settings (reload, restart, offline, post-switch, impossible), measures the\n"
    "cluster, predicts every step's duration from the rates measured on this\n"
    "repository, and checks the plan against the live clusters and the repository.\n"
    "Nothing is changed, except that with a [status] section the status page gets\n"
    "the maintenance as Scheduled, with its window and the predicted duration (once:\n"
    "planning it again keeps the open one).\n\n"
    "  --json   print one JSON object (steps, predicted_s, predicted_hold_ms,\n"
    "           rollback, findings, changes); README.md describes it\n\n"
    "Exit 12 when a finding is an error (the plan is refused; \"maint run\" would\n"
    "stop before changing anything), after printing the plan.\n";

int cli_maint_plan(CliContext *ctx, int argc, char **argv)
{
    bool json = false;
    int rc = cli_opt_json("maint plan", maint_plan_help, argc, argv, &json);
    if (rc != DD_EXIT_OK)
        return cli_exit(rc);
    if (optind != argc - 1)
        return cli_usage("maint plan", optind >= argc ? "a maintenance file is needed"
                                                      : "one maintenance file only");
    const Config *cfg = cli_config(ctx);
    if (!cfg)
        return err_code();
    MaintFile mf;
    if (!mfile_load(argv[optind], &mf))
        return cli_fail();
    Plan plan;
    if (!plan_build(cfg, &mf, &plan)) {
        mfile_free(&mf);
        return cli_fail();
    }
    if (json) {
        json_t *o = plan_to_json(&plan);
        json_dumpf(o, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(o);
    } else
        plan_print(&plan, stdout);
    rc = DD_EXIT_OK;
    if (plan_has_errors(&plan)) {
        size_t n = 0;
        for (size_t i = 0; i < plan.nfindings; i++)
            n += plan.findings[i].severity == FINDING_ERROR;
        err_set(DD_EXIT_PLAN, "the plan of \"%s\" has %zu error finding(s): refused", argv[optind],
                n);
        err_hint("fix what the findings name and plan again");
        rc = cli_fail();
    } else if (cfg->status_store) {
        int64_t id = runpost_scheduled(cfg, &mf, &plan); /* warns itself on failure */
        if (id)
            fprintf(stderr, "status page: maintenance %lld is scheduled\n", (long long)id);
    }
    plan_free(&plan);
    mfile_free(&mf);
    return rc;
}
