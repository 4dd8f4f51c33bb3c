/*
 * steps.h - the steps of a maintenance, written once and run two ways:
 * by "maint rehearse" on throwaway clusters (no journal, no proxy, archive
 * off, scratch ports and directories) and by "maint run" on the live
 * clusters (journalled, under the proxy).
 *
 * Each step is a row of the table: a function that does it and a function
 * that undoes a done or half-done self, so that a run killed in the middle
 * of a step can redo it from a clean state (undo, then do) and an abort can
 * walk back. A step reports what it creates (a directory, a running server)
 * through ctx->on_created before it creates it, so that a journal knows it
 * even when the process dies right after.
 *
 * What each step does, and its undo, is at the top of steps.c. Every step
 * records the rates it measured (estimate.h), as "rehearsal" or "maint run".
 *
 * The switchover and the steps after it (switchover, sql-after, old-primary,
 * first-backup) only have a meaning on the live clusters: the run owns them;
 * a rehearsal "switches" by promoting its clone (step_promote_clone()).
 */
#ifndef DD_MAINT_STEPS_H
#define DD_MAINT_STEPS_H

#include <signal.h>
#include <stdbool.h>

#include "common/error.h"
#include "common/progress.h"
#include "config/config.h"
#include "maint/plan.h"
#include "repo/repo.h"

typedef enum {
    MCREATED_DIR = 0, /* a directory the step made (removed by undo) */
    MCREATED_SERVER,  /* a PostgreSQL server the step started (data dir + port) */
} MaintCreatedType;

typedef struct MaintCtx MaintCtx;

typedef void (*MaintCreatedFn)(MaintCtx *ctx, PlanStepId step, MaintCreatedType type,
                               const char *what, int port);

struct MaintCtx {
    const Config *cfg;
    Repo *repo;
    MaintFile *mf;
    Plan *plan;
    bool rehearsal; /* throwaway clones: archive off, never writes the repository but rates */

    /* Where the green cluster goes: mf's [green] for a run, scratch for a rehearsal. */
    const char *green_data;
    int green_port;
    const char *green_standby_data; /* NULL: no standby */
    int green_standby_port;

    /* The live nodes as the topology has them now (conninfo, data directory). */
    const char *primary;
    const char *primary_data;
    const char *standby;
    const char *standby_data;

    Progress *progress; /* may be NULL */
    MaintCreatedFn on_created;
    void *arg;

    /* Rehearsal: the scratch directory the clones live in (their tablespaces go under it). */
    const char *scratch;
    /* When set to non-zero (by a signal handler), waits stop and the step fails. */
    volatile sig_atomic_t *interrupted;

    /* A reload-only run (reload.h): where it keeps the files it changes, as they were. */
    const char *saved_dir;
    /* What verify calls the server it checks; NULL: "green primary". */
    const char *verify_node;
};

typedef struct {
    PlanStepId id;
    DD_MUST_CHECK bool (*run)(MaintCtx *ctx);
    /* Undo a done or half-done run (idempotent; NULL: nothing to undo). */
    DD_MUST_CHECK bool (*undo)(MaintCtx *ctx);
} MaintStep;

/* The row for a step that steps.c implements, or NULL (switchover and after: the run's). */
const MaintStep *maint_step(PlanStepId id);

/* Rehearsal only: promote the green clone, as the switch would. */
DD_MUST_CHECK bool step_promote_clone(MaintCtx *ctx);

/* Stop every server and remove every directory the steps created for ctx (rehearsal cleanup). */
DD_MUST_CHECK bool maint_steps_cleanup(MaintCtx *ctx);

#endif
