/*
 * postmortem.c - the postmortem draft (postmortem.h).
 */
#include "status/postmortem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "status/lifecycle.h"
#include "status/tz.h"

typedef struct {
    const char *name, *basis;
    double predicted, low, high, actual;
    bool ok;
    bool ran; /* has an actual_s: a run stopped early leaves the rest without */
} Step;

/* Text safe in a Markdown table cell: no pipes, no newlines. */
static void cell(Buf *b, const char *s)
{
    for (const char *p = s ? s : ""; *p; p++) {
        if (*p == '|')
            buf_append_str(b, "\\|");
        else if (*p == '\n' || *p == '\r')
            buf_append_str(b, " ");
        else
            buf_append(b, p, 1);
    }
}

static void dur(Buf *b, double s)
{
    char t[48];
    if (s <= 0 && s > -0.5) {
        buf_append_str(b, "-");
        return;
    }
    tz_duration(fabs(s), t, sizeof(t));
    buf_printf(b, "%s%s", s < 0 ? "-" : "", t);
}

static void at(Buf *b, int64_t t, const char *zone)
{
    char s[96];
    tz_format(t, zone, TZ_DATE_TIME, s, sizeof(s));
    buf_append_str(b, t ? s : "-");
}

static bool parse_steps(const json_t *report, Step **steps, size_t *n)
{
    *steps = NULL;
    *n = 0;
    const json_t *a = json_is_array(report) ? report : json_object_get(report, "steps");
    if (!json_is_array(a))
        return err_set(DD_EXIT_USAGE, "the run report has no \"steps\" array");
    *steps = xcalloc(json_array_size(a) + 1, sizeof(Step));
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *o = json_array_get(a, i);
        const char *name = json_string_value(json_object_get(o, "name"));
        if (!json_is_object(o) || !name) {
            free(*steps);
            *steps = NULL;
            return err_set(DD_EXIT_USAGE, "step %zu of the run report has no \"name\"", i + 1);
        }
        if (json_is_false(json_object_get(o, "enabled")))
            continue; /* a step the plan did not need */
        const json_t *ok = json_object_get(o, "ok");
        (*steps)[(*n)++] = (Step){name,
                                  json_string_value(json_object_get(o, "basis")),
                                  json_number_value(json_object_get(o, "predicted_s")),
                                  json_number_value(json_object_get(o, "low_s")),
                                  json_number_value(json_object_get(o, "high_s")),
                                  json_number_value(json_object_get(o, "actual_s")),
                                  !ok || json_is_true(ok),
                                  json_object_get(o, "actual_s") != NULL};
    }
    return true;
}

static void summary(Buf *b, const StatusEvent *e, const char *zone)
{
    buf_append_str(b, "## Summary\n\n");
    if (e->kind == STATUS_MAINTENANCE) {
        buf_append_str(b, "- Announced window: ");
        at(b, e->scheduled_for, zone);
        buf_append_str(b, " to ");
        at(b, e->scheduled_until, zone);
        buf_append_str(b, "\n- Predicted duration: ");
        dur(b, e->predicted_s);
        if (e->high_s > e->low_s && e->low_s > 0) {
            buf_append_str(b, " (between ");
            dur(b, e->low_s);
            buf_append_str(b, " and ");
            dur(b, e->high_s);
            buf_append_str(b, ")");
        }
        buf_append_str(b, "\n");
    }
    buf_append_str(b, "- Started: ");
    at(b, e->started_at, zone);
    buf_append_str(b, "\n- Ended: ");
    at(b, e->resolved_at, zone);
    if (e->started_at && e->resolved_at) {
        buf_append_str(b, "\n- Took: ");
        dur(b, (double)(e->resolved_at - e->started_at));
    }
    buf_printf(b, "\n- Final status: %s\n\n", lifecycle_status_label(e->status));
}

static void timeline(Buf *b, const StatusEvent *e, const char *zone)
{
    buf_printf(b, "## Timeline (%s)\n\n| Time | Status | What we told users |\n|---|---|---|\n",
               zone);
    for (size_t k = e->nupdates; k-- > 0;) { /* oldest first */
        const StatusUpdate *u = &e->updates[k];
        buf_append_str(b, "| ");
        at(b, u->at, zone);
        buf_printf(b, " | %s | ", lifecycle_update_label(e, k));
        cell(b, u->body);
        buf_append_str(b, " |\n");
    }
    buf_append_str(b, "\n");
}

static void steps_table(Buf *b, const Step *s, size_t n, double *tp, double *ta)
{
    buf_append_str(b, "## Steps: predicted vs actual\n\n"
                      "| Step | Predicted | Range | Actual | Difference | Basis | OK |\n"
                      "|---|---|---|---|---|---|---|\n");
    *tp = *ta = 0;
    for (size_t i = 0; i < n; i++) {
        buf_append_str(b, "| ");
        cell(b, s[i].name);
        buf_append_str(b, " | ");
        dur(b, s[i].predicted);
        buf_append_str(b, " | ");
        dur(b, s[i].low);
        buf_append_str(b, " to ");
        dur(b, s[i].high);
        buf_append_str(b, " | ");
        if (s[i].ran) {
            dur(b, s[i].actual);
            buf_append_str(b, " | ");
            dur(b, s[i].actual - s[i].predicted);
        } else {
            buf_append_str(b, "not run | -");
        }
        buf_append_str(b, " | ");
        cell(b, s[i].basis ? s[i].basis : "-");
        buf_printf(b, " | %s |\n", !s[i].ran ? "-" : s[i].ok ? "yes" : "**no**");
        *tp += s[i].predicted;
        *ta += s[i].actual;
    }
    buf_append_str(b, "| **Total** | ");
    dur(b, *tp);
    buf_append_str(b, " | | ");
    dur(b, *ta);
    buf_append_str(b, " | ");
    dur(b, *ta - *tp);
    buf_append_str(b, " | | |\n\n");
}

static int by_actual_desc(const void *a, const void *b)
{
    double x = ((const Step *)a)->actual, y = ((const Step *)b)->actual;
    return (x < y) - (x > y);
}

static void where_time_went(Buf *b, const Step *s, size_t n, double total)
{
    buf_append_str(b, "## Where the time went\n\n");
    Step *sorted = xcalloc(n + 1, sizeof(Step));
    memcpy(sorted, s, n * sizeof(Step));
    qsort(sorted, n, sizeof(Step), by_actual_desc);
    for (size_t i = 0; i < n && i < 3 && total > 0; i++) {
        buf_append_str(b, "- ");
        cell(b, sorted[i].name);
        buf_append_str(b, ": ");
        dur(b, sorted[i].actual);
        buf_printf(b, " (%.0f%% of the run)\n", 100.0 * sorted[i].actual / total);
    }
    free(sorted);
    bool late = false;
    for (size_t i = 0; i < n; i++) {
        if (!s[i].ran || s[i].high <= 0 || s[i].actual <= s[i].high)
            continue;
        if (!late)
            buf_append_str(b, "\nSteps that ran past their predicted range:\n\n");
        late = true;
        buf_append_str(b, "- ");
        cell(b, s[i].name);
        buf_append_str(b, ": ");
        dur(b, s[i].actual);
        buf_append_str(b, ", predicted at most ");
        dur(b, s[i].high);
        buf_append_str(b, "\n");
    }
    if (!late)
        buf_append_str(b, "\nEvery step ended within its predicted range.\n");
    buf_append_str(b, "\n");
}

/* The journal's rows (report "events"), oldest first: what the tool did, when. */
static void journal_events(Buf *b, const json_t *events, const char *zone)
{
    buf_printf(b,
               "## What drydock did (from the journal, %s)\n\n"
               "| Started | Step | Action | Result | Took |\n|---|---|---|---|---|\n",
               zone);
    size_t i;
    const json_t *ev;
    json_array_foreach(events, i, ev)
    {
        const char *state = json_string_value(json_object_get(ev, "state"));
        buf_append_str(b, "| ");
        at(b, (int64_t)json_number_value(json_object_get(ev, "at")), zone);
        buf_append_str(b, " | ");
        cell(b, json_string_value(json_object_get(ev, "step")));
        buf_append_str(b, " | ");
        cell(b, json_string_value(json_object_get(ev, "action")));
        buf_append_str(b, " | ");
        buf_append_str(b, !state                          ? "-"
                          : strcmp(state, "started") == 0 ? "**never ended** (the process died)"
                          : strcmp(state, "failed") == 0  ? "**failed**"
                                                          : "done");
        buf_append_str(b, " | ");
        if (json_object_get(ev, "took_s"))
            dur(b, json_number_value(json_object_get(ev, "took_s")));
        else
            buf_append_str(b, "-");
        buf_append_str(b, " |\n");
    }
    buf_append_str(b, "\n");
}

/* What went wrong, from the journal: failed rows with their error, rows never ended. */
static bool journal_failures(Buf *b, const json_t *events)
{
    bool any = false;
    size_t i;
    const json_t *ev;
    json_array_foreach(events, i, ev)
    {
        const char *state = json_string_value(json_object_get(ev, "state"));
        bool undo = json_is_string(json_object_get(ev, "action")) &&
                    strcmp(json_string_value(json_object_get(ev, "action")), "undo") == 0;
        if (!state || strcmp(state, "done") == 0)
            continue;
        buf_printf(b, "- %s of step ", undo ? "Undoing" : "Doing");
        cell(b, json_string_value(json_object_get(ev, "step")));
        if (strcmp(state, "failed") == 0) {
            buf_append_str(b, " failed: ");
            cell(b, json_string_value(json_object_get(ev, "detail")));
            buf_append_str(b, "\n");
        } else
            buf_append_str(b, " never ended: the process stopped (killed, or the host went "
                              "down) and a later command took over.\n");
        any = true;
    }
    return any;
}

/* The run's wall time against its steps': what was spent between them. */
static void run_total(Buf *b, const json_t *report, double steps_s)
{
    double started = json_number_value(json_object_get(report, "started"));
    double ended = json_number_value(json_object_get(report, "ended"));
    if (started <= 0 || ended <= started)
        return;
    buf_append_str(b, "From the first step to the end the run took ");
    dur(b, ended - started);
    buf_append_str(b, "; its steps, ");
    dur(b, steps_s);
    if (ended - started - steps_s >= 1) {
        buf_append_str(b, "; the rest, ");
        dur(b, ended - started - steps_s);
        buf_append_str(b, ", went between steps (undoing, waiting for an operator to resume or "
                          "abort)");
    }
    buf_append_str(b, ".\n\n");
}

static void hold_and_failures(Buf *b, const json_t *report, const Step *s, size_t n)
{
    buf_append_str(b, "## Client hold\n\n");
    /* "hold_ms" (drydock maint run --json), or the older names. */
    double held = json_number_value(json_object_get(report, "hold_ms")) / 1000.0;
    if (held <= 0)
        held = json_number_value(json_object_get(report, "paused_ms")) / 1000.0;
    if (held <= 0)
        held = json_number_value(json_object_get(report, "client_hold_s"));
    double predicted = json_number_value(json_object_get(report, "predicted_hold_ms")) / 1000.0;
    if (held > 0) {
        buf_printf(b, "Clients were held for %.3f s during the switch", held);
        if (predicted > 0)
            buf_printf(b, " (predicted %.3f s)", predicted);
        buf_append_str(b, ".\n\n");
    } else {
        buf_append_str(b, "_The run report does not say; fill in from the proxy's log._\n\n");
    }
    buf_append_str(b, "## What went wrong\n\n");
    const json_t *events = json_object_get(report, "events");
    if (json_is_array(events)) {
        bool any = journal_failures(b, events);
        buf_append_str(b, any ? "\n"
                              : "_Nothing failed in the journal. Describe anything else that "
                                "went wrong._\n\n");
        return;
    }
    bool any = false;
    for (size_t i = 0; i < n; i++)
        if (s[i].ran && !s[i].ok) {
            buf_append_str(b, "- Step ");
            cell(b, s[i].name);
            buf_append_str(b, " failed.\n");
            any = true;
        }
    buf_append_str(b, any ? "\n" : "_No step failed. Describe anything else that went wrong._\n\n");
}

bool postmortem_draft(const StatusEvent *e, const char *zone, const json_t *report, int64_t now,
                      Buf *b)
{
    Step *steps = NULL;
    size_t n = 0;
    if (report && !parse_steps(report, &steps, &n))
        return false;
    buf_append_str(b, "# Postmortem: ");
    cell(b, e->title);
    buf_append_str(b, "\n\n_Draft written by drydock on ");
    at(b, now, zone);
    buf_printf(b,
               " from the status page's record%s. Edit it, then publish it with "
               "`drydock status publish %lld FILE`._\n\n",
               !report                             ? ""
               : json_object_get(report, "events") ? " and the maintenance journal"
                                                   : " and the run report",
               (long long)e->id);
    summary(b, e, zone);
    timeline(b, e, zone);
    const char *outcome = report ? json_string_value(json_object_get(report, "outcome")) : NULL;
    if (outcome)
        buf_printf(b, "The run ended with outcome \"%s\".\n\n", outcome);
    if (report) {
        double tp, ta;
        if (json_is_array(json_object_get(report, "events")))
            journal_events(b, json_object_get(report, "events"), zone);
        steps_table(b, steps, n, &tp, &ta);
        where_time_went(b, steps, n, ta);
        run_total(b, report, ta);
        hold_and_failures(b, report, steps, n);
    } else {
        buf_append_str(b, "## Steps\n\n_No run report given: add one with --report FILE (the "
                          "--json output of \"drydock maint run\")._\n\n"
                          "## What went wrong\n\n_Describe it._\n\n");
    }
    buf_append_str(b, "## What we will change\n\n_List the follow-ups._\n");
    free(steps);
    return true;
}
