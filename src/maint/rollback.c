/*
 * rollback.c - "maint rollback" (rollback.h has the steps and the rule) and
 * what "maint finish" removes.
 */
#include "maint/rollback.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/backup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/testpoint.h"
#include "common/timeutil.h"
#include "config/topology.h"
#include "maint/estimate.h"
#include "maint/fence.h"
#include "maint/pgtool.h"
#include "maint/runpost.h"
#include "maint/steps_int.h"
#include "maint/switchover.h"
#include "pg/conn.h"
#include "pg/node.h"
#include "repo/repo.h"
#include "restore/recovery.h"
#include "restore/restore.h"

static volatile sig_atomic_t rb_interrupted;

static void rb_on_signal(int sig)
{
    (void)sig;
    rb_interrupted = 1;
}

typedef struct {
    const Config *cfg;
    const MaintRunOpts *o;
    MaintRollbackResult *r;
    JournalLock *lock;
    Journal *j;
    JournalRun jr;
    Repo *repo;
    json_t *plan; /* the journal's plan (plan.h's JSON + roles_before) */
    MaintFile mf;
    bool have_mf;
    MaintCtx ctx;
    const char *old_ci, *old_data; /* the old primary (in plan) */
    char *green_ci, *green_sby_ci;
    char *aside;      /* DATA.rollback-<run> (rebuild) */
    char *saved_conf; /* STATE-DIR/rollback-<run>.auto.conf (rewind) */
    char self[PATH_MAX], conf[PATH_MAX];
    StrList sets;       /* hot-standby minimums the maintenance raised */
    bool old_checksums; /* the old primary's data checksums (before the maintenance) */
} Rb;

static const char *const rb_conf_files[] = {"postgresql.conf", "postgresql.auto.conf",
                                            "pg_hba.conf", "pg_ident.conf"};

/* --- facts ------------------------------------------------------------------ */

/* pg_controldata of dir: data checksums on, wal_log_hints on. */
static bool rb_control(Rb *b, const char *dir, bool *checksums, bool *hints)
{
    char *tool = steps_tool(&b->ctx, "pg_controldata");
    char *argv[] = {tool, "-D", (char *)dir, NULL};
    Buf out = {0};
    bool ok = pgtool_must(argv, &(PgToolOpts){.owner_of = dir}, "reading pg_control", &out);
    if (ok) {
        buf_append(&out, "", 1);
        const char *cv = strstr((char *)out.data, "Data page checksum version:");
        const char *wh = strstr((char *)out.data, "wal_log_hints setting:");
        *checksums = cv && strtol(cv + strlen("Data page checksum version:"), NULL, 10) > 0;
        if (wh) {
            wh += strlen("wal_log_hints setting:");
            wh += strspn(wh, " \t");
        }
        *hints = wh && strncmp(wh, "on", 2) == 0;
    }
    buf_free(&out);
    free(tool);
    return ok;
}

static bool rb_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static char *rb_query(const char *conninfo, const char *what, const char *sql)
{
    PGconn *c = pg_connect(conninfo, what);
    char *v = c ? pg_query_value(c, sql, 0, NULL) : NULL;
    pg_disconnect(c);
    return v;
}

/* Whether the server at conninfo is out of recovery (false when it does not answer). */
static bool rb_is_primary(const char *conninfo, const char *what)
{
    char *v = rb_query(conninfo, what, "SELECT pg_is_in_recovery()");
    bool yes = v && v[0] == 'f';
    free(v);
    err_clear();
    return yes;
}

static bool rb_wait_streaming(Rb *b, const char *conninfo, double timeout)
{
    if (pg_node_wait_streaming(conninfo, "old primary", timeout, &rb_interrupted))
        return true;
    err_set(DD_EXIT_TIMEOUT, "the old primary does not stream from the new primary after %.0f s",
            timeout);
    err_hint("see \"%s/log/drydock-start.log\"", b->old_data);
    return false;
}

/* --- the steps --------------------------------------------------------------- */

static bool rb_backup(Rb *b)
{
    Config nc;
    if (!config_load(b->cfg->file, &nc)) /* the roles as recorded: the green cluster */
        return false;
    BackupSummary sum;
    bool ok = backup_run(
        &nc, b->repo, &(BackupOpts){.from = nc.standby ? BACKUP_FROM_STANDBY : BACKUP_FROM_PRIMARY},
        &sum);
    if (ok)
        rates_record_backup(b->repo, "maint rollback", &sum);
    config_free(&nc);
    return ok;
}

/* No tablespaces: their directories are the old primary's own, the restore would take them. */
static bool rb_no_tablespaces(const char *dir)
{
    char *tbl = xasprintf("%s/pg_tblspc", dir);
    DIR *d = opendir(tbl);
    struct dirent *de;
    bool none = true;
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.')
            none = false;
    if (d)
        closedir(d);
    free(tbl);
    if (!none) {
        err_set(DD_EXIT_PLAN,
                "the old primary \"%s\" has tablespaces: maint rollback does not "
                "rebuild them",
                dir);
        err_hint("restore a backup of the new primary by hand (drydock restore --standby-of "
                 "--tablespace-map) and switch to it with drydock switchover");
    }
    return none;
}

static bool rb_copy_conf(const char *from, const char *to)
{
    for (size_t i = 0; i < sizeof(rb_conf_files) / sizeof(rb_conf_files[0]); i++) {
        char *src = xasprintf("%s/%s", from, rb_conf_files[i]);
        char *dst = xasprintf("%s/%s", to, rb_conf_files[i]);
        Buf data = {0};
        bool found = false;
        bool ok = fs_read_file(src, &data, &found) &&
                  (!found ? fs_remove(dst) : fs_write_file(dst, data.data, data.len, 0600));
        buf_free(&data);
        free(src);
        free(dst);
        if (!ok)
            return false;
    }
    return true;
}

static bool rb_restore(Rb *b)
{
    const char *name = rollback_step_name(RSTEP_RESTORE);
    if (!rb_exists(b->aside)) {
        char detail[256];
        FenceOpts fo = {.bin = b->cfg->bin, .datadir = b->old_data};
        if (!rb_no_tablespaces(b->old_data) || !fence_stop(&fo, detail, sizeof(detail)) ||
            !journal_created(b->j, b->r->run, name, JCREATED_DIR, b->aside, 0))
            return false;
        if (rename(b->old_data, b->aside) != 0)
            return err_errno("could not rename \"%s\" to \"%s\"", b->old_data, b->aside);
        if (!fs_fsync_parent(b->aside))
            return false;
    }
    if (!rb_no_tablespaces(b->aside))
        return false;
    TsMap map = {0};
    RestoreOpts ro = {.dest = b->old_data,
                      .tsmap = &map,
                      .standby_of = b->green_ci,
                      .drydock_path = b->self,
                      .config_path = b->conf};
    RecoveryOpts rec = {.drydock_path = b->self,
                        .config_path = b->conf,
                        .standby_of = b->green_ci,
                        .sets = &b->sets};
    RestoreResult res;
    bool ok = restore_run(b->repo, &ro, &res) && rb_copy_conf(b->aside, b->old_data) &&
              recovery_write(b->old_data, &rec) && steps_chown_tree(&b->ctx, b->old_data);
    if (ok)
        rates_record_restore(b->repo, "maint rollback", res.bytes_written, res.duration,
                             res.duration - restore_grows_s(&res));
    tsmap_free(&map);
    return ok;
}

/* A half-done restore: only once the old directory is aside is DATA ours to remove. */
static bool rb_restore_undo(Rb *b)
{
    double s;
    if (!rb_exists(b->aside))
        return true;
    return steps_server_stop(&b->ctx, b->old_data, "immediate", &s) &&
           steps_remove_tree(&b->ctx, b->old_data);
}

static bool rb_offline(Rb *b, const char *mode)
{
    double up, down;
    if (!steps_server_start(&b->ctx, b->old_data, &up) ||
        !steps_server_stop(&b->ctx, b->old_data, "fast", &down))
        return false;
    char *tool = steps_tool(&b->ctx, "pg_checksums");
    char *argv[] = {tool, (char *)mode, "-D", (char *)b->old_data, NULL};
    Buf out = {0};
    int status = 0;
    PgToolOpts po = {.owner_of = b->old_data};
    bool ok = pgtool_run(argv, &po, &out, &status);
    if (ok && status != 0 && !strstr((char *)out.data, "already"))
        ok = pgtool_must(argv, &po, "setting the data checksums back", &out);
    buf_free(&out);
    free(tool);
    return ok;
}

static bool rb_stop_old(Rb *b)
{
    double s;
    return steps_server_stop(&b->ctx, b->old_data, "fast", &s);
}

static bool rb_start(Rb *b)
{
    double up = 0;
    return (steps_server_running(&b->ctx, b->old_data) ||
            steps_server_start(&b->ctx, b->old_data, &up)) &&
           rb_wait_streaming(b, b->old_ci, 600);
}

static bool rb_follow(Rb *b)
{
    if (!rb_exists(b->saved_conf)) { /* the old settings, before anything writes to them */
        char *path = xasprintf("%s/postgresql.auto.conf", b->old_data);
        Buf data = {0};
        bool found = false;
        bool ok = fs_read_file(path, &data, &found) &&
                  fs_replace_file(b->saved_conf, data.data, data.len, 0600, true);
        buf_free(&data);
        free(path);
        if (!ok)
            return false;
    }
    PGconn *g = pg_connect(b->green_ci, "new primary");
    bool ok = g && pg_exec(g, "CHECKPOINT"); /* pg_rewind reads the timeline from pg_control */
    pg_disconnect(g);
    FenceOpts fo = {.bin = b->cfg->bin,
                    .datadir = b->old_data,
                    .new_primary = b->green_ci,
                    .drydock_path = b->self,
                    .config_path = b->conf,
                    .sets = &b->sets};
    char detail[256];
    return ok && fence_demote(&fo, detail, sizeof(detail)) && rb_wait_streaming(b, b->old_ci, 600);
}

static void rb_sw_step(const SwitchoverReport *r, SwitchoverStepId id, void *arg)
{
    Rb *b = arg;
    Buf line = {0};
    switchover_step_line(r, id, &line);
    if (b->o->out && !b->o->json)
        fwrite(line.data, 1, line.len, b->o->out);
    else
        log_info("%.*s",
                 (int)(line.len && line.data[line.len - 1] == '\n' ? line.len - 1 : line.len),
                 (const char *)line.data);
    buf_free(&line);
}

static bool rb_record(Rb *b, const char *what, const TopologyNode *pri, const TopologyNode *sby,
                      const TopologyNode *retired)
{
    char event[96];
    snprintf(event, sizeof(event), "maint rollback #%lld: %s", (long long)b->r->run, what);
    return topology_record(b->cfg, event, pri, sby, retired);
}

/* The switch back: from the green primary to the old one, through the proxy. */
static SwitchoverOpts rb_sw_opts(Rb *b)
{
    return (SwitchoverOpts){.primary = b->green_ci,
                            .primary_data = b->mf.green_data,
                            .target = b->old_ci,
                            .target_data = b->old_data,
                            .bin = b->cfg->bin,
                            .proxy = proxy_ctl_options(b->cfg),
                            .max_lag = 16u * 1024 * 1024,
                            .pause_timeout = b->mf.pause_timeout ? b->mf.pause_timeout
                                                                 : b->cfg->proxy_pause_timeout,
                            .poll_interval = 0.002,
                            .drydock_path = b->self,
                            .config_path = b->conf,
                            .on_step = rb_sw_step,
                            .arg = b};
}

static bool rb_switch(Rb *b)
{
    TopologyNode green = {b->green_ci, (char *)b->mf.green_data};
    TopologyNode old = {(char *)b->old_ci, (char *)b->old_data};
    TopologyNode gsby = {b->green_sby_ci, (char *)b->mf.green_standby_data};
    /* No archive probe inside the hold: the old primary streams (as mr_green_stream_only). */
    PGconn *c = pg_connect(b->old_ci, "old primary");
    bool ok = c && pg_exec(c, "ALTER SYSTEM SET restore_command = ''") &&
              pg_exec(c, "SELECT pg_reload_conf()");
    pg_disconnect(c);
    if (!ok || !rb_record(b, "old primary follows", &green, &old, NULL))
        return false;
    SwitchoverOpts so = rb_sw_opts(b);
    SwitchoverReport rep;
    ok = switchover_run(&so, &rep);
    b->r->hold_ms = rep.hold_ms;
    b->r->held = rep.held;
    bool promoted = rep.promoted;
    switchover_report_free(&rep);
    ErrSaved saved = err_save();
    bool recorded = promoted ? rb_record(b, "switched back", &old, NULL, &green)
                    : !ok    ? rb_record(b, "switch back failed, roles back", &green,
                                      gsby.conninfo ? &gsby : NULL, NULL)
                             : true;
    if (!recorded)
        log_warn("%s", err_message());
    (void)err_restore(&saved);
    return ok || promoted; /* a fence failure: rollback-green stops the green primary */
}

static bool rb_settings(Rb *b)
{
    char *from =
        b->r->rebuild ? xasprintf("%s/postgresql.auto.conf", b->aside) : xstrdup(b->saved_conf);
    char *to = xasprintf("%s/postgresql.auto.conf", b->old_data);
    Buf data = {0};
    bool found = false;
    bool ok = fs_read_file(from, &data, &found);
    if (ok && !found)
        ok = err_set(DD_EXIT_IO, "the old settings \"%s\" are missing", from);
    ok = ok && fs_replace_file(to, data.data, data.len, 0600, true);
    buf_free(&data);
    free(from);
    free(to);
    PGconn *c = ok ? pg_connect(b->old_ci, "old primary") : NULL;
    ok = ok && c && pg_exec(c, "SELECT pg_reload_conf()");
    pg_disconnect(c);
    return ok || err_context("putting the old primary's settings back");
}

static bool rb_green(Rb *b)
{
    double s;
    return (!b->mf.green_standby_data ||
            steps_server_stop(&b->ctx, b->mf.green_standby_data, "fast", &s)) &&
           steps_server_stop(&b->ctx, b->mf.green_data, "fast", &s);
}

static bool rb_call(Rb *b, RollbackStepId id)
{
    switch (id) {
    case RSTEP_BACKUP:
        return rb_backup(b);
    case RSTEP_RESTORE:
        return rb_restore(b);
    case RSTEP_OFFLINE:
        return rb_offline(b, b->old_checksums ? "--enable" : "--disable");
    case RSTEP_START:
        return rb_start(b);
    case RSTEP_FOLLOW:
        return rb_follow(b);
    case RSTEP_SWITCH:
        return rb_switch(b);
    case RSTEP_SETTINGS:
        return rb_settings(b);
    case RSTEP_GREEN:
        return rb_green(b);
    default:
        return true;
    }
}

/* Undo a half-done step so that it can be done again from a clean state. */
static bool rb_undo(Rb *b, RollbackStepId id)
{
    switch (id) {
    case RSTEP_RESTORE:
        return rb_restore_undo(b);
    case RSTEP_OFFLINE:
    case RSTEP_START:
    case RSTEP_FOLLOW:
        return rb_stop_old(b);
    default:
        return true;
    }
}

/* --- the engine -------------------------------------------------------------- */

static void rb_progress(Rb *b, RollbackStepId id, bool start)
{
    if (!b->o->out || b->o->json)
        return;
    const RollbackStepResult *s = &b->r->steps[id];
    if (start)
        fprintf(b->o->out, "%-17s started (predicted %.1f s, %.1f-%.1f s)\n",
                rollback_step_name(id), s->predicted_s, s->low_s, s->high_s);
    else
        fprintf(b->o->out, "%-17s %s in %.1f s (predicted %.1f s)\n", rollback_step_name(id),
                s->ok ? "done" : "FAILED", s->actual_s, s->predicted_s);
    fflush(b->o->out);
}

/* One step, journalled around it: started (durable) before it does anything. */
static bool rb_do(Rb *b, RollbackStepId id)
{
    RollbackStepResult *s = &b->r->steps[id];
    const char *name = rollback_step_name(id);
    int64_t seq;
    if (!journal_step_begin(b->j, b->r->run, name, JACT_DO, s->predicted_s, s->low_s, s->high_s,
                            &seq))
        return false;
    rb_progress(b, id, true);
    char point[64];
    snprintf(point, sizeof(point), "maint-%s", name);
    testpoint_pause(point);
    double t0 = time_mono();
    bool ok = !rb_interrupted && rb_call(b, id);
    if (!ok && rb_interrupted && err_code() == DD_EXIT_OK)
        err_set(DD_EXIT_FAIL, "interrupted during %s", name);
    s->ran = true;
    s->ok = ok;
    s->actual_s = time_mono() - t0;
    rb_progress(b, id, false);
    ErrSaved saved = err_save();
    bool logged = journal_step_end(b->j, b->r->run, seq, ok, ok ? "" : saved.message);
    if (!ok)
        (void)err_restore(&saved);
    if (ok && id == RSTEP_SWITCH) /* the hold, kept should the rest be resumed */
        logged = logged && journal_run_set(b->j, b->r->run, JRUN_ROLLING_BACK, b->r->hold_ms);
    return ok && logged;
}

static bool rb_redo_clean(Rb *b, RollbackStepId id)
{
    int64_t seq;
    const char *name = rollback_step_name(id);
    if (!journal_step_begin(b->j, b->r->run, name, JACT_UNDO, 0, 0, 0, &seq))
        return false;
    bool ok = rb_undo(b, id);
    ErrSaved saved = err_save();
    bool logged = journal_step_end(b->j, b->r->run, seq, ok, ok ? "" : saved.message);
    if (!ok)
        (void)err_restore(&saved);
    return (ok && logged) || err_context("undoing the half-done step %s", name);
}

/* A switch that died once the old primary was promoted is done. */
/* The proxy may still be held or fenced by the dead run's lease: point it at the old primary. */
static bool rb_adopt(Rb *b)
{
    SwitchoverOpts so = rb_sw_opts(b);
    return switchover_adopt(&so);
}

static bool rb_switch_done(Rb *b)
{
    int64_t seq;
    TopologyNode old = {(char *)b->old_ci, (char *)b->old_data};
    TopologyNode green = {b->green_ci, (char *)b->mf.green_data};
    return journal_step_begin(b->j, b->r->run, rollback_step_name(RSTEP_SWITCH), JACT_DO, 0, 0, 0,
                              &seq) &&
           journal_step_end(b->j, b->r->run, seq, true, "promoted before the crash") &&
           rb_record(b, "switched back", &old, NULL, &green) && rb_adopt(b);
}

static bool rb_steps(Rb *b)
{
    for (int i = 0; i < RSTEP__COUNT; i++) {
        RollbackStepId id = (RollbackStepId)i;
        RollbackStepResult *s = &b->r->steps[id];
        if (!s->enabled)
            continue;
        const JournalStepView *v = journal_run_step(&b->jr, rollback_step_name(id));
        if (v && v->state == JSTEP_DONE) {
            s->ran = s->ok = true;
            s->actual_s = v->actual_s;
            if (id == RSTEP_SWITCH) /* switched back by an earlier process: its hold */
                b->r->hold_ms = b->jr.hold_ms;
            continue;
        }
        if (rb_interrupted)
            return err_set(DD_EXIT_FAIL, "interrupted before %s", rollback_step_name(id));
        if (v && journal_step_half_done(v->state)) {
            if (id == RSTEP_SWITCH && rb_is_primary(b->old_ci, "old primary")) {
                if (!rb_switch_done(b))
                    return false;
                s->ran = s->ok = true;
                continue;
            }
            if (!rb_redo_clean(b, id))
                return false;
        }
        if (!rb_do(b, id))
            return false;
    }
    return true;
}

/* --- setup ------------------------------------------------------------------- */

static const char *rb_str(json_t *o, const char *path1, const char *path2)
{
    json_t *v = json_object_get(o, path1);
    return json_string_value(path2 ? json_object_get(v, path2) : v);
}

/* The hot-standby minimums the maintenance raised: the old primary needs them as a standby. */
static void rb_minimums(Rb *b)
{
    static const char *const names[] = {"max_connections", "max_worker_processes",
                                        "max_wal_senders", "max_prepared_transactions",
                                        "max_locks_per_transaction"};
    json_t *c;
    size_t i;
    json_array_foreach(json_object_get(b->plan, "changes"), i, c)
    {
        const char *name = rb_str(c, "name", NULL), *value = rb_str(c, "value", NULL);
        const char *cur = rb_str(c, "current", NULL);
        for (size_t k = 0; name && value && k < sizeof(names) / sizeof(names[0]); k++)
            if (strcmp(name, names[k]) == 0 && (!cur || strtod(value, NULL) > strtod(cur, NULL)))
                strlist_push_owned(&b->sets, xasprintf("%s=%s", name, value));
    }
}

/* The plan's estimate of each rollback step, and which the mechanism enables. */
static void rb_estimates(Rb *b, bool checksums_differ)
{
    MaintRollbackResult *r = b->r;
    json_t *rb = json_object_get(b->plan, "rollback");
    snprintf(r->mechanism, sizeof(r->mechanism), "%s",
             rb_str(rb, "mechanism", NULL) ? rb_str(rb, "mechanism", NULL) : "");
    r->predicted_s = json_number_value(json_object_get(rb, "predicted_s"));
    r->low_s = json_number_value(json_object_get(rb, "low_s"));
    r->high_s = json_number_value(json_object_get(rb, "high_s"));
    json_t *planned = json_object_get(rb, "rebuild");
    if (json_is_boolean(planned) && json_is_true(planned) != r->rebuild)
        snprintf(r->mechanism, sizeof(r->mechanism),
                 "%s (the plan said otherwise: the clusters have changed since)",
                 r->rebuild ? "the old primary is rebuilt from a fresh backup of the new primary"
                            : "the old primary is rewound (pg_rewind) to follow the new one");
    json_t *st;
    size_t i;
    for (int k = 0; k < RSTEP__COUNT; k++) {
        RollbackStepId id = (RollbackStepId)k;
        r->steps[k].enabled =
            id == RSTEP_SWITCH || id == RSTEP_SETTINGS || id == RSTEP_GREEN ||
            (r->rebuild && (id == RSTEP_BACKUP || id == RSTEP_RESTORE || id == RSTEP_START)) ||
            (r->rebuild && checksums_differ && id == RSTEP_OFFLINE) ||
            (!r->rebuild && id == RSTEP_FOLLOW);
        json_array_foreach(json_object_get(rb, "steps"), i, st)
        {
            const char *n = rb_str(st, "name", NULL);
            if (!n || strcmp(n, rollback_step_name(id)) != 0)
                continue;
            r->steps[k].predicted_s = json_number_value(json_object_get(st, "predicted_s"));
            r->steps[k].low_s = json_number_value(json_object_get(st, "low_s"));
            r->steps[k].high_s = json_number_value(json_object_get(st, "high_s"));
        }
    }
}

/* Rewind or rebuild: as journalled once begun, else from the facts (plan.h's rule). */
static bool rb_mechanism(Rb *b)
{
    bool journalled_rebuild = false, journalled_rewind = false;
    for (size_t i = 0; i < b->jr.nsteps; i++) {
        const char *n = b->jr.steps[i].name;
        if (strcmp(n, rollback_step_name(RSTEP_BACKUP)) == 0 ||
            strcmp(n, rollback_step_name(RSTEP_RESTORE)) == 0)
            journalled_rebuild = true;
        if (strcmp(n, rollback_step_name(RSTEP_FOLLOW)) == 0)
            journalled_rewind = true;
    }
    /* The old settings are those of the directory kept aside, once it is. */
    const char *old_dir = rb_exists(b->aside) ? b->aside : b->old_data;
    bool old_sums = false, hints = false;
    if (!rb_control(b, old_dir, &old_sums, &hints))
        return false;
    b->old_checksums = old_sums;
    bool green_sums = false, green_hints; /* pg_control: running or stopped alike */
    if (!rb_control(b, b->mf.green_data, &green_sums, &green_hints))
        return false;
    bool differ = old_sums != green_sums;
    b->r->rebuild = journalled_rebuild  ? true
                    : journalled_rewind ? false
                                        : rollback_rebuild(differ, old_sums || hints);
    rb_estimates(b, differ);
    return true;
}

static void rb_signals(bool on)
{
    struct sigaction sa = {.sa_handler = on ? rb_on_signal : SIG_DFL};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

static bool rb_last(Rb *b)
{
    if (!journal_load(b->j, 0, &b->jr))
        return false;
    b->r->run = b->jr.id;
    JournalRunState st = b->jr.state;
    if (!b->jr.id || (st != JRUN_SWITCHED && st != JRUN_COMPLETED && st != JRUN_ROLLING_BACK)) {
        bool before = b->jr.id && (st == JRUN_RUNNING || st == JRUN_FAILED);
        err_set(DD_EXIT_CONFLICT, "there is no switched maintenance to roll back%s%s",
                b->jr.id ? ": the last one is " : "", b->jr.id ? journal_run_state_name(st) : "");
        err_hint(before ? "it has not switched: \"drydock maint abort\" undoes it"
                        : "\"drydock maint status\" shows the last one");
        return false;
    }
    b->plan = json_loads(b->jr.plan_json ? b->jr.plan_json : "{}", 0, NULL);
    b->old_ci = rb_str(b->plan, "roles_before", "primary");
    b->old_data = rb_str(b->plan, "roles_before", "primary_data");
    if (!b->old_ci || !b->old_data) {
        err_set(DD_EXIT_CONFLICT,
                "maintenance #%lld does not name the old primary's conninfo and "
                "data directory",
                (long long)b->jr.id);
        err_hint("set [cluster] primary-data before a maintenance; roll back by hand with "
                 "drydock restore --standby-of and drydock switchover");
        return false;
    }
    if (!mfile_load(b->jr.file, &b->mf))
        return false;
    b->have_mf = true;
    return true;
}

static bool rb_setup(Rb *b)
{
    ssize_t n = readlink("/proc/self/exe", b->self, sizeof(b->self) - 1);
    if (n <= 0 || !realpath(b->cfg->file, b->conf))
        return err_errno("could not find the path of drydock or of its configuration file");
    b->self[n] = '\0';
    b->ctx = (MaintCtx){.cfg = b->cfg,
                        .repo = b->repo,
                        .mf = &b->mf,
                        .primary = b->old_ci, /* the template of the green conninfos */
                        .primary_data = b->mf.green_data,
                        .interrupted = &rb_interrupted};
    b->green_ci = steps_conninfo(&b->ctx, b->mf.green_port);
    b->green_sby_ci =
        b->mf.green_standby_data ? steps_conninfo(&b->ctx, b->mf.green_standby_port) : NULL;
    b->ctx.primary = b->green_ci;
    b->aside = xasprintf("%s.rollback-%lld", b->old_data, (long long)b->jr.id);
    char *dir = config_state_dir(b->cfg);
    b->saved_conf = xasprintf("%s/rollback-%lld.auto.conf", dir, (long long)b->jr.id);
    free(dir);
    rb_minimums(b);
    return rb_mechanism(b);
}

static void rb_close(Rb *b)
{
    rb_signals(false);
    journal_run_free(&b->jr);
    journal_close(b->j);
    journal_unlock(b->lock);
    repo_close(b->repo);
    json_decref(b->plan);
    if (b->have_mf)
        mfile_free(&b->mf);
    free(b->green_ci);
    free(b->green_sby_ci);
    free(b->aside);
    free(b->saved_conf);
    strlist_free(&b->sets);
}

/*
 * The status page (maint/runpost.h): the rollback's start is posted once,
 * by the process that begins it; the maintenance it posts to is kept in the
 * journal so that a resumed rollback posts its end there.
 */
static int64_t rb_post_start(Rb *b)
{
    if (b->jr.state == JRUN_ROLLING_BACK)
        return b->jr.status_id;
    int64_t id = runpost_rollback_start(b->cfg, b->jr.status_id, b->jr.title);
    if (id && id != b->jr.status_id && !journal_run_status_id(b->j, b->r->run, id)) {
        log_warn("status page: %s", err_message());
        err_clear();
    }
    return id;
}

bool maint_rollback(const Config *cfg, const MaintRunOpts *o, MaintRollbackResult *r)
{
    Rb b;
    memset(&b, 0, sizeof(b));
    memset(r, 0, sizeof(*r));
    b.cfg = cfg;
    b.o = o;
    b.r = r;
    r->outcome = "failed";
    r->hold_ms = -1;
    rb_interrupted = 0;
    rb_signals(true);
    char *dir = config_state_dir(cfg);
    bool ok = journal_lock(dir, "maint rollback", &b.lock) && journal_open(dir, &b.j) &&
              repo_open(cfg, &b.repo) && rb_last(&b);
    free(dir);
    ok = ok && rb_setup(&b);
    int64_t status_id = ok ? rb_post_start(&b) : 0;
    ok = ok && journal_run_set(b.j, r->run, JRUN_ROLLING_BACK, -1) && rb_steps(&b) &&
         journal_run_set(b.j, r->run, JRUN_ROLLED_BACK, r->hold_ms);
    if (status_id) {
        ErrSaved saved = err_save();
        runpost_rollback_end(cfg, status_id, ok);
        if (!ok)
            (void)err_restore(&saved);
    }
    if (ok) {
        r->outcome = "rolled back";
    } else if (b.j && r->run && b.plan) {
        if (!err_hint_text()[0])
            err_hint("\"drydock maint status\" shows where it stopped; \"drydock maint "
                     "rollback\" (or maint resume) continues it");
    }
    rb_close(&b);
    return ok;
}

bool maint_rollback_pending(const Config *cfg)
{
    char *dir = config_state_dir(cfg);
    Journal *j = NULL;
    JournalRun jr = {0};
    bool pending =
        journal_open(dir, &j) && journal_load(j, 0, &jr) && jr.id && jr.state == JRUN_ROLLING_BACK;
    err_clear();
    journal_run_free(&jr);
    journal_close(j);
    free(dir);
    return pending;
}

json_t *maint_rollback_json(const MaintRollbackResult *r)
{
    json_t *steps = json_array();
    for (int i = 0; i < RSTEP__COUNT; i++) {
        const RollbackStepResult *s = &r->steps[i];
        json_t *j = json_pack(
            "{s:s,s:b,s:f,s:f,s:f}", "name", rollback_step_name((RollbackStepId)i), "enabled",
            s->enabled, "predicted_s", s->predicted_s, "low_s", s->low_s, "high_s", s->high_s);
        if (s->ran) {
            json_object_set_new(j, "actual_s", json_real(s->actual_s));
            json_object_set_new(j, "ok", json_boolean(s->ok));
        }
        json_array_append_new(steps, j);
    }
    return json_pack("{s:I,s:s,s:o,s:s,s:b,s:f,s:f,s:f,s:o}", "run", (json_int_t)r->run, "outcome",
                     r->outcome ? r->outcome : "failed", "hold_ms",
                     r->hold_ms >= 0 ? json_real(r->hold_ms) : json_null(), "mechanism",
                     r->mechanism, "rebuild", r->rebuild, "predicted_s", r->predicted_s, "low_s",
                     r->low_s, "high_s", r->high_s, "steps", steps);
}
