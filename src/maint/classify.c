/*
 * classify.c - each change's kind from the primary's pg_settings (classify.h).
 */
#include "maint/classify.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/mem.h"
#include "pg/conn.h"

static const char *const standby_minimums[] = {"max_connections", "max_worker_processes",
                                               "max_wal_senders", "max_prepared_transactions",
                                               "max_locks_per_transaction"};

bool classify_is_standby_minimum(const char *name)
{
    for (size_t i = 0; i < sizeof(standby_minimums) / sizeof(standby_minimums[0]); i++)
        if (strcmp(name, standby_minimums[i]) == 0)
            return true;
    return false;
}

static void set_kind(MaintChange *c, MaintChangeKind kind, const char *fmt, ...) DD_PRINTF(3, 4);
static void set_kind(MaintChange *c, MaintChangeKind kind, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    c->kind = kind;
    free(c->reason);
    c->reason = xstrdup(buf);
}

static void finding(Plan *p, FindingSeverity sev, const char *code, const char *hint,
                    const char *fmt, ...) DD_PRINTF(5, 6);
static void finding(Plan *p, FindingSeverity sev, const char *code, const char *hint,
                    const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    plan_add_finding(p, sev, code, msg, hint);
}

/* ---- values as the server parses them ------------------------------------------ */

/* Units in bytes (memory) or milliseconds (time), as guc.c has them. */
static const struct {
    const char *unit;
    double factor;
    bool memory;
} units[] = {
    {"B", 1, true},
    {"kB", 1024, true},
    {"MB", 1048576, true},
    {"GB", 1073741824.0, true},
    {"TB", 1099511627776.0, true},
    {"us", 0.001, false},
    {"ms", 1, false},
    {"s", 1000, false},
    {"min", 60000, false},
    {"h", 3600000, false},
    {"d", 86400000, false},
};

/* The factor of a unit string ("8kB": 8192 bytes), false when unknown. */
static bool unit_factor(const char *u, double *factor, bool *memory)
{
    double mult = 1;
    char *end = NULL;
    if (isdigit((unsigned char)u[0])) {
        mult = strtod(u, &end);
        u = end;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(u, units[i].unit) == 0) {
            *factor = mult * units[i].factor;
            *memory = units[i].memory;
            return true;
        }
    return false;
}

/* The value in the setting's unit; why says what is wrong. */
static bool parse_number(const PgSettingRow *r, const char *v, bool integer, double *out, char *why,
                         size_t len)
{
    char *end = NULL;
    errno = 0;
    double n = integer ? (double)strtoll(v, &end, 0) : strtod(v, &end);
    if (errno || end == v || !isfinite(n)) {
        snprintf(why, len, "\"%s\" is not %s", v, integer ? "an integer" : "a number");
        return false;
    }
    if (integer && *end == '.') { /* "1.5GB" is accepted by the server: rounded */
        n = strtod(v, &end);
    }
    while (isspace((unsigned char)*end))
        end++;
    if (*end) {
        double vf, sf;
        bool vmem, smem;
        if (!r->unit || !r->unit[0] || !unit_factor(end, &vf, &vmem) ||
            !unit_factor(r->unit, &sf, &smem) || vmem != smem) {
            if (r->unit && r->unit[0])
                snprintf(why, len, "unit \"%s\" is not valid for %s (its unit is %s)", end, r->name,
                         r->unit);
            else
                snprintf(why, len, "%s takes no unit, got \"%s\"", r->name, v);
            return false;
        }
        n = n * vf / sf;
    }
    *out = integer ? round(n) : n;
    return true;
}

static bool parse_bool(const char *v)
{
    static const char *const ok[] = {"on", "off", "true", "false", "yes", "no",
                                     "1",  "0",   "t",    "f",     "y",   "n"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (strcasecmp(v, ok[i]) == 0)
            return true;
    return false;
}

/* Whether v is one of "{a,b,"c d"}" (case-insensitive). */
static bool enum_has(const char *enumvals, const char *v)
{
    if (!enumvals)
        return true;
    const char *p = enumvals[0] == '{' ? enumvals + 1 : enumvals;
    size_t vl = strlen(v);
    while (*p && *p != '}') {
        bool quoted = *p == '"';
        if (quoted)
            p++;
        const char *s = p;
        while (*p && (quoted ? *p != '"' : (*p != ',' && *p != '}')))
            p++;
        if ((size_t)(p - s) == vl && strncasecmp(s, v, vl) == 0)
            return true;
        if (quoted && *p)
            p++;
        if (*p == ',')
            p++;
    }
    return false;
}

/* Strip one pair of single quotes, as postgresql.conf would. */
static char *unquote(const char *v)
{
    size_t n = strlen(v);
    if (n >= 2 && v[0] == '\'' && v[n - 1] == '\'')
        return xstrndup(v + 1, n - 2);
    return xstrdup(v);
}

/*
 * Check v against r as the server would; *num gets the number in the
 * setting's unit (integers and reals). false with why when it would refuse.
 */
static bool value_valid(const PgSettingRow *r, const char *v, double *num, char *why, size_t len)
{
    const char *t = r->vartype ? r->vartype : "string";
    if (strcmp(t, "bool") == 0) {
        if (!parse_bool(v)) {
            snprintf(why, len, "\"%s\" is not a boolean (on or off)", v);
            return false;
        }
        return true;
    }
    if (strcmp(t, "enum") == 0) {
        if (!enum_has(r->enumvals, v)) {
            snprintf(why, len, "\"%s\" is not one of %s", v, r->enumvals);
            return false;
        }
        return true;
    }
    if (strcmp(t, "integer") != 0 && strcmp(t, "real") != 0)
        return true;
    if (!parse_number(r, v, strcmp(t, "integer") == 0, num, why, len))
        return false;
    double lo = r->min_val ? strtod(r->min_val, NULL) : -INFINITY;
    double hi = r->max_val ? strtod(r->max_val, NULL) : INFINITY;
    if (*num < lo || *num > hi) {
        snprintf(why, len, "%s is outside the range %s to %s%s%s", v, r->min_val, r->max_val,
                 r->unit && r->unit[0] ? " " : "", r->unit ? r->unit : "");
        return false;
    }
    return true;
}

/* ---- settings ------------------------------------------------------------- */

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 64;
    size_t d[64][64];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
    return d[la][lb];
}

static const PgSettingRow *find_row(const PgSettingRow *rows, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i].name && strcmp(rows[i].name, name) == 0)
            return &rows[i];
    return NULL;
}

static void classify_unknown(MaintChange *c, const PgSettingRow *rows, size_t n, Plan *p)
{
    if (strchr(c->name, '.')) { /* a custom setting: the server keeps it as a placeholder */
        set_kind(c, MKIND_RELOAD, "custom setting (not defined by a loaded module): reload");
        return;
    }
    const PgSettingRow *best = NULL;
    size_t bestd = 4;
    for (size_t i = 0; i < n; i++) {
        size_t d = rows[i].name ? edit_distance(c->name, rows[i].name) : 64;
        if (d < bestd)
            bestd = d, best = &rows[i];
    }
    char hint[256];
    if (best)
        snprintf(hint, sizeof(hint), "did you mean \"%s\"? (line %d)", best->name, c->line);
    else
        snprintf(hint, sizeof(hint), "SELECT name FROM pg_settings lists the settings (line %d)",
                 c->line);
    set_kind(c, MKIND_IMPOSSIBLE, "the primary has no setting \"%s\"", c->name);
    finding(p, FINDING_ERROR, "unknown-setting", hint,
            "setting \"%s\" does not exist on the primary", c->name);
}

static void classify_set(MaintChange *c, const PgSettingRow *rows, size_t n, Plan *p)
{
    const PgSettingRow *r = find_row(rows, n, c->name);
    if (!r) {
        classify_unknown(c, rows, n, p);
        return;
    }
    free(c->current);
    c->current = r->unit && r->unit[0] ? xasprintf("%s (%s)", r->setting ? r->setting : "", r->unit)
                                       : xstrdup(r->setting ? r->setting : "");
    const char *ctx = r->context ? r->context : "";
    if (strcmp(c->name, "data_checksums") == 0) {
        set_kind(c, MKIND_IMPOSSIBLE, "data_checksums is fixed at initdb; pg_checksums changes it");
        finding(p, FINDING_ERROR, "internal-setting",
                "write \"data-checksums = enable\" (or disable) instead",
                "setting \"data_checksums\" cannot be set");
        return;
    }
    if (strcmp(ctx, "internal") == 0) {
        set_kind(c, MKIND_IMPOSSIBLE, "context internal: fixed when the cluster was built");
        finding(p, FINDING_ERROR, "internal-setting",
                "it can only change with a new initdb and a logical copy (pg_dump or logical "
                "replication), which drydock does not do",
                "setting \"%s\" cannot be changed (context internal)", c->name);
        return;
    }
    char *v = unquote(c->value);
    char why[400];
    double num = 0;
    bool valid = value_valid(r, v, &num, why, sizeof(why));
    if (!valid) {
        char hint[256];
        snprintf(hint, sizeof(hint), "fix line %d; pg_settings has the unit, range and values",
                 c->line);
        finding(p, FINDING_ERROR, "invalid-value", hint, "setting \"%s\": %s", c->name, why);
    }
    double cur = r->setting ? strtod(r->setting, NULL) : 0;
    bool numeric =
        r->vartype && (strcmp(r->vartype, "integer") == 0 || strcmp(r->vartype, "real") == 0);
    if (valid && classify_is_standby_minimum(c->name) && numeric && num < cur) {
        set_kind(c, MKIND_IMPOSSIBLE,
                 "a hot standby needs %s >= its primary's (%s); the new cluster is one until the "
                 "switch",
                 c->name, r->setting);
        char hint[256];
        snprintf(hint, sizeof(hint),
                 "keep %s at %s or more; lowering it needs a restart of the primary itself (an "
                 "outage drydock does not take)",
                 c->name, r->setting);
        finding(p, FINDING_ERROR, "hot-standby-minimum", hint,
                "setting \"%s\" cannot go from %s down to %s on a physical copy", c->name,
                r->setting, v);
    } else if (strcmp(ctx, "postmaster") == 0)
        set_kind(c, MKIND_RESTART, "context postmaster: needs a restart, done on the new cluster");
    else
        set_kind(c, MKIND_RELOAD, "context %s: a reload applies it", ctx);
    bool same = valid && r->setting && (numeric ? num == cur : strcasecmp(v, r->setting) == 0);
    if (same) {
        char hint[160];
        snprintf(hint, sizeof(hint), "remove line %d", c->line);
        finding(p, FINDING_WARNING, "change-no-op", hint,
                "setting \"%s\" is already %s on the primary", c->name, c->value);
    }
    free(v);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void classify_file(MaintChange *c)
{
    if (strcmp(c->name, "pg_hba.conf") == 0 || strcmp(c->name, "pg_ident.conf") == 0)
        set_kind(c, MKIND_RELOAD, "%s is read again on a reload", c->name);
    else if (ends_with(c->name, ".crt") || ends_with(c->name, ".key") ||
             ends_with(c->name, ".pem") || ends_with(c->name, ".crl"))
        set_kind(c, MKIND_RELOAD, "SSL files are read again on a reload");
    else
        set_kind(c, MKIND_RESTART, "a file that may hold any setting: replaced on the new cluster");
}

static void classify_checksums(MaintChange *c, const PgSettingRow *rows, size_t n, Plan *p)
{
    const PgSettingRow *r = find_row(rows, n, "data_checksums");
    bool on = r && r->setting && strcmp(r->setting, "on") == 0;
    free(c->current);
    c->current = xstrdup(r && r->setting ? r->setting : "unknown");
    set_kind(c, MKIND_OFFLINE, "pg_checksums --%s rewrites every page of the stopped new cluster",
             c->value);
    if (r && on == (strcmp(c->value, "enable") == 0)) {
        char hint[160];
        snprintf(hint, sizeof(hint), "remove line %d", c->line);
        finding(p, FINDING_WARNING, "change-no-op", hint,
                "data checksums are already %s on the primary", on ? "enabled" : "disabled");
    }
}

void classify_changes(MaintFile *mf, const PgSettingRow *rows, size_t nrows, Plan *p)
{
    for (size_t i = 0; i < mf->nchanges; i++) {
        MaintChange *c = &mf->changes[i];
        switch (c->type) {
        case MCHANGE_SET:
            classify_set(c, rows, nrows, p);
            break;
        case MCHANGE_FILE:
            classify_file(c);
            break;
        case MCHANGE_CHECKSUMS:
            classify_checksums(c, rows, nrows, p);
            break;
        case MCHANGE_SQL_AFTER:
            set_kind(c, MKIND_POST_SWITCH,
                     "run on the new primary right after the switch, in one "
                     "transaction");
            break;
        }
    }
    /* Reload-kind changes ride along when a new cluster is built anyway. */
    if (!classify_reload_only(mf))
        for (size_t i = 0; i < mf->nchanges; i++) {
            MaintChange *c = &mf->changes[i];
            if (c->kind == MKIND_RELOAD) {
                char *r = xasprintf("%s; applied on the new cluster with the others", c->reason);
                free(c->reason);
                c->reason = r;
            }
        }
    for (size_t i = 0; i < nrows; i++)
        if (rows[i].pending_restart && rows[i].name) {
            char msg[300];
            snprintf(msg, sizeof(msg),
                     "setting \"%s\" on the primary has a changed value waiting for a restart",
                     rows[i].name);
            plan_add_finding(p, FINDING_WARNING, "pending-restart", msg,
                             "the new cluster starts with the value in the primary's files, not "
                             "the one running now: check it is the one you want");
        }
}

bool classify_reload_only(const MaintFile *mf)
{
    for (size_t i = 0; i < mf->nchanges; i++)
        if (mf->changes[i].kind != MKIND_RELOAD && mf->changes[i].kind != MKIND_POST_SWITCH)
            return false;
    return true;
}

bool classify_read_settings(PGconn *conn, PGresult **res, PgSettingRow **rows, size_t *nrows)
{
    *res = pg_query(conn,
                    "SELECT name, setting, unit, context, vartype, min_val, max_val, "
                    "enumvals::text, pending_restart FROM pg_settings",
                    0, NULL);
    if (!*res)
        return err_context("reading pg_settings on the primary");
    int n = PQntuples(*res);
    *rows = xcalloc((size_t)n + 1, sizeof(**rows));
    for (int i = 0; i < n; i++) {
        const char *f[8];
        for (int j = 0; j < 8; j++)
            f[j] = PQgetisnull(*res, i, j) ? NULL : PQgetvalue(*res, i, j);
        (*rows)[i] = (PgSettingRow){.name = f[0],
                                    .setting = f[1],
                                    .unit = f[2],
                                    .context = f[3],
                                    .vartype = f[4],
                                    .min_val = f[5],
                                    .max_val = f[6],
                                    .enumvals = f[7],
                                    .pending_restart = PQgetvalue(*res, i, 8)[0] == 't'};
    }
    *nrows = (size_t)n;
    return true;
}
