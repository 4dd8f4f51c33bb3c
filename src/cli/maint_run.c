/*
 * maint_run.c - "drydock maint run FILE", "maint resume", "maint abort",
 * "maint finish", each [--json]: parse, call maint/run.h, print the report.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "maint/rollback.h"
#include "maint/run.h"

static const char maint_run_help[] =
    "usage: drydock maint run FILE [--json]\n"
    "       drydock maint resume|abort|finish [--json]\n"
    "       drydock maint finish --expired [--json]\n\n"
    "run     plans FILE (an error finding refuses it, exit 12, nothing changed), then\n"
    "        carries every step out on the live clusters, journalled in the state\n"
    "        directory: backup, restore, offline, start, standby, verify, the\n"
    "        switchover under the proxy, sql-after, the old primary stopped and kept,\n"
    "        a first backup of the new primary. Ctrl-C before the switch undoes it.\n"
    "resume  continues the last run after a crash: a step cut short is undone, redone\n"
    "        (a rollback under way: continues the rollback)\n"
    "abort   undoes the last run's steps, newest first (before the switch only)\n"
    "finish  ends a completed run: removes the old primary's data directory kept for\n"
    "        rollback; after a rollback, removes the directories the run created\n"
    "        --expired: only once the file's keep-old-primary has passed since the\n"
    "        run ended (for a timer); otherwise says until when, and keeps it\n\n"
    "  --json   one JSON object: the plan's (README \"maint plan\") with actual_s and ok\n"
    "           per step, outcome and hold_ms\n";

/* The report for people: each step predicted vs actual, the hold, the outcome. */
static void print_report(const MaintRunResult *r)
{
    if (!r->have_plan)
        return;
    printf("\nstep          predicted   actual\n");
    for (int i = 0; i < PSTEP__COUNT; i++) {
        const PlanStep *s = &r->plan.steps[i];
        if (!s->enabled)
            continue;
        if (s->ran)
            printf("%-13s %7.1f s %7.1f s%s\n", plan_step_name(s->id), s->est.predicted_s,
                   s->actual_s, s->ok ? "" : "  FAILED");
        else
            printf("%-13s %7.1f s       -\n", plan_step_name(s->id), s->est.predicted_s);
    }
    if (r->hold_ms >= 0)
        printf("clients held: %.1f ms (%d sessions)\n", r->hold_ms, r->held);
    printf("maintenance #%lld: %s\n", (long long)r->run, r->outcome ? r->outcome : "failed");
}

void cli_maint_print_json(json_t *out, bool ok)
{
    if (!ok) {
        json_object_set_new(out, "error", json_string(err_message()));
        json_object_set_new(out, "hint", json_string(err_hint_text()));
    }
    char *text = json_dumps(out, JSON_COMPACT);
    printf("%s\n", text);
    free(text);
    json_decref(out);
}

static int maint_run_cmd(CliContext *ctx, int argc, char **argv, const char *name)
{
    static const struct option longopts[] = {{"json", no_argument, NULL, 'j'},
                                             {"expired", no_argument, NULL, 'e'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
    bool json = false, expired = false;
    CliOpts cli = {
        .command = name, .shortopts = "hj", .longopts = longopts, .help = maint_run_help};
    int c;
    while ((c = cli_opt_next(&cli, argc, argv)) != 0) {
        if (c == 'e' && strcmp(name, "maint finish") == 0)
            expired = true;
        else if (c != 'j')
            return cli_bad_option(name, longopts, argv);
        else
            json = true;
    }
    if (cli.rc != DD_EXIT_OK)
        return cli_exit(cli.rc);
    bool run = strcmp(name, "maint run") == 0;
    if (run && optind != argc - 1)
        return cli_usage(name, optind >= argc ? "a maintenance FILE is required"
                                              : "one maintenance file only");
    if (!run && optind < argc)
        return cli_usage(name, "unexpected argument \"%s\"", argv[optind]);
    const Config *cfg = cli_config(ctx);
    if (!cfg)
        return DD_EXIT_CONFIG;
    if (strcmp(name, "maint resume") == 0 && maint_rollback_pending(cfg))
        return cli_maint_rollback_do(cfg, json); /* a rollback under way: maint/rollback.h */
    MaintRunOpts o = {.json = json, .out = stdout, .expired_only = expired};
    MaintRunResult r;
    bool ok = run                                 ? maint_run(cfg, argv[optind], &o, &r)
              : strcmp(name, "maint resume") == 0 ? maint_resume(cfg, &o, &r)
              : strcmp(name, "maint abort") == 0  ? maint_abort(cfg, &o, &r)
                                                  : maint_finish(cfg, &o, &r);
    if (json) {
        cli_maint_print_json(maint_run_json(&r), ok);
    } else {
        print_report(&r);
    }
    fflush(stdout);
    int rc = ok ? DD_EXIT_OK : cli_fail();
    maint_run_result_free(&r);
    return rc;
}

int cli_maint_run(CliContext *ctx, int argc, char **argv)
{
    return maint_run_cmd(ctx, argc, argv, "maint run");
}

int cli_maint_resume(CliContext *ctx, int argc, char **argv)
{
    return maint_run_cmd(ctx, argc, argv, "maint resume");
}

int cli_maint_abort(CliContext *ctx, int argc, char **argv)
{
    return maint_run_cmd(ctx, argc, argv, "maint abort");
}

int cli_maint_finish(CliContext *ctx, int argc, char **argv)
{
    return maint_run_cmd(ctx, argc, argv, "maint finish");
}
