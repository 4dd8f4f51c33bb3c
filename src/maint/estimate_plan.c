/*
 * estimate_plan.c - the duration of each step of a plan, from the sizes
 * measured now (PlanSizes) and the rates (estimate.c). One place, so that
 * "maint plan", "maint rehearse" and "maint run" predict alike.
 *
 *   preflight     preflight (fixed)
 *   apply-reload  verify (fixed)
 *   backup        guided (sizes.h backup_guided): wal_since_backup at
 *                 backup-guided (the whole backup; recorded from guided
 *                 backups only), or before any guided backup was
 *                 measured, backup_store at backup-read (low confidence);
 *                 else a full read: the longer of
 *                 backup_read (data_bytes) at backup-read and backup_store
 *                 at backup-store (a backup reads and stores at once;
 *                 both recorded from full reads only)
 *   restore       data_bytes at restore-write
 *   offline       startup + catch-up + shutdown + data_bytes at checksum
 *                 (the cluster must have shut down cleanly before
 *                 pg_checksums runs); the catch-up: the WAL to replay,
 *                 W = the WAL since the backup the restore uses
 *                 (wal_since_backup, or the WAL written while the backup
 *                 step runs) + wal_rate × the restore step; replayed at R
 *                 while the primary writes wal_rate more: W / (R − wal_rate)
 *   start         startup + catch-up of W (no offline step), or of what the
 *                 primary wrote during the offline step
 *   standby       data_bytes at basebackup + startup + the wait until it
 *                 streams
 *   verify        verify (fixed)
 *   switchover    preflight + hold (the hold: measured holds, else promotions)
 *   sql-after     a fixed allowance of 1 s
 *   old-primary   shutdown
 *   first-backup  as backup, reading data_bytes and storing all of it when
 *                 data checksums change (every page differs), else the WAL
 *                 written meanwhile
 *
 * The rollback (plan.h's RollbackStepId), step by step, summed:
 *   rollback-backup    as backup, reading and storing data_bytes
 *   rollback-restore   data_bytes at restore-write
 *   rollback-offline   startup + shutdown (pg_checksums --disable: pg_control only)
 *   rollback-start     startup
 *   rollback-follow    startup (the rewind copies what changed: little)
 *   rollback-switch    preflight + hold + shutdown (the new primary fenced)
 *   rollback-settings  verify (fixed)
 *   rollback-green     shutdown
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "maint/estimate.h"

/* acc += e, the bases joined with "; " (what fits). */
static void est_add(Estimate *acc, const Estimate *e)
{
    acc->predicted_s += e->predicted_s;
    acc->fixed_s += e->fixed_s;
    acc->low_s += e->low_s;
    acc->high_s += e->high_s;
    acc->low_confidence |= e->low_confidence;
    size_t len = strlen(acc->basis);
    snprintf(acc->basis + len, sizeof(acc->basis) - len, "%s%s", len ? "; " : "", e->basis);
}

static bool est_sum(Repo *repo, Estimate *out, RateKind kind, double size, const char *what)
{
    Estimate e;
    if (!estimate_step(repo, kind, size, what, &e))
        return false;
    est_add(out, &e);
    return true;
}

/* A backup reading read bytes and storing store: the longer of the two. */
static bool est_backup(Repo *repo, double read, double store, Estimate *out)
{
    Estimate r, s;
    if (!estimate_step(repo, RATE_BACKUP_READ, read, "read", &r) ||
        !estimate_step(repo, RATE_BACKUP_STORE, store, "store", &s))
        return false;
    const Estimate *big = r.predicted_s >= s.predicted_s ? &r : &s;
    *out = *big;
    out->low_confidence = r.low_confidence || s.low_confidence;
    return true;
}

/*
 * A guided backup: the WAL since the last backup at backup-guided; with no
 * guided backup measured yet, the pages it names (backup_store: at most the
 * WAL, at most the cluster) at the full-read rate when that was measured,
 * else the default.
 */
static bool est_guided(Repo *repo, const PlanSizes *z, Estimate *out)
{
    if (!estimate_step(repo, RATE_BACKUP_GUIDED, fmax((double)z->wal_since_backup, 1), "guided",
                       out))
        return false;
    if (!out->low_confidence)
        return true;
    Estimate r;
    if (!estimate_step(repo, RATE_BACKUP_READ, fmax((double)z->backup_store, 1),
                       "guided (no guided backup measured yet): the changed pages, at most", &r))
        return false;
    if (!r.low_confidence) {
        *out = r;
        out->low_confidence = true; /* a bound from another kind's rate */
    }
    return true;
}

/* Catching up W bytes of WAL while the primary writes wal_rate more each second. */
static bool est_catchup(Repo *repo, double wal, double wal_rate, Estimate *out)
{
    Estimate e;
    if (!estimate_step(repo, RATE_WAL_REPLAY, wal, "catch-up", &e))
        return false;
    if (e.predicted_s > 0 && wal_rate > 0) {
        double r = wal / e.predicted_s;
        double factor = r > 1.25 * wal_rate ? r / (r - wal_rate) : 5.0;
        e.predicted_s *= factor;
        e.low_s *= factor;
        e.high_s *= factor;
        size_t len = strlen(e.basis);
        snprintf(e.basis + len, sizeof(e.basis) - len,
                 "; ×%.2f while the primary writes %.1f MB/s%s", factor, wal_rate / 1e6,
                 factor >= 5.0 ? " (replay barely outpaces it)" : "");
    }
    est_add(out, &e);
    return true;
}

static bool changes_checksums(const Plan *p)
{
    for (size_t i = 0; p->mf && i < p->mf->nchanges; i++)
        if (p->mf->changes[i].type == MCHANGE_CHECKSUMS)
            return true;
    return false;
}

static bool est_hold(Repo *repo, Estimate *out)
{
    Estimate hold;
    if (!estimate_step(repo, RATE_HOLD, 1, "client hold", &hold))
        return false;
    if (hold.low_confidence &&
        !estimate_step(repo, RATE_PROMOTE, 1, "client hold (promotion)", &hold))
        return false;
    *out = hold;
    return true;
}

/* The WAL a restored green server is behind by when it first starts. */
static double wal_behind(const Plan *p, const double *t)
{
    const PlanSizes *z = &p->sizes;
    double wal = p->steps[PSTEP_BACKUP].enabled ? z->wal_rate * t[PSTEP_BACKUP]
                                                : (double)z->wal_since_backup;
    return wal + z->wal_rate * t[PSTEP_RESTORE];
}

static bool est_one(Repo *repo, Plan *p, PlanStepId id, const double *t)
{
    const PlanSizes *z = &p->sizes;
    Estimate *e = &p->steps[id].est;
    double data = (double)z->data_bytes;
    memset(e, 0, sizeof(*e));
    switch (id) {
    case PSTEP_PREFLIGHT:
        return est_sum(repo, e, RATE_PREFLIGHT, 1, "preflight");
    case PSTEP_APPLY_RELOAD:
    case PSTEP_VERIFY:
        return est_sum(repo, e, RATE_VERIFY, 1, "verification");
    case PSTEP_BACKUP:
        if (z->backup_guided)
            return est_guided(repo, z, e);
        return est_backup(repo, (double)z->backup_read, (double)z->backup_store, e);
    case PSTEP_RESTORE:
        return est_sum(repo, e, RATE_RESTORE_WRITE, data, "restore");
    case PSTEP_OFFLINE:
        /* The biggest part first: a basis that does not fit is cut at its end. */
        return est_sum(repo, e, RATE_CHECKSUM, data, "pg_checksums") &&
               est_catchup(repo, fmax(wal_behind(p, t), 1), z->wal_rate, e) &&
               est_sum(repo, e, RATE_STARTUP, 1, "start-up") &&
               est_sum(repo, e, RATE_SHUTDOWN, 1, "shutdown");
    case PSTEP_START: {
        /* After an offline step, only what the primary wrote while it ran. */
        double wal =
            p->steps[PSTEP_OFFLINE].enabled ? z->wal_rate * t[PSTEP_OFFLINE] : wal_behind(p, t);
        return est_catchup(repo, fmax(wal, 1), z->wal_rate, e) &&
               est_sum(repo, e, RATE_STARTUP, 1, "start-up");
    }
    case PSTEP_STANDBY:
        return est_sum(repo, e, RATE_BASEBACKUP, data, "pg_basebackup") &&
               est_sum(repo, e, RATE_STARTUP, 1, "start-up") &&
               est_sum(repo, e, RATE_STREAMING, 1, "streaming");
    case PSTEP_SWITCHOVER: {
        Estimate hold;
        if (!est_hold(repo, &hold))
            return false;
        p->predicted_hold_ms = hold.predicted_s * 1000;
        return est_sum(repo, e, RATE_PREFLIGHT, 1, "checks") && (est_add(e, &hold), true);
    }
    case PSTEP_SQL_AFTER:
        e->predicted_s = 1;
        e->low_s = 0.1;
        e->high_s = 10;
        snprintf(e->basis, sizeof(e->basis), "sql-after: a fixed allowance of 1 s");
        return true;
    case PSTEP_OLD_PRIMARY:
        return est_sum(repo, e, RATE_SHUTDOWN, 1, "shutdown");
    case PSTEP_FIRST_BACKUP: {
        double store = changes_checksums(p) ? data : fmin(data, z->wal_rate * t[PSTEP__COUNT]);
        return est_backup(repo, data, store, e);
    }
    default:
        return true;
    }
}

/* One rollback step's estimate (the steps are in plan.h, the rule in rollback_rebuild()). */
static bool est_rollback_step(Repo *repo, Plan *p, RollbackStepId id, Estimate *e)
{
    double data = (double)p->sizes.data_bytes;
    switch (id) {
    case RSTEP_BACKUP: /* every page when checksums changed; conservative otherwise too */
        return est_backup(repo, data, data, e);
    case RSTEP_RESTORE:
        return est_sum(repo, e, RATE_RESTORE_WRITE, data, "restore");
    case RSTEP_OFFLINE: /* pg_checksums --disable rewrites pg_control only */
        return est_sum(repo, e, RATE_STARTUP, 1, "start-up") &&
               est_sum(repo, e, RATE_SHUTDOWN, 1, "shutdown");
    case RSTEP_START:
        return est_sum(repo, e, RATE_STARTUP, 1, "start as a standby");
    case RSTEP_FOLLOW:
        return est_sum(repo, e, RATE_STARTUP, 1, "rewind and start as a standby");
    case RSTEP_SWITCH: {
        Estimate hold;
        return est_hold(repo, &hold) && est_sum(repo, e, RATE_PREFLIGHT, 1, "checks") &&
               (est_add(e, &hold), true) && est_sum(repo, e, RATE_SHUTDOWN, 1, "fence");
    }
    case RSTEP_SETTINGS:
        return est_sum(repo, e, RATE_VERIFY, 1, "reload");
    case RSTEP_GREEN:
        return est_sum(repo, e, RATE_SHUTDOWN, 1, "shutdown");
    default:
        return true;
    }
}

/*
 * How a rollback would go (maint/rollback.h carries it out), and how long:
 * rewind the old primary and switch back, or rebuild it and switch back.
 */
static bool est_rollback(Repo *repo, Plan *p)
{
    Estimate *e = &p->rollback;
    memset(e, 0, sizeof(*e));
    bool checksums = changes_checksums(p);
    bool rebuild = rollback_rebuild(checksums, p->sizes.primary_rewindable);
    p->rollback_rebuild = rebuild;
    if (!p->rollback_mechanism[0])
        snprintf(p->rollback_mechanism, sizeof(p->rollback_mechanism), "%s",
                 !rebuild ? "the old primary is rewound (pg_rewind) to follow the new one, "
                            "keeping its own settings, then the switchover is done the other way"
                 : checksums
                     ? "data checksums change, so the old primary cannot be rewound: it is "
                       "rebuilt from a fresh backup of the new primary with its old settings "
                       "(its directory kept aside), then switched back to"
                     : "the old primary has neither data checksums nor wal_log_hints, so it "
                       "cannot be rewound: it is rebuilt from a fresh backup of the new primary "
                       "with its old settings (its directory kept aside), then switched back to");
    for (int i = 0; i < RSTEP__COUNT; i++) {
        RollbackStepId id = (RollbackStepId)i;
        bool on = id == RSTEP_SWITCH || id == RSTEP_SETTINGS || id == RSTEP_GREEN ||
                  (rebuild && (id == RSTEP_BACKUP || id == RSTEP_RESTORE || id == RSTEP_START)) ||
                  (rebuild && checksums && id == RSTEP_OFFLINE) || (!rebuild && id == RSTEP_FOLLOW);
        p->rollback_steps[i].enabled = on;
        memset(&p->rollback_steps[i].est, 0, sizeof(Estimate));
        if (on && !est_rollback_step(repo, p, id, &p->rollback_steps[i].est))
            return false;
        if (on)
            est_add(e, &p->rollback_steps[i].est);
    }
    return true;
}

bool estimate_plan(Repo *repo, Plan *p)
{
    double t[PSTEP__COUNT + 1] = {0}; /* predicted seconds per step; [COUNT]: the running sum */
    p->predicted_hold_ms = 0;
    for (int i = 0; i < PSTEP__COUNT; i++) {
        if (!p->steps[i].enabled)
            continue;
        if (!est_one(repo, p, (PlanStepId)i, t))
            return false;
        t[i] = p->steps[i].est.predicted_s;
        t[PSTEP__COUNT] += t[i];
    }
    if (!est_rollback(repo, p))
        return false;
    estimate_totals(p);
    return true;
}
