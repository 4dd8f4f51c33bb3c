/*
 * fence.c - see fence.h.
 */
#include "maint/fence.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/fsutil.h"
#include "pg/libpq.h"
#include "restore/recovery.h"

#define FENCE_MAX_OUTPUT (256 * 1024)

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

/* The last non-empty line of a tool's output, for an error message. */
static const char *fence_last_line(const Buf *out, char *line, size_t len)
{
    const char *s = out->len ? (const char *)out->data : "";
    const char *end = s + strnlen(s, out->len);
    while (end > s && (end[-1] == '\n' || end[-1] == ' '))
        end--;
    const char *start = end;
    while (start > s && start[-1] != '\n')
        start--;
    snprintf(line, len, "%.*s", (int)(end - start), start);
    return line[0] ? line : "no output";
}

/*
 * Run argv[0] (a path) with stdout and stderr captured in out; *status is
 * its exit status (128 + signal when killed). password, when set, goes to
 * the child as PGPASSWORD. false only when it could not be run at all.
 */
static bool fence_run(char *const argv[], const char *password, Buf *out, int *status)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return err_errno("could not create a pipe to run \"%s\"", argv[0]);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return err_errno("could not fork to run \"%s\"", argv[0]);
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        /* Nothing of ours (libpq or curl sockets) may live on in a postmaster. */
        closefrom(3);
        if (password)
            setenv("PGPASSWORD", password, 1);
        execv(argv[0], argv);
        dprintf(2, "could not execute \"%s\": %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    char chunk[4096];
    for (;;) {
        ssize_t n = read(fds[0], chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (out->len < FENCE_MAX_OUTPUT)
            buf_append(out, chunk, (size_t)n);
    }
    close(fds[0]);
    buf_append(out, "", 1);
    out->len--;
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0) {
        if (errno != EINTR)
            return err_errno("could not wait for \"%s\"", argv[0]);
    }
    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    return true;
}

/* Run a tool that must succeed; its failure names the tool and its last line of output. */
static bool fence_tool(char *const argv[], const char *password, const char *doing, Buf *out)
{
    int status = 0;
    buf_reset(out);
    if (!fence_run(argv, password, out, &status))
        return false;
    if (status == 0)
        return true;
    char line[512];
    err_set(DD_EXIT_PG, "%s failed (%s exited with status %d): %s", doing,
            strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0], status,
            fence_last_line(out, line, sizeof(line)));
    return false;
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
    int status = 0;
    char *st_argv[] = {pg_ctl, "-D", (char *)o->datadir, "status", NULL};
    bool ok = fence_run(st_argv, NULL, &out, &status);
    if (ok && status == 3) {
        snprintf(detail, len, "the old primary was already stopped");
    } else if (ok) {
        char *argv[] = {pg_ctl, "-D", (char *)o->datadir, "-m", "fast", "-w", "-t", "120",
                        "stop", NULL};
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
    char *argv[] = {pg_rewind, "--restore-target-wal", target_opt, source_opt, NULL};
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
    char *argv[] = {pg_ctl,  "-D", (char *)o->datadir, "-l", logfile, "-w", "-t", "120",
                    "start", NULL};
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
                       .standby_of = o->new_primary};
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
