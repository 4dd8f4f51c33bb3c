/*
 * pgtool.c - see pgtool.h.
 */
#include "maint/pgtool.h"

#include <errno.h>
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

/*
 * The user to run as: when we are root, the owner of o->owner_of (unless
 * that is root too). NULL: as we are. false when the owner has no name.
 */
static bool pgtool_user(const PgToolOpts *o, char *name, size_t len, const char **user)
{
    uid_t uid;
    gid_t gid;
    *user = NULL;
    if (!o || !o->owner_of || geteuid() != 0 || !pgtool_owner(o->owner_of, &uid, &gid) || uid == 0)
        return true;
    struct passwd *pw = getpwuid(uid);
    if (!pw)
        return err_set(DD_EXIT_CONFIG, "the owner of \"%s\" (uid %u) has no user name", o->owner_of,
                       (unsigned)uid);
    snprintf(name, len, "%s", pw->pw_name);
    *user = name;
    return true;
}

/* common/exec.h runs it: PGPASSWORD in the environment, the owner's identity, the output kept. */
static bool pgtool_exec(char *const argv[], const PgToolOpts *o, Buf *out, bool must,
                        const char *doing, int *status)
{
    char name[256];
    const char *user;
    if (!pgtool_user(o, name, sizeof(name), &user))
        return false;
    char *pw_env = o && o->password ? xasprintf("PGPASSWORD=%s", o->password) : NULL;
    const char *env[] = {pw_env, NULL};
    ExecOpts eo = {.argv = (const char *const *)argv, .env = env, .user = user, .output = out};
    ExecResult r;
    bool ok = must ? exec_check(&eo, DD_EXIT_PG, doing, &r) : exec_run(&eo, &r);
    if (status)
        *status = r.status;
    free(pw_env);
    return ok;
}

bool pgtool_run(char *const argv[], const PgToolOpts *o, Buf *out, int *status)
{
    return pgtool_exec(argv, o, out, false, NULL, status);
}

bool pgtool_must(char *const argv[], const PgToolOpts *o, const char *doing, Buf *out)
{
    buf_reset(out);
    return pgtool_exec(argv, o, out, true, doing, NULL);
}
