/*
 * fence.c - see fence.h.
 */
#include "maint/fence.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/exec.h"
#include "common/mem.h"
#include "common/fsutil.h"
#include "pg/libpq.h"
#include "restore/recovery.h"

/* The configuration files pg_rewind copies from the source, that the old primary keeps. */
static const char *const fence_conf_files[] = {"postgresql.conf", "postgresql.auto.conf",
                                               "pg_hba.conf", "pg_ident.conf"};
#define FENCE_N_CONF (sizeof(fence_conf_files) / sizeof(fence_conf_files[0]))

char *fence_conninfo_split(const char *conninfo, char **password)
{
    *password = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    if (!opts)
        return xstrdup(conninfo);
    Buf out = {0};
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        if (strcmp(o->keyword, "password") == 0) {
            *password = xstrdup(o->val);
            continue;
        }
        buf_printf(&out, "%s%s='", out.len ? " " : "", o->keyword);
        for (const char *p = o->val; *p; p++) {
            if (*p == '\'' || *p == '\\')
                buf_append_str(&out, "\\");
            buf_append(&out, p, 1);
        }
        buf_append_str(&out, "'");
    }
    PQconninfoFree(opts);
    buf_append(&out, "", 1);
    return (char *)out.data;
}

/*
 * Run a tool that must succeed (common/exec.h); its failure names the tool and
 * its last line of output. password, when set, goes to the child as PGPASSWORD.
 */
static bool fence_tool(const char *const argv[], const char *password, const char *doing, Buf *out)
{
    char *pw_env = password ? xasprintf("PGPASSWORD=%s", password) : NULL;
    const char *env[] = {pw_env, NULL};
    ExecResult r;
    buf_reset(out);
    bool ok =
        exec_check(&(ExecOpts){.argv = argv, .env = env, .output = out}, DD_EXIT_PG, doing, &r);
    free(pw_env);
    return ok;
}

bool fence_check(const FenceOpts *o, bool demote)
{
    const char *tools[] = {"pg_ctl", demote ? "pg_rewind" : NULL};
    for (size_t i = 0; i < 2 && tools[i]; i++) {
        char *path = xasprintf("%s/%s", o->bin, tools[i]);
        bool ok = access(path, X_OK) == 0;
        free(path);
        if (!ok) {
            err_set(DD_EXIT_CONFIG, "no executable %s in \"%s\"", tools[i], o->bin);
            err_hint("set [cluster] bin to PostgreSQL's binaries, e.g. /usr/lib/postgresql/15/bin");
            return false;
        }
    }
    char *version = xasprintf("%s/PG_VERSION", o->datadir);
    bool ok = access(version, R_OK) == 0;
    free(version);
    if (!ok) {
        err_set(DD_EXIT_CONFIG, "\"%s\" is not a PostgreSQL data directory this user can read",
                o->datadir);
        err_hint("set [cluster] primary-data to the primary's data directory; drydock must run "
                 "as the cluster's owner");
    }
    return ok;
}

bool fence_stop(const FenceOpts *o, char *detail, size_t len)
{
    char *pg_ctl = xasprintf("%s/pg_ctl", o->bin);
    Buf out = {0};
    ExecResult st;
    const char *st_argv[] = {pg_ctl, "-D", o->datadir, "status", NULL};
    bool ok = exec_run(&(ExecOpts){.argv = st_argv}, &st);
    if (ok && st.status == 3) {
        snprintf(detail, len, "the old primary was already stopped");
    } else if (ok) {
        const char *argv[] = {pg_ctl, "-D", o->datadir, "-m",   "fast",
                              "-w",   "-t", "120",      "stop", NULL};
        ok = fence_tool(argv, NULL, "stopping the old primary", &out);
        if (ok)
            snprintf(detail, len, "the old primary is stopped");
    }
    buf_free(&out);
    free(pg_ctl);
    return ok;
}

/* Keep (restore=false) or put back (restore=true) the old primary's configuration files. */
static bool fence_conf_keep(const char *datadir, Buf saved[], bool found[], bool restore)
{
    for (size_t i = 0; i < FENCE_N_CONF; i++) {
        char *path = xasprintf("%s/%s", datadir, fence_conf_files[i]);
        bool ok;
        if (!restore)
            ok = fs_read_file(path, &saved[i], &found[i]);
        else if (found[i])
            ok = fs_write_file(path, saved[i].data, saved[i].len, 0600);
        else
            ok = fs_remove(path);
        free(path);
        if (!ok)
            return false;
    }
    return true;
}

static bool fence_rewind(const FenceOpts *o, bool *rewound)
{
    char *pg_rewind = xasprintf("%s/pg_rewind", o->bin);
    char *password = NULL;
    char *source = fence_conninfo_split(o->new_primary, &password);
    char *source_opt = xasprintf("--source-server=%s", source);
    char *target_opt = xasprintf("--target-pgdata=%s", o->datadir);
    /* The WAL before the fork may be gone from pg_wal (the shutdown checkpoint recycles it):
     * --restore-target-wal fetches it with the restore_command written before the rewind. */
    const char *argv[] = {pg_rewind, "--restore-target-wal", target_opt, source_opt, NULL};
    Buf out = {0};
    bool ok = fence_tool(argv, password, "rewinding the old primary", &out);
    *rewound = ok && !strstr((char *)out.data, "no rewind required");
    buf_free(&out);
    free(target_opt);
    free(source_opt);
    free(source);
    free(password);
    free(pg_rewind);
    return ok;
}

static bool fence_start(const FenceOpts *o)
{
    char *logdir = xasprintf("%s/log", o->datadir);
    if (mkdir(logdir, 0700) != 0 && errno != EEXIST) {
        bool r = err_errno("could not create directory \"%s\"", logdir);
        free(logdir);
        return r;
    }
    char *logfile = xasprintf("%s/drydock-start.log", logdir);
    char *pg_ctl = xasprintf("%s/pg_ctl", o->bin);
    const char *argv[] = {pg_ctl, "-D", o->datadir, "-l",    logfile,
                          "-w",   "-t", "120",      "start", NULL};
    Buf out = {0};
    bool ok = fence_tool(argv, NULL, "starting the old primary as a standby", &out);
    if (!ok)
        err_hint("see \"%s\"", logfile);
    buf_free(&out);
    free(pg_ctl);
    free(logfile);
    free(logdir);
    return ok;
}

bool fence_demote(const FenceOpts *o, char *detail, size_t len)
{
    Buf saved[FENCE_N_CONF] = {0};
    bool found[FENCE_N_CONF] = {0};
    bool rewound = false;
    RecoveryOpts ro = {.drydock_path = o->drydock_path,
                       .config_path = o->config_path,
                       .standby_of = o->new_primary,
                       .sets = o->sets};
    /* Written twice: pg_rewind reads restore_command from it, then replaces the files. */
    bool ok = fence_stop(o, detail, len) && fence_conf_keep(o->datadir, saved, found, false) &&
              recovery_write(o->datadir, &ro) && fence_rewind(o, &rewound) &&
              fence_conf_keep(o->datadir, saved, found, true) && recovery_write(o->datadir, &ro) &&
              fence_start(o);
    if (ok)
        snprintf(detail, len, "the old primary was %s and restarted as a standby of the new one",
                 rewound ? "rewound" : "stopped (no rewind needed)");
    for (size_t i = 0; i < FENCE_N_CONF; i++)
        buf_free(&saved[i]);
    return ok;
}
