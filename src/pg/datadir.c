/*
 * datadir.c - see datadir.h. The rules are a pure function of the path
 * (datadir_rule), plus one rule that needs a directory's contents: the forks
 * of unlogged relations, recognised by their init fork.
 */
#include "pg/datadir.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"

static const char *const skip_top_files[] = {
    "postmaster.pid",
    "postmaster.opts",
    "postgresql.auto.conf.tmp",
    "current_logfiles.tmp",
    "backup_label",
    "tablespace_map",
    "backup_manifest",
    "backup_label.old",
    "standby.signal",
    "recovery.signal",
    NULL,
};

static const char *const empty_top_dirs[] = {
    "pg_replslot",  "pg_dynshmem", "pg_notify",   "pg_serial",
    "pg_snapshots", "pg_stat_tmp", "pg_subtrans", NULL,
};

static bool in_list(const char *const *list, const char *s, size_t len)
{
    for (size_t i = 0; list[i]; i++)
        if (strlen(list[i]) == len && strncmp(list[i], s, len) == 0)
            return true;
    return false;
}

static bool all_digits(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Split relpath into components (at most max); returns their number. */
static size_t split(const char *relpath, const char **comp, size_t *lens, size_t max)
{
    size_t n = 0;
    const char *c = relpath;
    while (*c && n < max) {
        const char *e = strchr(c, '/');
        size_t l = e ? (size_t)(e - c) : strlen(c);
        comp[n] = c;
        lens[n++] = l;
        if (!e)
            break;
        c = e + 1;
    }
    return n;
}

/* Whether the parent of the last component is a database directory (or global/). */
static bool in_db_dir(const char **comp, const size_t *lens, size_t n, bool allow_global)
{
    if (n == 2 && allow_global && lens[0] == 6 && strncmp(comp[0], "global", 6) == 0)
        return true;
    if (n == 3 && lens[0] == 4 && strncmp(comp[0], "base", 4) == 0 && all_digits(comp[1], lens[1]))
        return true;
    return n == 5 && lens[0] == 9 && strncmp(comp[0], "pg_tblspc", 9) == 0 &&
           all_digits(comp[1], lens[1]) && all_digits(comp[3], lens[3]);
}

/*
 * Parse a relation file name "<digits>[_fsm|_vm|_init][.<digits>]": the
 * relfilenode's length, the fork ("" for main) and the segment number.
 */
static bool relfile_parse(const char *name, size_t len, size_t *node_len, const char **fork,
                          size_t *fork_len, uint32_t *segno)
{
    size_t i = 0;
    while (i < len && name[i] >= '0' && name[i] <= '9')
        i++;
    if (i == 0 || i > 10)
        return false;
    *node_len = i;
    *fork = name + i;
    *fork_len = 0;
    if (i < len && name[i] == '_') {
        size_t f = i + 1;
        while (f < len && name[f] != '.')
            f++;
        *fork_len = f - i;
        if (!((*fork_len == 4 && strncmp(name + i, "_fsm", 4) == 0) ||
              (*fork_len == 3 && strncmp(name + i, "_vm", 3) == 0) ||
              (*fork_len == 5 && strncmp(name + i, "_init", 5) == 0)))
            return false;
        i = f;
    }
    *segno = 0;
    if (i < len) {
        if (name[i] != '.' || !all_digits(name + i + 1, len - i - 1) || len - i - 1 > 9)
            return false;
        *segno = (uint32_t)strtoul(name + i + 1, NULL, 10);
    }
    return true;
}

/* "t<digits>_<relfile>": a temporary relation. */
static bool temp_rel_name(const char *name, size_t len)
{
    if (len < 4 || name[0] != 't')
        return false;
    size_t i = 1;
    while (i < len && name[i] >= '0' && name[i] <= '9')
        i++;
    if (i == 1 || i >= len || name[i] != '_')
        return false;
    size_t node_len, fork_len;
    const char *fork;
    uint32_t segno;
    return relfile_parse(name + i + 1, len - i - 1, &node_len, &fork, &fork_len, &segno);
}

DatadirRule datadir_rule(const char *relpath, bool is_dir)
{
    const char *comp[8];
    size_t lens[8];
    size_t n = split(relpath, comp, lens, 8);
    if (n == 0)
        return DATADIR_KEEP;
    const char *base = comp[n - 1];
    size_t blen = lens[n - 1];
    if (blen >= 9 && strncmp(base, "pgsql_tmp", 9) == 0)
        return DATADIR_SKIP;
    if (!is_dir && blen == 16 && strncmp(base, "pg_internal.init", 16) == 0)
        return DATADIR_SKIP;
    if (n == 1 && !is_dir && in_list(skip_top_files, comp[0], lens[0]))
        return DATADIR_SKIP;
    if (in_list(empty_top_dirs, comp[0], lens[0]))
        return n == 1 && is_dir ? DATADIR_KEEP_EMPTY_DIR : DATADIR_SKIP;
    if (lens[0] == 6 && strncmp(comp[0], "pg_wal", 6) == 0) {
        if (n == 1)
            return is_dir ? DATADIR_KEEP : DATADIR_SKIP;
        if (n == 2 && is_dir && blen == 14 && strncmp(base, "archive_status", 14) == 0)
            return DATADIR_KEEP_EMPTY_DIR;
        return DATADIR_SKIP;
    }
    if (!is_dir && in_db_dir(comp, lens, n, false) && temp_rel_name(base, blen))
        return DATADIR_SKIP;
    return DATADIR_KEEP;
}

bool datadir_relation_segment(const char *relpath, uint32_t *segno)
{
    const char *comp[8];
    size_t lens[8];
    size_t n = split(relpath, comp, lens, 8);
    if (n < 2 || !in_db_dir(comp, lens, n, true))
        return false;
    size_t node_len, fork_len;
    const char *fork;
    return relfile_parse(comp[n - 1], lens[n - 1], &node_len, &fork, &fork_len, segno);
}

/* ---- the walk ---- */

static void list_push(DatadirList *l, const char *rel, const char *full, const struct stat *st)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->entries = xrealloc(l->entries, l->cap * sizeof(DatadirEntry));
    }
    DatadirEntry *e = &l->entries[l->n++];
    memset(e, 0, sizeof(*e));
    e->path = xstrdup(rel);
    e->fullpath = xstrdup(full);
    e->mode = st->st_mode & (S_IFMT | 07777);
    e->mtime = (double)st->st_mtim.tv_sec + (double)st->st_mtim.tv_nsec / 1e9;
    if (S_ISREG(st->st_mode)) {
        e->size = (uint64_t)st->st_size;
        l->total_bytes += e->size;
        e->relation = datadir_relation_segment(rel, &e->segno);
    }
}

/* Relfilenodes that have an init fork in this directory (unlogged relations). */
static bool unlogged_fork(const StrList *names, const char *name)
{
    size_t node_len, fork_len;
    const char *fork;
    uint32_t segno;
    if (!relfile_parse(name, strlen(name), &node_len, &fork, &fork_len, &segno))
        return false;
    if (fork_len == 5) /* the init fork itself is kept */
        return false;
    for (size_t i = 0; i < names->len; i++) {
        const char *o = names->items[i];
        if (strncmp(o, name, node_len) == 0 && strncmp(o + node_len, "_init", 5) == 0 &&
            (o[node_len + 5] == 0 || o[node_len + 5] == '.'))
            return true;
    }
    return false;
}

static bool walk_dir(const char *full, const char *rel, DatadirList *out);

static bool walk_entry(const char *full, const char *rel, const StrList *siblings, bool db_dir,
                       const char *name, DatadirList *out)
{
    char *cfull = xasprintf("%s/%s", full, name);
    char *crel = rel[0] ? xasprintf("%s/%s", rel, name) : xstrdup(name);
    struct stat st;
    bool ok = true;
    if (lstat(cfull, &st) != 0) {
        if (errno != ENOENT)
            ok = err_errno("could not stat file \"%s\"", cfull);
        goto done;
    }
    if (S_ISLNK(st.st_mode)) {
        bool tblspc = strncmp(crel, "pg_tblspc/", 10) == 0 && all_digits(name, strlen(name)) &&
                      strchr(crel + 10, '/') == NULL;
        if (!tblspc && strcmp(crel, "pg_wal") != 0) {
            log_debug("skipping symbolic link \"%s\"", cfull);
            goto done;
        }
        if (stat(cfull, &st) != 0 || !S_ISDIR(st.st_mode)) {
            ok = err_errno("could not follow symbolic link \"%s\"", cfull);
            goto done;
        }
        if (tblspc) {
            char target[4096];
            ssize_t l = readlink(cfull, target, sizeof(target) - 1);
            if (l < 0) {
                ok = err_errno("could not read symbolic link \"%s\"", cfull);
                goto done;
            }
            target[l] = 0;
            out->tablespaces =
                xrealloc(out->tablespaces, (out->ntablespaces + 1) * sizeof(DatadirTablespace));
            out->tablespaces[out->ntablespaces].oid = (uint32_t)strtoul(name, NULL, 10);
            out->tablespaces[out->ntablespaces++].location = xstrdup(target);
        }
    }
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        goto done;
    DatadirRule rule = datadir_rule(crel, S_ISDIR(st.st_mode));
    if (rule == DATADIR_SKIP || (db_dir && S_ISREG(st.st_mode) && unlogged_fork(siblings, name)))
        goto done;
    list_push(out, crel, cfull, &st);
    if (S_ISDIR(st.st_mode) && rule == DATADIR_KEEP)
        ok = walk_dir(cfull, crel, out);
done:
    free(cfull);
    free(crel);
    return ok;
}

static bool walk_dir(const char *full, const char *rel, DatadirList *out)
{
    DIR *d = opendir(full);
    if (!d) {
        if (errno == ENOENT) /* dropped while we walk */
            return true;
        return err_errno("could not open directory \"%s\"", full);
    }
    StrList names = {0};
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            strlist_push(&names, de->d_name);
    }
    bool ok = errno == 0 ? true : err_errno("could not read directory \"%s\"", full);
    closedir(d);
    /* a database directory: base/<oid> or pg_tblspc/<oid>/<version>/<oid> */
    char *child = xasprintf("%s/x", rel);
    const char *comp[8];
    size_t lens[8];
    size_t n = split(child, comp, lens, 8);
    bool db_dir = in_db_dir(comp, lens, n, false);
    free(child);
    for (size_t i = 0; ok && i < names.len; i++)
        ok = walk_entry(full, rel, &names, db_dir, names.items[i], out);
    strlist_free(&names);
    return ok;
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const DatadirEntry *)a)->path, ((const DatadirEntry *)b)->path);
}

bool datadir_walk(const char *datadir, DatadirList *out)
{
    memset(out, 0, sizeof(*out));
    struct stat st;
    if (stat(datadir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        err_errno("could not open data directory \"%s\"", datadir);
        err_hint("check [cluster] primary-data / standby-data in the configuration");
        return false;
    }
    char *pgv = xasprintf("%s/PG_VERSION", datadir);
    bool has_version = access(pgv, F_OK) == 0;
    free(pgv);
    if (!has_version) {
        err_set(DD_EXIT_CONFIG, "\"%s\" is not a PostgreSQL data directory (no PG_VERSION)",
                datadir);
        err_hint("check [cluster] primary-data / standby-data in the configuration");
        return false;
    }
    if (!walk_dir(datadir, "", out)) {
        datadir_list_free(out);
        return false;
    }
    if (out->n > 0)
        qsort(out->entries, out->n, sizeof(DatadirEntry), entry_cmp);
    return true;
}

void datadir_list_free(DatadirList *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->entries[i].path);
        free(l->entries[i].fullpath);
    }
    free(l->entries);
    for (size_t i = 0; i < l->ntablespaces; i++)
        free(l->tablespaces[i].location);
    free(l->tablespaces);
    memset(l, 0, sizeof(*l));
}
