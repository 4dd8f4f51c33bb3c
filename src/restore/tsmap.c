/*
 * tsmap.c - see tsmap.h.
 */
#include "restore/tsmap.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Compare two directories, ignoring trailing slashes. */
static bool same_dir(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    while (la > 1 && a[la - 1] == '/')
        la--;
    while (lb > 1 && b[lb - 1] == '/')
        lb--;
    return la == lb && memcmp(a, b, la) == 0;
}

bool tsmap_add(TsMap *m, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || eq[1] == '\0') {
        err_set(DD_EXIT_USAGE, "invalid --tablespace-map \"%s\": expected NAME=DIR", arg);
        err_hint("NAME is the tablespace's name, oid or recorded directory");
        return false;
    }
    if (eq[1] != '/')
        return err_set(DD_EXIT_USAGE,
                       "invalid --tablespace-map \"%s\": the directory must be an absolute path",
                       arg);
    if (strpbrk(arg, "\r\n"))
        return err_set(DD_EXIT_USAGE, "invalid --tablespace-map: a line break is not allowed");
    char *name = xstrndup(arg, (size_t)(eq - arg));
    for (size_t i = 0; i < m->len; i++) {
        if (strcmp(m->items[i].name, name) == 0) {
            err_set(DD_EXIT_USAGE, "tablespace \"%s\" is mapped twice by --tablespace-map", name);
            free(name);
            return false;
        }
    }
    m->items = xrealloc(m->items, (m->len + 1) * sizeof(*m->items));
    m->items[m->len++] = (TsMapEntry){name, xstrdup(eq + 1), false};
    return true;
}

/* Whether entry e names tablespace t: by oid, recorded directory or name. */
static bool names_ts(const TsMapEntry *e, const ManifestTablespace *t, const TsName *names,
                     size_t nnames)
{
    char oid[16];
    snprintf(oid, sizeof(oid), "%" PRIu32, t->oid);
    if (strcmp(e->name, oid) == 0 || same_dir(e->name, t->location))
        return true;
    for (size_t i = 0; i < nnames; i++)
        if (names[i].oid == t->oid && strcmp(names[i].name, e->name) == 0)
            return true;
    return false;
}

/* The entry for tablespace t, or NULL; marks it used. Fails if two entries match. */
static bool find_entry(TsMap *m, const ManifestTablespace *t, const TsName *names, size_t nnames,
                       TsMapEntry **out)
{
    *out = NULL;
    for (size_t i = 0; i < m->len; i++) {
        TsMapEntry *e = &m->items[i];
        if (!names_ts(e, t, names, nnames))
            continue;
        if (*out) {
            err_set(DD_EXIT_USAGE,
                    "tablespace %" PRIu32 " (\"%s\") is mapped twice by --tablespace-map", t->oid,
                    t->location);
            return false;
        }
        *out = e;
        e->used = true;
    }
    return true;
}

bool tsmap_resolve(TsMap *m, const ManifestTablespace *ts, size_t n, const TsName *names,
                   size_t nnames, const char *backup_id, char ***out)
{
    char **loc = xcalloc(n ? n : 1, sizeof(*loc));
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        TsMapEntry *e;
        ok = find_entry(m, &ts[i], names, nnames, &e);
        if (ok)
            loc[i] = xstrdup(e ? e->dir : ts[i].location);
    }
    for (size_t i = 0; ok && i < m->len; i++) {
        if (!m->items[i].used) {
            err_set(DD_EXIT_USAGE,
                    "--tablespace-map names \"%s\", which is not a tablespace of "
                    "backup \"%s\"",
                    m->items[i].name, backup_id);
            err_hint("name a tablespace by its name, oid or recorded directory");
            ok = false;
        }
    }
    for (size_t i = 0; ok && i < n; i++)
        for (size_t j = i + 1; ok && j < n; j++)
            if (same_dir(loc[i], loc[j]))
                ok = err_set(DD_EXIT_USAGE,
                             "tablespaces %" PRIu32 " and %" PRIu32
                             " would both be restored to \"%s\"",
                             ts[i].oid, ts[j].oid, loc[i]);
    if (!ok) {
        tsmap_free_locations(loc, n);
        loc = NULL;
    }
    *out = loc;
    return ok;
}

void tsmap_free_locations(char **loc, size_t n)
{
    for (size_t i = 0; loc && i < n; i++)
        free(loc[i]);
    free(loc);
}

void tsmap_render(const ManifestTablespace *ts, char *const *loc, size_t n, Buf *out)
{
    for (size_t i = 0; i < n; i++) {
        buf_printf(out, "%" PRIu32 " ", ts[i].oid);
        for (const char *p = loc[i]; *p; p++) {
            if (*p == '\\' || *p == '\n' || *p == '\r')
                buf_append_str(out, "\\");
            buf_append(out, p, 1);
        }
        buf_append_str(out, "\n");
    }
}

void tsmap_free(TsMap *m)
{
    for (size_t i = 0; i < m->len; i++) {
        free(m->items[i].name);
        free(m->items[i].dir);
    }
    free(m->items);
    memset(m, 0, sizeof(*m));
}
