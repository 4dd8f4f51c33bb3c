/*
 * plan.c - a maintenance file turned into a plan (plan.h): classify the
 * changes from the primary's pg_settings, choose the steps, measure the
 * sizes, estimate every step (estimate.h), lint. plan_out.c prints it.
 *
 * Sizes measured here (the estimator's inputs, PlanSizes):
 *   data_bytes        sum(pg_database_size()) on the primary (tablespaces included)
 *   wal_since_backup  the primary's WAL position minus the newest backup's start
 *   wal_rate          WAL written over one second now
 *   backup_read       data_bytes: a backup reads every file
 *   backup_store      what changed since the newest backup, bounded by the WAL
 *                     written since (a block changes at most once per WAL record
 *                     that touches it): min(data_bytes, wal_since_backup);
 *                     data_bytes when there is no backup
 *   standby_lag       the primary's WAL position minus the standby's replay
 */
#include "maint/plan.h"

#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/timeutil.h"
#include "maint/classify.h"
#include "maint/estimate.h"
#include "maint/lint.h"
#include "pg/conn.h"
#include "restore/catalog.h"

const char *plan_step_name(PlanStepId id)
{
    static const char *const names[PSTEP__COUNT] = {
        [PSTEP_PREFLIGHT] = "preflight",     [PSTEP_APPLY_RELOAD] = "apply-reload",
        [PSTEP_BACKUP] = "backup",           [PSTEP_RESTORE] = "restore",
        [PSTEP_OFFLINE] = "offline",         [PSTEP_START] = "start",
        [PSTEP_STANDBY] = "standby",         [PSTEP_VERIFY] = "verify",
        [PSTEP_SWITCHOVER] = "switchover",   [PSTEP_SQL_AFTER] = "sql-after",
        [PSTEP_OLD_PRIMARY] = "old-primary", [PSTEP_FIRST_BACKUP] = "first-backup",
    };
    return (unsigned)id < PSTEP__COUNT ? names[id] : "unknown";
}

void plan_add_finding(Plan *p, FindingSeverity sev, const char *code, const char *message,
                      const char *hint)
{
    p->findings = xrealloc(p->findings, (p->nfindings + 1) * sizeof(*p->findings));
    p->findings[p->nfindings++] = (Finding){.severity = sev,
                                            .code = xstrdup(code),
                                            .message = xstrdup(message),
                                            .hint = xstrdup(hint ? hint : "")};
}

bool plan_has_errors(const Plan *p)
{
    for (size_t i = 0; i < p->nfindings; i++)
        if (p->findings[i].severity == FINDING_ERROR)
            return true;
    return false;
}

void plan_free(Plan *p)
{
    for (size_t i = 0; i < p->nfindings; i++) {
        free(p->findings[i].code);
        free(p->findings[i].message);
        free(p->findings[i].hint);
    }
    free(p->findings);
    p->findings = NULL;
    p->nfindings = 0;
}

static bool has_kind(const MaintFile *mf, MaintChangeKind k)
{
    for (size_t i = 0; i < mf->nchanges; i++)
        if (mf->changes[i].kind == k)
            return true;
    return false;
}

/* Which steps this plan has (the others stay, disabled, in PlanStepId order). */
static void plan_choose_steps(Plan *p, const MaintFile *mf)
{
    for (int i = 0; i < PSTEP__COUNT; i++)
        p->steps[i] = (PlanStep){.id = (PlanStepId)i};
    bool *on[PSTEP__COUNT];
    for (int i = 0; i < PSTEP__COUNT; i++)
        on[i] = &p->steps[i].enabled;
    bool sql = has_kind(mf, MKIND_POST_SWITCH);
    if (p->reload_only) {
        *on[PSTEP_APPLY_RELOAD] = *on[PSTEP_VERIFY] = true;
        *on[PSTEP_SQL_AFTER] = sql;
        return;
    }
    *on[PSTEP_PREFLIGHT] = *on[PSTEP_BACKUP] = *on[PSTEP_RESTORE] = *on[PSTEP_START] = true;
    *on[PSTEP_OFFLINE] = has_kind(mf, MKIND_OFFLINE);
    *on[PSTEP_STANDBY] = mf->green_standby_data != NULL;
    *on[PSTEP_VERIFY] = *on[PSTEP_SWITCHOVER] = *on[PSTEP_OLD_PRIMARY] = true;
    *on[PSTEP_SQL_AFTER] = sql;
    *on[PSTEP_FIRST_BACKUP] = true;
}

static bool query_u64(PGconn *conn, const char *sql, uint64_t *out)
{
    char *v = pg_query_value(conn, sql, 0, NULL);
    if (!v)
        return false;
    *out = strtoull(v, NULL, 10);
    free(v);
    return true;
}

static bool query_lsn(PGconn *conn, uint64_t *lsn)
{
    char *v = pg_query_value(conn, "SELECT pg_current_wal_lsn()::text", 0, NULL);
    bool ok = v && pg_lsn_parse(v, lsn);
    free(v);
    return ok || err_set(DD_EXIT_PG, "could not read the primary's WAL position");
}

/* The sizes of the header comment; *lsn gets the primary's WAL position. */
static bool plan_measure(PGconn *primary, const Catalog *cat, PlanSizes *z, uint64_t *lsn)
{
    uint64_t lsn0;
    memset(z, 0, sizeof(*z));
    if (!query_u64(primary, "SELECT sum(pg_database_size(oid))::bigint FROM pg_database",
                   &z->data_bytes) ||
        !query_lsn(primary, &lsn0))
        return err_context("measuring the primary");
    double t0 = time_mono();
    time_sleep(1.0);
    if (!query_lsn(primary, lsn))
        return err_context("measuring the primary");
    z->wal_rate = (double)(*lsn - lsn0) / (time_mono() - t0);
    z->have_backup = cat->nbackups > 0;
    z->backup_read = z->data_bytes;
    z->backup_store = z->data_bytes;
    if (z->have_backup) {
        uint64_t start = cat->backups[cat->nbackups - 1].start_lsn;
        z->wal_since_backup = *lsn > start ? *lsn - start : 0;
        if (z->wal_since_backup < z->backup_store)
            z->backup_store = z->wal_since_backup;
    }
    if (!query_u64(primary,
                   "SELECT coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), 0)"
                   "::bigint FROM pg_stat_replication",
                   &z->standby_lag))
        return err_context("measuring the standby's lag");
    return true;
}

static bool plan_classify(PGconn *primary, MaintFile *mf, Plan *p)
{
    PGresult *res;
    PgSettingRow *rows;
    size_t n;
    if (!classify_read_settings(primary, &res, &rows, &n))
        return false;
    classify_changes(mf, rows, n, p);
    free(rows);
    PQclear(res);
    p->reload_only = classify_reload_only(mf);
    return true;
}

bool plan_build(const Config *cfg, MaintFile *mf, Plan *out)
{
    memset(out, 0, sizeof(*out));
    out->mf = mf;
    if (!config_require(cfg, "cluster", "primary", cfg->primary))
        return false;
    PGconn *primary = NULL, *standby = NULL;
    Repo *repo = NULL;
    Catalog cat = {0};
    bool cat_loaded = false, ok = false;
    char *standby_error = NULL;
    uint64_t lsn = 0;
    if (!(primary = pg_connect(cfg->primary, "primary")) || !plan_classify(primary, mf, out))
        goto done;
    plan_choose_steps(out, mf);
    if (!repo_open(cfg, &repo) || !(cat_loaded = catalog_load(repo, &cat)))
        goto done;
    if (cfg->standby && cfg->standby[0] && !(standby = pg_connect(cfg->standby, "standby"))) {
        standby_error = xstrdup(err_message());
        err_clear();
    }
    if (!plan_measure(primary, &cat, &out->sizes, &lsn) || !estimate_plan(repo, out))
        goto done;
    LintCtx lc = {.cfg = cfg,
                  .mf = mf,
                  .primary = primary,
                  .standby = standby,
                  .standby_error = standby_error,
                  .repo = repo,
                  .catalog = &cat,
                  .current_lsn = lsn};
    lint_run(&lc, out);
    ok = true;
done:
    if (!ok)
        plan_free(out);
    free(standby_error);
    if (cat_loaded)
        catalog_free(&cat);
    repo_close(repo);
    pg_disconnect(standby);
    pg_disconnect(primary);
    return ok;
}
