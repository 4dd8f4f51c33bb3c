/*
 * window.h - the recoverable window: which points in time (and WAL locations)
 * a restore can reach, given the backups and the archived WAL; and which
 * backup to restore for a target.
 *
 * Everything here is a pure function of two lists, so that it is tested
 * without a repository:
 *  - the archived segments, as (timeline, segment number, archived-at time);
 *  - the backups, as (id, timeline, start/stop LSN, start/stop time).
 *
 * Definitions:
 *  - A run is a maximal sequence of consecutive segments on one timeline; a
 *    gap is the missing segments between two runs of one timeline.
 *  - A backup is restorable when one run holds every segment from the one
 *    holding its start LSN to the one holding its stop LSN.
 *  - Its reach starts at its stop (the first consistent point) and ends at
 *    the end of that run. The run continues on a higher timeline when that
 *    timeline has a run starting inside it or right after its end (the first
 *    segment of a new timeline has the number of the old timeline's last,
 *    partial, segment). Timeline history files are not read: the lowest such
 *    timeline is followed.
 *  - The end of a reach, as a time, is the archived-at time (the object's
 *    modification time) of its last segment. This is an approximation: the
 *    last commit in that segment happened at or before it, so a target time
 *    between that commit and the archived-at time passes this check yet
 *    recovery reaches the end of WAL before the target and stops with an
 *    error. With archive_timeout (or regular traffic) the difference is small.
 *  - The window runs from the oldest restorable backup's stop to the furthest
 *    reach; a gap can make a part of it unreachable: window_select() checks
 *    the reach of each backup, not just the window's bounds.
 */
#ifndef DD_RESTORE_WINDOW_H
#define DD_RESTORE_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "restore/target.h"

typedef struct {
    const char *id;
    uint32_t tli;
    uint64_t start_lsn, stop_lsn;
    double start_time, stop_time;
} WindowBackup;

typedef struct {
    uint32_t tli;
    uint64_t segno;
    double archived_at; /* seconds since the epoch; 0 when unknown */
} WindowSegment;

typedef struct {
    uint32_t tli;
    uint64_t first, last; /* segment numbers, inclusive */
    double last_archived_at;
} WalRun;

typedef struct {
    uint32_t tli;
    uint64_t first, last; /* the missing segment numbers, inclusive */
} WalGap;

typedef struct {
    bool restorable;
    uint64_t missing_segno; /* !restorable: the first segment it needs that is missing */
    uint64_t reach_lsn;     /* end of the WAL it can replay without a hole */
    double reach_time;      /* archived-at time of that WAL's last segment */
    uint32_t reach_tli;
    uint64_t own_tli_lsn; /* end of the reach on the backup's own timeline */
    double own_tli_time;
} WindowReach;

typedef struct {
    WalRun *runs;
    size_t nruns;
    WalGap *gaps;
    size_t ngaps;
    WindowReach *reach; /* one per backup, in the order given */
    size_t nbackups;
    uint32_t seg_size;
    bool any; /* at least one backup is restorable; the bounds below are valid */
    uint64_t earliest_lsn, latest_lsn;
    double earliest_time, latest_time;
    uint32_t earliest_tli, latest_tli;
} Window;

/*
 * Group segments (any order, duplicates allowed) into runs sorted by
 * timeline then segment, and list the gaps between the runs of a timeline.
 */
void window_runs(const WindowSegment *segs, size_t n, Window *w);

/* Compute the reach of each backup and the window's bounds (after window_runs). */
void window_compute(Window *w, const WindowBackup *b, size_t nb, uint32_t seg_size);

void window_free(Window *w);

typedef struct {
    size_t backup;           /* index into the backups */
    TargetTimeline timeline; /* what recovery_target_timeline should say */
} WindowChoice;

/*
 * Choose the backup for a target: the newest restorable backup whose stop
 * is at or before the target and whose reach covers it (for an xid or a
 * restore point, whose position is unknown without reading the WAL: the
 * newest restorable backup). forced_id (may be NULL) restricts the choice to
 * that backup. Failures say why, on one line: no backup (DD_EXIT_REPO), no
 * such backup (DD_EXIT_USAGE), a target outside the window or in a gap, or
 * missing WAL (DD_EXIT_REPO).
 */
DD_MUST_CHECK bool window_select(const Window *w, const WindowBackup *b, size_t nb,
                                 const RecoveryTarget *t, const char *forced_id, WindowChoice *out);

#endif
