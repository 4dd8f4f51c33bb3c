/*
 * window.c - see window.h.
 */
#include "restore/window.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/timeutil.h"
#include "pg/wal.h"

static int seg_cmp(const void *a, const void *b)
{
    const WindowSegment *x = a, *y = b;
    if (x->tli != y->tli)
        return x->tli < y->tli ? -1 : 1;
    if (x->segno != y->segno)
        return x->segno < y->segno ? -1 : 1;
    return 0;
}

void window_runs(const WindowSegment *segs, size_t n, Window *w)
{
    WindowSegment *s = xmalloc((n ? n : 1) * sizeof(*s));
    if (n)
        memcpy(s, segs, n * sizeof(*s));
    qsort(s, n, sizeof(*s), seg_cmp);
    w->runs = xmalloc((n ? n : 1) * sizeof(*w->runs));
    w->gaps = xmalloc((n ? n : 1) * sizeof(*w->gaps));
    w->nruns = w->ngaps = 0;
    for (size_t i = 0; i < n; i++) {
        WalRun *r = w->nruns ? &w->runs[w->nruns - 1] : NULL;
        if (r && r->tli == s[i].tli && s[i].segno <= r->last + 1) {
            if (s[i].segno == r->last + 1 || s[i].archived_at > r->last_archived_at)
                r->last_archived_at = s[i].archived_at;
            if (s[i].segno > r->last)
                r->last = s[i].segno;
            continue;
        }
        if (r && r->tli == s[i].tli)
            w->gaps[w->ngaps++] = (WalGap){r->tli, r->last + 1, s[i].segno - 1};
        w->runs[w->nruns++] = (WalRun){s[i].tli, s[i].segno, s[i].segno, s[i].archived_at};
    }
    free(s);
}

/* The run of timeline tli that holds segno, or NULL. */
static const WalRun *run_holding(const Window *w, uint32_t tli, uint64_t segno)
{
    for (size_t i = 0; i < w->nruns; i++)
        if (w->runs[i].tli == tli && w->runs[i].first <= segno && segno <= w->runs[i].last)
            return &w->runs[i];
    return NULL;
}

/* The run a higher timeline continues r with (lowest timeline first), or NULL. */
static const WalRun *run_next_timeline(const Window *w, const WalRun *r)
{
    const WalRun *best = NULL;
    for (size_t i = 0; i < w->nruns; i++) {
        const WalRun *c = &w->runs[i];
        if (c->tli <= r->tli || c->first <= r->first || c->first > r->last + 1)
            continue;
        if (!best || c->tli < best->tli || (c->tli == best->tli && c->first < best->first))
            best = c;
    }
    return best;
}

static void reach_of(const Window *w, const WindowBackup *b, uint32_t seg_size, WindowReach *out)
{
    uint64_t start = wal_segno_of_lsn(b->start_lsn, seg_size, false);
    uint64_t stop = wal_segno_of_lsn(b->stop_lsn, seg_size, true);
    if (stop < start)
        stop = start;
    memset(out, 0, sizeof(*out));
    const WalRun *r = run_holding(w, b->tli, start);
    if (!r || r->last < stop) {
        out->missing_segno = r ? r->last + 1 : start;
        return;
    }
    out->restorable = true;
    out->own_tli_lsn = (r->last + 1) * (uint64_t)seg_size;
    out->own_tli_time = r->last_archived_at;
    /* Follow timeline switches; each step goes to a higher timeline, so this ends. */
    for (const WalRun *next; (next = run_next_timeline(w, r)) != NULL;)
        r = next;
    out->reach_lsn = (r->last + 1) * (uint64_t)seg_size;
    out->reach_time = r->last_archived_at;
    out->reach_tli = r->tli;
    /* The stop segment is archived after the stop; a clock step must not invert them. */
    if (out->own_tli_time < b->stop_time)
        out->own_tli_time = b->stop_time;
    if (out->reach_time < b->stop_time)
        out->reach_time = b->stop_time;
}

void window_compute(Window *w, const WindowBackup *b, size_t nb, uint32_t seg_size)
{
    w->reach = xcalloc(nb ? nb : 1, sizeof(*w->reach));
    w->nbackups = nb;
    w->seg_size = seg_size;
    w->any = false;
    for (size_t i = 0; i < nb; i++) {
        WindowReach *r = &w->reach[i];
        reach_of(w, &b[i], seg_size, r);
        if (!r->restorable)
            continue;
        if (!w->any || b[i].stop_lsn < w->earliest_lsn) {
            w->earliest_lsn = b[i].stop_lsn;
            w->earliest_time = b[i].stop_time;
            w->earliest_tli = b[i].tli;
        }
        if (!w->any || r->reach_lsn > w->latest_lsn) {
            w->latest_lsn = r->reach_lsn;
            w->latest_time = r->reach_time;
            w->latest_tli = r->reach_tli;
        }
        w->any = true;
    }
}

void window_free(Window *w)
{
    free(w->runs);
    free(w->gaps);
    free(w->reach);
    memset(w, 0, sizeof(*w));
}

/* Whether backup i (restorable) reaches the target, for time and LSN targets. */
static bool reaches(const Window *w, const WindowBackup *b, size_t i, const RecoveryTarget *t)
{
    const WindowReach *r = &w->reach[i];
    if (t->kind == TARGET_TIME)
        return b[i].stop_time <= t->time && t->time <= r->reach_time;
    if (t->kind == TARGET_LSN)
        return b[i].stop_lsn <= t->lsn && t->lsn <= r->reach_lsn;
    return true;
}

static void describe_point(double time, uint64_t lsn, const RecoveryTarget *t, char *out,
                           size_t len)
{
    if (t->kind == TARGET_LSN)
        target_format_lsn(lsn, out, len);
    else
        time_format(time, out, len);
}

/* No backup reaches t: say whether it is before, after or inside the window. */
static bool outside_window(const Window *w, const RecoveryTarget *t)
{
    char what[128], lo[64], hi[64];
    target_describe(t, what, sizeof(what));
    describe_point(w->earliest_time, w->earliest_lsn, t, lo, sizeof(lo));
    describe_point(w->latest_time, w->latest_lsn, t, hi, sizeof(hi));
    bool before = t->kind == TARGET_TIME ? t->time < w->earliest_time : t->lsn < w->earliest_lsn;
    bool after = t->kind == TARGET_TIME ? t->time > w->latest_time : t->lsn > w->latest_lsn;
    if (before)
        err_set(DD_EXIT_REPO,
                "recovery target %s is before the recoverable window, which starts at %s", what,
                lo);
    else if (after)
        err_set(DD_EXIT_REPO,
                "recovery target %s is after the recoverable window, which ends at %s", what, hi);
    else
        err_set(DD_EXIT_REPO,
                "recovery target %s falls in a gap of the archived WAL: no backup reaches it",
                what);
    err_hint("\"drydock info\" shows the recoverable window and its gaps");
    return false;
}

static bool forced_fails(const Window *w, const WindowBackup *b, size_t i, const RecoveryTarget *t)
{
    const WindowReach *r = &w->reach[i];
    if (!r->restorable) {
        char seg[32];
        wal_segment_name(b[i].tli, r->missing_segno, w->seg_size, seg);
        err_set(DD_EXIT_REPO,
                "backup \"%s\" cannot be restored: WAL segment %s is missing from "
                "the archive",
                b[i].id, seg);
        err_hint("\"drydock info\" shows the backups that can be restored");
        return false;
    }
    char what[128], lo[64], hi[64];
    target_describe(t, what, sizeof(what));
    describe_point(b[i].stop_time, b[i].stop_lsn, t, lo, sizeof(lo));
    describe_point(r->reach_time, r->reach_lsn, t, hi, sizeof(hi));
    err_set(DD_EXIT_REPO, "backup \"%s\" cannot reach recovery target %s: it reaches from %s to %s",
            b[i].id, what, lo, hi);
    err_hint("leave out --backup to let drydock choose the backup");
    return false;
}

static TargetTimeline timeline_for(const WindowReach *r, const RecoveryTarget *t)
{
    switch (t->kind) {
    case TARGET_IMMEDIATE:
        return TARGET_TIMELINE_CURRENT;
    case TARGET_TIME:
        return t->time <= r->own_tli_time ? TARGET_TIMELINE_CURRENT : TARGET_TIMELINE_LATEST;
    case TARGET_LSN:
        return t->lsn <= r->own_tli_lsn ? TARGET_TIMELINE_CURRENT : TARGET_TIMELINE_LATEST;
    default:
        return TARGET_TIMELINE_LATEST;
    }
}

static bool newer(const WindowBackup *a, const WindowBackup *b)
{
    if (a->stop_lsn != b->stop_lsn)
        return a->stop_lsn > b->stop_lsn;
    return a->stop_time > b->stop_time;
}

bool window_select(const Window *w, const WindowBackup *b, size_t nb, const RecoveryTarget *t,
                   const char *forced_id, WindowChoice *out)
{
    size_t forced = nb;
    if (nb == 0) {
        err_set(DD_EXIT_REPO, "the repository holds no backup");
        err_hint("take one with \"drydock backup\"");
        return false;
    }
    if (forced_id) {
        for (size_t i = 0; i < nb; i++)
            if (strcmp(b[i].id, forced_id) == 0)
                forced = i;
        if (forced == nb) {
            err_set(DD_EXIT_USAGE, "backup \"%s\" does not exist", forced_id);
            err_hint("\"drydock info\" lists the backups");
            return false;
        }
    }
    size_t best = nb;
    for (size_t i = 0; i < nb; i++) {
        if ((forced < nb && i != forced) || !w->reach[i].restorable || !reaches(w, b, i, t))
            continue;
        if (best == nb || newer(&b[i], &b[best]))
            best = i;
    }
    if (best == nb) {
        if (forced < nb)
            return forced_fails(w, b, forced, t);
        if (!w->any) {
            err_set(DD_EXIT_REPO, "no backup can be restored: the WAL from the start to the stop "
                                  "of each is missing from the archive");
            err_hint("\"drydock info\" shows the gaps; take a new backup");
            return false;
        }
        return outside_window(w, t);
    }
    out->backup = best;
    out->timeline = timeline_for(&w->reach[best], t);
    return true;
}
