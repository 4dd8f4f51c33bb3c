/*
 * plan.h - a maintenance turned into a plan: classified changes, ordered
 * steps each with a predicted duration, its range and basis, and findings.
 *
 *   MaintFile ─► classify (live pg_settings) ─► measure sizes ─► estimate
 *             ─► lint (findings) ─► Plan ─► print / JSON / rehearse / run
 *
 * Steps of a full plan, in order (PlanStepId); a step that the changes do
 * not need is present with enabled = false and is not run:
 *
 *   preflight      connect, identify both nodes, check the proxy
 *   backup         a backup from the standby (reads only what changed)
 *   restore        lay the newest backup down into [green] data as a standby
 *                  of the current primary, with the restart-kind settings
 *   offline        pg_checksums --enable/--disable on the stopped green primary
 *   start          start it, catch up with the primary through streaming
 *   standby        the green primary's own standby ([green] standby-data)
 *   verify         every change is in effect on the green cluster
 *   switchover     pause the proxy, catch up, promote, switch, resume
 *   sql-after      the sql-after files on the new primary, in one transaction
 *   old-primary    stop the old primary; keep it intact for rollback
 *   first-backup   the first backup of the new primary
 *
 * A reload-only plan has the steps apply-reload (ALTER SYSTEM + pg_reload_conf()
 * on the live primary) and verify only.
 *
 * The JSON form (the command-line contract other tools read):
 *   {"title":..., "reload_only":false,
 *    "changes":[{"type","name","value","kind","reason","current"}],
 *    "steps":[{"name","predicted_s","low_s","high_s","basis","low_confidence",
 *              "enabled"[, "actual_s","ok"]}],
 *    "predicted_s":..., "low_s":..., "high_s":..., "predicted_hold_ms":...,
 *    "rollback":{"mechanism":..., "rebuild":bool, "predicted_s":..., "low_s":..., "high_s":...,
 *                "steps":[{"name","predicted_s","low_s","high_s","basis","low_confidence",
 *                          "enabled"}]},
 *    "findings":[{"severity":"error"|"warning","code","message","hint"}]}
 * A rehearsal or a run adds "actual_s" and "ok" to each step it ran, and a
 * run adds "outcome" and "hold_ms".
 */
#ifndef DD_MAINT_PLAN_H
#define DD_MAINT_PLAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/error.h"
#include "config/config.h"
#include "maint/mfile.h"

typedef enum {
    PSTEP_PREFLIGHT = 0,
    PSTEP_APPLY_RELOAD, /* reload-only plans */
    PSTEP_BACKUP,
    PSTEP_RESTORE,
    PSTEP_OFFLINE,
    PSTEP_START,
    PSTEP_STANDBY,
    PSTEP_VERIFY,
    PSTEP_SWITCHOVER,
    PSTEP_SQL_AFTER,
    PSTEP_OLD_PRIMARY,
    PSTEP_FIRST_BACKUP,
    PSTEP__COUNT
} PlanStepId;

/* "preflight", "apply-reload", "backup", ... (the JSON "name"). */
const char *plan_step_name(PlanStepId id);

/*
 * The steps of "maint rollback" (maint/rollback.h), in order. Which run
 * depends on the mechanism, chosen by one rule (rollback_rebuild()):
 *   rewind   follow, switch, settings, green
 *   rebuild  backup, restore, [offline: checksums changed], start, switch,
 *            settings, green
 */
typedef enum {
    RSTEP_BACKUP = 0, /* a fresh backup of the new primary (from its standby) */
    RSTEP_RESTORE,    /* the old primary's directory kept aside, the backup restored there */
    RSTEP_OFFLINE,    /* pg_checksums back to the old setting, on a clean shutdown */
    RSTEP_START,      /* started as a standby of the new primary, streaming */
    RSTEP_FOLLOW,     /* pg_rewind, started as a standby of the new primary, streaming */
    RSTEP_SWITCH,     /* the switchover back (maint/switchover.h) */
    RSTEP_SETTINGS,   /* the old postgresql.auto.conf back, reloaded */
    RSTEP_GREEN,      /* the green standby stopped (the green primary: by the switch) */
    RSTEP__COUNT
} RollbackStepId;

/* "rollback-backup", ... (the journal's and the JSON's "name"). */
const char *rollback_step_name(RollbackStepId id);

/*
 * The rule: rebuild when the maintenance changes data checksums (pg_rewind
 * would copy the new primary's pg_control, checksums and all, over pages
 * that have none) or when the old primary has neither data checksums nor
 * wal_log_hints (pg_rewind refuses it); else rewind.
 */
bool rollback_rebuild(bool checksums_change, bool old_primary_rewindable);

typedef struct {
    double predicted_s, low_s, high_s;
    double fixed_s;      /* of predicted_s, the part that does not grow with the sizes */
    bool low_confidence; /* a default rate: no history on this repository */
    char basis[640];     /* "1.52 GB at 410 MB/s, measured by the restore of ... → 3.7 s" */
} Estimate;

typedef struct {
    PlanStepId id;
    bool enabled;
    Estimate est;
    /* Filled by a rehearsal or a run. */
    bool ran;
    double actual_s;
    bool ok;
} PlanStep;

typedef enum { FINDING_WARNING = 0, FINDING_ERROR } FindingSeverity;

typedef struct {
    FindingSeverity severity;
    char *code;    /* stable, e.g. "backup-from-primary", "standby-lag" */
    char *message; /* one line naming the thing */
    char *hint;
} Finding;

/* Sizes measured now; the estimator's inputs. */
typedef struct {
    uint64_t data_bytes;       /* data directory + tablespaces of the primary */
    uint64_t backup_read;      /* what the next backup reads */
    uint64_t backup_store;     /* what it stores (changed since the last backup) */
    uint64_t wal_since_backup; /* WAL bytes from the last backup's start to now */
    double wal_rate;           /* WAL bytes per second now */
    uint64_t standby_lag;      /* the standby's replay lag, bytes */
    bool have_backup;          /* a backup exists in the repository */
    bool primary_rewindable;   /* data_checksums or wal_log_hints on the primary */
    bool backup_guided;        /* the next backup can follow the WAL (backup/guide.h) */
    /* When it cannot, why it reads every file whole ("" when it can). */
    char backup_full_reason[160];
} PlanSizes;

typedef struct {
    const MaintFile *mf; /* not owned */
    bool reload_only;
    PlanSizes sizes;
    PlanStep steps[PSTEP__COUNT]; /* indexed by PlanStepId */
    double predicted_s, low_s, high_s;
    double predicted_hold_ms;
    char rollback_mechanism[256];
    Estimate rollback; /* the sum of the enabled rollback_steps */
    bool rollback_rebuild;
    struct {
        bool enabled;
        Estimate est;
    } rollback_steps[RSTEP__COUNT];
    Finding *findings;
    size_t nfindings;
} Plan;

/*
 * Build the plan of mf against the live clusters and the repository of cfg:
 * classify the changes (filling mf's kind/reason/current), measure the sizes,
 * estimate every step (estimate.h), lint. false only when the plan cannot be
 * made at all (a node unreachable, the repository missing): lint errors are
 * findings, not failures; see plan_has_errors().
 */
DD_MUST_CHECK bool plan_build(const Config *cfg, MaintFile *mf, Plan *out);
bool plan_has_errors(const Plan *p);
void plan_free(Plan *p);

/* Add a finding (copies the strings). */
void plan_add_finding(Plan *p, FindingSeverity sev, const char *code, const char *message,
                      const char *hint);

/* The JSON object described above; the caller decrefs. */
json_t *plan_to_json(const Plan *p);
/* The plan for people: changes, steps with estimates and bases, totals, findings. */
void plan_print(const Plan *p, FILE *out);

#endif
