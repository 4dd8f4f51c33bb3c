/*
 * steps.c - the steps of a maintenance before the switch (steps.h), and
 * what each one undoes:
 *
 *   step       does                                          undo
 *   preflight  primary reachable and not in recovery; the    -
 *              standby in recovery; the green directories
 *              absent or empty, its ports free; the tools
 *              the plan needs in [cluster] bin
 *   backup     backup_run() from the standby (run only: a    - (a backup is kept)
 *              rehearsal never writes the repository)
 *   restore    restore_run() of the newest backup into the   stop a server there,
 *              green data directory as a streaming standby   remove the directory
 *              of the current primary, on the green port,
 *              the settings changes as --set (a rehearsal:
 *              archive_mode = off, hot_standby_feedback =
 *              on and max_standby_*_delay = -1 so that its
 *              replay never cancels a query inspecting it,
 *              tablespaces under the scratch directory),
 *              then the file changes
 *              copied in
 *   offline    pg_checksums needs a cluster shut down        stop a server there
 *              cleanly: start it, catch up, stop it          (pg_checksums stopped
 *              fast, then pg_checksums --enable/--disable    midway leaves checksums
 *              ("already enabled" is fine: a redo)           off: redo it)
 *   start      start, catch up with the primary              stop the server
 *   standby    pg_basebackup from the green primary into     stop it, remove the
 *              standby-data, streaming from it, following    directory
 *              the promotion (recovery_target_timeline =
 *              latest), started on standby-port
 *   apply-reload  a reload-only plan's changes on the live     the files put back
 *              nodes (reload.c)                              (reload.c)
 *   verify     every change in effect (steps_verify.c)       -
 *              (reload-only: on the live nodes, reload.c)
 *
 * Rates recorded: restore-write, startup, shutdown, checksum, wal-replay,
 * basebackup, preflight, verify, promote.
 */
#include "maint/steps.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/backup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/testpoint.h"
#include "common/timeutil.h"
#include "maint/fence.h"
#include "maint/pgtool.h"
#include "maint/reload.h"
#include "maint/sizes.h"
#include "maint/steps_int.h"
#include "pg/datadir.h"
#include "restore/restore.h"

/* --- shared helpers --------------------------------------------------------- */

void steps_rate(MaintCtx *ctx, RateKind kind, double size, double seconds)
{
    if (!ctx->repo || !(seconds > 0) || !(size > 0))
        return;
    RateSample s = {.kind = kind, .size = size, .seconds = seconds, .when = time_wall()};
    snprintf(s.source, sizeof(s.source), "%s", ctx->rehearsal ? "rehearsal" : "maint run");
    if (!rates_record(ctx->repo, &s)) {
        log_warn("could not record the %s rate: %s", rate_kind_name(kind), err_message());
        err_clear();
    }
}

char *steps_conninfo(const MaintCtx *ctx, int port)
{
    PQconninfoOption *opts = PQconninfoParse(ctx->primary, NULL);
    Buf out = {0};
    for (PQconninfoOption *o = opts; o && o->keyword; o++) {
        if (!o->val || strcmp(o->keyword, "port") == 0 || strcmp(o->keyword, "host") == 0 ||
            strcmp(o->keyword, "hostaddr") == 0)
            continue;
        buf_printf(&out, "%s='", o->keyword);
        for (const char *p = o->val; *p; p++) {
            if (*p == '\'' || *p == '\\')
                buf_append_str(&out, "\\");
            buf_append(&out, p, 1);
        }
        buf_append_str(&out, "' ");
    }
    if (opts)
        PQconninfoFree(opts);
    /* The green servers run here: loopback, whatever host the primary has. */
    buf_printf(&out, "host=127.0.0.1 port=%d", port);
    buf_append(&out, "", 1);
    return (char *)out.data;
}

char *steps_tool(const MaintCtx *ctx, const char *tool)
{
    return xasprintf("%s/%s", ctx->cfg->bin ? ctx->cfg->bin : "/usr/lib/postgresql/15/bin", tool);
}

bool steps_interrupted(MaintCtx *ctx)
{
    if (!ctx->interrupted || !*ctx->interrupted)
        return false;
    err_set(DD_EXIT_FAIL, "interrupted");
    err_hint("what the step created is removed (rehearsal) or undone by \"drydock maint abort\"");
    return true;
}

bool steps_server_running(MaintCtx *ctx, const char *dir)
{
    char *pg_ctl = steps_tool(ctx, "pg_ctl");
    char *argv[] = {pg_ctl, "-D", (char *)dir, "status", NULL};
    Buf out = {0};
    int status = 1;
    bool ok = pgtool_run(argv, &(PgToolOpts){.owner_of = dir}, &out, &status);
    buf_free(&out);
    free(pg_ctl);
    err_clear();
    return ok && status == 0;
}

/* The server log's last FATAL (or last) line, for a failed start. */
static void server_log_line(const char *logfile, char *line, size_t len)
{
    Buf log = {0};
    bool found = false;
    snprintf(line, len, "no log");
    if (fs_read_file(logfile, &log, &found) && found && log.len) {
        buf_append(&log, "", 1);
        char *text = (char *)log.data, *pick = NULL, *before = NULL, *prev = NULL;
        for (char *l = strtok(text, "\n"); l; prev = l, l = strtok(NULL, "\n"))
            if (!pick || strstr(l, "FATAL") || !strstr(pick, "FATAL")) {
                pick = l;
                before = prev;
            }
        /* Without the log line prefix ("2026-11-30 09:51:25.192 UTC [13485] "). */
        if (pick && strstr(pick, "] "))
            pick = strstr(pick, "] ") + 2;
        if (before && strstr(before, "] "))
            before = strstr(before, "] ") + 2;
        /* "configuration file ... contains errors" follows the line that says which. */
        if (pick && before && strstr(pick, "contains errors"))
            snprintf(line, len, "%s / %s", before, pick);
        else if (pick)
            snprintf(line, len, "%s", pick);
    }
    err_clear();
    buf_free(&log);
}

bool steps_server_start(MaintCtx *ctx, const char *dir, double *seconds)
{
    char *pg_ctl = steps_tool(ctx, "pg_ctl");
    char *logfile = NULL;
    double t0 = time_mono();
    bool ok = pgtool_server_start(pg_ctl, dir, "3600", "starting the server", &logfile);
    *seconds = time_mono() - t0;
    if (!ok) {
        char line[400];
        server_log_line(logfile, line, sizeof(line));
        err_set(DD_EXIT_PG, "the server in \"%s\" did not start: %s", dir, line);
        if (ctx->rehearsal)
            err_hint("the clone is removed with its log; \"maint rehearse --keep\" keeps them");
        else
            err_hint("see \"%s\"", logfile);
    }
    free(pg_ctl);
    free(logfile);
    return ok;
}

bool steps_server_stop(MaintCtx *ctx, const char *dir, const char *mode, double *seconds)
{
    *seconds = 0;
    struct stat st;
    if (stat(dir, &st) != 0 || !steps_server_running(ctx, dir))
        return true;
    char *pg_ctl = steps_tool(ctx, "pg_ctl");
    char *argv[] = {pg_ctl, "-D", (char *)dir, "-m", (char *)mode, "-w", "-t", "600", "stop", NULL};
    Buf out = {0};
    double t0 = time_mono();
    bool ok = pgtool_must(argv, &(PgToolOpts){.owner_of = dir}, "stopping the server", &out);
    *seconds = time_mono() - t0;
    if (!ok)
        err_context("\"%s\"", dir);
    buf_free(&out);
    free(pg_ctl);
    return ok;
}

static int steps_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int rc = flag == FTW_DP ? rmdir(path) : unlink(path);
    return rc != 0 && errno != ENOENT ? -1 : 0;
}

static bool steps_rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? true : err_errno("could not stat \"%s\"", path);
    if (nftw(path, steps_rm_one, 32, FTW_DEPTH | FTW_PHYS) != 0)
        return err_errno("could not remove \"%s\"", path);
    return true;
}

/* Whether argv (NUL-separated, n bytes) is a pg_basebackup or pg_checksums writing into dir. */
static bool steps_is_writer(const char *argv, size_t n, const char *dir)
{
    const char *base = strrchr(argv, '/');
    base = base ? base + 1 : argv;
    if (strcmp(base, "pg_basebackup") != 0 && strcmp(base, "pg_checksums") != 0)
        return false;
    char *eq = xasprintf("--pgdata=%s", dir);
    bool hit = false;
    const char *prev = "";
    for (const char *a = argv; !hit && a < argv + n; a += strlen(a) + 1) {
        hit = strcmp(a, eq) == 0 ||
              (strcmp(a, dir) == 0 && (strcmp(prev, "-D") == 0 || strcmp(prev, "--pgdata") == 0));
        prev = a;
    }
    free(eq);
    return hit;
}

/* Whether pid is gone (or a zombie: dead, waiting for init to reap it). */
static bool steps_pid_gone(pid_t pid)
{
    char path[64], stat[256] = "";
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return true;
    bool got = fgets(stat, sizeof(stat), f) != NULL;
    fclose(f);
    const char *close = got ? strrchr(stat, ')') : NULL;
    return close && (close[2] == 'Z' || close[2] == 'X');
}

void steps_kill_writers(const char *dir)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    pid_t killed[16];
    int nkilled = 0;
    while (d && (de = readdir(d)) && nkilled < 16) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || pid <= 0 || pid == getpid())
            continue;
        char path[64], argv[4096];
        snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(argv, 1, sizeof(argv) - 1, f) : 0;
        if (f)
            fclose(f);
        argv[n] = '\0';
        if (n && steps_is_writer(argv, n, dir) && kill((pid_t)pid, SIGKILL) == 0) {
            log_warn("stopped %s (pid %ld), left writing into \"%s\" by a run that died", argv, pid,
                     dir);
            killed[nkilled++] = (pid_t)pid;
        }
    }
    if (d)
        closedir(d);
    for (int i = 0; i < nkilled; i++)
        for (int t = 0; t < 500 && !steps_pid_gone(killed[i]); t++)
            time_sleep(0.01);
}

void steps_tablespaces(const char *dir, StrList *names, StrList *targets)
{
    char *tbl = xasprintf("%s/pg_tblspc", dir);
    DIR *d = opendir(tbl);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        char link[PATH_MAX + 1];
        char *lp = xasprintf("%s/%s", tbl, de->d_name);
        ssize_t n = readlink(lp, link, PATH_MAX);
        free(lp);
        if (n <= 0)
            continue;
        link[n] = '\0';
        strlist_push(names, de->d_name);
        strlist_push(targets, link);
    }
    if (d)
        closedir(d);
    free(tbl);
}

bool steps_remove_tree(MaintCtx *ctx, const char *dir)
{
    steps_kill_writers(dir);
    /* Tablespaces live behind pg_tblspc symlinks: a rehearsal's are under its scratch. */
    StrList names = {0}, targets = {0};
    if (ctx->scratch)
        steps_tablespaces(dir, &names, &targets);
    bool ok = true;
    for (size_t i = 0; ok && i < targets.len; i++) {
        const char *link = targets.items[i];
        size_t sl = strlen(ctx->scratch);
        if (strncmp(link, ctx->scratch, sl) == 0 && link[sl] == '/')
            ok = steps_rm_rf(link);
    }
    strlist_free(&names);
    strlist_free(&targets);
    return ok && steps_rm_rf(dir);
}

/* --- preflight ------------------------------------------------------------ */

static bool preflight_recovery(const char *conninfo, const char *what, bool want)
{
    PGconn *c = pg_connect(conninfo, what);
    if (!c)
        return false;
    char *v = pg_query_value(c, "SELECT pg_is_in_recovery()", 0, NULL);
    pg_disconnect(c);
    if (!v)
        return false;
    bool in = strcmp(v, "t") == 0;
    free(v);
    if (in != want) {
        err_set(DD_EXIT_PG, "the %s is %sin recovery", what, in ? "" : "not ");
        err_hint("the topology changed: check \"drydock maint status\" and the [cluster] section");
        return false;
    }
    return true;
}

static bool preflight_empty_dir(const char *dir, const char *key)
{
    if (!dir)
        return true;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? true : err_errno("could not open directory \"%s\"", dir);
    struct dirent *de;
    bool empty = true;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            empty = false;
    closedir(d);
    if (!empty) {
        err_set(DD_EXIT_USAGE, "[green] %s \"%s\" is not empty", key, dir);
        err_hint("give the new cluster an empty or missing directory");
    }
    return empty;
}

static bool preflight_port_free(int port, const char *key)
{
    /* Taken when something accepts a connection on the loopback port. */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool taken = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (fd >= 0)
        close(fd);
    if (taken) {
        err_set(DD_EXIT_USAGE, "[green] %s %d is in use", key, port);
        err_hint("choose a port no server listens on");
    }
    return !taken;
}

static bool preflight_tool(const MaintCtx *ctx, const char *tool, bool needed)
{
    if (!needed)
        return true;
    char *path = steps_tool(ctx, tool);
    bool ok = access(path, X_OK) == 0;
    if (!ok) {
        err_set(DD_EXIT_CONFIG, "no executable %s in \"%s\"", tool, ctx->cfg->bin);
        err_hint("set [cluster] bin to PostgreSQL's binaries, e.g. /usr/lib/postgresql/15/bin");
    }
    free(path);
    return ok;
}

static bool step_preflight(MaintCtx *ctx)
{
    double t0 = time_mono();
    bool ok = preflight_recovery(ctx->primary, "primary", false) &&
              (!ctx->standby || preflight_recovery(ctx->standby, "standby", true)) &&
              preflight_empty_dir(ctx->green_data, "data") &&
              preflight_empty_dir(ctx->green_standby_data, "standby-data") &&
              preflight_port_free(ctx->green_port, "port") &&
              (!ctx->green_standby_data ||
               preflight_port_free(ctx->green_standby_port, "standby-port")) &&
              preflight_tool(ctx, "pg_ctl", true) &&
              preflight_tool(ctx, "pg_checksums", ctx->plan->steps[PSTEP_OFFLINE].enabled) &&
              preflight_tool(ctx, "pg_basebackup", ctx->green_standby_data != NULL);
    if (ok)
        steps_rate(ctx, RATE_PREFLIGHT, 1, time_mono() - t0);
    return ok;
}

/* --- backup ----------------------------------------------------------------- */

static bool step_backup(MaintCtx *ctx)
{
    if (ctx->rehearsal)
        return err_set(DD_EXIT_FAIL, "a rehearsal does not take a backup");
    BackupSummary sum;
    if (!backup_run(ctx->cfg, ctx->repo,
                    &(BackupOpts){.from = BACKUP_FROM_STANDBY, .progress = ctx->progress}, &sum))
        return false;
    rates_record_backup(ctx->repo, "maint run", &sum);
    return true;
}

/* --- restore ---------------------------------------------------------------- */

/* The --set list: every setting change; a throwaway clone also archives nothing, and replays
 * WAL from the live primary without cancelling the queries that inspect it (the verify step's,
 * a user's looking at it): under a write load its replay conflicts with them otherwise. */
static void restore_sets(const MaintCtx *ctx, StrList *sets)
{
    for (size_t i = 0; i < ctx->mf->nchanges; i++) {
        const MaintChange *c = &ctx->mf->changes[i];
        if (c->type == MCHANGE_SET && c->kind != MKIND_IMPOSSIBLE)
            strlist_push_owned(sets, xasprintf("%s=%s", c->name, c->value));
    }
    if (ctx->rehearsal) {
        strlist_push(sets, "archive_mode=off");
        strlist_push(sets, "hot_standby_feedback=on");
        strlist_push(sets, "max_standby_streaming_delay=-1");
        strlist_push(sets, "max_standby_archive_delay=-1");
    }
}

/* Where the tablespaces go: mf's map for a run, under the scratch directory for a rehearsal. */
static bool restore_tsmap(const MaintCtx *ctx, TsMap *map)
{
    if (!ctx->rehearsal)
        return !ctx->mf->tablespace_map || tsmap_add(map, ctx->mf->tablespace_map);
    SizesBackup b;
    Manifest *m = NULL;
    if (!sizes_newest_backup(ctx->repo, &b) || !b.id[0] || !b.ntablespaces)
        return true;
    if (!manifest_load(ctx->repo, b.id, &m))
        return false;
    bool ok = true;
    for (size_t i = 0; ok && i < m->ntablespaces; i++) {
        char *arg = xasprintf("%u=%s/tblspc-%u", m->tablespaces[i].oid, ctx->scratch,
                              m->tablespaces[i].oid);
        ok = tsmap_add(map, arg);
        free(arg);
    }
    manifest_free(m);
    return ok;
}

/* Copy the file changes into the green data directory. */
static bool restore_files(const MaintCtx *ctx)
{
    for (size_t i = 0; i < ctx->mf->nchanges; i++) {
        const MaintChange *c = &ctx->mf->changes[i];
        if (c->type != MCHANGE_FILE)
            continue;
        Buf data = {0};
        bool found = false;
        char *dest = xasprintf("%s/%s", ctx->green_data, c->name);
        bool ok = fs_read_file(c->value, &data, &found);
        if (ok && !found)
            ok = err_set(DD_EXIT_USAGE, "file \"%s\" for %s does not exist", c->value, c->name);
        if (ok)
            ok = fs_write_file(dest, data.data, data.len, 0600);
        free(dest);
        buf_free(&data);
        if (!ok)
            return false;
    }
    return true;
}

static uid_t chown_uid;
static gid_t chown_gid;

static int steps_chown_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return lchown(path, chown_uid, chown_gid);
}

bool steps_chown_tree(const MaintCtx *ctx, const char *dir)
{
    if (geteuid() != 0 || !ctx->primary_data ||
        !pgtool_owner(ctx->primary_data, &chown_uid, &chown_gid) || chown_uid == 0)
        return true;
    if (nftw(dir, steps_chown_one, 32, FTW_PHYS) != 0)
        return err_errno("could not give \"%s\" to the clusters' owner", dir);
    return true;
}

static bool self_paths(const MaintCtx *ctx, char *self, char *conf)
{
    ssize_t n = readlink("/proc/self/exe", self, PATH_MAX - 1);
    if (n <= 0 || !realpath(ctx->cfg->file, conf))
        return err_errno("could not find the path of drydock or of its configuration file");
    self[n] = '\0';
    return true;
}

static bool step_restore(MaintCtx *ctx)
{
    char self[PATH_MAX], conf[PATH_MAX];
    if (!self_paths(ctx, self, conf))
        return false;
    if (ctx->on_created)
        ctx->on_created(ctx, PSTEP_RESTORE, MCREATED_DIR, ctx->green_data, 0);
    StrList sets = {0};
    TsMap map = {0};
    restore_sets(ctx, &sets);
    RestoreOpts o = {.dest = ctx->green_data,
                     .tsmap = &map,
                     .sets = &sets,
                     .port = ctx->green_port,
                     .standby_of = ctx->primary,
                     .drydock_path = self,
                     .config_path = conf,
                     .progress = ctx->progress};
    RestoreResult r;
    WriteWatch w;
    write_watch_start(&w, ctx->green_data);
    bool ok = restore_tsmap(ctx, &map) && restore_run(ctx->repo, &o, &r) && restore_files(ctx) &&
              steps_chown_tree(ctx, ctx->green_data);
    /* The fixed part: all the step did but copy the bytes (the repository, the layout),
     * and the copy's small files. */
    if (ok)
        rates_record_write(ctx->repo, ctx->rehearsal ? "rehearsal" : "maint run",
                           RATE_RESTORE_WRITE, &w, (double)r.bytes_written,
                           time_mono() - w.t0 - restore_grows_s(&r));
    tsmap_free(&map);
    strlist_free(&sets);
    return ok;
}

static bool step_restore_undo(MaintCtx *ctx)
{
    double s;
    return steps_server_stop(ctx, ctx->green_data, "immediate", &s) &&
           steps_remove_tree(ctx, ctx->green_data);
}

/* --- offline ---------------------------------------------------------------- */

static const char *offline_mode(const MaintCtx *ctx)
{
    for (size_t i = 0; i < ctx->mf->nchanges; i++)
        if (ctx->mf->changes[i].type == MCHANGE_CHECKSUMS)
            return strcmp(ctx->mf->changes[i].value, "disable") == 0 ? "--disable" : "--enable";
    return NULL;
}

static bool offline_checksums(MaintCtx *ctx, const char *mode)
{
    char *tool = steps_tool(ctx, "pg_checksums");
    char *argv[] = {tool, (char *)mode, "-D", (char *)ctx->green_data, NULL};
    Buf out = {0};
    int status = 0;
    WriteWatch w;
    write_watch_start(&w, ctx->green_data);
    bool ok = pgtool_run(argv, &(PgToolOpts){.owner_of = ctx->green_data}, &out, &status);
    bool already = ok && status != 0 && strstr((char *)out.data, "already");
    if (ok && status != 0 && !already)
        ok = pgtool_must(argv, &(PgToolOpts){.owner_of = ctx->green_data},
                         "rewriting the data checksums", &out);
    if (ok && !already) {
        DatadirList l = {0};
        if (datadir_walk(ctx->green_data, &l))
            rates_record_write(ctx->repo, ctx->rehearsal ? "rehearsal" : "maint run", RATE_CHECKSUM,
                               &w, (double)l.total_bytes, 0);
        err_clear();
        datadir_list_free(&l);
    }
    buf_free(&out);
    free(tool);
    return ok;
}

static bool step_offline(MaintCtx *ctx)
{
    const char *mode = offline_mode(ctx);
    if (!mode)
        return true;
    double up = 0, down = 0;
    if (ctx->on_created)
        ctx->on_created(ctx, PSTEP_OFFLINE, MCREATED_SERVER, ctx->green_data, ctx->green_port);
    /* pg_checksums wants a clean shutdown: a restored directory was never started. Catching
     * up first leaves the start step only what the primary writes meanwhile. */
    if (!steps_server_start(ctx, ctx->green_data, &up) ||
        !steps_catch_up(ctx, ctx->green_port, "green primary", up) ||
        !steps_server_stop(ctx, ctx->green_data, "fast", &down))
        return false;
    steps_rate(ctx, RATE_STARTUP, 1, up);
    steps_rate(ctx, RATE_SHUTDOWN, 1, down);
    testpoint_pause("maint-offline-checksums"); /* caught up and stopped, not rewritten */
    return offline_checksums(ctx, mode);
}

static bool step_offline_undo(MaintCtx *ctx)
{
    steps_kill_writers(ctx->green_data);
    double s;
    return steps_server_stop(ctx, ctx->green_data, "fast", &s);
}

/* --- verify ----------------------------------------------------------------- */

static bool step_verify(MaintCtx *ctx)
{
    if (ctx->plan && ctx->plan->reload_only)
        return reload_verify(ctx);
    double t0 = time_mono();
    char *ci = steps_conninfo(ctx, ctx->green_port);
    PGconn *c = pg_connect(ci, "green primary");
    free(ci);
    if (!c)
        return false;
    bool ok = steps_verify_changes(ctx, c);
    pg_disconnect(c);
    if (ok)
        steps_rate(ctx, RATE_VERIFY, 1, time_mono() - t0);
    return ok;
}

/* --- the table ------------------------------------------------------------ */

static const MaintStep maint_steps[] = {
    {PSTEP_PREFLIGHT, step_preflight, NULL},
    {PSTEP_APPLY_RELOAD, reload_apply, reload_undo},
    {PSTEP_BACKUP, step_backup, NULL},
    {PSTEP_RESTORE, step_restore, step_restore_undo},
    {PSTEP_OFFLINE, step_offline, step_offline_undo},
    {PSTEP_START, step_start, step_start_undo},
    {PSTEP_STANDBY, step_standby, step_standby_undo},
    {PSTEP_VERIFY, step_verify, NULL},
};

const MaintStep *maint_step(PlanStepId id)
{
    for (size_t i = 0; i < sizeof(maint_steps) / sizeof(maint_steps[0]); i++)
        if (maint_steps[i].id == id)
            return &maint_steps[i];
    return NULL;
}

bool maint_steps_cleanup(MaintCtx *ctx)
{
    bool ok = true;
    const char *dirs[] = {ctx->green_standby_data, ctx->green_data};
    for (size_t i = 0; i < 2; i++) {
        double s;
        if (!dirs[i])
            continue;
        if (!steps_server_stop(ctx, dirs[i], "immediate", &s) || !steps_remove_tree(ctx, dirs[i])) {
            log_warn("%s", err_message());
            err_clear();
            ok = false;
        }
    }
    if (!ok)
        err_set(DD_EXIT_IO, "could not remove everything the steps created");
    return ok;
}
