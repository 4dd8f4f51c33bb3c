/*
 * steps_verify.c - the verify step: every change of the maintenance file is
 * in effect on the green primary (or, for a reload-only plan, on the node
 * ctx->verify_node names: reload.c), asked of the server itself:
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
#include "maint/pgsetting.h"
#include "maint/steps_int.h"

static bool verify_setting(PGconn *g, const MaintChange *c, const char *node)
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
    pgsetting_unquote(c->value, want, sizeof(want));
    if (!ok)
        err_set(DD_EXIT_FAIL, "the %s has no setting \"%s\"", node, c->name);
    else if (!pgsetting_matches(want, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1),
                                PQgetvalue(r, 0, 2)))
        ok = err_set(DD_EXIT_FAIL, "%s is %s on the %s, not %s", c->name, PQgetvalue(r, 0, 4), node,
                     want);
    else if (strcmp(PQgetvalue(r, 0, 3), "t") == 0)
        ok = err_set(DD_EXIT_FAIL, "%s on the %s is pending a restart", c->name, node);
    PQclear(r);
    return ok;
}

static bool verify_checksums(PGconn *g, const MaintChange *c, const char *node)
{
    char *v = pg_query_value(g, "SHOW data_checksums", 0, NULL);
    if (!v)
        return false;
    const char *want = strcmp(c->value, "disable") == 0 ? "off" : "on";
    bool ok = strcmp(v, want) == 0;
    if (!ok)
        err_set(DD_EXIT_FAIL, "data_checksums is %s on the %s, not %s", v, node, want);
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
                         long want, const char *node)
{
    char sql[160], real_have[PATH_MAX], real_want[PATH_MAX];
    snprintf(sql, sizeof(sql), "SHOW %s", path_setting);
    char *have = pg_query_value(g, sql, 0, NULL);
    if (!have)
        return false;
    bool ok =
        realpath(have, real_have) && realpath(path, real_want) && strcmp(real_have, real_want) == 0;
    if (!ok)
        err_set(DD_EXIT_FAIL, "the %s reads %s \"%s\", not \"%s\"", node, path_setting, have, path);
    free(have);
    snprintf(sql, sizeof(sql), "SELECT count(*), count(error) FROM %s", view);
    PGresult *r = ok ? pg_query(g, sql, 0, NULL) : NULL;
    if (ok && !r)
        return false;
    if (ok && (atol(PQgetvalue(r, 0, 0)) != want || atol(PQgetvalue(r, 0, 1)) != 0))
        ok = err_set(DD_EXIT_FAIL,
                     "%s on the %s has %s rules (%s in error), not the %ld "
                     "of \"%s\"",
                     view, node, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), want, path);
    PQclear(r);
    return ok;
}

static bool verify_file(MaintCtx *ctx, PGconn *g, const MaintChange *c, const char *node)
{
    char *dest = xasprintf("%s/%s", ctx->green_data, c->name);
    Buf want = {0}, have = {0};
    bool f1 = false, f2 = false;
    bool ok = fs_read_file(c->value, &want, &f1) && fs_read_file(dest, &have, &f2);
    if (ok && (!f1 || !f2 || want.len != have.len || memcmp(want.data, have.data, want.len) != 0))
        ok =
            err_set(DD_EXIT_FAIL, "\"%s\" on the %s is not a copy of \"%s\"", dest, node, c->value);
    if (ok && strcmp(c->name, "pg_hba.conf") == 0)
        ok = verify_rules(g, "hba_file", "pg_hba_file_rules", dest, verify_rule_lines(&want), node);
    else if (ok && strcmp(c->name, "pg_ident.conf") == 0)
        ok = verify_rules(g, "ident_file", "pg_ident_file_mappings", dest, verify_rule_lines(&want),
                          node);
    buf_free(&want);
    buf_free(&have);
    free(dest);
    return ok;
}

bool steps_verify_changes(MaintCtx *ctx, PGconn *g)
{
    const char *node = ctx->verify_node ? ctx->verify_node : "green primary";
    for (size_t i = 0; i < ctx->mf->nchanges; i++) {
        const MaintChange *c = &ctx->mf->changes[i];
        bool ok = true;
        if (c->type == MCHANGE_SET && c->kind != MKIND_IMPOSSIBLE)
            ok = verify_setting(g, c, node);
        else if (c->type == MCHANGE_CHECKSUMS)
            ok = verify_checksums(g, c, node);
        else if (c->type == MCHANGE_FILE)
            ok = verify_file(ctx, g, c, node);
        if (!ok) {
            err_hint("the change of line %d of \"%s\" is not in effect: see the %s's log", c->line,
                     ctx->mf->file ? ctx->mf->file : "the maintenance file", node);
            return false;
        }
    }
    return true;
}
