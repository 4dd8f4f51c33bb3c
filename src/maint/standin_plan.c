/*
 * standin_plan.c - TEMPORARY: the smallest stand-in for the plan branch's
 * mfile.c, classify.c, lint.c and plan.c (mfile.h, plan.h), so that "maint
 * rehearse" builds and runs before they land on main. DELETE this file when
 * main has them (git merge main); nothing else may call what only it has.
 *
 * It reads the maintenance file without validating much, classifies a
 * setting by its pg_settings context (postmaster: restart, else reload),
 * measures the sizes (sizes.h), estimates (estimate.h), and lints nothing.
 */
#include <ini.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "maint/estimate.h"
#include "maint/mfile.h"
#include "maint/plan.h"
#include "maint/sizes.h"
#include "pg/conn.h"
#include "repo/repo.h"

static const char *const standin_step_names[PSTEP__COUNT] = {
    "preflight", "apply-reload", "backup",     "restore",   "offline",     "start",
    "standby",   "verify",       "switchover", "sql-after", "old-primary", "first-backup"};

const char *plan_step_name(PlanStepId id)
{
    return id < PSTEP__COUNT ? standin_step_names[id] : "unknown";
}

const char *mfile_kind_name(MaintChangeKind k)
{
    static const char *const names[] = {"unknown", "reload",      "restart",
                                        "offline", "post-switch", "impossible"};
    return k <= MKIND_IMPOSSIBLE ? names[k] : "unknown";
}

static char *trim_dup(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return xstrndup(s, n);
}

static void standin_change(MaintFile *m, MaintChangeType type, const char *v, int line)
{
    m->changes = xrealloc(m->changes, (m->nchanges + 1) * sizeof(*m->changes));
    MaintChange *c = &m->changes[m->nchanges++];
    memset(c, 0, sizeof(*c));
    c->type = type;
    c->line = line;
    const char *eq = strchr(v, '=');
    if ((type == MCHANGE_SET || type == MCHANGE_FILE) && eq) {
        c->name = trim_dup(v, (size_t)(eq - v));
        c->value = trim_dup(eq + 1, strlen(eq + 1));
    } else {
        c->name = xstrdup(type == MCHANGE_CHECKSUMS ? "data_checksums" : "sql-after");
        c->value = xstrdup(v);
    }
}

static int standin_handler(void *user, const char *section, const char *key, const char *value,
                           int line)
{
    MaintFile *m = user;
    char **str = NULL;
    if (strcmp(section, "maintenance") == 0 && strcmp(key, "title") == 0)
        str = &m->title;
    else if (strcmp(section, "green") == 0 && strcmp(key, "data") == 0)
        str = &m->green_data;
    else if (strcmp(section, "green") == 0 && strcmp(key, "standby-data") == 0)
        str = &m->green_standby_data;
    else if (strcmp(section, "green") == 0 && strcmp(key, "tablespace-map") == 0)
        str = &m->tablespace_map;
    if (str) {
        free(*str);
        *str = xstrdup(value);
    } else if (strcmp(section, "green") == 0 && strcmp(key, "port") == 0) {
        m->green_port = atoi(value);
    } else if (strcmp(section, "green") == 0 && strcmp(key, "standby-port") == 0) {
        m->green_standby_port = atoi(value);
    } else if (strcmp(section, "change") == 0 && strcmp(key, "set") == 0) {
        standin_change(m, MCHANGE_SET, value, line);
    } else if (strcmp(section, "change") == 0 && strcmp(key, "file") == 0) {
        standin_change(m, MCHANGE_FILE, value, line);
    } else if (strcmp(section, "change") == 0 && strcmp(key, "data-checksums") == 0) {
        standin_change(m, MCHANGE_CHECKSUMS, value, line);
    } else if (strcmp(section, "change") == 0 && strcmp(key, "sql-after") == 0) {
        standin_change(m, MCHANGE_SQL_AFTER, value, line);
    }
    return 1;
}

/* inih without line numbers: count them ourselves. */
typedef struct {
    MaintFile *m;
    int line;
} StandinRead;

static int standin_handler_nl(void *user, const char *section, const char *key, const char *value)
{
    StandinRead *r = user;
    return standin_handler(r->m, section, key, value, ++r->line);
}

bool mfile_load(const char *path, MaintFile *out)
{
    memset(out, 0, sizeof(*out));
    out->file = xstrdup(path);
    StandinRead r = {.m = out};
    int rc = ini_parse(path, standin_handler_nl, &r);
    if (rc != 0) {
        mfile_free(out);
        return err_set(DD_EXIT_CONFIG, "could not read maintenance file \"%s\" (line %d)", path,
                       rc);
    }
    if (!out->green_data || out->green_port <= 0) {
        mfile_free(out);
        return err_set(DD_EXIT_CONFIG, "maintenance file \"%s\" has no [green] data and port",
                       path);
    }
    return true;
}

bool mfile_parse_string(const char *text, const char *name, MaintFile *out)
{
    (void)text;
    (void)name;
    (void)out;
    return err_set(DD_EXIT_FAIL, "not in the stand-in");
}

void mfile_free(MaintFile *m)
{
    for (size_t i = 0; i < m->nchanges; i++) {
        free(m->changes[i].name);
        free(m->changes[i].value);
        free(m->changes[i].reason);
        free(m->changes[i].current);
    }
    free(m->changes);
    free(m->file);
    free(m->title);
    free(m->green_data);
    free(m->green_standby_data);
    free(m->tablespace_map);
    memset(m, 0, sizeof(*m));
}

static void standin_classify(PGconn *c, MaintFile *mf)
{
    for (size_t i = 0; i < mf->nchanges; i++) {
        MaintChange *ch = &mf->changes[i];
        ch->kind = ch->type == MCHANGE_CHECKSUMS   ? MKIND_OFFLINE
                   : ch->type == MCHANGE_SQL_AFTER ? MKIND_POST_SWITCH
                                                   : MKIND_RESTART;
        if (ch->type != MCHANGE_SET)
            continue;
        const char *params[] = {ch->name};
        char *ctx = pg_query_value(c, "SELECT context FROM pg_settings WHERE name = $1", 1, params);
        if (ctx && strcmp(ctx, "postmaster") != 0)
            ch->kind = MKIND_RELOAD;
        err_clear();
        free(ctx);
    }
}

bool plan_build(const Config *cfg, MaintFile *mf, Plan *out)
{
    memset(out, 0, sizeof(*out));
    out->mf = mf;
    PGconn *c = pg_connect(cfg->primary, "primary");
    if (!c)
        return false;
    standin_classify(c, mf);
    pg_disconnect(c);
    bool checksums = false;
    for (size_t i = 0; i < mf->nchanges; i++)
        checksums |= mf->changes[i].type == MCHANGE_CHECKSUMS;
    static const PlanStepId on[] = {PSTEP_PREFLIGHT,   PSTEP_BACKUP,      PSTEP_RESTORE,
                                    PSTEP_START,       PSTEP_VERIFY,      PSTEP_SWITCHOVER,
                                    PSTEP_OLD_PRIMARY, PSTEP_FIRST_BACKUP};
    for (int i = 0; i < PSTEP__COUNT; i++)
        out->steps[i].id = (PlanStepId)i;
    for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++)
        out->steps[on[i]].enabled = true;
    out->steps[PSTEP_OFFLINE].enabled = checksums;
    out->steps[PSTEP_STANDBY].enabled = mf->green_standby_data != NULL;
    Repo *repo = NULL;
    bool ok = repo_open(cfg, &repo) &&
              sizes_measure(&(SizesOpts){.primary = cfg->primary,
                                         .primary_data = cfg->primary_data,
                                         .standby = cfg->standby},
                            repo, &out->sizes) &&
              estimate_plan(repo, out);
    repo_close(repo);
    return ok;
}

bool plan_has_errors(const Plan *p)
{
    for (size_t i = 0; i < p->nfindings; i++)
        if (p->findings[i].severity == FINDING_ERROR)
            return true;
    return false;
}

void plan_add_finding(Plan *p, FindingSeverity sev, const char *code, const char *message,
                      const char *hint)
{
    p->findings = xrealloc(p->findings, (p->nfindings + 1) * sizeof(*p->findings));
    p->findings[p->nfindings++] = (Finding){
        .severity = sev, .code = xstrdup(code), .message = xstrdup(message), .hint = xstrdup(hint)};
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

json_t *plan_to_json(const Plan *p)
{
    json_t *steps = json_array();
    for (int i = 0; i < PSTEP__COUNT; i++) {
        const PlanStep *s = &p->steps[i];
        json_t *j = json_pack("{s:s, s:f, s:f, s:f, s:s, s:b, s:b}", "name", plan_step_name(s->id),
                              "predicted_s", s->est.predicted_s, "low_s", s->est.low_s, "high_s",
                              s->est.high_s, "basis", s->est.basis, "low_confidence",
                              s->est.low_confidence, "enabled", s->enabled);
        if (s->ran) {
            json_object_set_new(j, "actual_s", json_real(s->actual_s));
            json_object_set_new(j, "ok", json_boolean(s->ok));
        }
        json_array_append_new(steps, j);
    }
    json_t *changes = json_array();
    for (size_t i = 0; p->mf && i < p->mf->nchanges; i++)
        json_array_append_new(changes, json_pack("{s:s, s:s, s:s}", "name", p->mf->changes[i].name,
                                                 "value", p->mf->changes[i].value, "kind",
                                                 mfile_kind_name(p->mf->changes[i].kind)));
    return json_pack("{s:o, s:o, s:f, s:f, s:f, s:f, s:[]}", "changes", changes, "steps", steps,
                     "predicted_s", p->predicted_s, "low_s", p->low_s, "high_s", p->high_s,
                     "predicted_hold_ms", p->predicted_hold_ms, "findings");
}

void plan_print(const Plan *p, FILE *out)
{
    for (int i = 0; i < PSTEP__COUNT; i++)
        if (p->steps[i].enabled)
            fprintf(out, "  %-13s %8.1f s  %s\n", plan_step_name((PlanStepId)i),
                    p->steps[i].est.predicted_s, p->steps[i].est.basis);
}
