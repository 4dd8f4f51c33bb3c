/*
 * postmortem.h - a Markdown draft of a postmortem, for the operator to edit
 * and publish ("drydock status postmortem ID", then "drydock status publish
 * ID FILE").
 *
 * From the status store it takes the event: the announced window, the
 * prediction, every update with its time (the timeline). From a run report
 * when given (JSON: the "--json" output of "drydock maint run", maint/plan.h:
 * "steps": [{"name", "predicted_s", "low_s", "high_s", "basis", "enabled",
 * "actual_s", "ok"}], "outcome", "hold_ms", "predicted_hold_ms"; steps with
 * "enabled": false are left out, steps without "actual_s" shown as not run;
 * "paused_ms" or "client_hold_s" are read when "hold_ms" is absent), it
 * adds each step predicted vs actual, the steps that ran past their range,
 * where the time went (the longest steps and their share), the client hold,
 * and the steps that failed. Headings the operator must fill in are left
 * with a prompt in italics.
 */
#ifndef DD_STATUS_POSTMORTEM_H
#define DD_STATUS_POSTMORTEM_H

#include <jansson.h>

#include "common/error.h"
#include "common/mem.h"
#include "status/model.h"

/*
 * Append the draft for e (times in zone) to out. report may be NULL; a
 * report of the wrong shape is an error (DD_EXIT_USAGE) naming what is wrong.
 */
DD_MUST_CHECK bool postmortem_draft(const StatusEvent *e, const char *zone, const json_t *report,
                                    int64_t now, Buf *out);

#endif
