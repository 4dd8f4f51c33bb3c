/*
 * swquiet.c - see swquiet.h.
 */
#include "maint/swquiet.h"

#include <stdlib.h>
#include <string.h>

#include "common/exec.h"
#include "common/log.h"
#include "common/mem.h"
#include "pg/conn.h"

/* The settings, and how the command drydock restore writes for each ends (restore/recovery.c). */
static const struct {
    const char *name;
    const char *suffix;
} swquiet_settings[SWQUIET_N] = {
    {"recovery_end_command", " wal-fetch --cleanup"},
    {"restore_command", " wal-fetch %f %p"},
};

static bool swquiet_ends(const char *v, const char *suffix)
{
    size_t n = strlen(v), m = strlen(suffix);
    return n > m && strcmp(v + n - m, suffix) == 0;
}

bool swquiet_is_ours(const char *v)
{
    bool ends = false;
    for (int i = 0; i < SWQUIET_N; i++)
        ends = ends || swquiet_ends(v, swquiet_settings[i].suffix);
    return ends && strstr(v, "drydock") != NULL && strpbrk(v, ";&|`$<>\n") == NULL;
}

/* ALTER SYSTEM SET name = value; reload. */
static bool swquiet_set(PGconn *c, const char *name, const char *value)
{
    const char *params[] = {name, value};
    PGresult *res =
        pg_query(c, "SELECT format('ALTER SYSTEM SET %I = %L', $1::text, $2::text)", 2, params);
    bool ok = res && pg_exec(c, PQgetvalue(res, 0, 0)) && pg_exec(c, "SELECT pg_reload_conf()");
    PQclear(res);
    return ok;
}

void swquiet_begin(SwQuiet *q, PGconn *target)
{
    for (int i = 0; i < SWQUIET_N; i++) {
        const char *name = swquiet_settings[i].name;
        const char *params[] = {name};
        q->saved[i] = NULL;
        char *v = pg_query_value(target, "SELECT current_setting($1)", 1, params);
        if (!v || !swquiet_ends(v, swquiet_settings[i].suffix) || !swquiet_is_ours(v)) {
            if (!v)
                log_debug("reading the target's %s: %s", name, err_message());
            free(v);
            err_clear();
            continue;
        }
        if (!swquiet_set(target, name, "")) {
            log_debug("clearing the target's %s: %s", name, err_message());
            err_clear();
            free(v);
            continue;
        }
        log_debug("the target's %s is cleared until the switch has ended", name);
        q->saved[i] = v;
    }
}

static void swquiet_cleanup(const char *data, const char *drydock_path)
{
    const char *argv[] = {drydock_path, "wal-fetch", "--cleanup", NULL};
    ExecResult r;
    if (!exec_check(&(ExecOpts){.argv = argv, .cwd = data, .timeout_ms = 60000}, DD_EXIT_FAIL,
                    "removing the new primary's WAL prefetch spool", &r)) {
        log_warn("%s. HINT: run \"drydock wal-fetch --cleanup\" in %s", err_message(), data);
        err_clear();
    }
}

void swquiet_end(SwQuiet *q, const char *target_conninfo, bool promoted, const char *target_data,
                 const char *drydock_path)
{
    if (!q->saved[0] && !q->saved[1])
        return;
    ErrSaved saved = err_save();
    PGconn *c = pg_connect(target_conninfo, "target");
    for (int i = 0; i < SWQUIET_N; i++) {
        if (q->saved[i] && (!c || !swquiet_set(c, swquiet_settings[i].name, q->saved[i])))
            log_warn("putting the target's %s back: %s. HINT: ALTER SYSTEM SET %s = '%s' on it",
                     swquiet_settings[i].name, err_message(), swquiet_settings[i].name,
                     q->saved[i]);
    }
    pg_disconnect(c);
    if (q->saved[0] && promoted && target_data && drydock_path)
        swquiet_cleanup(target_data, drydock_path);
    for (int i = 0; i < SWQUIET_N; i++) {
        free(q->saved[i]);
        q->saved[i] = NULL;
    }
    (void)err_restore(&saved);
}
