/*
 * rollback.h - "drydock maint rollback": after a "maint run" has switched
 * the traffic to the green primary, return it to a cluster with the old
 * configuration, holding every transaction committed on the green primary,
 * with the same short proxy hold as the switch (maint/switchover.h).
 *
 * The mechanism, by plan.h's rule rollback_rebuild(), decided from the
 * facts (the old primary's pg_control against the new primary's
 * data_checksums) and kept once a step has been journalled:
 *
 *   rewind   (checksums unchanged, and the old primary has data checksums
 *            or wal_log_hints)
 *     rollback-follow    the old primary's postgresql.auto.conf is kept in
 *                        STATE-DIR/rollback-<run>.auto.conf; pg_rewind
 *                        against the new primary, started as its standby
 *                        with its own settings (fence_demote()), streaming
 *   rebuild  (otherwise)
 *     rollback-backup    a fresh backup of the new primary, from its standby
 *     rollback-restore   the old primary's data directory renamed to
 *                        DATA.rollback-<run> (journalled before it is, kept
 *                        until "maint finish"); the backup restored into DATA
 *                        as a standby of the new primary; the old
 *                        postgresql.conf, postgresql.auto.conf, pg_hba.conf,
 *                        pg_ident.conf copied back in
 *     rollback-offline   (checksums changed) start, clean stop, pg_checksums
 *                        back to the old setting (--disable: pg_control only)
 *     rollback-start     started as a standby of the new primary, streaming
 *   both
 *     rollback-switch    the roles recorded (new primary, old one its
 *                        standby), restore_command cleared on the old one
 *                        (no archive probe inside the hold), then
 *                        switchover_run() from the new primary to the old
 *                        one, the new primary stopped by its fence; the roles
 *                        recorded: the old primary, no standby, the green
 *                        primary retired
 *     rollback-settings  the old postgresql.auto.conf back (the recovery
 *                        settings gone), pg_reload_conf()
 *     rollback-green     the green standby stopped; the green directories
 *                        are kept until "maint finish"
 *
 * A hot-standby minimum the maintenance raised (max_connections,
 * max_worker_processes, max_wal_senders, max_prepared_transactions,
 * max_locks_per_transaction) is set to the raised value while the old
 * primary is a standby (PostgreSQL refuses to start it otherwise); after the
 * switch its old value is back in postgresql.auto.conf, pending a restart
 * (lint's rollback-keeps-minimum warns of it).
 *
 * Journalled like a run (journal.h), in the run's own journal rows: the run
 * goes ROLLING_BACK, then ROLLED_BACK with the hold. A step cut short is
 * undone (stopped; a partial restore removed) and done again; a switch cut
 * short after the old primary was promoted counts as done. "maint rollback"
 * or "maint resume" continue a rollback that died.
 *
 * Test points: "maint-rollback-STEP" once the step is journalled as started.
 */
#ifndef DD_MAINT_ROLLBACK_H
#define DD_MAINT_ROLLBACK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "config/config.h"
#include "maint/journal.h"
#include "maint/plan.h"
#include "maint/run.h"

typedef struct {
    bool enabled, ran, ok;
    double predicted_s, low_s, high_s, actual_s;
} RollbackStepResult;

typedef struct {
    int64_t run;         /* journal id, 0: none */
    const char *outcome; /* "rolled back", "failed" */
    double hold_ms;      /* < 0: no switch */
    int held;
    bool rebuild;
    char mechanism[256];                    /* the plan's words */
    double predicted_s, low_s, high_s;      /* the plan's rollback estimate */
    RollbackStepResult steps[RSTEP__COUNT]; /* by RollbackStepId */
} MaintRollbackResult;

/* maint rollback (also "maint resume" of a rollback under way). */
DD_MUST_CHECK bool maint_rollback(const Config *cfg, const MaintRunOpts *o, MaintRollbackResult *r);

/* Whether the last run is ROLLING_BACK (then "maint resume" continues the rollback). */
bool maint_rollback_pending(const Config *cfg);

/* {"run","outcome","hold_ms","mechanism","rebuild","predicted_s","low_s","high_s",
 *  "steps":[{"name","enabled","predicted_s","low_s","high_s"[,"actual_s","ok"]}]} */
json_t *maint_rollback_json(const MaintRollbackResult *r);

#endif
