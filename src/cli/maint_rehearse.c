/*
 * maint_rehearse.c - "drydock maint rehearse FILE": run the plan on
 * throwaway clones (maint/rehearse.h) and print predicted vs actual.
 */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"
#include "common/progress.h"
#include "maint/estimate.h"
#include "maint/rehearse.h"

static const char rehearse_help[] =
    "usage: drydock maint rehearse FILE [--json] [--keep] [--scratch DIR]\n\n"
    "Runs the maintenance of FILE on throwaway clusters restored from the newest\n"
    "backup (a scratch directory next to [green] data, free loopback ports,\n"
    "archive off, not behind the proxy): restore, offline changes, start and\n"
    "catch-up, the new standby, verification, and the switch as a promotion of\n"
    "the clone. Prints each step's predicted and actual duration, records the\n"
    "rates measured with the repository (the next plan is better for it) and\n"
    "removes everything, also on failure or an interrupt. The live clusters are\n"
    "only read.\n\n"
    "  --json         one JSON object: the plan, with actual_s and ok per step run\n"
    "  --keep         leave the clones running and their directory, for a look\n"
    "  --scratch DIR  make the scratch directory in DIR\n";

typedef struct {
    const char *file;
    const char *scratch;
    bool json, keep;
} RehearseArgs;

static int rehearse_parse(RehearseArgs *a, int argc, char **argv)
{
    static const struct option longopts[] = {{"json", no_argument, NULL, 'J'},
                                             {"keep", no_argument, NULL, 'k'},
                                             {"scratch", required_argument, NULL, 's'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
    CliOpts cli = {
        .command = "maint rehearse", .shortopts = "h", .longopts = longopts, .help = rehearse_help};
    int c;
    while ((c = cli_opt_next(&cli, argc, argv)) != 0) {
        switch (c) {
        case 'J':
            a->json = true;
            break;
        case 'k':
            a->keep = true;
            break;
        case 's':
            if (optarg[0] != '/')
                return cli_usage("maint rehearse", "--scratch \"%s\" must be an absolute path",
                                 optarg);
            a->scratch = optarg;
            break;
        }
    }
    if (cli.rc != DD_EXIT_OK)
        return cli.rc;
    if (optind + 1 != argc)
        return cli_usage("maint rehearse",
                         optind < argc ? "unexpected argument \"%s\""
                                       : "a maintenance FILE is required%s",
                         optind < argc ? argv[optind + 1 < argc ? optind + 1 : optind] : "");
    a->file = argv[optind];
    return DD_EXIT_OK;
}

static void rehearse_row(const char *name, const Estimate *e, bool ran, double actual, bool ok)
{
    char p[24], lo[24], hi[24], act[24] = "-", err[16] = "";
    estimate_format_seconds(e->predicted_s, p, sizeof(p));
    estimate_format_seconds(e->low_s, lo, sizeof(lo));
    estimate_format_seconds(e->high_s, hi, sizeof(hi));
    if (ran) {
        estimate_format_seconds(actual, act, sizeof(act));
        if (e->predicted_s > 0)
            snprintf(err, sizeof(err), "%+.0f %%",
                     100 * (actual - e->predicted_s) / e->predicted_s);
    }
    fprintf(stdout, "  %-13s %10s  %9s–%-9s %10s  %7s  %s%s\n", name, p, lo, hi, act, err,
            !ran ? "not rehearsed"
            : ok ? "ok"
                 : "FAILED",
            e->low_confidence ? " (low confidence)" : "");
}

/* The plan's findings, then the table's head (people). */
static void rehearse_on_built(const Plan *p, PlanStepId id, void *arg)
{
    (void)id;
    (void)arg;
    for (size_t i = 0; i < p->nfindings; i++)
        printf("%s: %s: %s\n", p->findings[i].severity == FINDING_ERROR ? "error" : "warning",
               p->findings[i].code, p->findings[i].message);
    printf("  %-13s %10s  %19s %10s  %7s\n", "step", "predicted", "range", "actual", "error");
    fflush(stdout);
}

/* Print each step as it ends (people). */
static void rehearse_on_step(const Plan *p, PlanStepId id, void *arg)
{
    (void)arg;
    const PlanStep *s = &p->steps[id];
    rehearse_row(plan_step_name(id), &s->est, s->ran, s->actual_s, s->ok);
    fflush(stdout);
}

static void rehearse_print_end(const Plan *p, const RehearseResult *r, bool ok)
{
    double actual = 0;
    for (int i = 0; i < PSTEP__COUNT; i++)
        if (p->steps[i].ran)
            actual += p->steps[i].actual_s;
    Estimate total = {.predicted_s = p->predicted_s, .low_s = p->low_s, .high_s = p->high_s};
    rehearse_row("total", &total, true, actual, ok);
    for (int i = 0; i < PSTEP__COUNT; i++)
        if (!p->steps[i].enabled && p->steps[i].est.predicted_s > 0)
            rehearse_row(plan_step_name((PlanStepId)i), &p->steps[i].est, false, 0, false);
    if (r->scratch[0] && !r->cleaned)
        printf("the clones were kept in \"%s\" (ports %d and %d)\n", r->scratch, r->port,
               r->standby_port);
}

static void rehearse_print_json(const Plan *p, const RehearseResult *r, bool ok)
{
    json_t *j = plan_to_json(p);
    json_object_set_new(j, "ok", json_boolean(ok));
    json_object_set_new(j, "rehearsal",
                        json_pack("{s:s, s:s, s:i, s:i, s:b}", "backup", r->backup_id, "scratch",
                                  r->scratch, "port", r->port, "standby_port", r->standby_port,
                                  "cleaned", r->cleaned));
    if (!ok)
        json_object_set_new(j, "error", json_string(err_message()));
    char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    printf("%s\n", text);
    free(text);
    json_decref(j);
}

int cli_maint_rehearse(CliContext *ctx, int argc, char **argv)
{
    RehearseArgs a = {0};
    int rc = rehearse_parse(&a, argc, argv);
    if (rc != DD_EXIT_OK)
        return cli_exit(rc);
    const Config *cfg = cli_config(ctx);
    if (!cfg)
        return DD_EXIT_CONFIG;
    MaintFile mf;
    if (!mfile_load(a.file, &mf))
        return cli_fail();
    Progress *progress = progress_new(a.json);
    RehearseOpts o = {.scratch = a.scratch,
                      .keep = a.keep,
                      .progress = progress,
                      .on_step = a.json ? NULL : rehearse_on_step};
    Plan plan;
    RehearseResult r;
    o.on_built = a.json ? NULL : rehearse_on_built;
    bool ok = rehearse_run(cfg, &mf, &o, &plan, &r);
    progress_free(progress);
    if (a.json)
        rehearse_print_json(&plan, &r, ok);
    else if (plan.mf)
        rehearse_print_end(&plan, &r, ok);
    rc = ok ? DD_EXIT_OK : cli_fail();
    plan_free(&plan);
    mfile_free(&mf);
    return rc;
}
