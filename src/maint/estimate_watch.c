/*
 * estimate_watch.c - a pg_basebackup's streaming phase timed from its server
 * (see estimate_watch.h).
 */
#include "maint/estimate_watch.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "common/mem.h"
#include "common/timeutil.h"
#include "common/workers.h"
#include "pg/libpq.h"

struct PhaseWatch {
    WorkersBg thread;
    char *conninfo;
    atomic_bool stop;
    double first, last; /* time_mono() of the first and last poll that saw the phase */
};

/* Never fails: a watch that cannot poll measures nothing. */
static bool watch_main(void *arg)
{
    PhaseWatch *w = arg;
    const char *keys[] = {"dbname", NULL}, *values[] = {w->conninfo, NULL};
    PGconn *c = PQconnectdbParams(keys, values, 1);
    while (PQstatus(c) == CONNECTION_OK && !atomic_load(&w->stop)) {
        PGresult *r = PQexec(c, "SELECT 1 FROM pg_stat_progress_basebackup "
                                "WHERE phase = 'streaming database files'");
        bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        if (ok && PQntuples(r) > 0) {
            w->last = time_mono();
            if (!(w->first > 0))
                w->first = w->last;
        }
        PQclear(r);
        if (!ok)
            break;
        time_sleep(PHASE_WATCH_POLL);
    }
    PQfinish(c);
    return true;
}

PhaseWatch *phase_watch_start(const char *conninfo)
{
    PhaseWatch *w = xcalloc(1, sizeof(*w));
    w->conninfo = xstrdup(conninfo);
    atomic_init(&w->stop, false);
    if (!workers_bg_start(&w->thread, watch_main, w)) {
        free(w->conninfo);
        free(w);
        return NULL;
    }
    return w;
}

double phase_watch_stop(PhaseWatch *w)
{
    if (!w)
        return 0;
    atomic_store(&w->stop, true);
    workers_bg_join(&w->thread, true);
    /* Seen from its first poll to its last: up to a poll more on either side. */
    double s = w->first > 0 ? w->last - w->first + PHASE_WATCH_POLL : 0;
    free(w->conninfo);
    free(w);
    return s;
}
