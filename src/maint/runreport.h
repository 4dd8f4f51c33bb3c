/*
 * runreport.h - what a maintenance run did, from the journal, as the
 * postmortem draft reads it (status/postmortem.h): "drydock status
 * postmortem ID" finds the run that posted maintenance ID to the status
 * page (runs.status_id, written by maint run) and drafts from it.
 *
 * The report (JSON; the shape of "drydock maint run --json" where they
 * overlap, plus what only the journal knows):
 *
 *   {"run": 3, "file": "/etc/drydock/m.conf", "title": "...",
 *    "outcome": "completed",           journal_run_state_name(): "aborted", "rolled back", ...
 *    "started": 1796000000.5, "ended": 1796000090.1 | null,   (wall clock, epoch seconds)
 *    "hold_ms": 812.4 | null, "predicted_hold_ms": 900,
 *    "steps": [{"name", "predicted_s", "low_s", "high_s", "basis", "enabled": true,
 *               "actual_s", "ok", "attempts"}],      actual_s/ok only when a "do" ended
 *    "events": [{"at": epoch, "step", "action": "do" | "undo",
 *                "state": "done" | "failed" | "started" (never ended: the process died),
 *                "took_s" (when it ended), "detail" (the error, when it failed)}]}
 *
 * steps: the plan's enabled steps in order (predictions and basis from the
 * plan the run journalled; a step's own journal row wins, as a resume
 * re-plans), then steps only the journal has (a rollback's). events: every
 * journal row of the run, oldest first.
 *
 * The journal is read directly, read-only, through the schema documented at
 * the top of maint/journal.c (journal.h's API replays a run into the state of
 * its steps, which keeps only each step's last row).
 */
#ifndef DD_MAINT_RUNREPORT_H
#define DD_MAINT_RUNREPORT_H

#include <jansson.h>
#include <stdint.h>

#include "common/error.h"
#include "config/config.h"

/*
 * The newest run linked to status_id, in *out (the caller decrefs); *out =
 * NULL when there is none (or no journal on this host). DD_EXIT_IO when the
 * journal cannot be read.
 */
DD_MUST_CHECK bool runreport_load(const Config *cfg, int64_t status_id, json_t **out);

/* The same from an open journal database file (tests). */
DD_MUST_CHECK bool runreport_load_file(const char *journal_db, int64_t status_id, json_t **out);

#endif
