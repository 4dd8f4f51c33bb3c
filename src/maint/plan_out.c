/*
 * plan_out.c - a plan for programs (the JSON contract in plan.h) and for
 * people (plan_print).
 */
#include <stdio.h>
#include <string.h>

#include "maint/estimate.h"
#include "maint/plan.h"
#include "restore/info.h"

static json_t *json_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *estimate_json(const Estimate *e)
{
    return json_pack("{s:f, s:f, s:f, s:f, s:s, s:b}", "predicted_s", e->predicted_s, "low_s",
                     e->low_s, "high_s", e->high_s, "fixed_s", e->fixed_s, "basis", e->basis,
                     "low_confidence", e->low_confidence);
}

json_t *plan_to_json(const Plan *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "title", json_str_or_null(p->mf ? p->mf->title : NULL));
    json_object_set_new(o, "reload_only", json_boolean(p->reload_only));
    json_t *changes = json_array();
    for (size_t i = 0; p->mf && i < p->mf->nchanges; i++) {
        const MaintChange *c = &p->mf->changes[i];
        json_array_append_new(changes,
                              json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:i}", "type",
                                        mfile_change_type_name(c->type), "name", c->name, "value",
                                        c->value, "kind", mfile_kind_name(c->kind), "reason",
                                        json_str_or_null(c->reason), "current",
                                        json_str_or_null(c->current), "line", c->line));
    }
    json_object_set_new(o, "changes", changes);
    json_t *steps = json_array();
    for (int i = 0; i < PSTEP__COUNT; i++) {
        const PlanStep *s = &p->steps[i];
        json_t *j = estimate_json(&s->est);
        json_object_set_new(j, "name", json_string(plan_step_name(s->id)));
        json_object_set_new(j, "enabled", json_boolean(s->enabled));
        if (s->ran) {
            json_object_set_new(j, "actual_s", json_real(s->actual_s));
            json_object_set_new(j, "ok", json_boolean(s->ok));
        }
        json_array_append_new(steps, j);
    }
    json_object_set_new(o, "steps", steps);
    json_object_set_new(o, "predicted_s", json_real(p->predicted_s));
    json_object_set_new(o, "low_s", json_real(p->low_s));
    json_object_set_new(o, "high_s", json_real(p->high_s));
    json_object_set_new(o, "predicted_hold_ms", json_real(p->predicted_hold_ms));
    json_t *rb = estimate_json(&p->rollback);
    json_object_set_new(rb, "mechanism", json_string(p->rollback_mechanism));
    json_object_set_new(rb, "rebuild", json_boolean(p->rollback_rebuild));
    json_t *rsteps = json_array();
    for (int i = 0; i < RSTEP__COUNT; i++) {
        json_t *j = estimate_json(&p->rollback_steps[i].est);
        json_object_set_new(j, "name", json_string(rollback_step_name((RollbackStepId)i)));
        json_object_set_new(j, "enabled", json_boolean(p->rollback_steps[i].enabled));
        json_array_append_new(rsteps, j);
    }
    json_object_set_new(rb, "steps", rsteps);
    json_object_set_new(o, "rollback", rb);
    json_t *findings = json_array();
    for (size_t i = 0; i < p->nfindings; i++) {
        const Finding *f = &p->findings[i];
        json_array_append_new(findings,
                              json_pack("{s:s, s:s, s:s, s:s}", "severity",
                                        f->severity == FINDING_ERROR ? "error" : "warning", "code",
                                        f->code, "message", f->message, "hint", f->hint));
    }
    json_object_set_new(o, "findings", findings);
    return o;
}

/* "set shared_buffers = 256MB", "file pg_hba.conf = PATH", "data-checksums = enable". */
static void change_text(const MaintChange *c, char *out, size_t len)
{
    if (c->type == MCHANGE_CHECKSUMS || c->type == MCHANGE_SQL_AFTER)
        snprintf(out, len, "%s = %s", mfile_change_type_name(c->type), c->value);
    else
        snprintf(out, len, "%s %s = %s", mfile_change_type_name(c->type), c->name, c->value);
}

static void print_changes(const Plan *p, FILE *out)
{
    fprintf(out, "\nchanges:\n");
    for (size_t i = 0; i < p->mf->nchanges; i++) {
        const MaintChange *c = &p->mf->changes[i];
        char what[512];
        change_text(c, what, sizeof(what));
        fprintf(out, "  %-11s %s\n              %s", mfile_kind_name(c->kind), what,
                c->reason ? c->reason : "");
        if (c->current)
            fprintf(out, " (now %s)", c->current);
        fprintf(out, "\n");
    }
}

static void print_range(const Estimate *e, FILE *out)
{
    char t[32], lo[32], hi[32];
    estimate_format_seconds(e->predicted_s, t, sizeof(t));
    estimate_format_seconds(e->low_s, lo, sizeof(lo));
    estimate_format_seconds(e->high_s, hi, sizeof(hi));
    fprintf(out, "%-12s %s – %s", t, lo, hi);
}

static void print_steps(const Plan *p, FILE *out)
{
    fprintf(out, "\nsteps:                predicted    range\n");
    int n = 0;
    for (int i = 0; i < PSTEP__COUNT; i++) {
        const PlanStep *s = &p->steps[i];
        if (!s->enabled)
            continue;
        fprintf(out, "  %2d. %-15s ", ++n, plan_step_name(s->id));
        print_range(&s->est, out);
        if (s->ran)
            fprintf(out, "   actual %.1f s%s", s->actual_s, s->ok ? "" : " FAILED");
        fprintf(out, "\n      %s%s\n", s->est.basis,
                s->est.low_confidence && !strstr(s->est.basis, "low confidence")
                    ? " (low confidence)"
                    : "");
    }
    fprintf(out, "\ntotal:                ");
    print_range(&(Estimate){.predicted_s = p->predicted_s, .low_s = p->low_s, .high_s = p->high_s},
                out);
    fprintf(out, "\n");
    if (!p->reload_only)
        fprintf(out, "clients held at the switch: about %.0f ms\n", p->predicted_hold_ms);
    if (p->rollback_mechanism[0]) {
        fprintf(out, "rollback: %s\n          ", p->rollback_mechanism);
        print_range(&p->rollback, out);
        fprintf(out, "\n");
    }
}

static void print_findings(const Plan *p, FILE *out)
{
    size_t errors = 0;
    for (size_t i = 0; i < p->nfindings; i++)
        errors += p->findings[i].severity == FINDING_ERROR;
    if (p->nfindings == 0) {
        fprintf(out, "\nfindings: none\n");
        return;
    }
    fprintf(out, "\nfindings: %zu error(s), %zu warning(s)\n", errors, p->nfindings - errors);
    for (int pass = 0; pass < 2; pass++) /* errors first */
        for (size_t i = 0; i < p->nfindings; i++) {
            const Finding *f = &p->findings[i];
            if ((f->severity == FINDING_ERROR) != (pass == 0))
                continue;
            fprintf(out, "  %-7s %s: %s\n", pass == 0 ? "ERROR" : "WARNING", f->code, f->message);
            if (f->hint[0])
                fprintf(out, "          HINT: %s\n", f->hint);
        }
}

void plan_print(const Plan *p, FILE *out)
{
    const MaintFile *mf = p->mf;
    fprintf(out, "maintenance: %s\n", mf->title);
    if (mf->window_start > 0) {
        char when[128], len[32] = "no length given";
        mfile_window_local(mf, when, sizeof(when));
        if (mf->window_length > 0)
            estimate_format_seconds(mf->window_length, len, sizeof(len));
        fprintf(out, "window: %s, %s\n", when, len);
    }
    print_changes(p, out);
    if (p->reload_only)
        fprintf(out, "\nreload-only: no new cluster is needed. The short plan applies the changes "
                     "on the live primary\n(ALTER SYSTEM, pg_reload_conf()) and verifies them.\n");
    print_steps(p, out);
    if (!p->reload_only) {
        char data[16], store[16], wal[16];
        info_format_bytes(p->sizes.data_bytes, data, sizeof(data));
        info_format_bytes(p->sizes.backup_store, store, sizeof(store));
        info_format_bytes((uint64_t)p->sizes.wal_rate, wal, sizeof(wal));
        char reads[200];
        if (p->sizes.backup_guided)
            snprintf(reads, sizeof(reads), "follows the WAL since the last backup (guided)");
        else
            snprintf(reads, sizeof(reads), "reads every file (%s)",
                     p->sizes.backup_full_reason[0] ? p->sizes.backup_full_reason : "a full read");
        fprintf(out, "measured now: cluster %s, next backup %s and stores %s, WAL %s/s\n", data,
                reads, store, wal);
    }
    print_findings(p, out);
}
