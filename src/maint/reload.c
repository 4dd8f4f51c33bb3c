/*
 * reload.c - see reload.h.
 */
#include "maint/reload.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "maint/pgsetting.h"
#include "maint/steps_int.h"
#include "pg/conn.h"

#define RELOAD_VERIFY_WAIT 10.0 /* seconds a reload gets to be in effect */

typedef struct {
    const char *name; /* "primary", "standby" */
    const char *conninfo;
    const char *data;
} ReloadNode;

/* The live nodes, primary first; false when a data directory is missing. */
static bool reload_nodes(const MaintCtx *ctx, ReloadNode n[2], int *count)
{
    *count = 0;
    n[(*count)++] = (ReloadNode){"primary", ctx->primary, ctx->primary_data};
    if (ctx->standby)
        n[(*count)++] = (ReloadNode){"standby", ctx->standby, ctx->standby_data};
    for (int i = 0; i < *count; i++)
        if (!n[i].data) {
            err_set(DD_EXIT_CONFIG,
                    "a reload-only maintenance needs the %s's data directory: [cluster] %s-data "
                    "is not set",
                    n[i].name, n[i].name);
            err_hint("set it: the files the maintenance changes are copied from there first, so "
                     "that an abort can put them back");
            return false;
        }
    return true;
}

/* What a node's copy of NAME is called in saved_dir. */
static char *reload_copy_path(const MaintCtx *ctx, const ReloadNode *n, const char *name,
                              bool absent)
{
    char *p = xasprintf("%s/%s-%s%s", ctx->saved_dir, n->name, name, absent ? ".absent" : "");
    for (char *s = p + strlen(ctx->saved_dir) + 1; *s; s++)
        if (*s == '/')
            *s = '_';
    return p;
}

/* Copy one file of a node into saved_dir (or mark it absent), durably. */
static bool reload_save(const MaintCtx *ctx, const ReloadNode *n, const char *name)
{
    char *src = xasprintf("%s/%s", n->data, name);
    Buf data = {0};
    bool found = false;
    bool ok = fs_read_file(src, &data, &found);
    char *dst = reload_copy_path(ctx, n, name, !found);
    ok = ok && fs_write_file(dst, found ? data.data : (const void *)"", found ? data.len : 0, 0600);
    buf_free(&data);
    free(dst);
    free(src);
    return ok;
}

static bool reload_save_all(MaintCtx *ctx, const ReloadNode *nodes, int count)
{
    if (ctx->on_created)
        ctx->on_created(ctx, PSTEP_APPLY_RELOAD, MCREATED_DIR, ctx->saved_dir, 0);
    /* A copy left by an earlier try would be put back by an undo: start anew. */
    if (!steps_remove_tree(ctx, ctx->saved_dir))
        return false;
    if (mkdir(ctx->saved_dir, 0700) != 0)
        return err_errno("could not create \"%s\"", ctx->saved_dir);
    for (int i = 0; i < count; i++) {
        if (!reload_save(ctx, &nodes[i], "postgresql.auto.conf"))
            return false;
        for (size_t k = 0; k < ctx->mf->nchanges; k++)
            if (ctx->mf->changes[k].type == MCHANGE_FILE &&
                !reload_save(ctx, &nodes[i], ctx->mf->changes[k].name))
                return false;
    }
    return fs_fsync_dir(ctx->saved_dir) && fs_fsync_parent(ctx->saved_dir);
}

/* ALTER SYSTEM SET name = value, quoted by the server. */
static bool reload_alter(PGconn *c, const MaintChange *ch)
{
    char value[1024];
    pgsetting_unquote(ch->value, value, sizeof(value));
    const char *params[] = {ch->name, value};
    PGresult *r =
        pg_query(c, "SELECT format('ALTER SYSTEM SET %I = %L', $1::text, $2::text)", 2, params);
    bool ok = r && pg_exec(c, PQgetvalue(r, 0, 0));
    PQclear(r);
    return ok;
}

/* The changes on one node: its files, its settings, a reload. */
static bool reload_apply_node(MaintCtx *ctx, const ReloadNode *n)
{
    for (size_t k = 0; k < ctx->mf->nchanges; k++) {
        const MaintChange *ch = &ctx->mf->changes[k];
        if (ch->type != MCHANGE_FILE)
            continue;
        Buf data = {0};
        bool found = false;
        char *dst = xasprintf("%s/%s", n->data, ch->name);
        bool ok = fs_read_file(ch->value, &data, &found);
        if (ok && !found)
            ok = err_set(DD_EXIT_USAGE, "file \"%s\" for %s does not exist", ch->value, ch->name);
        ok = ok && fs_write_file(dst, data.data, data.len, 0600) && steps_chown_tree(ctx, dst);
        buf_free(&data);
        free(dst);
        if (!ok)
            return false;
    }
    PGconn *c = pg_connect(n->conninfo, n->name);
    bool ok = c != NULL;
    for (size_t k = 0; ok && k < ctx->mf->nchanges; k++)
        if (ctx->mf->changes[k].type == MCHANGE_SET)
            ok = reload_alter(c, &ctx->mf->changes[k]);
    ok = ok && pg_exec(c, "SELECT pg_reload_conf()");
    pg_disconnect(c);
    return ok || err_context("applying the changes on the %s", n->name);
}

bool reload_apply(MaintCtx *ctx)
{
    ReloadNode nodes[2];
    int count;
    if (!reload_nodes(ctx, nodes, &count) || !reload_save_all(ctx, nodes, count))
        return false;
    for (int i = 0; i < count; i++)
        if (!reload_apply_node(ctx, &nodes[i]))
            return false;
    return true;
}

/* Put one node's copies back; *changed when there were any. */
static bool reload_restore_node(MaintCtx *ctx, const ReloadNode *n, bool *changed)
{
    DIR *d = opendir(ctx->saved_dir);
    if (!d)
        return errno == ENOENT || err_errno("could not open \"%s\"", ctx->saved_dir);
    size_t plen = strlen(n->name);
    bool ok = true;
    struct dirent *de;
    while (ok && (de = readdir(d))) {
        if (strncmp(de->d_name, n->name, plen) != 0 || de->d_name[plen] != '-' ||
            fs_is_temp_name(de->d_name))
            continue;
        char *name = xstrdup(de->d_name + plen + 1);
        size_t len = strlen(name);
        bool absent = len > 7 && strcmp(name + len - 7, ".absent") == 0;
        if (absent)
            name[len - 7] = '\0';
        char *src = xasprintf("%s/%s", ctx->saved_dir, de->d_name);
        char *dst = xasprintf("%s/%s", n->data, name);
        Buf data = {0};
        bool found = false;
        if (absent)
            ok = fs_remove(dst);
        else
            ok = fs_read_file(src, &data, &found) &&
                 (!found ||
                  (fs_write_file(dst, data.data, data.len, 0600) && steps_chown_tree(ctx, dst)));
        *changed = true;
        buf_free(&data);
        free(src);
        free(dst);
        free(name);
    }
    closedir(d);
    return ok;
}

bool reload_undo(MaintCtx *ctx)
{
    struct stat st;
    if (stat(ctx->saved_dir, &st) != 0 && errno == ENOENT)
        return true; /* nothing was copied, so nothing was changed */
    ReloadNode nodes[2];
    int count;
    if (!reload_nodes(ctx, nodes, &count))
        return false;
    for (int i = 0; i < count; i++) {
        bool changed = false;
        if (!reload_restore_node(ctx, &nodes[i], &changed))
            return err_context("putting the %s's files back", nodes[i].name);
        if (!changed)
            continue;
        PGconn *c = pg_connect(nodes[i].conninfo, nodes[i].name);
        bool ok = c && pg_exec(c, "SELECT pg_reload_conf()");
        pg_disconnect(c);
        if (!ok) /* the files are back: it reads them when it starts, or at its next reload */
            log_warn("the %s was not reloaded after its files were put back: %s", nodes[i].name,
                     err_message());
        err_clear();
    }
    return steps_remove_tree(ctx, ctx->saved_dir);
}

/* The checks of the verify step on one node, until they pass or the wait is over. */
static bool reload_verify_node(MaintCtx *ctx, const ReloadNode *n)
{
    MaintCtx v = *ctx;
    v.green_data = n->data;
    v.verify_node = n->name;
    double until = time_mono() + RELOAD_VERIFY_WAIT;
    for (;;) {
        PGconn *c = pg_connect(n->conninfo, n->name);
        bool ok = c && steps_verify_changes(&v, c);
        pg_disconnect(c);
        if (ok || !c || time_mono() > until || steps_interrupted(ctx))
            return ok;
        err_clear();
        time_sleep(0.2);
    }
}

bool reload_verify(MaintCtx *ctx)
{
    ReloadNode nodes[2];
    int count;
    if (!reload_nodes(ctx, nodes, &count))
        return false;
    for (int i = 0; i < count; i++)
        if (!reload_verify_node(ctx, &nodes[i]))
            return false;
    return true;
}
