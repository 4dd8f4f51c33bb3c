/*
 * maint_status.c - "drydock maint status [--json]": the roles of the nodes
 * (the topology, each checked with pg_is_in_recovery()), their history, and
 * the current or last maintenance from the journal: its steps, where it is,
 * what it created, and what resume, abort and rollback would do from here.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/timeutil.h"
#include "config/topology.h"
#include "maint/journal.h"
#include "pg/conn.h"

static const char maint_status_help[] =
    "usage: drydock maint status [--json]\n\n"
    "Shows which node is the primary and which is its standby (as drydock recorded\n"
    "them, each checked with pg_is_in_recovery()), how the roles changed, and the\n"
    "current or last maintenance: its steps, where it is, what it created and what\n"
    "\"maint resume\", \"abort\" and \"rollback\" would do from here.\n\n"
    "  --json   one JSON object: {\"roles\":[...], \"history\":[...], \"maintenance\":{...}}\n";

/* "primary", "standby" (in recovery), or why it could not say. */
static char *ms_live_role(const char *conninfo, const char *what)
{
    PGconn *c = pg_connect(conninfo, what);
    char *rec = c ? pg_query_value(c, "SELECT pg_is_in_recovery()", 0, NULL) : NULL;
    char *out = rec ? xstrdup(rec[0] == 't' ? "standby" : "primary")
                    : xasprintf("unreachable: %s", err_message());
    free(rec);
    pg_disconnect(c);
    err_clear();
    return out;
}

static json_t *ms_role(const char *role, const char *conninfo, const char *data)
{
    char *red = pg_conninfo_redact(conninfo);
    char *live = ms_live_role(conninfo, role);
    bool ok = strcmp(live, role) == 0;
    json_t *o = json_pack("{s:s,s:s,s:s?,s:s,s:b}", "role", role, "conninfo", red, "data", data,
                          "live", live, "checked", ok);
    free(red);
    free(live);
    return o;
}

static json_t *ms_roles(const Config *cfg, json_t **history)
{
    json_t *roles = json_array();
    if (cfg->primary)
        json_array_append_new(roles, ms_role("primary", cfg->primary, cfg->primary_data));
    if (cfg->standby)
        json_array_append_new(roles, ms_role("standby", cfg->standby, cfg->standby_data));
    *history = json_array();
    char *dir = config_state_dir(cfg);
    Topology t;
    bool found = false;
    if (topology_load(dir, &t, &found) && found) {
        for (size_t i = 0; i < t.nhistory; i++) {
            char when[48];
            time_format(t.history[i].at, when, sizeof(when));
            char *p = pg_conninfo_redact(t.history[i].primary);
            char *s = t.history[i].standby ? pg_conninfo_redact(t.history[i].standby) : NULL;
            json_array_append_new(*history,
                                  json_pack("{s:s,s:s,s:s,s:s?}", "at", when, "event",
                                            t.history[i].event, "primary", p, "standby", s));
            free(p);
            free(s);
        }
        for (size_t i = 0; i < t.nretired; i++)
            json_array_append_new(roles, json_pack("{s:s,s:s?,s:s}", "role", "retired", "data",
                                                   t.retired[i].data, "live", "kept for rollback"));
        topology_free(&t);
    }
    err_clear();
    free(dir);
    return roles;
}

/* What each command would do from the run's state (words for people). */
static void ms_next(const JournalRun *r, json_t *plan, const char **resume, const char **abort_,
                    const char **rollback)
{
    *resume = *abort_ = *rollback = "nothing to do";
    /* The plan's words (maint/rollback.h carries them out); they live as long as plan. */
    const char *mechanism =
        json_string_value(json_object_get(json_object_get(plan, "rollback"), "mechanism"));
    if (!mechanism || !mechanism[0])
        mechanism = "switch back to a cluster with the old configuration";
    switch (r->state) {
    case JRUN_RUNNING:
    case JRUN_FAILED:
        *resume = "undo the step that was cut short, redo it, then go on";
        *abort_ = "undo every step done, newest first; clients never notice";
        *rollback = "nothing to roll back: not switched";
        break;
    case JRUN_SWITCHED:
        *resume = "finish the steps after the switch";
        *abort_ = "too late: the traffic is on the new primary (use rollback)";
        *rollback = mechanism;
        break;
    case JRUN_COMPLETED:
        *rollback = mechanism;
        *abort_ = "too late (use rollback, or maint finish)";
        break;
    case JRUN_ROLLING_BACK:
        *resume = *rollback = "continue the rollback";
        *abort_ = "too late: the rollback is under way";
        break;
    default:
        break;
    }
}

static json_t *ms_run(const JournalRun *r)
{
    json_t *steps = json_array(), *created = json_array();
    for (size_t i = 0; i < r->nsteps; i++) {
        const JournalStepView *v = &r->steps[i];
        json_array_append_new(steps, json_pack("{s:s,s:s,s:f,s:f,s:f,s:f,s:i,s:s}", "name", v->name,
                                               "state", journal_step_state_name(v->state),
                                               "predicted_s", v->predicted_s, "low_s", v->low_s,
                                               "high_s", v->high_s, "actual_s", v->actual_s,
                                               "attempts", v->attempts, "detail", v->detail));
    }
    for (size_t i = 0; i < r->ncreated; i++)
        json_array_append_new(
            created, json_pack("{s:s,s:s,s:s,s:i,s:b}", "type",
                               r->created[i].type == JCREATED_DIR ? "dir" : "server", "step",
                               r->created[i].step, "what", r->created[i].what, "port",
                               r->created[i].port, "removed", r->created[i].removed));
    const char *resume, *abort_, *rollback;
    json_t *plan = json_loads(r->plan_json ? r->plan_json : "{}", 0, NULL);
    ms_next(r, plan, &resume, &abort_, &rollback);
    char when[48];
    time_format(r->started, when, sizeof(when));
    json_t *out = json_pack(
        "{s:I,s:s,s:s,s:s,s:s,s:i,s:o,s:o,s:o,s:o}", "id", (json_int_t)r->id, "title",
        r->title ? r->title : "", "file", r->file, "state", journal_run_state_name(r->state),
        "started", when, "pid", r->pid, "hold_ms",
        r->hold_ms >= 0 ? json_real(r->hold_ms) : json_null(), "steps", steps, "created", created,
        "next",
        json_pack("{s:s,s:s,s:s}", "resume", resume, "abort", abort_, "rollback", rollback));
    json_decref(plan);
    return out;
}

static void ms_print(json_t *o)
{
    json_t *v;
    size_t i;
    printf("roles:\n");
    json_array_foreach(json_object_get(o, "roles"), i, v)
    {
        const char *ci = json_string_value(json_object_get(v, "conninfo"));
        printf("  %-8s %s  [%s]\n", json_string_value(json_object_get(v, "role")),
               ci ? ci : json_string_value(json_object_get(v, "data")),
               json_string_value(json_object_get(v, "live")));
    }
    json_t *h = json_object_get(o, "history");
    if (json_array_size(h))
        printf("history:\n");
    json_array_foreach(h, i, v)
        printf("  %s  %s: primary %s\n", json_string_value(json_object_get(v, "at")),
               json_string_value(json_object_get(v, "event")),
               json_string_value(json_object_get(v, "primary")));
    json_t *m = json_object_get(o, "maintenance");
    if (!json_is_object(m)) {
        printf("maintenance: none recorded\n");
        return;
    }
    printf("maintenance #%lld \"%s\" (%s): %s\n",
           (long long)json_integer_value(json_object_get(m, "id")),
           json_string_value(json_object_get(m, "title")),
           json_string_value(json_object_get(m, "file")),
           json_string_value(json_object_get(m, "state")));
    json_array_foreach(json_object_get(m, "steps"), i, v)
        printf("  %-13s %-11s predicted %6.1f s, actual %6.1f s  %s\n",
               json_string_value(json_object_get(v, "name")),
               json_string_value(json_object_get(v, "state")),
               json_number_value(json_object_get(v, "predicted_s")),
               json_number_value(json_object_get(v, "actual_s")),
               json_string_value(json_object_get(v, "detail")));
    json_array_foreach(json_object_get(m, "created"), i, v)
        printf("  created by %s: %s %s%s\n", json_string_value(json_object_get(v, "step")),
               json_string_value(json_object_get(v, "type")),
               json_string_value(json_object_get(v, "what")),
               json_is_true(json_object_get(v, "removed")) ? " (removed)" : "");
    json_t *next = json_object_get(m, "next");
    printf("maint resume:   %s\nmaint abort:    %s\nmaint rollback: %s\n",
           json_string_value(json_object_get(next, "resume")),
           json_string_value(json_object_get(next, "abort")),
           json_string_value(json_object_get(next, "rollback")));
}

int cli_maint_status(CliContext *ctx, int argc, char **argv)
{
    bool json = false;
    int rc = cli_opt_json("maint status", maint_status_help, argc, argv, &json);
    if (rc != DD_EXIT_OK)
        return cli_exit(rc);
    const Config *cfg = cli_config_no_args(ctx, argc, argv, &rc);
    if (!cfg)
        return rc;
    json_t *history;
    json_t *out = json_pack("{s:o}", "roles", ms_roles(cfg, &history));
    json_object_set_new(out, "history", history);
    char *dir = config_state_dir(cfg);
    Journal *j = NULL;
    JournalRun r = {0};
    bool ok = journal_open(dir, &j) && journal_load(j, 0, &r);
    free(dir);
    journal_close(j);
    if (!ok) {
        json_decref(out);
        return cli_fail();
    }
    json_object_set_new(out, "maintenance", r.id ? ms_run(&r) : json_null());
    journal_run_free(&r);
    if (json) {
        char *text = json_dumps(out, JSON_INDENT(2));
        printf("%s\n", text);
        free(text);
    } else {
        ms_print(out);
    }
    json_decref(out);
    return DD_EXIT_OK;
}
