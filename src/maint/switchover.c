/*
 * switchover.c - see switchover.h for the steps and the states a failure
 * leaves; the report it fills is maint/swreport.h.
 */
#include "maint/switchover.h"

#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/testpoint.h"
#include "common/timeutil.h"
#include "config/topology.h"
#include "maint/fence.h"
#include "maint/swquiet.h"
#include "pg/conn.h"
#include "pg/libpq.h"
#include "pg/node.h"

#define SW_PROMOTE_TIMEOUT 60.0        /* seconds for the target to leave recovery */
#define SW_STREAM_TIMEOUT  60.0        /* seconds for a demoted primary to stream */
#define SW_PROXY_RETRIES   3           /* transport failures retried while clients are held */
#define SW_NEAR_LAG        (64 * 1024) /* bytes: the target is "nearly caught up" */
#define SW_NEAR_WAIT       30.0        /* seconds to wait for that before pausing all the same */
#define SW_NEAR_POLL       0.01        /* seconds between those polls (no client is held yet) */
#define SW_LEASE           2.0         /* seconds of the pause's lease (proxy.c) */
#define SW_ABORT_GRACE     3.0 /* seconds the rollback's proxy calls get past the deadline */

typedef struct {
    const SwitchoverOpts *o;
    SwitchoverReport *r;
    PGconn *pri;
    PGconn *tgt;
    ProxyCtl *api;
    bool paused;
    bool switched; /* the proxy points at the target */
    double hold_start;
    double deadline; /* hold_start + pause_timeout: every wait while clients are held ends here */
    uint64_t flush_lsn;
    /* The lease renewer (a thread of its own, with its own client). */
    ProxyCtl *lease_api;
    pthread_t lease_thread;
    bool lease_running;
    atomic_bool lease_stop;
    SwQuiet quiet; /* the target's recovery_end_command, cleared until the end */
} Sw;

static void sw_begin(Sw *s, SwitchoverStepId id)
{
    switchover_step_begin(s->r, id, time_mono());
}

/* End a step as failed with the current error as its detail; returns false. */
static bool sw_fail(Sw *s, SwitchoverStepId id)
{
    switchover_step_end(s->r, id, false, time_mono(), "%s", err_message());
    if (s->o->on_step)
        s->o->on_step(s->r, id, s->o->arg);
    return false;
}

static void sw_ok(Sw *s, SwitchoverStepId id, const char *fmt, ...) DD_PRINTF(3, 4);
static void sw_ok(Sw *s, SwitchoverStepId id, const char *fmt, ...)
{
    char detail[sizeof(s->r->steps[0].detail)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    switchover_step_end(s->r, id, true, time_mono(), "%s", detail);
    if (s->o->on_step)
        s->o->on_step(s->r, id, s->o->arg);
}

/* --- checks ----------------------------------------------------------- */

/* A configured data directory must be the server's own (when the server says). */
static bool sw_check_datadir(const char *what, const char *configured, const char *actual)
{
    if (!configured || !actual[0])
        return true;
    char *a = realpath(configured, NULL);
    char *b = realpath(actual, NULL);
    bool same = a && b ? strcmp(a, b) == 0 : strcmp(configured, actual) == 0;
    free(a);
    free(b);
    if (!same) {
        err_set(DD_EXIT_CONFIG, "the %s's data directory is \"%s\", not \"%s\"", what, actual,
                configured);
        err_hint("point the %s's data directory option at \"%s\"", what, actual);
    }
    return same;
}

static bool sw_check_primary(Sw *s, char *sysid, size_t len)
{
    PgNode node;
    char *mark = NULL;
    if (!pg_node_identify(s->pri, &node) ||
        !(mark = pg_query_value(
              s->pri, "SELECT has_function_privilege('pg_create_restore_point(text)', 'EXECUTE')",
              0, NULL)))
        return err_context("checking the primary");
    bool recovery = node.in_recovery;
    snprintf(sysid, len, "%" PRIu64, node.system_id);
    bool ok = sw_check_datadir("primary", s->o->primary_data, node.data_directory);
    bool may_mark = mark[0] == 't';
    free(mark);
    if (ok && recovery) {
        err_set(DD_EXIT_PG, "the primary (%s) is in recovery: it is not a primary", s->r->from);
        err_hint("after a switchover, point [cluster] primary at the new primary, or give --from");
        return false;
    }
    if (ok && !may_mark) {
        err_set(DD_EXIT_PG,
                "the role connecting to the primary may not run pg_create_restore_point()");
        err_hint("connect as a superuser, or GRANT EXECUTE ON FUNCTION pg_create_restore_point "
                 "to that role");
        return false;
    }
    return ok;
}

/* The target: a standby of the same cluster, streaming from the primary. */
static bool sw_check_target(Sw *s, const char *sysid)
{
    PgNode node;
    PGresult *res = NULL;
    if (!pg_node_identify(s->tgt, &node) ||
        !(res = pg_query_row(s->tgt,
                             "SELECT (SELECT status FROM pg_stat_wal_receiver), "
                             "(SELECT sender_port FROM pg_stat_wal_receiver), "
                             "has_function_privilege('pg_promote(boolean, integer)', 'EXECUTE')",
                             0, NULL)))
        return err_context("checking the target");
    bool recovery = node.in_recovery;
    char node_sysid[24];
    snprintf(node_sysid, sizeof(node_sysid), "%" PRIu64, node.system_id);
    bool same_cluster = strcmp(node_sysid, sysid) == 0;
    const char *status = PQgetisnull(res, 0, 0) ? "no WAL receiver" : PQgetvalue(res, 0, 0);
    int sender_port = atoi(PQgetvalue(res, 0, 1));
    int primary_port = atoi(PQport(s->pri));
    bool ok = false;
    if (!recovery) {
        err_set(DD_EXIT_PG, "the target (%s) is not in recovery: it is not a standby", s->r->to);
        err_hint("give --to a streaming standby of the primary");
    } else if (!same_cluster) {
        err_set(DD_EXIT_CONFLICT, "the target (%s) belongs to another cluster than the primary",
                s->r->to);
        err_hint("give --to a streaming standby of the primary");
    } else if (strcmp(status, "streaming") != 0) {
        err_set(DD_EXIT_PG, "the target (%s) is not streaming from the primary (%s)", s->r->to,
                status);
        err_hint("check the target's primary_conninfo and its log; wait until it streams");
    } else if (PQgetvalue(res, 0, 2)[0] != 't') {
        err_set(DD_EXIT_PG, "the role connecting to the target may not run pg_promote()");
        err_hint("connect as a superuser, or GRANT EXECUTE ON FUNCTION pg_promote to that role");
    } else if (sender_port != primary_port) {
        err_set(DD_EXIT_PG, "the target (%s) streams from port %d, not from the primary's port %d",
                s->r->to, sender_port, primary_port);
        err_hint("a switchover needs a standby of the primary itself, not of another standby");
    } else {
        ok = sw_check_datadir("target", s->o->target_data, node.data_directory);
    }
    PQclear(res);
    return ok;
}

static bool sw_check_lag(Sw *s, uint64_t *lag)
{
    char *others = pg_query_value(
        s->pri,
        "SELECT greatest(count(*) - 1, 0) FROM pg_stat_replication WHERE state = 'streaming'", 0,
        NULL);
    s->r->other_standbys = others ? atoi(others) : 0;
    free(others);
    char *flush = pg_query_value(s->pri, "SELECT pg_current_wal_flush_lsn()", 0, NULL);
    char *replay =
        flush ? pg_query_value(s->tgt, "SELECT pg_last_wal_replay_lsn()", 0, NULL) : NULL;
    uint64_t f = 0, r = 0;
    bool ok = replay && pg_lsn_parse(flush, &f) && pg_lsn_parse(replay, &r);
    if (replay && !ok) {
        err_set(DD_EXIT_PG, "the target has replayed no WAL yet");
        err_hint("a standby that has just started replays nothing until the primary's WAL "
                 "reaches it: wait until it streams and replays, then try again");
    }
    free(flush);
    free(replay);
    if (!ok)
        return false;
    *lag = f > r ? f - r : 0;
    if (*lag > s->o->max_lag) {
        err_set(DD_EXIT_PG,
                "the target is %" PRIu64 " bytes behind the primary (--max-lag %" PRIu64 ")", *lag,
                s->o->max_lag);
        err_hint("wait until the standby has caught up, or raise --max-lag");
        return false;
    }
    return true;
}

static bool sw_check_proxy(Sw *s, int *sessions)
{
    ProxyStatus st;
    if (!(s->api = proxy_ctl_open(&s->o->proxy)) || !proxy_ctl_status(s->api, &st))
        return false;
    /* A pause whose holder died (a switchover killed -9, retried at once) ends with its lease. */
    for (double until = time_mono() + SW_LEASE + 1.0; st.paused && time_mono() < until;) {
        proxy_status_free(&st);
        time_sleep(0.1);
        if (!proxy_ctl_status(s->api, &st))
            return false;
    }
    bool ok = false;
    if (st.paused) {
        err_set(DD_EXIT_CONFLICT, "the proxy at \"%s\" is paused already",
                s->o->proxy.socket ? s->o->proxy.socket : s->o->proxy.admin);
        err_hint("another switchover or a manual pause is under way; resume it first");
    } else if (switchover_same_server(st.server, s->o->target)) {
        err_set(DD_EXIT_CONFLICT, "the proxy points at the target (%s) already", st.server);
        err_hint("the switchover was done; point [cluster] primary at the new primary");
    } else if (!switchover_same_server(st.server, s->o->primary)) {
        err_set(DD_EXIT_CONFLICT, "the proxy points at %s, not at the primary (%s)", st.server,
                s->r->from);
        err_hint("point the proxy at the primary first, or give --from its server");
    } else if (!proxy_ctl_switch_check(s->api, s->o->target)) {
        /* Found now, not after the promotion, when clients are held. */
        if (err_code() == DD_EXIT_CONFIG)
            err_hint(
                "the proxy moves clients only to a server its configuration names: set [cluster] "
                "standby to the target in the proxy's configuration file");
    } else {
        *sessions = st.clients;
        ok = true;
    }
    proxy_status_free(&st);
    return ok;
}

static bool sw_wait_near(Sw *s);

static bool sw_checks(Sw *s)
{
    sw_begin(s, SW_STEP_CHECKS);
    char sysid[32];
    uint64_t lag = 0;
    int sessions = 0;
    FenceOpts fo = {.bin = s->o->bin, .datadir = s->o->primary_data};
    if (!s->o->primary_data) {
        err_set(DD_EXIT_CONFIG, "the primary's data directory is not known: it cannot be %s",
                s->o->demote ? "demoted" : "stopped");
        err_hint("set [cluster] primary-data, or give --from-data");
        return sw_fail(s, SW_STEP_CHECKS);
    }
    if (!fence_check(&fo, s->o->demote) || !(s->pri = pg_connect(s->o->primary, "primary")) ||
        !pg_exec(s->pri, "SET synchronous_commit = local") ||
        !(s->tgt = pg_connect(s->o->target, "target")) ||
        !sw_check_primary(s, sysid, sizeof(sysid)) || !sw_check_target(s, sysid) ||
        !sw_check_lag(s, &lag) || !sw_check_proxy(s, &sessions))
        return sw_fail(s, SW_STEP_CHECKS);
    swquiet_begin(&s->quiet, s->tgt); /* while the target nears the primary */
    if (!sw_wait_near(s))
        return sw_fail(s, SW_STEP_CHECKS);
    sw_ok(s, SW_STEP_CHECKS,
          "target streams from the primary, %" PRIu64 " bytes behind; proxy clients: %d", lag,
          sessions);
    return true;
}

/*
 * Wait until the target has nearly caught up (SW_NEAR_LAG), so that the
 * pause covers only the last bytes: the hold is the time to replay them,
 * not the lag the target had when the switchover started. Past SW_NEAR_WAIT
 * it goes on all the same (the lag is under --max-lag: the catch-up step is
 * bounded by the pause deadline anyway).
 */
static bool sw_wait_near(Sw *s)
{
    double give_up = time_mono() + SW_NEAR_WAIT;
    for (;;) {
        double deadline = time_mono() + 10.0;
        char *flush = pg_query_value_until(s->pri, "primary", deadline,
                                           "SELECT pg_current_wal_flush_lsn()", 0, NULL);
        const char *params[] = {flush};
        char *lag =
            flush ? pg_query_value_until(s->tgt, "target", deadline,
                                         "SELECT $1::pg_lsn - pg_last_wal_replay_lsn()", 1, params)
                  : NULL;
        bool ok = lag != NULL;
        double bytes = ok ? atof(lag) : 0;
        free(flush);
        free(lag);
        if (!ok)
            return false;
        if (bytes <= SW_NEAR_LAG || time_mono() > give_up)
            return true;
        time_sleep(SW_NEAR_POLL);
    }
}

/*
 * The lease renewer: POST /lease every SW_LEASE / 4 while clients are held,
 * and never past the deadline (plus the rollback's grace): a switchover that
 * hangs or dies stops renewing, and the proxy ends the hold by itself.
 */
static void *sw_lease_thread(void *arg)
{
    Sw *s = arg;
    double until = s->deadline + SW_ABORT_GRACE + 1.0;
    while (!atomic_load(&s->lease_stop) && time_mono() < until) {
        for (int i = 0; i < 10 && !atomic_load(&s->lease_stop); i++)
            time_sleep(SW_LEASE / 40.0);
        if (!atomic_load(&s->lease_stop) && !proxy_ctl_lease(s->lease_api, false))
            log_debug("renewing the pause's lease: %s", err_message());
    }
    return NULL;
}

static void sw_lease_start(Sw *s)
{
    s->lease_api = proxy_ctl_open(&s->o->proxy);
    atomic_store(&s->lease_stop, false);
    s->lease_running =
        s->lease_api && pthread_create(&s->lease_thread, NULL, sw_lease_thread, s) == 0;
}

static void sw_lease_stop(Sw *s)
{
    if (s->lease_running) {
        atomic_store(&s->lease_stop, true);
        pthread_join(s->lease_thread, NULL);
        s->lease_running = false;
    }
    proxy_ctl_close(s->lease_api);
    s->lease_api = NULL;
}

/* --- the held part ----------------------------------------------------- */

static bool sw_pause(Sw *s)
{
    ProxyPauseReply rep;
    sw_begin(s, SW_STEP_PAUSE);
    s->hold_start = time_mono();
    s->deadline = s->hold_start + s->o->pause_timeout;
    /* The proxy answers /pause at the deadline at the latest: a second for its 408. */
    proxy_ctl_set_deadline(s->api, s->deadline + 1.0);
    sw_lease_start(s);
    if (!proxy_ctl_pause_lease(s->api, s->o->pause_timeout, false, SW_LEASE, &rep)) {
        /* No answer: the proxy may have paused all the same; the rollback resumes it. */
        s->paused = err_code() == DD_EXIT_FAIL;
        if (err_code() == DD_EXIT_TIMEOUT)
            err_hint("retry when the long transactions have ended, or give a longer "
                     "--pause-timeout");
        return sw_fail(s, SW_STEP_PAUSE);
    }
    s->paused = true;
    s->r->held = rep.held;
    /*
     * The sessions' connections to the target are opened now, while the
     * target catches up and promotes, not after: the switch takes them over.
     * Best effort: without them the switch connects as before.
     */
    int opened = 0;
    if (!proxy_ctl_preconnect(s->api, s->o->target, &opened)) {
        log_debug("connecting the held sessions ahead to the target: %s", err_message());
        err_clear();
    }
    sw_ok(s, SW_STEP_PAUSE,
          "%d sessions held at a transaction boundary (proxy waited %.1f ms); %d connecting "
          "ahead to the target",
          rep.held, rep.wait_ms, opened);
    return true;
}

static bool sw_catchup(Sw *s)
{
    sw_begin(s, SW_STEP_CATCHUP);
    testpoint_pause("switchover-catchup"); /* paused, the catch-up not started */
    /*
     * A commit made with synchronous_commit = off is acknowledged before its
     * WAL is flushed, and only flushed WAL reaches the standby: a transaction
     * of our own that commits with a local flush (not waiting for standbys)
     * flushes everything before it. It must write WAL besides its commit
     * record, or PostgreSQL commits it asynchronously too: a restore point,
     * which also marks the switchover for a point-in-time recovery.
     */
    PGresult *mark = pg_query_until(s->pri, "primary", s->deadline,
                                    "SELECT pg_current_xact_id(), "
                                    "pg_create_restore_point('drydock switchover')",
                                    0, NULL);
    PQclear(mark);
    char *flush = mark ? pg_query_value_until(s->pri, "primary", s->deadline,
                                              "SELECT pg_current_wal_flush_lsn()", 0, NULL)
                       : NULL;
    if (!flush || !pg_lsn_parse(flush, &s->flush_lsn)) {
        free(flush);
        err_context("reading the primary's WAL position");
        return sw_fail(s, SW_STEP_CATCHUP);
    }
    const char *params[] = {flush};
    for (;;) {
        /* A poll sent just before the deadline gets a moment to answer: a
         * target that answers but lags is told apart from one that hangs. */
        char *done =
            pg_query_value_until(s->tgt, "target", s->deadline + 0.5,
                                 "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", 1, params);
        bool reached = done && done[0] == 't';
        bool failed = !done;
        free(done);
        if (reached)
            break;
        if (failed || time_mono() > s->deadline) {
            if (!failed) {
                err_set(DD_EXIT_TIMEOUT, "the target did not replay up to %s within %d s", flush,
                        s->o->pause_timeout);
                err_hint("check the target's replication; raise --pause-timeout if it is slow");
            }
            free(flush);
            return sw_fail(s, SW_STEP_CATCHUP);
        }
        time_sleep(s->o->poll_interval);
    }
    sw_ok(s, SW_STEP_CATCHUP, "the target replayed the primary's WAL up to %s", flush);
    free(flush);
    return true;
}

/* POST /switch, retrying transport failures; fills the report's counters. */
static bool sw_switch_proxy(Sw *s, const char *conninfo, ProxySwitchReply *rep)
{
    bool ok = false;
    for (int i = 0; i < SW_PROXY_RETRIES && !ok; i++) {
        ok = proxy_ctl_switch(s->api, conninfo, 30.0, rep);
        if (!ok && err_code() != DD_EXIT_FAIL)
            break; /* the proxy answered: asking again will not help */
    }
    return ok;
}

/* The /switch call made while the promotion runs, on a thread of its own. */
typedef struct {
    Sw *s;
    bool ok;
    ProxySwitchReply rep;
    double ended;
    ErrSaved err; /* the error slot is per thread: carried back as a value */
} SwSwitchJob;

static void *sw_switch_thread(void *arg)
{
    SwSwitchJob *job = arg;
    testpoint_pause("switchover-switch"); /* promotion asked for, /switch not sent */
    job->ok = sw_switch_proxy(job->s, job->s->o->target, &job->rep);
    job->ended = time_mono();
    if (!job->ok)
        job->err = err_save();
    return NULL;
}

/* Poll until the target is out of recovery. */
static bool sw_wait_promoted(Sw *s)
{
    double deadline = time_mono() + SW_PROMOTE_TIMEOUT;
    if (deadline > s->deadline)
        deadline = s->deadline; /* clients are held: the pause deadline bounds it */
    for (;;) {
        char *rec =
            pg_query_value_until(s->tgt, "target", deadline, "SELECT pg_is_in_recovery()", 0, NULL);
        bool in_recovery = rec && rec[0] == 't';
        bool failed = !rec;
        free(rec);
        if (!failed && !in_recovery)
            return true;
        if (failed)
            return false;
        if (time_mono() > deadline)
            return err_set(DD_EXIT_TIMEOUT,
                           "the target did not leave recovery before the pause deadline (%d s)",
                           s->o->pause_timeout);
        time_sleep(s->o->poll_interval);
    }
}

/*
 * Promote the target and, at the same time, switch the proxy to it: a hot
 * standby accepts the new sessions while it finishes its promotion, and
 * they may write once it has (nothing runs on them before the resume). So
 * clients are held for the longer of the two, not their sum.
 *
 * *maybe is set once the promotion was asked for: from then on the target
 * may promote even if this fails. s->switched says the proxy points at the
 * target: a rollback must switch it back first.
 */
static bool sw_promote_switch(Sw *s, bool *maybe)
{
    sw_begin(s, SW_STEP_PROMOTE);
    /* The proxy must know before the promotion: if the lease then expires, it
     * must not resume on the old primary. */
    if (!proxy_ctl_lease(s->api, true)) {
        err_context("announcing the promotion to the proxy");
        return sw_fail(s, SW_STEP_PROMOTE);
    }
    char *sent = pg_query_value_until(s->tgt, "target", s->deadline,
                                      "SELECT pg_promote(wait => false)", 0, NULL);
    bool ok = sent && sent[0] == 't';
    if (sent && !ok)
        err_set(DD_EXIT_PG, "the target refused to promote (pg_promote returned false)");
    free(sent);
    if (!ok)
        return sw_fail(s, SW_STEP_PROMOTE);
    *maybe = true;
    sw_begin(s, SW_STEP_SWITCH);
    SwSwitchJob job = {.s = s};
    pthread_t th;
    bool threaded = pthread_create(&th, NULL, sw_switch_thread, &job) == 0;
    if (!threaded)
        sw_switch_thread(&job);
    bool promoted = sw_wait_promoted(s);
    double promoted_at = time_mono();
    char why[1024];
    snprintf(why, sizeof(why), "%s", err_message());
    DdExit code = err_code();
    if (threaded)
        pthread_join(th, NULL);
    s->switched = job.ok;
    if (job.ok) {
        s->r->switched = job.rep.switched;
        s->r->switch_failed = job.rep.failed;
        switchover_step_end(s->r, SW_STEP_SWITCH, true, job.ended,
                            "%d sessions reconnected to the new primary, %d failed (%.1f ms)",
                            job.rep.switched, job.rep.failed, job.rep.switch_ms);
    } else {
        switchover_step_end(s->r, SW_STEP_SWITCH, false, job.ended, "%s", job.err.message);
    }
    if (promoted) {
        s->r->promoted = true;
        switchover_step_end(s->r, SW_STEP_PROMOTE, true, promoted_at,
                            "the target left recovery: it is the new primary");
    } else {
        switchover_step_end(s->r, SW_STEP_PROMOTE, false, promoted_at, "%s", why);
    }
    if (s->o->on_step) {
        s->o->on_step(s->r, SW_STEP_PROMOTE, s->o->arg);
        s->o->on_step(s->r, SW_STEP_SWITCH, s->o->arg);
    }
    if (!promoted)
        return err_set(code, "%s", why);
    if (!job.ok)
        return err_restore(&job.err);
    return true;
}

/* Resume (retrying transport failures); ends the hold. */
static bool sw_resume_proxy(Sw *s)
{
    bool ok = false;
    for (int i = 0; i < SW_PROXY_RETRIES && !ok; i++) {
        ok = proxy_ctl_resume(s->api, &s->r->proxy_paused_ms);
        if (!ok && err_code() != DD_EXIT_FAIL)
            break;
    }
    if (ok) {
        s->paused = false;
        s->r->hold_ms = (time_mono() - s->hold_start) * 1000.0;
    }
    return ok;
}

static bool sw_resume(Sw *s)
{
    sw_begin(s, SW_STEP_RESUME);
    testpoint_pause("switchover-resume"); /* promoted and switched, clients still held */
    if (!sw_resume_proxy(s))
        return sw_fail(s, SW_STEP_RESUME);
    sw_ok(s, SW_STEP_RESUME, "clients run again on the new primary (proxy paused %.1f ms)",
          s->r->proxy_paused_ms);
    return true;
}

/* --- after the hold ---------------------------------------------------- */

/* Wait until the demoted primary streams from the new one. */
static bool sw_wait_streaming(Sw *s)
{
    if (pg_node_wait_streaming(s->o->primary, "old primary", SW_STREAM_TIMEOUT, NULL))
        return true;
    err_set(DD_EXIT_TIMEOUT,
            "the old primary was restarted as a standby but does not stream from the new primary "
            "after %.0f s",
            SW_STREAM_TIMEOUT);
    err_hint("see the log in \"%s/log\"", s->o->primary_data);
    return false;
}

static bool sw_fence(Sw *s)
{
    sw_begin(s, SW_STEP_FENCE);
    /* Our session would only be cut by the shutdown. */
    pg_disconnect(s->pri);
    s->pri = NULL;
    FenceOpts fo = {.bin = s->o->bin,
                    .datadir = s->o->primary_data,
                    .new_primary = s->o->target,
                    .drydock_path = s->o->drydock_path,
                    .config_path = s->o->config_path};
    char detail[256];
    /*
     * pg_rewind reads the source's timeline from its control file, which a
     * promotion updates only at the next checkpoint: without one it would see
     * both on the old timeline and find no rewind required.
     */
    if (s->o->demote && !pg_exec(s->tgt, "CHECKPOINT")) {
        err_context("checkpointing the new primary before the rewind");
        return sw_fail(s, SW_STEP_FENCE);
    }
    bool ok = s->o->demote ? fence_demote(&fo, detail, sizeof(detail)) && sw_wait_streaming(s)
                           : fence_stop(&fo, detail, sizeof(detail));
    if (!ok)
        return sw_fail(s, SW_STEP_FENCE);
    sw_ok(s, SW_STEP_FENCE, "%s%s", detail, s->o->demote ? "; it streams" : "");
    return true;
}

/* --- failure ------------------------------------------------------------ */

/*
 * Turn the failure of a step into the one error the caller prints: the
 * step, why, and the state things are left in (with what to do).
 */
static bool sw_abort(Sw *s, SwitchoverStepId step, bool maybe_promoted)
{
    char why[1024], hint[512];
    DdExit code = err_code();
    snprintf(why, sizeof(why), "%s", err_message());
    snprintf(hint, sizeof(hint), "%s", err_hint_text());
    const char *name = switchover_step_name(step);
    SwitchoverReport *r = s->r;
    if (step == SW_STEP_CHECKS) {
        r->outcome = SW_OUTCOME_UNTOUCHED;
        err_set(code, "switchover aborted at step \"%s\": %s; nothing was changed", name, why);
    } else if (step <= SW_STEP_PROMOTE) {
        /* The old primary took no write the target lacks: going back is safe. */
        proxy_ctl_set_deadline(s->api, time_mono() + SW_ABORT_GRACE);
        ProxySwitchReply back;
        bool pointed_back = !s->switched || sw_switch_proxy(s, s->o->primary, &back);
        /* A 409 to /resume: the proxy was not paused (any more). */
        bool resumed =
            pointed_back && (!s->paused || sw_resume_proxy(s) || err_code() == DD_EXIT_CONFLICT);
        r->outcome = resumed        ? SW_OUTCOME_ROLLED_BACK
                     : pointed_back ? SW_OUTCOME_PAUSED_OLD
                                    : SW_OUTCOME_PAUSED_NEW;
        err_set(code, "switchover aborted at step \"%s\": %s; %s", name, why,
                resumed        ? "the proxy serves the old primary again"
                : pointed_back ? "the proxy could not be resumed: it holds its clients on the old "
                                 "primary"
                               : "the proxy could not be switched back: it holds its clients, "
                                 "pointing at the target");
        if (!pointed_back)
            snprintf(hint, sizeof(hint),
                     "drydock proxy-ctl switch 'CONNINFO OF THE OLD PRIMARY', then drydock "
                     "proxy-ctl resume");
        else if (!resumed)
            snprintf(hint, sizeof(hint), "resume it: drydock proxy-ctl resume");
        else if (maybe_promoted)
            snprintf(hint, sizeof(hint),
                     "the target may still finish its promotion: stop it and rebuild it as a "
                     "standby before trying again");
    } else if (step == SW_STEP_SWITCH) {
        r->outcome = SW_OUTCOME_PAUSED_OLD;
        err_set(code,
                "switchover failed at step \"switch\" after the promotion: %s; the target (%s) is "
                "the new primary and the proxy still holds its clients, pointing at the old one",
                why, r->to);
        snprintf(hint, sizeof(hint),
                 "do not resume on the old primary (that would split the data): drydock "
                 "proxy-ctl switch 'CONNINFO OF THE NEW PRIMARY', then drydock proxy-ctl resume; "
                 "then stop the old primary (pg_ctl -D \"%s\" stop): it was not fenced",
                 s->o->primary_data);
    } else if (step == SW_STEP_RESUME) {
        r->outcome = SW_OUTCOME_PAUSED_NEW;
        err_set(code,
                "switchover failed at step \"resume\": %s; the proxy points at the new primary "
                "(%s) but still holds its clients",
                why, r->to);
        snprintf(hint, sizeof(hint),
                 "resume it: drydock proxy-ctl resume; then stop the old primary (pg_ctl -D "
                 "\"%s\" stop): it was not fenced",
                 s->o->primary_data);
    } else {
        r->outcome = SW_OUTCOME_SWITCHED;
        err_set(code,
                "switchover done, clients are on the new primary (%s), but fencing the old "
                "primary failed: %s",
                r->to, why);
        char tool_hint[sizeof(hint)];
        snprintf(tool_hint, sizeof(tool_hint), "%s", hint);
        snprintf(hint, sizeof(hint),
                 "make sure the old primary (data directory \"%s\") is stopped before anything "
                 "writes to it%s%s",
                 s->o->primary_data, tool_hint[0] ? "; " : "", tool_hint);
    }
    if (hint[0])
        err_hint("%s", hint);
    return false;
}

/* The target was promoted: record the roles (a failure is only a warning). */
static void sw_record_topology(Sw *s, bool fenced)
{
    const SwitchoverOpts *o = s->o;
    TopologyNode pri = {(char *)o->target, (char *)o->target_data};
    TopologyNode old = {(char *)o->primary, (char *)o->primary_data};
    bool standby = o->demote && fenced;
    if (!topology_record(o->topology, o->event ? o->event : "switchover", &pri,
                         standby ? &old : NULL, standby ? NULL : &old))
        log_warn("the new roles could not be recorded: %s. HINT: until they are, give --from and "
                 "--to, or update [cluster] in the configuration",
                 err_message());
}

bool switchover_run(const SwitchoverOpts *o, SwitchoverReport *r)
{
    memset(r, 0, sizeof(*r));
    r->from = pg_conninfo_redact(o->primary);
    r->to = pg_conninfo_redact(o->target);
    r->from_data = o->primary_data ? xstrdup(o->primary_data) : NULL;
    r->to_data = o->target_data ? xstrdup(o->target_data) : NULL;
    r->demote = o->demote;
    Sw s = {.o = o, .r = r};
    bool maybe = false, aborted = false;
    bool ok = sw_checks(&s);
    if (ok) {
        /*
         * An interrupt must not leave the clients held: the signals that would
         * end drydock wait until the proxy is resumed (the hold is bounded by
         * the deadlines), and take effect then.
         */
        sigset_t hold, saved, pending;
        sigemptyset(&hold);
        sigaddset(&hold, SIGINT);
        sigaddset(&hold, SIGTERM);
        sigaddset(&hold, SIGHUP);
        sigaddset(&hold, SIGQUIT);
        pthread_sigmask(SIG_BLOCK, &hold, &saved);
        ok = sw_pause(&s) && sw_catchup(&s) && sw_promote_switch(&s, &maybe) && sw_resume(&s);
        if (!ok)
            aborted = !sw_abort(&s, switchover_failed_step(r), maybe);
        sw_lease_stop(&s);
        proxy_ctl_set_deadline(s.api, 0);
        if (ok && sigpending(&pending) == 0 &&
            (sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1))
            log_error("interrupted after the switch: clients run on the new primary (%s); the old "
                      "primary was not fenced. HINT: stop it before anything writes to it",
                      r->to);
        pthread_sigmask(SIG_SETMASK, &saved, NULL);
        if (ok)
            ok = sw_fence(&s);
    }
    if (ok)
        r->outcome = SW_OUTCOME_DONE;
    else if (!aborted) /* the checks or the fence */
        sw_abort(&s, switchover_failed_step(r), maybe);
    swquiet_end(&s.quiet, o->target, r->promoted, o->target_data, o->drydock_path);
    if (r->promoted && o->topology) {
        ErrSaved saved = err_save();
        sw_record_topology(&s, ok);
        if (!ok)
            (void)err_restore(&saved);
    }
    pg_disconnect(s.pri);
    pg_disconnect(s.tgt);
    proxy_ctl_close(s.api);
    return ok;
}

/* --- after a switchover that died ------------------------------------------ */

bool switchover_adopt(const SwitchoverOpts *o)
{
    ProxyCtl *api = proxy_ctl_open(&o->proxy);
    ProxyStatus st = {0};
    bool ok = api && proxy_ctl_status(api, &st);
    bool on_target = ok && switchover_same_server(st.server, o->target);
    bool paused = ok && st.paused;
    if (ok && !paused && !on_target) {
        ProxyPauseReply pr;
        ok = paused = proxy_ctl_pause(api, o->pause_timeout, false, &pr);
    }
    ProxySwitchReply sr;
    if (ok && !on_target)
        ok = proxy_ctl_switch(api, o->target, 30.0, &sr);
    double ms = 0;
    if (ok && paused) {
        ok = proxy_ctl_resume(api, &ms);
    } else if (!ok && paused && !st.paused) { /* our own pause is never left behind */
        ErrSaved saved = err_save();
        if (!proxy_ctl_resume(api, &ms))
            log_warn("the proxy could not be resumed: %s", err_message());
        (void)err_restore(&saved);
    }
    if (ok)
        log_info("the proxy points at the promoted target%s", paused ? " and runs again" : "");
    proxy_status_free(&st);
    proxy_ctl_close(api);
    return ok || err_context("pointing the proxy at the promoted target");
}

/* --- comparing conninfos ------------------------------------------------- */

bool switchover_same_server(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    PgEndpoint ea, eb;
    return pg_endpoint_parse(a, &ea) && pg_endpoint_parse(b, &eb) && pg_endpoint_same(&ea, &eb);
}
