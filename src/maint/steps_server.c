/*
 * steps_server.c - the steps that run the green servers: start and catch
 * up, the green primary's own standby, and a rehearsal's promotion (see the
 * table at the top of steps.c).
 *
 * Caught up means: the green server has replayed up to the primary's flush
 * LSN read at the previous poll (POLL apart; within one WAL page, since a
 * record may end just before a page header the primary counts). Under write
 * load the primary never stops, so "equal now" would never come.
 *
 * The replay rate (estimate_watch.h replay_sample): a green server replays
 * from the redo LSN of its checkpoint (the backup's, or after a clean stop
 * of a standby the primary's last checkpoint's), most of it while starting,
 * before it accepts connections; so the WAL counted is from that redo LSN
 * (pg_control_checkpoint(), read at the first connection) to caught up, and
 * the time the catch-up plus what the start took beyond the start-ups
 * measured before it. Half a poll of each catch-up is its fixed part.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/testpoint.h"
#include "common/timeutil.h"
#include "maint/estimate_watch.h"
#include "maint/fence.h"
#include "maint/pgtool.h"
#include "maint/steps_int.h"
#include "pg/datadir.h"

#define POLL 0.1

static bool lsn_of(PGconn *c, const char *sql, uint64_t *lsn)
{
    char *v = pg_query_value(c, sql, 0, NULL);
    bool ok = v && v[0] && pg_lsn_parse(v, lsn);
    if (v && !ok)
        err_set(DD_EXIT_PG, "\"%s\" returned \"%s\", not an LSN", sql, v);
    free(v);
    return ok;
}

/* One poll of the catch-up: *done when replay reached the primary's previous flush LSN. */
static bool catch_up_poll(PGconn *p, PGconn *g, uint64_t *prev, uint64_t *replay, bool *done)
{
    uint64_t now = 0;
    if (!lsn_of(p, "SELECT pg_current_wal_flush_lsn()", &now) ||
        !lsn_of(g, "SELECT coalesce(pg_last_wal_replay_lsn(), '0/0')", replay))
        return false;
    *done = *prev && *replay + PG_BLCKSZ >= *prev;
    *prev = now;
    return true;
}

/* A start-up's fixed part as the history has it before this start; 0: none measured. */
static double startup_before(MaintCtx *ctx)
{
    Estimate e;
    if (!ctx->repo || !estimate_step(ctx->repo, RATE_STARTUP, 1, "start-up", &e)) {
        err_clear();
        return 0;
    }
    return e.low_confidence ? 0 : e.predicted_s;
}

/* Record the replay rate of a start that took up seconds and its catch-up (see the top). */
static void catch_up_record(MaintCtx *ctx, ReplayRun *run)
{
    RateSample s;
    if (!ctx->repo || !replay_sample(run, STEPS_MIN_BACKLOG, &s))
        return;
    s.when = time_wall();
    snprintf(s.source, sizeof(s.source), "%s", ctx->rehearsal ? "rehearsal" : "maint run");
    log_debug("wal-replay: %.0f bytes from the redo LSN in %.3f s (start %.3f s, usual %.3f s)",
              s.size, s.seconds, run->up_s, run->startup_fixed);
    if (!rates_record(ctx->repo, &s)) {
        log_warn("could not record the wal-replay rate: %s", err_message());
        err_clear();
    }
}

bool steps_catch_up(MaintCtx *ctx, int port, const char *what, double up)
{
    char *ci = steps_conninfo(ctx, port);
    PGconn *g = pg_connect(ci, what);
    PGconn *p = g ? pg_connect(ctx->primary, "primary") : NULL;
    free(ci);
    uint64_t prev = 0, start = 0, replay = 0, best = 0, redo = 0;
    bool done = false;
    double t0 = time_mono(), progress_at = t0;
    bool ok = p && lsn_of(g, "SELECT coalesce(pg_last_wal_replay_lsn(), '0/0')", &start);
    if (ok && !lsn_of(g, "SELECT redo_lsn FROM pg_control_checkpoint()", &redo)) {
        log_debug("the %s's redo LSN: %s", what, err_message());
        err_clear();
        redo = 0;
    }
    best = start;
    while (ok && !done) {
        ok = catch_up_poll(p, g, &prev, &replay, &done) && !steps_interrupted(ctx);
        if (replay > best) {
            best = replay;
            progress_at = time_mono();
        }
        if (ok && !done && time_mono() - progress_at > STEPS_STALL_TIMEOUT) {
            char at[24];
            pg_lsn_format(replay, at, sizeof(at));
            ok = err_set(DD_EXIT_TIMEOUT, "the %s stopped replaying at %s for %.0f s", what, at,
                         STEPS_STALL_TIMEOUT);
            err_hint("see its log in its data directory (log/); it may not reach the primary");
        }
        if (ok && !done)
            time_sleep(POLL);
    }
    /* The last poll found it done up to a poll late: count half a poll less. */
    if (ok) {
        ReplayRun run = {.up_s = up,
                         .catchup_s = time_mono() - t0 - POLL / 2,
                         .poll_s = POLL,
                         .redo = redo,
                         .first = start,
                         .last = replay,
                         .startup_fixed = startup_before(ctx)};
        catch_up_record(ctx, &run);
    }
    pg_disconnect(p);
    pg_disconnect(g);
    return ok;
}

bool step_start(MaintCtx *ctx)
{
    double up = 0;
    if (ctx->on_created)
        ctx->on_created(ctx, PSTEP_START, MCREATED_SERVER, ctx->green_data, ctx->green_port);
    if (!steps_server_start(ctx, ctx->green_data, &up))
        return false;
    testpoint_pause("maint-start-catch-up"); /* started, not caught up */
    if (!steps_catch_up(ctx, ctx->green_port, "green primary", up))
        return false;
    steps_rate(ctx, RATE_STARTUP, 1, up); /* after: the catch-up weighs it against those before */
    return true;
}

bool step_start_undo(MaintCtx *ctx)
{
    double s;
    return steps_server_stop(ctx, ctx->green_data, "fast", &s);
}

/* --- the green standby ------------------------------------------------------ */

/* -T OLD=NEW for each tablespace of the green primary: next to the standby's directory. */
static void standby_ts_args(MaintCtx *ctx, StrList *args)
{
    StrList names = {0}, targets = {0};
    steps_tablespaces(ctx->green_data, &names, &targets);
    for (size_t i = 0; i < names.len; i++)
        strlist_push_owned(
            args, xasprintf("--tablespace-mapping=%s=%s/tblspc-standby-%s", targets.items[i],
                            ctx->scratch ? ctx->scratch : ctx->green_standby_data, names.items[i]));
    strlist_free(&names);
    strlist_free(&targets);
}

static bool standby_basebackup(MaintCtx *ctx)
{
    char *password = NULL;
    char *green = steps_conninfo(ctx, ctx->green_port);
    char *source = fence_conninfo_split(green, &password);
    StrList args = {0};
    strlist_push_owned(&args, steps_tool(ctx, "pg_basebackup"));
    strlist_push_owned(&args, xasprintf("--dbname=%s", source));
    strlist_push_owned(&args, xasprintf("--pgdata=%s", ctx->green_standby_data));
    strlist_push(&args, "--wal-method=stream");
    strlist_push(&args, "--checkpoint=fast");
    strlist_push(&args, "--write-recovery-conf");
    standby_ts_args(ctx, &args);
    strlist_push_owned(&args, NULL);
    Buf out = {0};
    /* The copy's fixed part: all but its server streaming the files at its pace and its
     * own sync after (its disk busy). */
    WriteWatch w;
    write_watch_start(&w, ctx->green_standby_data);
    PhaseWatch *phases = phase_watch_start(green, ctx->green_standby_data);
    bool ok = pgtool_must(args.items,
                          &(PgToolOpts){.password = password, .owner_of = ctx->green_standby_data},
                          "copying the green primary for its standby", &out);
    PhaseTimes seen = phase_watch_stop(phases);
    double fixed = phase_fixed(&seen, w.t0, time_mono());
    if (ok) {
        DatadirList l = {0};
        if (datadir_walk(ctx->green_standby_data, &l))
            rates_record_write(ctx->repo, ctx->rehearsal ? "rehearsal" : "maint run",
                               RATE_BASEBACKUP, &w, (double)l.total_bytes, fixed);
        err_clear();
        datadir_list_free(&l);
    }
    buf_free(&out);
    strlist_free(&args);
    free(source);
    free(green);
    free(password);
    return ok;
}

/* Its own port, and following the green primary across its promotion. */
static bool standby_configure(MaintCtx *ctx)
{
    char *path = xasprintf("%s/postgresql.auto.conf", ctx->green_standby_data);
    Buf conf = {0};
    bool found = false;
    bool ok = fs_read_file(path, &conf, &found);
    if (ok) {
        buf_printf(&conf,
                   "# drydock maint: the green primary's standby\n"
                   "port = '%d'\nrecovery_target_timeline = 'latest'\n",
                   ctx->green_standby_port);
        ok = fs_write_file(path, conf.data, conf.len, 0600) &&
             steps_chown_tree(ctx, ctx->green_standby_data);
    }
    buf_free(&conf);
    free(path);
    return ok;
}

/* Wait until the green primary sees its standby streaming. */
static bool standby_wait_streaming(MaintCtx *ctx)
{
    char *ci = steps_conninfo(ctx, ctx->green_port);
    PGconn *g = pg_connect(ci, "green primary");
    free(ci);
    bool ok = g != NULL, streaming = false;
    double t0 = time_mono(), deadline = t0 + 120;
    while (ok && !streaming && time_mono() < deadline && !steps_interrupted(ctx)) {
        char *v = pg_query_value(
            g, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'", 0, NULL);
        ok = v != NULL;
        streaming = ok && atoi(v) > 0;
        free(v);
        if (ok && !streaming)
            time_sleep(POLL);
    }
    pg_disconnect(g);
    if (ok && streaming)
        steps_rate(ctx, RATE_STREAMING, 1, time_mono() - t0);
    if (ok && !streaming)
        ok = err_set(DD_EXIT_TIMEOUT, "the green standby \"%s\" is not streaming after 120 s",
                     ctx->green_standby_data);
    return ok;
}

bool step_standby(MaintCtx *ctx)
{
    if (!ctx->green_standby_data)
        return true;
    if (ctx->on_created) {
        ctx->on_created(ctx, PSTEP_STANDBY, MCREATED_DIR, ctx->green_standby_data, 0);
        ctx->on_created(ctx, PSTEP_STANDBY, MCREATED_SERVER, ctx->green_standby_data,
                        ctx->green_standby_port);
    }
    double up = 0;
    if (!standby_basebackup(ctx) || !standby_configure(ctx) ||
        !steps_server_start(ctx, ctx->green_standby_data, &up))
        return false;
    steps_rate(ctx, RATE_STARTUP, 1, up);
    return standby_wait_streaming(ctx);
}

bool step_standby_undo(MaintCtx *ctx)
{
    if (!ctx->green_standby_data)
        return true;
    double s;
    return steps_server_stop(ctx, ctx->green_standby_data, "immediate", &s) &&
           steps_remove_tree(ctx, ctx->green_standby_data);
}

/* --- a rehearsal's switch ------------------------------------------------------ */

/* The green standby follows the promotion: streaming on the green primary's new timeline. */
static bool promote_standby_follows(MaintCtx *ctx, PGconn *g)
{
    char *tli = pg_query_value(
        g, "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int", 0,
        NULL);
    char *ci = steps_conninfo(ctx, ctx->green_standby_port);
    PGconn *s = tli ? pg_connect(ci, "green standby") : NULL;
    free(ci);
    bool ok = s != NULL, follows = false;
    double deadline = time_mono() + 120;
    while (ok && !follows && time_mono() < deadline && !steps_interrupted(ctx)) {
        char *v = pg_query_value(s,
                                 "SELECT coalesce((SELECT received_tli FROM pg_stat_wal_receiver "
                                 "WHERE status = 'streaming'), 0)",
                                 0, NULL);
        ok = v != NULL;
        follows = ok && atoi(v) >= atoi(tli) && atoi(v) > 1;
        free(v);
        if (ok && !follows)
            time_sleep(POLL);
    }
    if (ok && !follows)
        ok = err_set(DD_EXIT_TIMEOUT,
                     "the green standby did not follow the promotion to timeline %s in 120 s", tli);
    pg_disconnect(s);
    free(tli);
    return ok;
}

bool step_promote_clone(MaintCtx *ctx)
{
    if (!ctx->rehearsal)
        return err_set(DD_EXIT_FAIL, "only a rehearsal promotes its clone");
    char *ci = steps_conninfo(ctx, ctx->green_port);
    PGconn *g = pg_connect(ci, "green primary");
    free(ci);
    if (!g)
        return false;
    double t0 = time_mono();
    char *v = pg_query_value(g, "SELECT pg_promote(true, 300)", 0, NULL);
    bool ok = v && strcmp(v, "t") == 0;
    if (v && !ok)
        err_set(DD_EXIT_TIMEOUT, "the green primary did not promote within 300 s");
    free(v);
    if (ok)
        steps_rate(ctx, RATE_PROMOTE, 1, time_mono() - t0);
    if (ok && ctx->green_standby_data)
        ok = promote_standby_follows(ctx, g);
    pg_disconnect(g);
    return ok;
}
