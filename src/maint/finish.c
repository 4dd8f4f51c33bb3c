/*
 * finish.c - what "maint finish" removes: only what the journal knows the
 * run kept (finish.h).
 */
#include "maint/finish.h"

#include <jansson.h>
#include <string.h>
#include <sys/stat.h>

#include "config/topology.h"
#include "maint/steps_int.h"

static bool finish_remove_dir(const Config *cfg, const char *dir, FILE *out)
{
    MaintCtx ctx = {.cfg = cfg};
    struct stat st;
    if (lstat(dir, &st) != 0)
        return true;
    if ((cfg->primary_data && strcmp(cfg->primary_data, dir) == 0) ||
        (cfg->standby_data && strcmp(cfg->standby_data, dir) == 0)) {
        err_set(DD_EXIT_CONFLICT, "\"%s\" is the data directory of a current node: not removed",
                dir);
        err_hint("\"drydock maint status\" shows the roles");
        return false;
    }
    if (steps_server_running(&ctx, dir)) {
        err_set(DD_EXIT_CONFLICT, "a server runs in \"%s\": not removed", dir);
        err_hint("stop it (pg_ctl -D \"%s\" stop) if it is no longer needed, then maint finish",
                 dir);
        return false;
    }
    if (!steps_remove_tree(&ctx, dir))
        return false;
    if (out)
        fprintf(out, "removed %s\n", dir);
    return true;
}

bool maint_finish_remove(const Config *cfg, Journal *j, const JournalRun *jr, FILE *out)
{
    if (jr->state == JRUN_COMPLETED) {
        json_t *plan = json_loads(jr->plan_json ? jr->plan_json : "{}", 0, NULL);
        const char *old = json_string_value(
            json_object_get(json_object_get(plan, "roles_before"), "primary_data"));
        /* Removed: "maint status" no longer shows it as kept for rollback. */
        bool ok = !old || (finish_remove_dir(cfg, old, out) && topology_forget_retired(cfg, old));
        json_decref(plan);
        return ok;
    }
    for (size_t i = 0; i < jr->ncreated; i++) {
        const JournalCreated *c = &jr->created[i];
        if (c->removed)
            continue;
        if (!finish_remove_dir(cfg, c->what, out) || !journal_removed(j, jr->id, c->type, c->what))
            return false;
    }
    return true;
}
