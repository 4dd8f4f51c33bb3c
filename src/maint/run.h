/*
 * run.h - "drydock maint run": a plan carried out on the live clusters,
 * every step journalled (maint/journal.h), and its way back: resume after a
 * crash, abort before the switch.
 *
 * The step engine, per step, in plan order (PlanStepId):
 *
 *   journal: step started (durable) ──► step's run() ──► journal: step ended
 *        │ (what it creates is journalled before it exists: on_created)
 *        └─ a failure or an interrupt (SIGINT, SIGTERM, SIGHUP) stops the run:
 *           before the switch an interrupt aborts it (every done step undone,
 *           newest first), a failure leaves it FAILED for resume or abort
 *
 *   run state (JournalRunState) as the engine moves it:
 *
 *     RUNNING ──switchover ok──► SWITCHED ──sql-after, first-backup──► COMPLETED
 *        │  └─failure──► FAILED ──resume──► RUNNING     COMPLETED ──finish──► FINISHED
 *        └──abort / Ctrl-C──► ABORTED
 *
 * The live-only steps, owned here:
 *   switchover    maint/switchover.h from the primary to the green primary
 *                 (its fence stops the old primary: the old-primary step);
 *                 the roles are recorded (config/topology.h) as the green
 *                 primary with its standby, the old primary retired (kept
 *                 stopped, intact, until "maint finish")
 *   sql-after     each sql-after file on the new primary, all in one transaction
 *   old-primary   checked stopped (the switchover's fence stopped it)
 *   first-backup  a backup from the new standby (or the new primary when it
 *                 has none)
 *
 * Before the switchover the green primary is recorded as the standby, so
 * that the proxy (which switches only to servers the configuration, as the
 * topology lays it, names) accepts it; an abort records the old roles back.
 *
 * Resume: each step done stays done; a step cut short (RUNNING, FAILED,
 * UNDOING, UNDO_FAILED) is undone then done again; a switchover cut short is
 * not redone: if the green primary was promoted the run records the new
 * roles, points the proxy at it and ends any hold (switchover_adopt: the
 * dead run's lease may have fenced the proxy) and goes on from there
 * (SWITCHED); otherwise it is retried. Abort refuses once the green primary
 * has been promoted ("maint rollback"). A child program (pg_checksums,
 * pg_basebackup, pg_ctl) dies with the run (common/exec.h), so that no
 * step is redone while its first try still runs.
 *
 * A reload-only plan (plan.h) runs apply-reload and verify on the live
 * nodes (maint/reload.h), and sql-after on the live primary.
 *
 * Test points (common/testpoint.h): "maint-STEP" (e.g. "maint-start"), once
 * the step is journalled as started and before it does anything; inside
 * steps: "maint-offline-checksums" (caught up and stopped, pg_checksums not
 * started), "maint-start-catch-up" (started, not caught up), the backup's
 * ("copy", ...), the restore's ("restore-write") and the switchover's.
 * tests/integration/maint_crash.sh kills a run at each of them.
 */
#ifndef DD_MAINT_RUN_H
#define DD_MAINT_RUN_H

#include <stdbool.h>
#include <stdio.h>

#include "common/error.h"
#include "config/config.h"
#include "maint/plan.h"

typedef struct {
    bool json;         /* no progress lines on stdout (the caller prints JSON) */
    FILE *out;         /* progress lines (stdout); NULL: none */
    bool expired_only; /* maint finish --expired: only once the file's keep-old-primary passed */
} MaintRunOpts;

typedef struct {
    Plan plan;    /* steps with ran / actual_s / ok filled */
    MaintFile mf; /* the plan's file (plan.mf points here) */
    bool have_plan;
    const char *outcome; /* "completed", "aborted", "failed", ... */
    double hold_ms;      /* < 0: no switch */
    int held;            /* sessions held at the switch */
    int64_t run;         /* journal id */
} MaintRunResult;

/* maint run FILE: plan (refused on an error finding, DD_EXIT_PLAN), then every step. */
DD_MUST_CHECK bool maint_run(const Config *cfg, const char *file, const MaintRunOpts *o,
                             MaintRunResult *r);
/* maint resume: continue the last run from its journal. */
DD_MUST_CHECK bool maint_resume(const Config *cfg, const MaintRunOpts *o, MaintRunResult *r);
/* maint abort: undo the last run's steps, newest first (before the switch only). */
DD_MUST_CHECK bool maint_abort(const Config *cfg, const MaintRunOpts *o, MaintRunResult *r);
/* maint finish: the completed run is over; the old primary's directory is no longer needed. */
DD_MUST_CHECK bool maint_finish(const Config *cfg, const MaintRunOpts *o, MaintRunResult *r);

/* The result as plan.h's JSON object + "outcome" and "hold_ms"; the caller decrefs. */
json_t *maint_run_json(const MaintRunResult *r);
void maint_run_result_free(MaintRunResult *r);

#endif
