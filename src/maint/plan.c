/*
 * plan.c - a maintenance file turned into a plan (plan.h): classify the
 * changes from the primary's pg_settings, choose the steps, measure the
 * sizes (sizes.h), estimate every step (estimate.h), lint. plan_out.c prints it.
 */
#include "maint/plan.h"

#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "maint/classify.h"
#include "maint/estimate.h"
#include "maint/lint.h"
#include "maint/sizes.h"
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

const char *rollback_step_name(RollbackStepId id)
{
    static const char *const names[RSTEP__COUNT] = {
        [RSTEP_BACKUP] = "rollback-backup",     [RSTEP_RESTORE] = "rollback-restore",
        [RSTEP_OFFLINE] = "rollback-offline",   [RSTEP_START] = "rollback-start",
        [RSTEP_FOLLOW] = "rollback-follow",     [RSTEP_SWITCH] = "rollback-switch",
        [RSTEP_SETTINGS] = "rollback-settings", [RSTEP_GREEN] = "rollback-green",
    };
    return (unsigned)id < RSTEP__COUNT ? names[id] : "unknown";
}

bool rollback_rebuild(bool checksums_change, bool old_primary_rewindable)
{
    return checksums_change || !old_primary_rewindable;
}

/* Whether pg_rewind accepts the primary as a target: data checksums or wal_log_hints. */
static bool plan_rewindable(PGconn *primary)
{
    char *v = pg_query_value(primary,
                             "SELECT current_setting('data_checksums') = 'on' OR "
                             "current_setting('wal_log_hints') = 'on'",
                             0, NULL);
    bool yes = v && v[0] == 't';
    free(v);
    err_clear();
    return yes;
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
    if (!(primary = pg_connect(cfg->primary, "primary")) || !plan_classify(primary, mf, out))
        goto done;
    plan_choose_steps(out, mf);
    if (!repo_open(cfg, &repo) || !(cat_loaded = catalog_load(repo, &cat)))
        goto done;
    if (cfg->standby && cfg->standby[0] && !(standby = pg_connect(cfg->standby, "standby"))) {
        standby_error = xstrdup(err_message());
        err_clear();
    }
    /* The standby's lag only when it answers: a standby down is a finding, not a failure. */
    SizesOpts so = {.primary = cfg->primary,
                    .primary_data = cfg->primary_data,
                    .standby = standby ? cfg->standby : NULL,
                    .full_every = (uint32_t)cfg->backup_full_every,
                    .full_days = cfg->backup_full_days};
    if (!sizes_measure(&so, repo, &out->sizes) ||
        (out->sizes.primary_rewindable = plan_rewindable(primary), !estimate_plan(repo, out)))
        goto done;
    LintCtx lc = {.cfg = cfg,
                  .mf = mf,
                  .primary = primary,
                  .standby = standby,
                  .standby_error = standby_error,
                  .repo = repo,
                  .catalog = &cat};
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
