/*
 * rehearse.h - "drydock maint rehearse": the plan's steps run on throwaway
 * clusters, timed against their predictions.
 *
 *   plan_build ─► the newest backup ─► scratch directory and ports
 *     ─► preflight ─► restore (a streaming standby of the live primary,
 *        archive_mode = off) ─► offline ─► start + catch-up ─► standby
 *        ─► verify ─► switchover (the clone promoted; its standby follows)
 *     ─► cleanup: every clone stopped, the scratch directory removed
 *
 * Rules:
 *  1. The live clusters are only read: the clone streams from the primary
 *     as a standby would, through the same conninfo; nothing is written to
 *     them, the proxy is not involved.
 *  2. The repository is only read, except the rates the steps measured
 *     (estimate.h), which is the point: the next plan is better.
 *  3. The scratch directory is made next to [green] data (the file system
 *     the run will use, so the timings are representative) unless scratch
 *     is given; the ports are free loopback ports.
 *  4. Cleanup runs whatever happens: a failed step, SIGINT, SIGTERM or
 *     SIGHUP (taken at the next poll or between steps); only keep skips it.
 *  5. The steps not rehearsed (backup: it would write the repository;
 *     sql-after, old-primary, first-backup: they act on the live clusters)
 *     are shown with their predictions but not run.
 *
 * Test point: with DRYDOCK_TEST_REHEARSE_WAIT=FILE, before the cleanup the
 * rehearsal writes FILE.ready (one JSON line: scratch, port, standby_port)
 * and waits until FILE is removed (at most 600 s), so that a test can look
 * at the clones.
 */
#ifndef DD_MAINT_REHEARSE_H
#define DD_MAINT_REHEARSE_H

#include <limits.h>
#include <stdbool.h>

#include "common/error.h"
#include "common/progress.h"
#include "config/config.h"
#include "maint/mfile.h"
#include "maint/plan.h"

typedef void (*RehearseStepFn)(const Plan *p, PlanStepId id, void *arg);

typedef struct {
    const char *scratch;     /* the parent of the scratch directory; NULL: next to [green] data */
    bool keep;               /* leave the clones running and their directory (inspection) */
    Progress *progress;      /* may be NULL */
    RehearseStepFn on_built; /* called once the plan is built (id: PSTEP_PREFLIGHT) */
    RehearseStepFn on_step;  /* called as each step ends */
    void *arg;
} RehearseOpts;

typedef struct {
    char scratch[PATH_MAX]; /* the scratch directory (removed unless keep) */
    int port, standby_port; /* the clones' ports (standby_port 0: none) */
    char backup_id[32];     /* the backup the clone was restored from */
    bool cleaned;           /* everything was removed */
} RehearseResult;

/*
 * Rehearse mf. plan is filled (plan_build, then the rehearsal's own
 * estimates and each step's actual time and outcome) even when a step
 * fails: free it with plan_free(). false when a step failed (the error
 * names it) or the plan could not be made.
 */
DD_MUST_CHECK bool rehearse_run(const Config *cfg, MaintFile *mf, const RehearseOpts *o, Plan *plan,
                                RehearseResult *r);

#endif
