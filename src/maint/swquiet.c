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

#define SWQUIET_CLEANUP " wal-fetch --cleanup"

bool swquiet_is_ours(const char *v)
{
    size_t n = strlen(v), m = strlen(SWQUIET_CLEANUP);
    return n > m && strcmp(v + n - m, SWQUIET_CLEANUP) == 0 && strstr(v, "drydock") != NULL &&
           strpbrk(v, ";&|`$<>\n") == NULL;
}

/* ALTER SYSTEM SET recovery_end_command = value; reload. */
static bool swquiet_set(PGconn *c, const char *value)
{
    const char *params[] = {value};
    PGresult *res = pg_query(
        c, "SELECT format('ALTER SYSTEM SET recovery_end_command = %L', $1::text)", 1, params);
    bool ok = res && pg_exec(c, PQgetvalue(res, 0, 0)) && pg_exec(c, "SELECT pg_reload_conf()");
    PQclear(res);
    return ok;
}

void swquiet_begin(SwQuiet *q, PGconn *target)
{
    q->saved = NULL;
    char *v = pg_query_value(target, "SELECT current_setting('recovery_end_command')", 0, NULL);
    if (!v || !swquiet_is_ours(v)) {
        if (!v)
            log_debug("reading the target's recovery_end_command: %s", err_message());
        free(v);
        err_clear();
        return;
    }
    if (!swquiet_set(target, "")) {
        log_debug("clearing the target's recovery_end_command: %s", err_message());
        err_clear();
        free(v);
        return;
    }
    log_debug("the target's recovery_end_command is cleared until the switch has ended");
    q->saved = v;
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
    if (!q->saved)
        return;
    ErrSaved saved = err_save();
    PGconn *c = pg_connect(target_conninfo, "target");
    if (!c || !swquiet_set(c, q->saved))
        log_warn("putting the target's recovery_end_command back: %s. HINT: ALTER SYSTEM SET "
                 "recovery_end_command = '%s' on it",
                 err_message(), q->saved);
    pg_disconnect(c);
    if (promoted && target_data && drydock_path)
        swquiet_cleanup(target_data, drydock_path);
    free(q->saved);
    q->saved = NULL;
    (void)err_restore(&saved);
}
