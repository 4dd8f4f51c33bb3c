/*
 * estimate_watch.c - a pg_basebackup's phases timed from its server, and a
 * start's replay (see estimate_watch.h).
 */
#include "maint/estimate_watch.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/timeutil.h"
#include "common/workers.h"
#include "pg/libpq.h"

/* Polls kept of the streaming phase: 160 s of it at PHASE_WATCH_POLL; a longer
 * phase keeps its first ones (its small files come first and last; a copy
 * that long has its fixed part well inside the range anyway). */
#define STREAM_POINTS 8192

struct PhaseWatch {
    WorkersBg thread;
    char *conninfo;
    bool disk; /* a disk is watched: disk_major:disk_minor */
    unsigned disk_major, disk_minor;
    double busy_end; /* the disk's busy seconds at the server's last sighting */
    bool busy_known;
    atomic_bool stop;
    PhaseTimes seen;
    double t[STREAM_POINTS], b[STREAM_POINTS]; /* the streaming phase's polls */
    size_t n;
};

double stream_slow_s(const double *t, const double *b, size_t n)
{
    if (n < 3)
        return 0;
    /* The pace: the fastest window of at least STREAM_PEAK_WINDOW (two pointers). */
    double peak = 0;
    for (size_t i = 0, j = 0; i < n; i++) {
        if (j <= i)
            j = i + 1;
        while (j < n && t[j] - t[i] < STREAM_PEAK_WINDOW)
            j++;
        if (j == n)
            break;
        peak = fmax(peak, (b[j] - b[i]) / (t[j] - t[i]));
    }
    if (!(peak > 0))
        return 0;
    double slow = 0;
    for (size_t i = 1; i < n; i++) {
        double dt = t[i] - t[i - 1], db = b[i] - b[i - 1];
        if (dt > 0 && db >= 0 && db / dt < STREAM_SLOW_SHARE * peak)
            slow += dt - db / peak;
    }
    return slow;
}

/* Never fails: a watch that cannot poll measures nothing. */
static bool watch_main(void *arg)
{
    PhaseWatch *w = arg;
    const char *keys[] = {"dbname", NULL}, *values[] = {w->conninfo, NULL};
    PGconn *c = PQconnectdbParams(keys, values, 1);
    while (PQstatus(c) == CONNECTION_OK && !atomic_load(&w->stop)) {
        PGresult *r = PQexec(c, "SELECT phase = 'streaming database files', backup_streamed "
                                "FROM pg_stat_progress_basebackup");
        bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        if (ok && PQntuples(r) > 0) {
            double now = time_mono();
            w->seen.end = now;
            if (w->disk) {
                DiskStat d;
                host_diskstat_dev(w->disk_major, w->disk_minor, &d);
                w->busy_end = d.busy_s;
                w->busy_known = d.ok;
            }
            if (PQgetvalue(r, 0, 0)[0] == 't') {
                w->seen.last = now;
                if (!(w->seen.first > 0))
                    w->seen.first = now;
                double bytes = strtod(PQgetvalue(r, 0, 1), NULL);
                if (w->n < STREAM_POINTS && (w->n == 0 || bytes >= w->b[w->n - 1])) {
                    w->t[w->n] = now;
                    w->b[w->n++] = bytes;
                }
            }
        }
        PQclear(r);
        if (!ok)
            break;
        time_sleep(PHASE_WATCH_POLL);
    }
    PQfinish(c);
    return true;
}

PhaseWatch *phase_watch_start(const char *conninfo, const char *disk_path)
{
    PhaseWatch *w = xcalloc(1, sizeof(*w));
    w->conninfo = xstrdup(conninfo);
    /* The device once, here: the copy creates its directory after this. */
    w->disk = disk_path && host_disk_of(disk_path, &w->disk_major, &w->disk_minor);
    atomic_init(&w->stop, false);
    if (!workers_bg_start(&w->thread, watch_main, w)) {
        free(w->conninfo);
        free(w);
        return NULL;
    }
    return w;
}

PhaseTimes phase_watch_stop(PhaseWatch *w)
{
    PhaseTimes seen = {.tail_busy = -1};
    if (!w)
        return seen;
    atomic_store(&w->stop, true);
    workers_bg_join(&w->thread, true);
    if (w->seen.first > 0) {
        seen = w->seen;
        seen.slow_s = stream_slow_s(w->t, w->b, w->n);
        seen.tail_busy = -1;
        if (w->busy_known) {
            DiskStat d;
            host_diskstat_dev(w->disk_major, w->disk_minor, &d);
            if (d.ok && d.busy_s >= w->busy_end)
                seen.tail_busy = d.busy_s - w->busy_end;
        }
    }
    free(w->conninfo);
    free(w);
    return seen;
}

double phase_fixed(const PhaseTimes *p, double t0, double t1)
{
    if (!(p->first > 0) || !(p->last >= p->first) || !(t1 > t0))
        return 0;
    /* Seen from its first poll to its last: up to a poll more on either side. */
    double streaming = p->last - p->first + PHASE_WATCH_POLL;
    double end = fmax(p->end, p->last);
    double tail = fmax(0, t1 - end - PHASE_WATCH_POLL / 2);
    double idle = p->tail_busy >= 0 ? fmax(0, tail - p->tail_busy) : 0;
    return fmax(0, t1 - t0 - streaming - tail) + fmin(fmax(p->slow_s, 0), streaming) + idle;
}

bool replay_sample(const ReplayRun *r, double min_wal, RateSample *out)
{
    memset(out, 0, sizeof(*out));
    bool from_redo = r->redo > 0 && r->redo <= r->first;
    uint64_t from = from_redo ? r->redo : r->first;
    if (r->last <= from || (double)(r->last - from) < min_wal)
        return false;
    double beyond = from_redo ? fmax(0, r->up_s - fmax(r->startup_fixed, 0)) : 0;
    out->kind = RATE_WAL_REPLAY;
    out->size = (double)(r->last - from);
    out->seconds = fmax(r->catchup_s, r->poll_s) + beyond;
    out->fixed = r->poll_s / 2;
    return out->seconds > 0;
}
