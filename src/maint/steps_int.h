/*
 * steps_int.h - what steps.c, steps_server.c and steps_verify.c share
 * (private to maint/steps*).
 */
#ifndef DD_MAINT_STEPS_INT_H
#define DD_MAINT_STEPS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/mem.h"
#include "maint/estimate.h"
#include "maint/steps.h"
#include "pg/conn.h"

/* Seconds a catch-up may go without any replay progress before it fails. */
#define STEPS_STALL_TIMEOUT 120.0
/* WAL a start and catch-up must replay for its replay rate to be recorded. */
#define STEPS_MIN_BACKLOG (256u << 10)

/* Record a measured rate with the step's source ("rehearsal" or "maint run"). */
void steps_rate(MaintCtx *ctx, RateKind kind, double size, double seconds);

/* The live primary's conninfo with host and port pointing at a green server; new string. */
char *steps_conninfo(const MaintCtx *ctx, int port);

/* "<bin>/<tool>", new string. */
char *steps_tool(const MaintCtx *ctx, const char *tool);

/* Start the server in dir (pg_ctl start -w); *seconds is how long it took. */
DD_MUST_CHECK bool steps_server_start(MaintCtx *ctx, const char *dir, double *seconds);
/* Stop the server in dir (mode "fast" or "immediate"); a stopped one is fine. */
DD_MUST_CHECK bool steps_server_stop(MaintCtx *ctx, const char *dir, const char *mode,
                                     double *seconds);
/* Whether a server runs in dir (pg_ctl status). */
bool steps_server_running(MaintCtx *ctx, const char *dir);

/* The tablespaces of the data directory dir: each pg_tblspc link's name and target, in step. */
void steps_tablespaces(const char *dir, StrList *names, StrList *targets);

/* Remove dir and what is under it; its tablespaces too when they are under ctx->scratch. */
DD_MUST_CHECK bool steps_remove_tree(MaintCtx *ctx, const char *dir);
/*
 * SIGKILL every pg_basebackup or pg_checksums still writing into dir (a run
 * killed -9 leaves the WAL streamer that pg_basebackup forks: exec.h's
 * parent-death signal reaches only the program drydock started), and wait
 * until they are gone. steps_remove_tree() does it first.
 */
void steps_kill_writers(const char *dir);

/* As root, give dir and what is under it to the live clusters' owner (PostgreSQL refuses root). */
DD_MUST_CHECK bool steps_chown_tree(const MaintCtx *ctx, const char *dir);

/* Whether an interrupt asked the step to stop (then the error is set). */
bool steps_interrupted(MaintCtx *ctx);

/* Poll until the server at port, started up seconds ago (pg_ctl start -w), replays up to the
 * primary's flush LSN; replay rate recorded (steps_server.c). */
DD_MUST_CHECK bool steps_catch_up(MaintCtx *ctx, int port, const char *what, double up);

/* The verify step's checks (steps_verify.c). */
DD_MUST_CHECK bool steps_verify_changes(MaintCtx *ctx, PGconn *green);

/* The steps implemented in steps_server.c. */
DD_MUST_CHECK bool step_start(MaintCtx *ctx);
DD_MUST_CHECK bool step_start_undo(MaintCtx *ctx);
DD_MUST_CHECK bool step_standby(MaintCtx *ctx);
DD_MUST_CHECK bool step_standby_undo(MaintCtx *ctx);

#endif
