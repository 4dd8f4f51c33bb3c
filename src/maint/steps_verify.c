/*
 * steps_verify.c - the verify step: every change of the maintenance file is
 * in effect on the green primary, asked of the server itself:
 *
 *   set = NAME = VALUE     pg_settings: the value, compared in the setting's
 *                          base unit ("256MB" = 32768 × 8kB), booleans and
 *                          enums by meaning; and not pending a restart
 *   data-checksums         SHOW data_checksums
 *   file = pg_hba.conf     the file in the data directory is the new one,
 *                          SHOW hba_file names it, and pg_hba_file_rules
 *                          holds one rule a line of it, none in error
 *   file = pg_ident.conf   likewise with ident_file and pg_ident_file_mappings
 *   file = other           the file in the data directory is the new one
 *   sql-after              runs after the switch: not checked here
 */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/fsutil.h"
#include "maint/steps_int.h"

static const struct {
    const char *unit;
    double factor; /* to bytes or milliseconds */
} verify_units[] = {
    {"B", 1},        {"kB", 1024},       {"8kB", 8192},           {"16kB", 16384},
    {"MB", 1048576}, {"GB", 1073741824}, {"TB", 1099511627776.0}, {"us", 0.001},
    {"ms", 1},       {"s", 1000},        {"min", 60000},          {"h", 3600000},
    {"d", 86400000},
};

static bool unit_factor(const char *unit, double *f)
{
    for (size_t i = 0; i < sizeof(verify_units) / sizeof(verify_units[0]); i++)
        if (strcmp(unit, verify_units[i].unit) == 0) {
            *f = verify_units[i].factor;
            return true;
        }
    return false;
}

/* A value as the file gives it, without quotes and surrounding blanks, into out. */
static void verify_unquote(const char *v, char *out, size_t len)
{
    while (isspace((unsigned char)*v))
        v++;
    size_t n = strlen(v);
    while (n && isspace((unsigned char)v[n - 1]))
        n--;
    if (n >= 2 && v[0] == '\'' && v[n - 1] == '\'') {
        v++;
        n -= 2;
    }
    snprintf(out, len, "%.*s", (int)n, v);
}

static int verify_bool(const char *v)
{
    static const char *const on[] = {"on", "true", "yes", "1", "t", "y"};
    static const char *const off[] = {"off", "false", "no", "0", "f", "n"};
    for (size_t i = 0; i < 6; i++) {
        if (strcasecmp(v, on[i]) == 0)
            return 1;
        if (strcasecmp(v, off[i]) == 0)
            return 0;
    }
    return -1;
}

/* Whether want (the file's value) means the server's setting (in unit, of vartype). */
static bool verify_same(const char *want, const char *setting, const char *unit,
                        const char *vartype)
{
    if (strcmp(vartype, "bool") == 0)
        return verify_bool(want) >= 0 && verify_bool(want) == verify_bool(setting);
    if (strcmp(vartype, "integer") != 0 && strcmp(vartype, "real") != 0)
        return strcasecmp(want, setting) == 0;
    char *end;
    double w = strtod(want, &end), base = 1, wf = 1;
    while (isspace((unsigned char)*end))
        end++;
    if (unit[0] && !unit_factor(unit, &base))
        return strcasecmp(want, setting) == 0;
    if (*end && !unit_factor(end, &wf))
        return false;
    double want_base = *end ? w * wf : w * base;
    double have_base = strtod(setting, NULL) * base;
    return fabs(want_base - have_base) <= 1e-9 * fmax(1, fabs(have_base));
}

static bool verify_setting(PGconn *g, const MaintChange *c)
{
    const char *params[] = {c->name};
    PGresult *r = pg_query(g,
                           "SELECT setting, coalesce(unit, ''), vartype, pending_restart, "
                           "current_setting(name) FROM pg_settings WHERE name = $1",
                           1, params);
    if (!r)
        return false;
    bool ok = PQntuples(r) == 1;
    char want[256];
    verify_unquote(c->value, want, sizeof(want));
    if (!ok)
        err_set(DD_EXIT_FAIL, "the green primary has no setting \"%s\"", c->name);
    else if (!verify_same(want, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2)))
        ok = err_set(DD_EXIT_FAIL, "%s is %s on the green primary, not %s", c->name,
                     PQgetvalue(r, 0, 4), want);
    else if (strcmp(PQgetvalue(r, 0, 3), "t") == 0)
        ok = err_set(DD_EXIT_FAIL, "%s on the green primary is pending a restart", c->name);
    PQclear(r);
    return ok;
}

static bool verify_checksums(PGconn *g, const MaintChange *c)
{
    char *v = pg_query_value(g, "SHOW data_checksums", 0, NULL);
    if (!v)
        return false;
    const char *want = strcmp(c->value, "disable") == 0 ? "off" : "on";
    bool ok = strcmp(v, want) == 0;
    if (!ok)
        err_set(DD_EXIT_FAIL, "data_checksums is %s on the green primary, not %s", v, want);
    free(v);
    return ok;
}

/* Rule lines of a pg_hba.conf or pg_ident.conf: not blank, not a comment. */
static long verify_rule_lines(const Buf *text)
{
    long n = 0;
    const char *s = (const char *)text->data, *end = s + text->len;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        const char *p = s;
        while (p < e && isspace((unsigned char)*p))
            p++;
        if (p < e && *p != '#')
            n++;
        s = e + 1;
    }
    return n;
}

/* The server reads the new file: its path setting names it and its view has every rule. */
static bool verify_rules(PGconn *g, const char *path_setting, const char *view, const char *path,
                         long want)
{
    char sql[160], real_have[PATH_MAX], real_want[PATH_MAX];
    snprintf(sql, sizeof(sql), "SHOW %s", path_setting);
    char *have = pg_query_value(g, sql, 0, NULL);
    if (!have)
        return false;
    bool ok =
        realpath(have, real_have) && realpath(path, real_want) && strcmp(real_have, real_want) == 0;
    if (!ok)
        err_set(DD_EXIT_FAIL, "the green primary reads %s \"%s\", not \"%s\"", path_setting, have,
                path);
    free(have);
    snprintf(sql, sizeof(sql), "SELECT count(*), count(error) FROM %s", view);
    PGresult *r = ok ? pg_query(g, sql, 0, NULL) : NULL;
    if (ok && !r)
        return false;
    if (ok && (atol(PQgetvalue(r, 0, 0)) != want || atol(PQgetvalue(r, 0, 1)) != 0))
        ok = err_set(DD_EXIT_FAIL,
                     "%s on the green primary has %s rules (%s in error), not the %ld "
                     "of \"%s\"",
                     view, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), want, path);
    PQclear(r);
    return ok;
}

static bool verify_file(MaintCtx *ctx, PGconn *g, const MaintChange *c)
{
    char *dest = xasprintf("%s/%s", ctx->green_data, c->name);
    Buf want = {0}, have = {0};
    bool f1 = false, f2 = false;
    bool ok = fs_read_file(c->value, &want, &f1) && fs_read_file(dest, &have, &f2);
    if (ok && (!f1 || !f2 || want.len != have.len || memcmp(want.data, have.data, want.len) != 0))
        ok = err_set(DD_EXIT_FAIL, "\"%s\" on the green primary is not a copy of \"%s\"", dest,
                     c->value);
    if (ok && strcmp(c->name, "pg_hba.conf") == 0)
        ok = verify_rules(g, "hba_file", "pg_hba_file_rules", dest, verify_rule_lines(&want));
    else if (ok && strcmp(c->name, "pg_ident.conf") == 0)
        ok =
            verify_rules(g, "ident_file", "pg_ident_file_mappings", dest, verify_rule_lines(&want));
    buf_free(&want);
    buf_free(&have);
    free(dest);
    return ok;
}

bool steps_verify_changes(MaintCtx *ctx, PGconn *g)
{
    for (size_t i = 0; i < ctx->mf->nchanges; i++) {
        const MaintChange *c = &ctx->mf->changes[i];
        bool ok = true;
        if (c->type == MCHANGE_SET && c->kind != MKIND_IMPOSSIBLE)
            ok = verify_setting(g, c);
        else if (c->type == MCHANGE_CHECKSUMS)
            ok = verify_checksums(g, c);
        else if (c->type == MCHANGE_FILE)
            ok = verify_file(ctx, g, c);
        if (!ok) {
            err_hint("the change of line %d of \"%s\" is not in effect: see the green server's "
                     "log",
                     c->line, ctx->mf->file ? ctx->mf->file : "the maintenance file");
            return false;
        }
    }
    return true;
}
