/*
 * estimate_watch.h - the phases of a pg_basebackup seen from the server it
 * copies (pg_stat_progress_basebackup), so that its measurement splits into
 * the time spent streaming the files' bytes and a fixed part (connections,
 * the checkpoint, the WAL at the end, the copy's own sync of ~1000 files):
 * estimate.h's fixed + bytes ÷ rate.
 *
 * A thread polls the server every PHASE_WATCH_POLL seconds on its own
 * connection while the copy runs. It uses libpq only (no error slot: a
 * watch that cannot connect measures nothing, and the copy goes on).
 */
#ifndef DD_MAINT_ESTIMATE_WATCH_H
#define DD_MAINT_ESTIMATE_WATCH_H

#define PHASE_WATCH_POLL 0.02

typedef struct PhaseWatch PhaseWatch;

/* Start watching the server of conninfo (copied); NULL when no thread could start. */
PhaseWatch *phase_watch_start(const char *conninfo);
/* Stop and free; the seconds the server spent in "streaming database files"
 * (0 when the watch never saw it: it could not connect, or the copy was quicker
 * than a poll). */
double phase_watch_stop(PhaseWatch *w);

#endif
