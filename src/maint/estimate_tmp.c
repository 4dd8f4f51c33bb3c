/*
 * estimate_tmp.c - TEMPORARY stand-in for the engine branch's estimate.c:
 * default rates only, every estimate low confidence. Deleted when main has
 * src/maint/estimate.c.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "maint/estimate_tmp.h"

static const struct {
    const char *name;
    double rate; /* units per second, or seconds for fixed costs */
    bool fixed;
} defaults[RATE__COUNT] = {
    [RATE_BACKUP_READ] = {"backup-read", 100e6, false},
    [RATE_BACKUP_STORE] = {"backup-store", 50e6, false},
    [RATE_RESTORE_WRITE] = {"restore-write", 100e6, false},
    [RATE_WAL_REPLAY] = {"wal-replay", 50e6, false},
    [RATE_CHECKSUM] = {"checksum", 150e6, false},
    [RATE_STARTUP] = {"startup", 5, true},
    [RATE_PROMOTE] = {"promote", 3, true},
    [RATE_HOLD] = {"hold", 1, true},
};

const char *rate_kind_name(RateKind k)
{
    return (unsigned)k < RATE__COUNT ? defaults[k].name : "unknown";
}

bool rates_record(Repo *repo, const RateSample *s)
{
    (void)repo;
    (void)s;
    return true;
}

void estimate_format_seconds(double s, char *out, size_t len)
{
    if (s < 60)
        snprintf(out, len, "%.1f s", s);
    else if (s < 3600)
        snprintf(out, len, "%d min %d s", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(out, len, "%d h %d min", (int)(s / 3600), (int)fmod(s / 60, 60));
}

bool estimate_step(Repo *repo, RateKind kind, double size, const char *what, Estimate *e)
{
    (void)repo;
    memset(e, 0, sizeof(*e));
    double secs = defaults[kind].fixed ? defaults[kind].rate : size / defaults[kind].rate;
    e->predicted_s = secs;
    e->low_s = secs * 0.5;
    e->high_s = secs * 3;
    e->low_confidence = true;
    snprintf(e->basis, sizeof(e->basis), "%s: default %s rate, no history (low confidence)", what,
             defaults[kind].name);
    return true;
}

void estimate_totals(Plan *p)
{
    p->predicted_s = p->low_s = p->high_s = 0;
    for (int i = 0; i < PSTEP__COUNT; i++)
        if (p->steps[i].enabled) {
            p->predicted_s += p->steps[i].est.predicted_s;
            p->low_s += p->steps[i].est.low_s;
            p->high_s += p->steps[i].est.high_s;
        }
}

static RateKind step_kind(PlanStepId id, double *size, const PlanSizes *z)
{
    *size = 1;
    switch (id) {
    case PSTEP_BACKUP:
    case PSTEP_FIRST_BACKUP:
        *size = (double)z->backup_read;
        return RATE_BACKUP_READ;
    case PSTEP_RESTORE:
    case PSTEP_STANDBY:
        *size = (double)z->data_bytes;
        return RATE_RESTORE_WRITE;
    case PSTEP_OFFLINE:
        *size = (double)z->data_bytes;
        return RATE_CHECKSUM;
    case PSTEP_SWITCHOVER:
        return RATE_PROMOTE;
    default:
        return RATE_STARTUP;
    }
}

bool estimate_plan(Repo *repo, Plan *p)
{
    for (int i = 0; i < PSTEP__COUNT; i++) {
        if (!p->steps[i].enabled)
            continue;
        double size;
        RateKind k = step_kind((PlanStepId)i, &size, &p->sizes);
        if (!estimate_step(repo, k, size, plan_step_name((PlanStepId)i), &p->steps[i].est))
            return false;
    }
    Estimate hold;
    if (!estimate_step(repo, RATE_HOLD, 1, "hold", &hold))
        return false;
    p->predicted_hold_ms = hold.predicted_s * 1000;
    snprintf(p->rollback_mechanism, sizeof(p->rollback_mechanism),
             "the old primary is rewound (pg_rewind) to follow the new one, then switched back to");
    if (!estimate_step(repo, RATE_PROMOTE, 1, "rollback", &p->rollback))
        return false;
    estimate_totals(p);
    return true;
}
