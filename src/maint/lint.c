/*
 * lint.c - the checks of lint.h, one function a row of lint_checks[].
 *
 * A check that cannot run (a query fails) says so as a warning finding
 * rather than passing silently: a plan with an unchecked danger must not
 * look clean.
 */
#include "maint/lint.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backup/archcheck.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "maint/classify.h"
#include "maint/estimate.h"
#include "pg/conn.h"
#include "pg/wal.h"
#include "restore/info.h"

#define LINT_DEFAULT_LAG    (64ull << 20) /* standby-lag-limit when the file has none */
#define LINT_ROOM_MARGIN    1.25          /* free space needed: the cluster + 25 % */
#define LINT_FULL_BACKUP_AT 0.5           /* "full-backup" when it stores half the cluster */

static void add(Plan *p, FindingSeverity sev, const char *code, const char *hint, const char *fmt,
                ...) DD_PRINTF(5, 6);
static void add(Plan *p, FindingSeverity sev, const char *code, const char *hint, const char *fmt,
                ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    plan_add_finding(p, sev, code, msg, hint);
}

/* A check could not run: a warning naming it, with the error, then clear the slot. */
static void unchecked(Plan *p, const char *what)
{
    add(p, FINDING_WARNING, "unchecked", "fix the cause and plan again", "could not check %s: %s",
        what, err_message());
    err_clear();
}

static bool needs_cluster(const Plan *p)
{
    return !p->reload_only;
}

/* ---- nodes ----------------------------------------------------------------- */

static void lint_backup_source(const LintCtx *c, Plan *p)
{
    if (!needs_cluster(p) || (c->cfg->standby && c->cfg->standby[0]))
        return;
    add(p, FINDING_ERROR, "backup-from-primary",
        "configure a streaming standby ([cluster] standby and standby-data): drydock backs up "
        "from it, never from the primary during a maintenance",
        "no standby is configured: the maintenance's backup would read the primary");
}

static bool same_path(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    char ra[4096], rb[4096];
    if (!realpath(a, ra))
        snprintf(ra, sizeof(ra), "%s", a);
    if (!realpath(b, rb))
        snprintf(rb, sizeof(rb), "%s", b);
    return strcmp(ra, rb) == 0;
}

static void lint_green_live(const LintCtx *c, Plan *p)
{
    const MaintFile *mf = c->mf;
    if (!needs_cluster(p))
        return;
    if (!mf->green_data) {
        add(p, FINDING_ERROR, "green-missing",
            "add [green] data = DIR and port = N for the new primary",
            "the changes need a new cluster but the maintenance file has no [green] data");
        return;
    }
    const char *dirs[] = {mf->green_data, mf->green_standby_data};
    const char *live[] = {c->cfg->primary_data, c->cfg->standby_data};
    for (size_t i = 0; i < 2; i++)
        for (size_t j = 0; j < 2; j++)
            if (dirs[i] && same_path(dirs[i], live[j]))
                add(p, FINDING_ERROR, "green-is-live",
                    "give the new cluster directories of its own",
                    "[green] %s \"%s\" is the %s's data directory", i ? "standby-data" : "data",
                    dirs[i], j ? "standby" : "primary");
    int ports[] = {mf->green_port, mf->green_standby_port};
    PGconn *conns[] = {c->primary, c->standby};
    for (size_t i = 0; i < 2; i++)
        for (size_t j = 0; j < 2; j++)
            if (ports[i] && conns[j] && atoi(PQport(conns[j])) == ports[i])
                add(p, FINDING_ERROR, "green-is-live", "give the new cluster ports of its own",
                    "[green] %s %d is the port of the running %s", i ? "standby-port" : "port",
                    ports[i], j ? "standby" : "primary");
}

/* Something accepts TCP connections on 127.0.0.1:port. */
static bool port_listening(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool up = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return up;
}

static void lint_green_ports(const LintCtx *c, Plan *p)
{
    const MaintFile *mf = c->mf;
    if (!needs_cluster(p))
        return;
    int ports[] = {mf->green_port, mf->green_standby_port};
    PGconn *conns[] = {c->primary, c->standby};
    for (size_t i = 0; i < 2; i++) {
        bool live = false;
        for (size_t j = 0; j < 2; j++)
            live |= conns[j] && atoi(PQport(conns[j])) == ports[i];
        if (ports[i] && !live && port_listening(ports[i]))
            add(p, FINDING_ERROR, "green-port-in-use",
                "stop what listens there, or choose another port",
                "[green] %s %d: something already listens on 127.0.0.1:%d",
                i ? "standby-port" : "port", ports[i], ports[i]);
    }
}

/*
 * A standby that streams without a slot and has no restore_command has one
 * source of WAL: what the primary still keeps. A burst of writes (a bulk
 * load, the rewrite of a big table) that puts it more than wal_keep_size
 * behind, while it is slow or reconnecting, makes the primary recycle WAL it
 * still needs: it then waits forever, and so does a backup read from it.
 */
static void lint_standby_source(const LintCtx *c, Plan *p)
{
    PGresult *res = pg_query(c->standby,
                             "SELECT current_setting('primary_slot_name') = '' AND "
                             "current_setting('restore_command') = ''",
                             0, NULL);
    if (!res) {
        unchecked(p, "the standby's WAL sources");
        return;
    }
    bool alone = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    if (!alone)
        return;
    res = pg_query(c->primary, "SELECT current_setting('wal_keep_size')", 0, NULL);
    char *keep = xstrdup(res ? PQgetvalue(res, 0, 0) : "unknown");
    PQclear(res);
    err_clear(); /* the setting is only said: the finding stands without it */
    add(p, FINDING_WARNING, "standby-wal-source",
        "create a physical slot on the primary and set primary_slot_name on the standby, or give "
        "the standby a restore_command that fetches from the archive (drydock wal-fetch)",
        "the standby streams without a replication slot and has no restore_command: once it falls "
        "more than wal_keep_size (%s) behind, the primary removes WAL it still needs and it stops "
        "replaying for good",
        keep);
    free(keep);
}

static void lint_standby(const LintCtx *c, Plan *p)
{
    if (!c->cfg->standby || !c->cfg->standby[0])
        return;
    if (!c->standby) {
        add(p, FINDING_ERROR, "standby-down",
            "start the standby (the backup reads it) and plan again", "the standby is down: %s",
            c->standby_error ? c->standby_error : "unreachable");
        return;
    }
    PGresult *res = pg_query(c->standby,
                             "SELECT pg_is_in_recovery(), coalesce((SELECT status FROM "
                             "pg_stat_wal_receiver), 'none')",
                             0, NULL);
    if (!res) {
        unchecked(p, "the standby's replication");
        return;
    }
    bool recovery = PQgetvalue(res, 0, 0)[0] == 't';
    char *status = xstrdup(PQgetvalue(res, 0, 1));
    PQclear(res);
    if (!recovery)
        add(p, FINDING_ERROR, "standby-not-streaming",
            "point [cluster] standby at a streaming standby of the primary",
            "the standby is not in recovery: it is a primary of its own");
    else if (strcmp(status, "streaming") != 0)
        add(p, FINDING_ERROR, "standby-not-streaming",
            "check primary_conninfo on the standby and its log",
            "the standby is not streaming from the primary (WAL receiver: %s)", status);
    else
        lint_standby_source(c, p);
    free(status);
    res = pg_query(c->primary,
                   "SELECT coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), -1)"
                   "::bigint FROM pg_stat_replication",
                   0, NULL);
    if (!res) {
        unchecked(p, "the standby's lag");
        return;
    }
    long long lag = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    uint64_t limit = c->mf->standby_lag_limit ? c->mf->standby_lag_limit : LINT_DEFAULT_LAG;
    if (lag > 0 && (uint64_t)lag > limit) {
        char l[16], m[16];
        info_format_bytes((uint64_t)lag, l, sizeof(l));
        info_format_bytes(limit, m, sizeof(m));
        add(p, FINDING_ERROR, "standby-lag",
            "find why the standby replays slowly (pg_wal_replay_pause()? I/O?), or raise "
            "standby-lag-limit in [maintenance]",
            "the standby's replay lags %s behind the primary (limit %s)", l, m);
    }
}

/* ---- repository ------------------------------------------------------------ */

static void lint_backup_size(const LintCtx *c, Plan *p)
{
    if (!needs_cluster(p))
        return;
    const PlanSizes *z = &p->sizes;
    const Estimate *e = &p->steps[PSTEP_BACKUP].est;
    char size[16], t[32], hi[32];
    info_format_bytes(z->backup_store, size, sizeof(size));
    estimate_format_seconds(e->predicted_s, t, sizeof(t));
    estimate_format_seconds(e->high_s, hi, sizeof(hi));
    if (!z->have_backup)
        add(p, FINDING_WARNING, "no-backup",
            "take a backup now (drydock backup) so that the maintenance's own backup stores only "
            "what changes until then",
            "the repository has no backup: the plan's backup reads and stores the whole cluster "
            "(%s, about %s, up to %s)",
            size, t, hi);
    else if ((double)z->backup_store >= LINT_FULL_BACKUP_AT * (double)z->data_bytes &&
             z->data_bytes > 0)
        add(p, FINDING_WARNING, "full-backup",
            "take a backup now (drydock backup) so that the maintenance's own backup is short",
            "the next backup would store about the whole cluster (%s since the last backup, "
            "about %s, up to %s)",
            size, t, hi);
    (void)c;
}

static void lint_archive(const LintCtx *c, Plan *p)
{
    if (!archcheck_cluster(c->primary, c->repo) || !archcheck_archiver(c->primary)) {
        char hint[300];
        snprintf(hint, sizeof(hint), "%s",
                 err_hint_text()[0] ? err_hint_text() : "run drydock check");
        add(p, FINDING_ERROR, "archive-failing", hint, "archiving: %s", err_message());
        err_clear();
    }
}

static void lint_wal_gap(const LintCtx *c, Plan *p)
{
    const Window *w = &c->catalog->window;
    if (c->catalog->nbackups == 0)
        return;
    const CatalogBackup *newest = &c->catalog->backups[c->catalog->nbackups - 1];
    uint32_t seg = w->seg_size ? w->seg_size : repo_wal_seg_size(c->repo);
    uint64_t from = wal_segno_of_lsn(newest->start_lsn, seg, false);
    for (size_t i = 0; i < w->ngaps; i++) {
        const WalGap *g = &w->gaps[i];
        bool recent = g->tli >= newest->tli && g->last >= from;
        char first[32], last[32];
        wal_segment_name(g->tli, g->first, seg, first);
        wal_segment_name(g->tli, g->last, seg, last);
        add(p, recent ? FINDING_ERROR : FINDING_WARNING, "wal-gap",
            recent ? "take a new backup (drydock backup) after fixing archiving: the restore and a "
                     "rollback need the WAL from the newest backup on"
                   : "points in time inside the gap cannot be restored; newer ones can",
            "the WAL archive misses segments %s to %s%s", first, last,
            recent ? ", after the newest backup" : "");
    }
}

/* ---- the green directories ------------------------------------------------------ */

static bool dir_nonempty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return false;
    struct dirent *e;
    bool any = false;
    while (!any && (e = readdir(d)))
        any = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return any;
}

/* statvfs of path or its nearest existing parent. */
static bool nearest_statvfs(const char *path, struct statvfs *vfs, dev_t *dev)
{
    char *buf = xstrdup(path);
    for (;;) {
        struct stat st;
        if (stat(buf, &st) == 0 && statvfs(buf, vfs) == 0) {
            *dev = st.st_dev;
            free(buf);
            return true;
        }
        if (strcmp(buf, "/") == 0 || !buf[0]) {
            free(buf);
            return false;
        }
        char *slash = strrchr(buf, '/');
        if (slash == buf)
            buf[1] = '\0';
        else if (slash)
            *slash = '\0';
        else
            buf[0] = '\0';
    }
}

static void lint_green_dirs(const LintCtx *c, Plan *p)
{
    const MaintFile *mf = c->mf;
    if (!needs_cluster(p) || !mf->green_data)
        return;
    const char *dirs[] = {mf->green_data, mf->green_standby_data};
    const char *keys[] = {"data", "standby-data"};
    dev_t devs[2] = {0};
    struct statvfs vfs[2];
    bool ok[2] = {false, false};
    for (size_t i = 0; i < 2 && dirs[i]; i++) {
        if (dir_nonempty(dirs[i]))
            add(p, FINDING_ERROR, "green-not-empty",
                "remove what is there (after checking it is not needed), or choose another "
                "directory",
                "[green] %s \"%s\" is not empty", keys[i], dirs[i]);
        ok[i] = nearest_statvfs(dirs[i], &vfs[i], &devs[i]);
    }
    double need = (double)p->sizes.data_bytes * LINT_ROOM_MARGIN;
    for (size_t i = 0; i < 2 && dirs[i]; i++) {
        if (!ok[i])
            continue;
        bool shared = i == 0 && dirs[1] && ok[1] && devs[1] == devs[0];
        if (i == 1 && ok[0] && devs[0] == devs[1])
            continue; /* counted with data */
        double want = need * (shared ? 2 : 1);
        double have = (double)vfs[i].f_bavail * (double)vfs[i].f_frsize;
        if (have < want) {
            char h[16], w[16];
            info_format_bytes((uint64_t)have, h, sizeof(h));
            info_format_bytes((uint64_t)want, w, sizeof(w));
            add(p, FINDING_ERROR, "green-no-room", "free space there or choose a larger filesystem",
                "[green] %s \"%s\": its filesystem has %s free, the new cluster%s needs %s (the "
                "data + 25 %%)",
                keys[i], dirs[i], h, shared ? " and its standby" : "", w);
        }
    }
}

/* ---- the primary's sessions and objects ------------------------------------------ */

static int pause_timeout(const LintCtx *c)
{
    return c->mf->pause_timeout ? c->mf->pause_timeout : c->cfg->proxy_pause_timeout;
}

static void lint_long_xact(const LintCtx *c, Plan *p)
{
    char secs[16];
    snprintf(secs, sizeof(secs), "%d", pause_timeout(c));
    const char *params[] = {secs};
    PGresult *res = pg_query(c->primary,
                             "SELECT pid, coalesce(usename, '?'), datname, "
                             "extract(epoch FROM now() - xact_start)::int FROM pg_stat_activity "
                             "WHERE xact_start < now() - make_interval(secs => $1::int) "
                             "AND backend_type = 'client backend' AND pid <> pg_backend_pid() "
                             "ORDER BY xact_start",
                             1, params);
    if (!res) {
        unchecked(p, "open transactions");
        return;
    }
    for (int i = 0; i < PQntuples(res); i++)
        add(p, FINDING_WARNING, "long-transaction",
            "the switch waits for transactions to end, up to the pause timeout: end it, or run "
            "the maintenance when it is done",
            "transaction of pid %s (user %s, database %s) has been open %s s, longer than the "
            "pause timeout (%d s)",
            PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
            PQgetvalue(res, i, 3), pause_timeout(c));
    PQclear(res);
}

static void lint_prepared(const LintCtx *c, Plan *p)
{
    PGresult *res = pg_query(
        c->primary, "SELECT count(*), min(gid), min(database) FROM pg_prepared_xacts", 0, NULL);
    if (!res) {
        unchecked(p, "prepared transactions");
        return;
    }
    if (atoi(PQgetvalue(res, 0, 0)) > 0)
        add(p, FINDING_WARNING, "prepared-transactions",
            "COMMIT PREPARED or ROLLBACK PREPARED them first: they hold locks across the switch",
            "%s prepared transaction(s) on the primary (e.g. \"%s\" in database %s)",
            PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
    PQclear(res);
}

static void lint_logical_slots(const LintCtx *c, Plan *p)
{
    if (!needs_cluster(p))
        return;
    PGresult *res = pg_query(c->primary,
                             "SELECT slot_name, coalesce(plugin, ''), coalesce(database, '') "
                             "FROM pg_replication_slots WHERE slot_type = 'logical' ORDER BY 1",
                             0, NULL);
    if (!res) {
        unchecked(p, "replication slots");
        return;
    }
    for (int i = 0; i < PQntuples(res); i++)
        add(p, FINDING_ERROR, "logical-slots",
            "a new primary does not have the old one's logical slots (PostgreSQL 15): drop the "
            "slot and re-create the subscription after the switch, copying its data again",
            "logical replication slot \"%s\" (%s, database %s) on the primary would be lost at "
            "the switch",
            PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
    PQclear(res);
}

static const char unlogged_sql[] =
    "SELECT current_database(), count(*), min(n.nspname || '.' || c.relname) FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relpersistence = 'u' "
    "AND c.relkind IN ('r', 'p', 'm')";

/* The unlogged tables of one database (conn); false when the query failed. */
static bool unlogged_in(PGconn *conn, Plan *p)
{
    PGresult *res = pg_query(conn, unlogged_sql, 0, NULL);
    if (!res)
        return false;
    if (atoi(PQgetvalue(res, 0, 1)) > 0)
        add(p, FINDING_WARNING, "unlogged-tables",
            "unlogged tables are not copied to a standby: copy their rows after the switch, or "
            "ALTER TABLE ... SET LOGGED first",
            "%s unlogged table(s) in database %s (e.g. %s) will be empty on the new cluster",
            PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 2));
    PQclear(res);
    return true;
}

/* A conninfo value with ' and \\ escaped, in out (a name longer than fits is cut). */
static const char *quoted(const char *v, char *out)
{
    size_t n = 0;
    for (; *v && n < 509; v++) {
        if (*v == '\'' || *v == '\\')
            out[n++] = '\\';
        out[n++] = *v;
    }
    out[n] = '\0';
    return out;
}

static void lint_unlogged(const LintCtx *c, Plan *p)
{
    if (!needs_cluster(p))
        return;
    bool uri = strncmp(c->cfg->primary, "postgres", 8) == 0 && strstr(c->cfg->primary, "://");
    PGresult *dbs = uri ? NULL
                        : pg_query(c->primary,
                                   "SELECT datname FROM pg_database WHERE datallowconn "
                                   "ORDER BY 1",
                                   0, NULL);
    if (!dbs) {
        err_clear();
        if (!unlogged_in(c->primary, p))
            unchecked(p, "unlogged tables");
        add(p, FINDING_WARNING, "unchecked",
            "give [cluster] primary as key=value pairs so that every database can be checked",
            "unlogged tables were checked in the connected database only");
        return;
    }
    char q[512];
    for (int i = 0; i < PQntuples(dbs); i++) {
        char *ci = xasprintf("%s dbname='%s'", c->cfg->primary, quoted(PQgetvalue(dbs, i, 0), q));
        PGconn *conn = pg_connect(ci, "primary");
        free(ci);
        if (!conn || !unlogged_in(conn, p)) {
            char what[200];
            snprintf(what, sizeof(what), "unlogged tables in database %s", PQgetvalue(dbs, i, 0));
            unchecked(p, what);
        }
        pg_disconnect(conn);
    }
    PQclear(dbs);
}

/* ---- the changes and the window ----------------------------------------------- */

static void lint_checksums(const LintCtx *c, Plan *p)
{
    for (size_t i = 0; i < c->mf->nchanges; i++) {
        const MaintChange *ch = &c->mf->changes[i];
        if (ch->type != MCHANGE_CHECKSUMS || ch->kind != MKIND_OFFLINE)
            continue;
        char t[32], hi[32], hint[400];
        estimate_format_seconds(p->rollback.predicted_s, t, sizeof(t));
        estimate_format_seconds(p->rollback.high_s, hi, sizeof(hi));
        snprintf(hint, sizeof(hint),
                 "a rollback rebuilds the old configuration from a fresh backup of the new "
                 "primary (about %s, up to %s) instead of rewinding; the first backup after the "
                 "switch stores every page again",
                 t, hi);
        add(p, FINDING_WARNING, "checksums-no-rewind", hint,
            "the maintenance %ss data checksums: the old primary cannot be rewound to follow the "
            "new one",
            ch->value);
    }
}

/*
 * A hot-standby minimum raised: to follow the new primary (the rollback's
 * way back), the old primary must run with at least the new value, so after
 * a rollback it keeps the raised value until it is restarted.
 */
static void lint_rollback_minimums(const LintCtx *c, Plan *p)
{
    if (!needs_cluster(p))
        return;
    for (size_t i = 0; i < c->mf->nchanges; i++) {
        const MaintChange *ch = &c->mf->changes[i];
        if (ch->type != MCHANGE_SET || ch->kind != MKIND_RESTART || !ch->current ||
            !classify_is_standby_minimum(ch->name) || atoll(ch->value) <= atoll(ch->current))
            continue;
        add(p, FINDING_WARNING, "rollback-keeps-minimum",
            "after a rollback, restart the old primary with its old value when convenient (a "
            "short outage), or keep the new one",
            "%s rises from %s to %s: after a rollback the old primary runs with %s (a standby "
            "cannot follow with less)",
            ch->name, ch->current, ch->value, ch->value);
    }
}

static void lint_window(const LintCtx *c, Plan *p)
{
    const MaintFile *mf = c->mf;
    if (mf->window_start <= 0)
        return;
    char len[32], hi[32];
    if (mf->window_length > 0 && mf->window_length < p->high_s) {
        estimate_format_seconds(mf->window_length, len, sizeof(len));
        estimate_format_seconds(p->high_s, hi, sizeof(hi));
        char pred[32];
        estimate_format_seconds(p->predicted_s, pred, sizeof(pred));
        add(p, FINDING_ERROR, "window-too-short",
            "lengthen the window, or rehearse (drydock maint rehearse) to narrow the range",
            "the scheduled window (%s) is shorter than the plan may take (%s predicted, up to %s)",
            len, pred, hi);
    }
    double end = mf->window_start + (mf->window_length > 0 ? mf->window_length : 0);
    if (end < time_wall()) {
        char when[48];
        time_format(mf->window_start, when, sizeof(when));
        add(p, FINDING_WARNING, "window-past", "update window-start in [maintenance]",
            "the scheduled window (from %s) is in the past", when);
    }
}

typedef void (*LintFn)(const LintCtx *c, Plan *p);

static const LintFn lint_checks[] = {
    lint_backup_source, lint_green_live, lint_green_ports, lint_standby,           lint_backup_size,
    lint_archive,       lint_wal_gap,    lint_green_dirs,  lint_long_xact,         lint_prepared,
    lint_logical_slots, lint_unlogged,   lint_checksums,   lint_rollback_minimums, lint_window,
};

void lint_run(const LintCtx *ctx, Plan *p)
{
    for (size_t i = 0; i < sizeof(lint_checks) / sizeof(lint_checks[0]); i++)
        lint_checks[i](ctx, p);
}
