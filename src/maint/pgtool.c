/*
 * pgtool.c - see pgtool.h.
 */
#include "maint/pgtool.h"

#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/exec.h"

bool pgtool_owner(const char *path, uid_t *uid, gid_t *gid)
{
    struct stat st;
    char *copy = xstrdup(path);
    bool ok = stat(path, &st) == 0 || stat(dirname(copy), &st) == 0;
    free(copy);
    if (ok) {
        *uid = st.st_uid;
        *gid = st.st_gid;
    }
    return ok;
}

/* The options of a run: the owner of o->owner_of as the user when we are root. */
static void pgtool_opts(char *const argv[], const PgToolOpts *o, Buf *out, char *pw_env,
                        const char **env, char *user, size_t ulen, ExecOpts *eo)
{
    uid_t uid;
    gid_t gid;
    struct passwd *pw;
    user[0] = '\0';
    if (o && o->owner_of && geteuid() == 0 && pgtool_owner(o->owner_of, &uid, &gid) && uid != 0 &&
        (pw = getpwuid(uid)))
        snprintf(user, ulen, "%s", pw->pw_name);
    env[0] = o && o->password ? pw_env : NULL;
    env[1] = NULL;
    *eo = (ExecOpts){.argv = (const char *const *)argv,
                     .env = env,
                     .user = user[0] ? user : NULL,
                     .output = out};
}

bool pgtool_run(char *const argv[], const PgToolOpts *o, Buf *out, int *status)
{
    char *pw_env = o && o->password ? xasprintf("PGPASSWORD=%s", o->password) : NULL;
    const char *env[2];
    char user[64];
    ExecOpts eo;
    ExecResult r;
    pgtool_opts(argv, o, out, pw_env, env, user, sizeof(user), &eo);
    bool ok = exec_run(&eo, &r);
    *status = r.status;
    free(pw_env);
    return ok;
}

bool pgtool_must(char *const argv[], const PgToolOpts *o, const char *doing, Buf *out)
{
    char *pw_env = o && o->password ? xasprintf("PGPASSWORD=%s", o->password) : NULL;
    const char *env[2];
    char user[64];
    ExecOpts eo;
    ExecResult r;
    buf_reset(out);
    pgtool_opts(argv, o, out, pw_env, env, user, sizeof(user), &eo);
    bool ok = exec_check(&eo, DD_EXIT_PG, doing, &r);
    free(pw_env);
    return ok;
}

bool pgtool_server_start(const char *pg_ctl, const char *datadir, const char *timeout_s,
                         const char *doing, char **logfile)
{
    char *logdir = xasprintf("%s/log", datadir);
    *logfile = xasprintf("%s/drydock-start.log", logdir);
    char *mk[] = {"/bin/mkdir", "-p", logdir, NULL};
    char *argv[] = {(char *)pg_ctl, "-D", (char *)datadir,   "-l",    *logfile,
                    "-w",           "-t", (char *)timeout_s, "start", NULL};
    PgToolOpts o = {.owner_of = datadir};
    Buf out = {0};
    bool ok = pgtool_must(mk, &o, "creating the log directory", &out) &&
              pgtool_must(argv, &o, doing, &out);
    buf_free(&out);
    free(logdir);
    return ok;
}
