/*
 * estimate_watch.h - what the steps time inside themselves, so that each
 * measurement splits into estimate.h's fixed + bytes ÷ rate:
 *
 *  - the phases of a pg_basebackup seen from the server it copies
 *    (pg_stat_progress_basebackup). The part that grows with the bytes is
 *    the server's "streaming database files" phase plus the client's tail
 *    after its server finished (the copy's own sync of what it wrote: the
 *    dirty pages, as many as the bytes); the fixed part is the rest
 *    (connections, the checkpoint, the WAL at the end), and, inside the
 *    streaming phase, the time its small files took beyond its pace on its
 *    big ones (stream_slow_s: per-file work, which a bigger table does not
 *    add to), and the part of its tail the disk was idle. A thread polls the
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
#include <stddef.h>
#include <stdint.h>

#include "maint/estimate.h"

#define PHASE_WATCH_POLL 0.02

typedef struct PhaseWatch PhaseWatch;

/* What a watch saw, in time_mono() seconds (0: never seen). */
typedef struct {
    double first, last; /* the first and last poll that saw "streaming database files" */
    double end;         /* the last poll that saw the backup at all (any phase) */
    double slow_s;      /* of the streaming phase, the time not spent at its pace (stream_slow_s) */
    double tail_busy;   /* of the client's tail, the seconds its disk was busy (< 0: unknown) */
} PhaseTimes;

/* Start watching the server of conninfo (copied), and the disk under disk_path
 * (or its nearest existing parent; NULL: none); NULL when no thread could start. */
PhaseWatch *phase_watch_start(const char *conninfo, const char *disk_path);
/* Stop and free; what it saw (all 0 when it never saw the streaming phase: it
 * could not connect, or the copy was quicker than a poll). NULL: all 0. */
PhaseTimes phase_watch_stop(PhaseWatch *w);

/*
 * Of a streaming phase polled n times (time t[i], bytes streamed b[i], both
 * rising), the seconds its slow intervals took beyond its pace. The pace is
 * the fastest over any STREAM_PEAK_WINDOW seconds (a big file's); an
 * interval is slow below a STREAM_SLOW_SHARE of it: the server sending many
 * small files, each a header, an open and a close, whose count does not grow
 * when a table does. An interval merely slower (the client's writes slowed by
 * the host) is not slow: it grows with the bytes. 0 with too few polls.
 */
#define STREAM_PEAK_WINDOW 0.1
#define STREAM_SLOW_SHARE  0.125
double stream_slow_s(const double *t, const double *b, size_t n);

/*
 * The fixed part of a copy that ran from t0 to t1 (time_mono()), from what
 * its watch saw: all but the streaming phase (first to last poll, + a poll)
 * and the client's tail after the server's last sighting (less half a poll:
 * the server finished somewhere in that poll), plus the streaming phase's
 * slow time (slow_s) and, when known, the part of the tail its disk was idle
 * (the copy's own work after the server: its WAL receiver stopping, its walk
 * over every file to sync it, its manifest; the sync itself keeps the disk
 * busy, and grows with the bytes). 0 when nothing was seen.
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
