/*
 * run.c - the step engine of "maint run", "resume", "abort", "finish"
 * (run.h has the diagram; journal.c the durable format).
 */
#include "maint/run.h"

#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backup/backup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/testpoint.h"
#include "common/timeutil.h"
#include "config/topology.h"
#include "maint/fence.h"
#include "maint/journal.h"
#include "maint/finish.h"
#include "maint/runpost.h"
#include "maint/steps.h"
#include "maint/steps_int.h"
#include "maint/switchover.h"
#include "pg/conn.h"
#include "pg/node.h"
#include "repo/repo.h"
#include "status/notify.h"

static volatile sig_atomic_t mr_interrupted;

static void mr_on_signal(int sig)
{
    (void)sig;
    mr_interrupted = 1;
}

typedef struct {
    const Config *cfg;
    const MaintRunOpts *o;
    MaintRunResult *r;
    JournalLock *lock;
    Journal *j;
    JournalRun jr; /* the journal's replay (empty for a new run) */
    Repo *repo;
    MaintCtx ctx;
    char *green_ci, *green_standby_ci;
    char *saved_dir; /* a reload-only run's copies (reload.h) */
    bool journal_broken;
    StatusNotifier *notify; /* status/notify.h: never blocks a step; failures are logged */
    char *standby_restore;  /* the green standby's restore_command, cleared for the switch */
    int64_t status_id;
    int64_t late_after; /* an ETA past it posts (mr_notify_late) */
    /* the roles before the run (restored by an abort) */
    TopologyNode before_primary, before_standby;
} Mr;

/* --- setup -------------------------------------------------------------- */

static void mr_on_created(MaintCtx *ctx, PlanStepId step, MaintCreatedType type, const char *what,
                          int port)
{
    Mr *m = ctx->arg;
    if (!journal_created(m->j, m->r->run, plan_step_name(step),
                         type == MCREATED_DIR ? JCREATED_DIR : JCREATED_SERVER, what, port)) {
        /* Write-ahead broken: stop the step before it creates anything more. */
        log_error("%s", err_message());
        m->journal_broken = true;
        mr_interrupted = 1;
    }
}

static void mr_signals(bool on)
{
    struct sigaction sa = {.sa_handler = on ? mr_on_signal : SIG_DFL};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

static bool mr_open(Mr *m, const Config *cfg, const char *command, const MaintRunOpts *o,
                    MaintRunResult *r)
{
    memset(m, 0, sizeof(*m));
    m->cfg = cfg;
    m->o = o;
    m->r = r;
    memset(r, 0, sizeof(*r));
    r->hold_ms = -1;
    r->outcome = "failed";
    char *dir = config_state_dir(cfg);
    bool ok = journal_lock(dir, command, &m->lock) && journal_open(dir, &m->j) &&
              repo_open(cfg, &m->repo);
    free(dir);
    if (ok && !status_notify_open(cfg, &(StatusNotifyOptions){0}, &m->notify)) {
        log_warn("status page: %s", err_message());
        err_clear();
    }
    mr_interrupted = 0;
    mr_signals(true);
    return ok;
}

/* Post a moment of the lifecycle; a failure is a warning, never the run's. */
typedef bool (*MrNotifyFn)(StatusNotifier *n, int64_t id);
static void mr_notify(Mr *m, MrNotifyFn fn)
{
    if (m->notify && m->status_id && !fn(m->notify, m->status_id)) {
        log_warn("status page: %s", err_message());
        err_clear();
    }
}

/* The maintenance "maint plan" posted as Scheduled (or Scheduled now), then In progress. */
static void mr_notify_start(Mr *m)
{
    StatusTexts texts;
    StatusNotifyPlan sp;
    runpost_plan(&m->r->mf, &m->r->plan, &texts, &sp);
    if (!m->notify || !status_notify_adopt(m->notify, &sp, &m->status_id) ||
        !journal_run_status_id(m->j, m->r->run, m->status_id)) {
        if (m->notify)
            log_warn("status page: %s", err_message());
        err_clear();
        return;
    }
    m->late_after = (int64_t)(time_wall() + m->r->plan.high_s);
    mr_notify(m, status_notify_in_progress);
}

static void mr_close(Mr *m)
{
    status_notify_close(m->notify);
    mr_signals(false);
    journal_run_free(&m->jr);
    journal_close(m->j);
    journal_unlock(m->lock);
    repo_close(m->repo);
    free(m->green_ci);
    free(m->green_standby_ci);
    free(m->saved_dir);
    free(m->standby_restore);
    free(m->before_primary.conninfo);
    free(m->before_primary.data);
    free(m->before_standby.conninfo);
    free(m->before_standby.data);
}

/* The context the steps run in, from the file's [green] and the current roles. */
static void mr_ctx(Mr *m)
{
    MaintFile *mf = &m->r->mf;
    m->ctx = (MaintCtx){.cfg = m->cfg,
                        .repo = m->repo,
                        .mf = mf,
                        .plan = &m->r->plan,
                        .green_data = mf->green_data,
                        .green_port = mf->green_port,
                        .green_standby_data = mf->green_standby_data,
                        .green_standby_port = mf->green_standby_port,
                        .primary = m->before_primary.conninfo,
                        .primary_data = m->before_primary.data,
                        .standby = m->before_standby.conninfo,
                        .standby_data = m->before_standby.data,
                        .on_created = mr_on_created,
                        .arg = m,
                        .interrupted = &mr_interrupted};
    char *dir = config_state_dir(m->cfg);
    m->saved_dir = xasprintf("%s/maint-%lld-before", dir, (long long)m->r->run);
    m->ctx.saved_dir = m->saved_dir;
    free(dir);
    m->green_ci = steps_conninfo(&m->ctx, mf->green_port);
    m->green_standby_ci =
        mf->green_standby_data ? steps_conninfo(&m->ctx, mf->green_standby_port) : NULL;
}

static void mr_node(TopologyNode *n, const char *conninfo, const char *data)
{
    n->conninfo = conninfo ? xstrdup(conninfo) : NULL;
    n->data = data ? xstrdup(data) : NULL;
}

/* The plan as the journal keeps it: plan.h's JSON + the roles before the run. */
static char *mr_plan_text(Mr *m)
{
    json_t *o = plan_to_json(&m->r->plan);
    json_object_set_new(o, "roles_before",
                        json_pack("{s:s?,s:s?,s:s?,s:s?}", "primary", m->before_primary.conninfo,
                                  "primary_data", m->before_primary.data, "standby",
                                  m->before_standby.conninfo, "standby_data",
                                  m->before_standby.data));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

/* The roles before the run, from the journal's plan (resume, abort). */
static void mr_roles_from_journal(Mr *m)
{
    json_t *o = json_loads(m->jr.plan_json ? m->jr.plan_json : "{}", 0, NULL);
    json_t *rb = json_object_get(o, "roles_before");
    mr_node(&m->before_primary, json_string_value(json_object_get(rb, "primary")),
            json_string_value(json_object_get(rb, "primary_data")));
    mr_node(&m->before_standby, json_string_value(json_object_get(rb, "standby")),
            json_string_value(json_object_get(rb, "standby_data")));
    json_decref(o);
}

/* --- progress ------------------------------------------------------------- */

static double mr_remaining(const Plan *p, PlanStepId from)
{
    double s = 0;
    for (int i = from; i < PSTEP__COUNT; i++)
        if (p->steps[i].enabled && !p->steps[i].ran)
            s += p->steps[i].est.predicted_s;
    return s;
}

/*
 * Step id ran past its range: an Update with the new ETA, but only when that
 * moves the end past the range announced (late_after: the start + the plan's
 * high bound), then each further minute (the page's precision): a step late
 * by a second in a run on time says nothing to the people affected.
 */
static void mr_notify_late(Mr *m, PlanStepId id)
{
    int64_t eta = (int64_t)(time_wall() + mr_remaining(&m->r->plan, id));
    if (!m->late_after) /* resumed: from the run's first start */
        m->late_after = (int64_t)(m->jr.started + m->r->plan.high_s);
    if (!m->notify || !m->status_id || eta <= m->late_after)
        return;
    m->late_after = eta + 60;
    if (!status_notify_late(m->notify, m->status_id, eta)) {
        log_warn("status page: %s", err_message());
        err_clear();
    }
}

static void mr_progress(Mr *m, PlanStepId id, const char *what)
{
    if (!m->o->out || m->o->json)
        return;
    const PlanStep *s = &m->r->plan.steps[id];
    char eta[16];
    time_t end = (time_t)(time_wall() + mr_remaining(&m->r->plan, id));
    strftime(eta, sizeof(eta), "%H:%M:%S", localtime(&end));
    if (strcmp(what, "start") == 0)
        fprintf(m->o->out, "%-13s started (predicted %.1f s, %.1f-%.1f s); ETA %s\n",
                plan_step_name(id), s->est.predicted_s, s->est.low_s, s->est.high_s, eta);
    else
        fprintf(m->o->out, "%-13s %s in %.1f s (predicted %.1f s)%s\n", plan_step_name(id),
                s->ok ? "done" : "FAILED", s->actual_s, s->est.predicted_s,
                s->ok && s->actual_s > s->est.high_s ? ": later than predicted" : "");
    fflush(m->o->out);
}

/* --- the live-only steps -------------------------------------------------- */

static bool mr_record(Mr *m, const char *what, const TopologyNode *pri, const TopologyNode *sby,
                      const TopologyNode *retired)
{
    char event[64];
    snprintf(event, sizeof(event), "maint run #%lld: %s", (long long)m->r->run, what);
    return topology_record(m->cfg, event, pri, sby, retired);
}

/* The switchover's own steps, as drydock switchover prints them. */
static void mr_sw_step(const SwitchoverReport *r, SwitchoverStepId id, void *arg)
{
    Mr *m = arg;
    Buf line = {0};
    switchover_step_line(r, id, &line);
    if (m->o->out && !m->o->json)
        fwrite(line.data, 1, line.len, m->o->out);
    else
        log_info("%.*s",
                 (int)(line.len && line.data[line.len - 1] == '\n' ? line.len - 1 : line.len),
                 (const char *)line.data);
    buf_free(&line);
}

/*
 * Before the pause, the green cluster stops reading the archive:
 *  - the green primary: at its promotion PostgreSQL probes the archive for
 *    timeline history files, one "drydock wal-fetch" process each, inside
 *    the clients' hold (about 90 ms here);
 *  - the green standby: when its stream breaks at the promotion it may fetch
 *    from the archive the old primary's last segment (with its shutdown
 *    checkpoint, written after the fork) and then cannot follow the new
 *    timeline. Its restore_command is put back once it streams again
 *    (mr_first_backup).
 * Both stream (the switchover's checks demand it for the primary);
 * restore_command is reloadable since PostgreSQL 14.
 */
static bool mr_stream_only(const char *conninfo, const char *what, char **saved)
{
    PGconn *c = pg_connect(conninfo, what);
    char *old = c ? pg_query_value(c, "SELECT current_setting('restore_command')", 0, NULL) : NULL;
    bool ok = old && pg_exec(c, "ALTER SYSTEM SET restore_command = ''") &&
              pg_exec(c, "SELECT pg_reload_conf()");
    pg_disconnect(c);
    if (saved && ok)
        *saved = old;
    else
        free(old);
    return ok || err_context("clearing the %s's restore_command before the switch", what);
}

static bool mr_green_stream_only(Mr *m)
{
    return mr_stream_only(m->green_ci, "green primary", NULL) &&
           (!m->green_standby_ci ||
            mr_stream_only(m->green_standby_ci, "green standby", &m->standby_restore));
}

/* The green standby streams on the new timeline: give it its restore_command back. */
static bool mr_standby_archive_back(Mr *m)
{
    if (!m->standby_restore || !m->standby_restore[0])
        return true;
    PGconn *c = pg_connect(m->green_standby_ci, "new standby");
    const char *params[] = {m->standby_restore};
    PGresult *res =
        c ? pg_query(c, "SELECT format('ALTER SYSTEM SET restore_command = %L', $1::text)", 1,
                     params)
          : NULL;
    bool ok = res && pg_exec(c, PQgetvalue(res, 0, 0)) && pg_exec(c, "SELECT pg_reload_conf()");
    PQclear(res);
    pg_disconnect(c);
    return ok || err_context("putting the new standby's restore_command back");
}

/* The switchover's options; *self and *conf are the caller's to free. */
static SwitchoverOpts mr_sw_opts(Mr *m, char **self, char **conf)
{
    const MaintFile *mf = &m->r->mf;
    *self = realpath("/proc/self/exe", NULL);
    *conf = realpath(m->cfg->file, NULL);
    return (SwitchoverOpts){.primary = m->before_primary.conninfo,
                            .primary_data = m->before_primary.data,
                            .target = m->green_ci,
                            .target_data = mf->green_data,
                            .bin = m->cfg->bin,
                            .proxy = proxy_ctl_options(m->cfg),
                            .max_lag = 16u * 1024 * 1024,
                            .pause_timeout =
                                mf->pause_timeout ? mf->pause_timeout : m->cfg->proxy_pause_timeout,
                            .poll_interval = 0.002,
                            .drydock_path = *self ? *self : "drydock",
                            .config_path = *conf ? *conf : m->cfg->file,
                            .on_step = mr_sw_step,
                            .arg = m};
}

/* The roles once the green primary is promoted: it and its standby, the old primary retired. */
static bool mr_record_switched(Mr *m)
{
    TopologyNode green = {m->green_ci, m->r->mf.green_data};
    TopologyNode sby = {m->green_standby_ci, m->r->mf.green_standby_data};
    return mr_record(m, "switched", &green, sby.conninfo ? &sby : NULL, &m->before_primary);
}

/* A run that died in the switchover after the promotion: the roles, then the proxy. */
static bool mr_adopt_switch(Mr *m)
{
    char *self, *conf;
    SwitchoverOpts so = mr_sw_opts(m, &self, &conf);
    bool ok = mr_record_switched(m) && switchover_adopt(&so);
    free(self);
    free(conf);
    return ok;
}

static bool mr_switchover(Mr *m)
{
    const MaintFile *mf = &m->r->mf;
    if (!mr_green_stream_only(m))
        return false;
    /* The proxy switches only to a server the configuration (as laid by the topology) names. */
    TopologyNode green = {m->green_ci, mf->green_data};
    if (!mr_record(m, "green ready", &m->before_primary, &green, NULL))
        return false;
    char *self, *conf;
    SwitchoverOpts so = mr_sw_opts(m, &self, &conf);
    SwitchoverReport rep;
    bool ok = switchover_run(&so, &rep);
    m->r->hold_ms = rep.hold_ms;
    m->r->held = rep.held;
    bool promoted = rep.promoted;
    switchover_report_free(&rep);
    free(self);
    free(conf);
    if (promoted) {
        ErrSaved saved = err_save();
        if (!mr_record_switched(m))
            log_warn("%s", err_message());
        (void)err_restore(&saved);
    } else if (!ok) {
        ErrSaved saved = err_save();
        if (!mr_record(m, "switch failed, roles back", &m->before_primary, &m->before_standby,
                       NULL))
            log_warn("%s", err_message());
        (void)err_restore(&saved);
    }
    return ok || promoted; /* a fence failure is the old-primary step's to redo */
}

static bool mr_sql_after(Mr *m)
{
    Buf sql = {0};
    buf_append_str(&sql, "BEGIN;\n");
    for (size_t i = 0; i < m->r->mf.nchanges; i++) {
        const MaintChange *c = &m->r->mf.changes[i];
        if (c->type != MCHANGE_SQL_AFTER)
            continue;
        bool found;
        Buf text = {0};
        if (!fs_read_file(c->value, &text, &found) || !found) {
            if (!found)
                err_set(DD_EXIT_CONFIG, "sql-after file \"%s\" is missing", c->value);
            buf_free(&text);
            buf_free(&sql);
            return false;
        }
        buf_append(&sql, text.data, text.len);
        buf_append_str(&sql, "\n;\n");
        buf_free(&text);
    }
    buf_append_str(&sql, "COMMIT;\n");
    buf_append(&sql, "", 1);
    bool live = m->r->plan.reload_only; /* no new primary: the live one */
    PGconn *c = pg_connect(live ? m->before_primary.conninfo : m->green_ci,
                           live ? "primary" : "new primary");
    bool ok = c && pg_exec_script(c, (const char *)sql.data);
    pg_disconnect(c);
    buf_free(&sql);
    return ok ||
           err_context("running the sql-after files on the %s", live ? "primary" : "new primary");
}

static bool mr_old_primary(Mr *m)
{
    FenceOpts fo = {.bin = m->cfg->bin, .datadir = m->before_primary.data};
    char detail[256];
    return fence_stop(&fo, detail, sizeof(detail));
}

/* The new standby follows the promotion (a new timeline): wait until it streams again. */
static bool mr_wait_streaming(const char *conninfo)
{
    return pg_node_wait_streaming(conninfo, "new standby", 60.0, &mr_interrupted) ||
           err_set(DD_EXIT_TIMEOUT,
                   "the new standby does not stream from the new primary after 60 s");
}

static bool mr_first_backup(Mr *m)
{
    if (m->green_standby_ci &&
        (!mr_wait_streaming(m->green_standby_ci) || !mr_standby_archive_back(m)))
        return false;
    Config nc;
    if (!config_load(m->cfg->file, &nc)) /* the roles just recorded */
        return false;
    BackupSummary sum;
    bool ok = backup_run(
        &nc, m->repo, &(BackupOpts){.from = nc.standby ? BACKUP_FROM_STANDBY : BACKUP_FROM_PRIMARY},
        &sum);
    config_free(&nc);
    return ok;
}

/* --- the engine ------------------------------------------------------------ */

static bool mr_call(Mr *m, PlanStepId id)
{
    switch (id) {
    case PSTEP_SWITCHOVER:
        return mr_switchover(m);
    case PSTEP_SQL_AFTER:
        return mr_sql_after(m);
    case PSTEP_OLD_PRIMARY:
        return mr_old_primary(m);
    case PSTEP_FIRST_BACKUP:
        return mr_first_backup(m);
    default: {
        const MaintStep *row = maint_step(id);
        if (!row)
            return err_set(DD_EXIT_PLAN, "maint run does not carry out the step \"%s\" yet",
                           plan_step_name(id));
        return row->run(&m->ctx);
    }
    }
}

/* One step, journalled around it (invariant 2 of journal.c: started before anything). */
static bool mr_do(Mr *m, PlanStepId id)
{
    PlanStep *s = &m->r->plan.steps[id];
    int64_t seq;
    if (!journal_step_begin(m->j, m->r->run, plan_step_name(id), JACT_DO, s->est.predicted_s,
                            s->est.low_s, s->est.high_s, &seq))
        return false;
    mr_progress(m, id, "start");
    char point[64];
    snprintf(point, sizeof(point), "maint-%s", plan_step_name(id));
    double t0 = time_mono(); /* a pause here counts: a test makes the step late with it */
    testpoint_pause(point);  /* journalled as started, nothing done yet */
    bool ok = !mr_interrupted && mr_call(m, id) && !m->journal_broken;
    if (!ok && mr_interrupted && err_code() == DD_EXIT_OK)
        err_set(DD_EXIT_FAIL, "interrupted during %s", plan_step_name(id));
    s->ran = true;
    s->ok = ok;
    s->actual_s = time_mono() - t0;
    mr_progress(m, id, "end");
    if (ok && s->actual_s > s->est.high_s)
        mr_notify_late(m, id);
    if (ok && id == PSTEP_SWITCHOVER)
        mr_notify(m, status_notify_verifying);
    ErrSaved saved = err_save();
    bool logged = journal_step_end(m->j, m->r->run, seq, ok, ok ? "" : saved.message);
    if (!ok)
        (void)err_restore(&saved);
    if (ok && id == PSTEP_SWITCHOVER)
        logged = logged && journal_run_set(m->j, m->r->run, JRUN_SWITCHED, m->r->hold_ms);
    return ok && logged;
}

static bool mr_undo(Mr *m, PlanStepId id)
{
    const MaintStep *row = maint_step(id);
    if (!row || !row->undo)
        return true;
    int64_t seq;
    if (!journal_step_begin(m->j, m->r->run, plan_step_name(id), JACT_UNDO, 0, 0, 0, &seq))
        return false;
    if (m->o->out && !m->o->json)
        fprintf(m->o->out, "%-13s undoing\n", plan_step_name(id));
    bool ok = row->undo(&m->ctx);
    ErrSaved saved = err_save();
    bool logged = journal_step_end(m->j, m->r->run, seq, ok, ok ? "" : saved.message);
    if (!ok)
        (void)err_restore(&saved);
    return ok && logged;
}

/* Whether the green primary left recovery (a switchover that died promoted it). */
static bool mr_green_promoted(Mr *m)
{
    PGconn *c = pg_connect(m->green_ci, "green primary");
    char *rec = c ? pg_query_value(c, "SELECT pg_is_in_recovery()", 0, NULL) : NULL;
    bool promoted = rec && rec[0] == 'f';
    free(rec);
    pg_disconnect(c);
    err_clear();
    return promoted;
}

/* Every enabled step not done yet, in order; half-done ones undone first. */
static bool mr_steps(Mr *m)
{
    for (int i = 0; i < PSTEP__COUNT; i++) {
        PlanStepId id = (PlanStepId)i;
        PlanStep *s = &m->r->plan.steps[id];
        if (!s->enabled)
            continue;
        const JournalStepView *v = journal_run_step(&m->jr, plan_step_name(id));
        if (v && v->state == JSTEP_DONE) {
            s->ran = s->ok = true;
            s->actual_s = v->actual_s;
            continue;
        }
        if (mr_interrupted)
            return err_set(DD_EXIT_FAIL, "interrupted before %s", plan_step_name(id));
        if (v && journal_step_half_done(v->state)) {
            if (id == PSTEP_SWITCHOVER && mr_green_promoted(m)) {
                int64_t seq;
                if (!journal_step_begin(m->j, m->r->run, plan_step_name(id), JACT_DO, 0, 0, 0,
                                        &seq) ||
                    !mr_adopt_switch(m) ||
                    !journal_step_end(m->j, m->r->run, seq, true, "promoted before the crash") ||
                    !journal_run_set(m->j, m->r->run, JRUN_SWITCHED, -1))
                    return false;
                s->ran = s->ok = true;
                continue;
            }
            if (!mr_undo(m, id))
                return err_context("undoing the half-done step %s", plan_step_name(id));
        }
        if (!mr_do(m, id))
            return false;
    }
    if (!journal_run_set(m->j, m->r->run, JRUN_COMPLETED, -1))
        return false;
    mr_notify(m, status_notify_completed);
    return true;
}

/* Undo every step that is not pending, newest first; then the roles before the run. */
static bool mr_undo_all(Mr *m)
{
    for (int i = PSTEP__COUNT - 1; i >= 0; i--) {
        const JournalStepView *v = journal_run_step(&m->jr, plan_step_name((PlanStepId)i));
        bool touched = v && v->state != JSTEP_PENDING && v->state != JSTEP_UNDONE;
        if (touched && !mr_undo(m, (PlanStepId)i))
            return err_context("undoing %s", plan_step_name((PlanStepId)i));
    }
    Topology t;
    bool found = false;
    char *dir = config_state_dir(m->cfg);
    bool recorded = topology_load(dir, &t, &found) && found;
    free(dir);
    /* Only if this run named the green cluster: the roles go back as they were. */
    bool restore = recorded && t.standby.conninfo && m->green_ci &&
                   strcmp(t.standby.conninfo, m->green_ci) == 0;
    topology_free(&t);
    err_clear();
    return !restore ||
           mr_record(m, "aborted, roles back", &m->before_primary, &m->before_standby, NULL);
}

static bool mr_load_plan(Mr *m, const char *file, bool refuse_errors)
{
    if (!mfile_load(file, &m->r->mf))
        return false;
    m->r->have_plan = true;
    if (!plan_build(m->cfg, &m->r->mf, &m->r->plan))
        return false;
    if (refuse_errors && plan_has_errors(&m->r->plan)) {
        err_set(DD_EXIT_PLAN, "the plan of \"%s\" has error findings: nothing was changed", file);
        err_hint("\"drydock maint plan %s\" lists them", file);
        return false;
    }
    return true;
}

bool maint_run(const Config *cfg, const char *file, const MaintRunOpts *o, MaintRunResult *r)
{
    Mr m;
    bool ok = mr_open(&m, cfg, "maint run", o, r);
    if (ok) {
        mr_node(&m.before_primary, cfg->primary, cfg->primary_data);
        mr_node(&m.before_standby, cfg->standby, cfg->standby_data);
        ok = mr_load_plan(&m, file, true);
    }
    char *plan = ok ? mr_plan_text(&m) : NULL;
    ok = ok && journal_run_begin(m.j, file, r->mf.title, plan, &r->run);
    free(plan);
    if (ok) {
        mr_ctx(&m);
        mr_notify_start(&m);
        ok = mr_steps(&m);
        if (!ok) {
            ErrSaved saved = err_save();
            bool switched =
                r->plan.steps[PSTEP_SWITCHOVER].ran && r->plan.steps[PSTEP_SWITCHOVER].ok;
            bool undone = false;
            if (mr_interrupted && !switched) { /* Ctrl-C before the switch: abort */
                mr_notify(&m, status_notify_aborting);
                journal_run_free(&m.jr);
                undone = journal_load(m.j, r->run, &m.jr) && mr_undo_all(&m) &&
                         journal_run_set(m.j, r->run, JRUN_ABORTED, -1);
                if (undone)
                    mr_notify(&m, status_notify_aborted);
            }
            r->outcome = undone ? "aborted" : "failed";
            if (!undone &&
                !journal_run_set(m.j, r->run, switched ? JRUN_SWITCHED : JRUN_FAILED, -1))
                log_warn("%s", err_message());
            (void)err_restore(&saved);
            if (undone)
                err_hint("interrupted: every step done was undone; nothing changed");
            else if (!err_hint_text()[0])
                err_hint("\"drydock maint status\" shows where it stopped; then maint resume, "
                         "or maint abort");
        } else {
            r->outcome = "completed";
        }
    }
    mr_close(&m);
    return ok;
}

/* The last run, checked open and in one of the states allowed. */
static bool mr_last(Mr *m, const char *verb, bool after_switch_ok)
{
    if (!journal_load(m->j, 0, &m->jr))
        return false;
    m->r->run = m->jr.id;
    if (!m->jr.id || !journal_run_open(m->jr.state)) {
        err_set(DD_EXIT_CONFLICT, "there is no maintenance to %s%s%s", verb,
                m->jr.id ? ": the last one is " : "",
                m->jr.id ? journal_run_state_name(m->jr.state) : "");
        err_hint("\"drydock maint status\" shows the last one");
        return false;
    }
    bool switched = m->jr.state == JRUN_SWITCHED || m->jr.state == JRUN_COMPLETED ||
                    m->jr.state == JRUN_ROLLING_BACK;
    if (switched && !after_switch_ok) {
        err_set(DD_EXIT_CONFLICT, "maintenance #%lld has switched: it cannot be aborted",
                (long long)m->jr.id);
        err_hint("return to the old configuration with \"drydock maint rollback\"");
        return false;
    }
    mr_roles_from_journal(m);
    m->status_id = m->jr.status_id;
    return mr_load_plan(m, m->jr.file, false) && (mr_ctx(m), true);
}

bool maint_resume(const Config *cfg, const MaintRunOpts *o, MaintRunResult *r)
{
    Mr m;
    bool ok = mr_open(&m, cfg, "maint resume", o, r) && mr_last(&m, "resume", true);
    if (ok && m.jr.state == JRUN_COMPLETED) {
        r->outcome = "completed";
        mr_close(&m);
        return true;
    }
    ok = ok &&
         journal_run_set(m.j, r->run, m.jr.state == JRUN_SWITCHED ? JRUN_SWITCHED : JRUN_RUNNING,
                         -1) &&
         mr_steps(&m);
    if (!ok && m.j && r->run) {
        ErrSaved saved = err_save();
        bool switched = r->plan.steps[PSTEP_SWITCHOVER].ok;
        if (!journal_run_set(m.j, r->run, switched ? JRUN_SWITCHED : JRUN_FAILED, -1))
            log_warn("%s", err_message());
        (void)err_restore(&saved);
    }
    r->outcome = ok ? "completed" : "failed";
    mr_close(&m);
    return ok;
}

bool maint_abort(const Config *cfg, const MaintRunOpts *o, MaintRunResult *r)
{
    Mr m;
    bool ok = mr_open(&m, cfg, "maint abort", o, r) && mr_last(&m, "abort", false);
    const JournalStepView *sw = ok ? journal_run_step(&m.jr, "switchover") : NULL;
    if (ok && sw && sw->state != JSTEP_PENDING && mr_green_promoted(&m)) {
        err_set(DD_EXIT_CONFLICT,
                "maintenance #%lld promoted the green primary: it cannot be "
                "aborted",
                (long long)m.jr.id);
        err_hint("\"drydock maint resume\" finishes it; then \"drydock maint rollback\"");
        ok = false;
    }
    if (ok)
        mr_notify(&m, status_notify_aborting);
    ok = ok && mr_undo_all(&m) && journal_run_set(m.j, r->run, JRUN_ABORTED, -1);
    if (ok)
        mr_notify(&m, status_notify_aborted);
    r->outcome = ok ? "aborted" : "failed";
    mr_close(&m);
    return ok;
}

/*
 * maint finish --expired: whether the run ended more than the file's
 * keep-old-primary ago. No keep-old-primary, or an unreadable file: kept
 * (an operator's "maint finish" is the way then), said on o->out.
 */
static bool mr_finish_due(Mr *m, const MaintRunOpts *o)
{
    MaintFile mf;
    double keep = 0;
    if (m->jr.file && mfile_load(m->jr.file, &mf)) {
        keep = mf.keep_old_primary;
        mfile_free(&mf);
    } else {
        log_warn("%s", err_message());
        err_clear();
    }
    double due = m->jr.ended + keep;
    if (keep > 0 && time_wall() >= due)
        return true;
    if (o->out && !o->json) {
        char when[64] = "";
        time_t t = (time_t)due;
        struct tm tm;
        if (keep > 0 && localtime_r(&t, &tm))
            strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm);
        fprintf(o->out,
                keep > 0 ? "kept for rollback until %s (keep-old-primary)\n"
                         : "kept: the maintenance file sets no keep-old-primary%s\n",
                when);
    }
    return false;
}

bool maint_finish(const Config *cfg, const MaintRunOpts *o, MaintRunResult *r)
{
    Mr m;
    bool ok = mr_open(&m, cfg, "maint finish", o, r) && journal_load(m.j, 0, &m.jr);
    r->run = m.jr.id;
    bool rolled = ok && m.jr.state == JRUN_ROLLED_BACK; /* maint/rollback.h */
    if (ok && m.jr.state != JRUN_COMPLETED && !rolled) {
        err_set(DD_EXIT_CONFLICT, "there is no completed maintenance to finish%s%s",
                m.jr.id ? ": the last one is " : "",
                m.jr.id ? journal_run_state_name(m.jr.state) : "");
        err_hint("\"drydock maint status\" says what to do");
        ok = false;
    }
    if (ok && o->expired_only && !mr_finish_due(&m, o)) {
        r->outcome = "kept";
        mr_close(&m);
        return true;
    }
    /* A reload-only run changed the live nodes in place: there is no old primary to remove. */
    json_t *plan = ok ? json_loads(m.jr.plan_json ? m.jr.plan_json : "{}", 0, NULL) : NULL;
    bool reload = json_is_true(json_object_get(plan, "reload_only"));
    json_decref(plan);
    ok = ok && (reload || maint_finish_remove(cfg, m.j, &m.jr, o->json ? NULL : o->out)) &&
         (rolled || journal_run_set(m.j, r->run, JRUN_FINISHED, -1));
    r->outcome = !ok ? "failed" : rolled ? "rolled back" : "finished";
    mr_close(&m);
    return ok;
}

json_t *maint_run_json(const MaintRunResult *r)
{
    json_t *o = r->have_plan ? plan_to_json(&r->plan) : json_object();
    json_object_set_new(o, "outcome", json_string(r->outcome ? r->outcome : "failed"));
    json_object_set_new(o, "hold_ms", r->hold_ms >= 0 ? json_real(r->hold_ms) : json_null());
    json_object_set_new(o, "run", json_integer(r->run));
    return o;
}

void maint_run_result_free(MaintRunResult *r)
{
    if (r->have_plan) {
        plan_free(&r->plan);
        mfile_free(&r->mf);
    }
    memset(r, 0, sizeof(*r));
}
