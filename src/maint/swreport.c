/*
 * swreport.c - see swreport.h.
 */
#include "maint/swreport.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void switchover_report_free(SwitchoverReport *r)
{
    free(r->from);
    free(r->to);
    free(r->from_data);
    free(r->to_data);
    memset(r, 0, sizeof(*r));
}

static const char *const sw_step_names[SW_STEP_COUNT] = {"checks", "pause",  "catchup", "promote",
                                                         "switch", "resume", "fence"};

const char *switchover_step_name(SwitchoverStepId id)
{
    return id < SW_STEP_COUNT ? sw_step_names[id] : "none";
}

const char *switchover_outcome_name(SwitchoverOutcome o)
{
    static const char *const names[] = {
        "untouched", "rolled-back", "paused-on-old-primary", "paused-on-new-primary",
        "switched",  "done"};
    return o <= SW_OUTCOME_DONE ? names[o] : "unknown";
}

void switchover_step_begin(SwitchoverReport *r, SwitchoverStepId id, double now)
{
    r->steps[id].state = SW_STEP_RUNNING;
    r->steps[id].started = now;
    r->steps[id].ms = 0;
    r->steps[id].detail[0] = '\0';
}

void switchover_step_end(SwitchoverReport *r, SwitchoverStepId id, bool ok, double now,
                         const char *fmt, ...)
{
    SwitchoverStep *st = &r->steps[id];
    st->state = ok ? SW_STEP_OK : SW_STEP_FAILED;
    st->ms = (now - st->started) * 1000.0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->detail, sizeof(st->detail), fmt, ap);
    va_end(ap);
}

SwitchoverStepId switchover_failed_step(const SwitchoverReport *r)
{
    for (int i = 0; i < SW_STEP_COUNT; i++)
        if (r->steps[i].state == SW_STEP_FAILED)
            return (SwitchoverStepId)i;
    return SW_STEP_COUNT;
}

void switchover_step_line(const SwitchoverReport *r, SwitchoverStepId id, Buf *out)
{
    const SwitchoverStep *st = &r->steps[id];
    buf_printf(out, "  %-8s %10.1f ms  %s%s\n", switchover_step_name(id), st->ms,
               st->state == SW_STEP_FAILED ? "FAILED: " : "", st->detail);
}

void switchover_report_summary(const SwitchoverReport *r, Buf *out)
{
    if (r->steps[SW_STEP_PAUSE].state == SW_STEP_OK)
        buf_printf(out,
                   "clients held: %.1f ms (pause sent to resume done; the proxy counted %.1f ms, "
                   "%d sessions)\n",
                   r->hold_ms, r->proxy_paused_ms, r->held);
    if (r->switch_failed > 0)
        buf_printf(out,
                   "warning: %d sessions could not be moved to the new primary; their clients got "
                   "FATAL 08006 when the pause ended (see the proxy's log)\n",
                   r->switch_failed);
    if (!r->promoted)
        return;
    if (r->other_standbys > 0)
        buf_printf(out,
                   "note: %d other standbys streamed from the old primary: point their "
                   "primary_conninfo at the new one\n",
                   r->other_standbys);
    buf_printf(out, "the primary is now: %s%s%s%s\n", r->to, r->to_data ? " (data directory " : "",
               r->to_data ? r->to_data : "", r->to_data ? ")" : "");
    if (r->outcome == SW_OUTCOME_DONE)
        buf_printf(out, "the old primary %s is %s\n", r->from,
                   r->demote ? "a standby streaming from it" : "stopped");
    buf_printf(out, "update the configuration (drydock does not edit it): [cluster] primary = "
                    "the new primary's conninfo above (with its password, if any)");
    if (r->to_data)
        buf_printf(out, ", primary-data = %s", r->to_data);
    if (r->demote)
        buf_printf(out, ", standby = %s, standby-data = %s", r->from,
                   r->from_data ? r->from_data : "(its data directory)");
    else
        buf_printf(out,
                   ", and remove or replace standby and standby-data: there is no standby now");
    buf_printf(out, "; [proxy] server too if it is set\n");
}

void switchover_report_json(const SwitchoverReport *r, const char *error, const char *hint,
                            Buf *out)
{
    json_t *steps = json_array();
    for (int i = 0; i < SW_STEP_COUNT; i++) {
        const SwitchoverStep *st = &r->steps[i];
        if (st->state == SW_STEP_PENDING)
            continue;
        json_array_append_new(steps, json_pack("{s:s,s:s,s:f,s:s}", "name",
                                               switchover_step_name((SwitchoverStepId)i), "state",
                                               st->state == SW_STEP_OK       ? "ok"
                                               : st->state == SW_STEP_FAILED ? "failed"
                                                                             : "running",
                                               "ms", st->ms, "detail", st->detail));
    }
    json_t *o = json_pack(
        "{s:b,s:s,s:s,s:s,s:o,s:b,s:b,s:f,s:f,s:i,s:i,s:i}", "ok", r->outcome == SW_OUTCOME_DONE,
        "outcome", switchover_outcome_name(r->outcome), "from", r->from ? r->from : "", "to",
        r->to ? r->to : "", "steps", steps, "promoted", r->promoted, "demote", r->demote, "hold_ms",
        r->hold_ms, "proxy_paused_ms", r->proxy_paused_ms, "held", r->held, "switched", r->switched,
        "switch_failed", r->switch_failed);
    json_object_set_new(o, "other_standbys", json_integer(r->other_standbys));
    json_object_set_new(o, "primary", json_string(r->promoted ? r->to : r->from ? r->from : ""));
    if (error)
        json_object_set_new(o, "error", json_string(error));
    if (hint && hint[0])
        json_object_set_new(o, "hint", json_string(hint));
    char *text = json_dumps(o, JSON_COMPACT);
    buf_append_str(out, text);
    buf_append_str(out, "\n");
    free(text);
    json_decref(o);
}
