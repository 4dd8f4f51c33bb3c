/*
 * estimate_watch.h - what the steps time inside themselves, so that each
 * measurement splits into estimate.h's fixed + bytes ÷ rate:
 *
 *  - the phases of a pg_basebackup seen from the server it copies
 *    (pg_stat_progress_basebackup). The part that grows with the bytes is
 *    the server's "streaming database files" phase plus the client's tail
 *    after its server finished (the copy's own sync of what it wrote: the
 *    dirty pages, as many as the bytes); the fixed part is the rest
 *    (connections, the checkpoint, the WAL at the end). A thread polls the
 *    server every PHASE_WATCH_POLL seconds on its own connection while the
 *    copy runs. It uses libpq only (no error slot: a watch that cannot
 *    connect measures nothing, and the copy goes on);
 *  - a green server's start and catch-up (replay_sample): every start
 *    replays the WAL from its checkpoint's redo LSN, first while starting
 *    (before it accepts connections), then while catching up.
 */
#ifndef DD_MAINT_ESTIMATE_WATCH_H
#define DD_MAINT_ESTIMATE_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "maint/estimate.h"

#define PHASE_WATCH_POLL 0.02

typedef struct PhaseWatch PhaseWatch;

/* What a watch saw, in time_mono() seconds (0: never seen). */
typedef struct {
    double first, last; /* the first and last poll that saw "streaming database files" */
    double end;         /* the last poll that saw the backup at all (any phase) */
} PhaseTimes;

/* Start watching the server of conninfo (copied); NULL when no thread could start. */
PhaseWatch *phase_watch_start(const char *conninfo);
/* Stop and free; what it saw (all 0 when it never saw the streaming phase: it
 * could not connect, or the copy was quicker than a poll). NULL: all 0. */
PhaseTimes phase_watch_stop(PhaseWatch *w);

/*
 * The fixed part of a copy that ran from t0 to t1 (time_mono()), from what
 * its watch saw: all but the streaming phase (first to last poll, + a poll)
 * and the client's tail after the server's last sighting (less half a poll:
 * the server finished somewhere in that poll). 0 when nothing was seen.
 */
double phase_fixed(const PhaseTimes *p, double t0, double t1);

/* One start of a green server and its catch-up, as steps_server.c measured them. */
typedef struct {
    double up_s;          /* pg_ctl start, until it accepted connections */
    double catchup_s;     /* from the first connection to caught up, less half a poll */
    double poll_s;        /* the catch-up's poll interval */
    uint64_t redo;        /* the redo LSN of the checkpoint its replay began at (0: unknown) */
    uint64_t first;       /* its replay LSN at the first connection */
    uint64_t last;        /* its replay LSN when caught up */
    double startup_fixed; /* a start-up as the history had it before this one (0: none) */
} ReplayRun;

/*
 * The wal-replay sample of one start: size the WAL replayed from the redo
 * LSN to caught up (what the server replayed while starting included),
 * seconds the catch-up plus what the start took beyond a usual start-up
 * (startup_fixed; none measured: the whole start, a slower rate: on the safe
 * side), fixed half a poll. Without a redo LSN (or one past first), only the
 * catch-up's WAL and time. False (nothing to record) below min_wal bytes:
 * a few pages replayed in a poll say nothing of the rate.
 */
bool replay_sample(const ReplayRun *r, double min_wal, RateSample *out);

#endif
