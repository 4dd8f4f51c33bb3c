/*
 * estimate.h - how long a step will take: sizes measured now × rates
 * measured earlier on this repository and host.
 *
 * Rates are recorded by every backup, restore, rehearsal and maintenance run
 * (rates_record) and kept with the repository, so that they survive the host.
 * A prediction weights the recorded rates of its kind by recency and by
 * closeness in size to the size being predicted; with no history it uses a
 * conservative default, marks the estimate low_confidence and says so in its
 * basis. Fixed costs (start-up, promotion) are rates of kind "seconds per
 * operation" (size 1).
 *
 * A step that moves bytes takes a fixed part (set-up: opening the
 * repository, a checkpoint) plus its bytes at a rate: the prediction is
 * fixed + bytes ÷ rate, the fixed part fitted over the history when it
 * holds two sizes, else as measured inside the step. The kinds that write
 * know the host's dirty-page budget (estimate_host.h): bytes past it go at
 * the disk's rate, measured while the writes ran (kind disk-write).
 */
#ifndef DD_MAINT_ESTIMATE_H
#define DD_MAINT_ESTIMATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backup/backup.h"
#include "common/error.h"
#include "maint/estimate_host.h"
#include "maint/plan.h"
#include "repo/repo.h"

typedef enum {
    RATE_BACKUP_READ = 0, /* bytes read by a backup per second */
    RATE_BACKUP_STORE,    /* bytes stored per second */
    RATE_RESTORE_WRITE,   /* bytes written by a restore per second */
    RATE_WAL_REPLAY,      /* WAL bytes replayed per second */
    RATE_CHECKSUM,        /* bytes rewritten by pg_checksums per second */
    RATE_STARTUP,         /* seconds to start a restored cluster (fixed) */
    RATE_PROMOTE,         /* seconds to promote (fixed) */
    RATE_HOLD,            /* seconds clients are held at a switch (fixed; plans show ms) */
    RATE_BASEBACKUP,      /* bytes copied per second by pg_basebackup (the green standby) */
    RATE_PREFLIGHT,       /* seconds of a preflight (fixed) */
    RATE_VERIFY,          /* seconds to verify the changes on a cluster (fixed) */
    RATE_SHUTDOWN,        /* seconds to stop a cluster cleanly (fixed) */
    RATE_DISK_WRITE,      /* bytes the disk under the clusters writes per busy second */
    RATE_STREAMING,       /* seconds for a new standby to stream once started (fixed) */
    RATE_BACKUP_GUIDED,   /* a WAL-guided backup: WAL bytes since the previous backup's start
                             (what it follows) per second of the whole backup */
    RATE__COUNT
} RateKind;

const char *rate_kind_name(RateKind k); /* "backup-read", ... */
/* Whether the kind is a fixed cost (size 1, "seconds per operation"). */
bool rate_kind_fixed(RateKind k);

/* One measurement: size units (bytes, or 1 for fixed costs) in seconds. */
typedef struct {
    RateKind kind;
    double size;
    double seconds;
    double fixed;    /* of seconds, the part that does not grow with size; 0: none measured */
    double budget;   /* a write's dirty-page budget when it ran (bytes); 0: unknown */
    double when;     /* seconds since the epoch */
    char source[48]; /* "backup 20261130T100200Z", "rehearsal", "maint run" */
} RateSample;

/* Record a measurement with the repository (atomic; keeps the last N per kind). */
DD_MUST_CHECK bool rates_record(Repo *repo, const RateSample *s);

/*
 * Predict the duration of size units of kind, from the repository's history
 * (repo may be NULL: defaults only). Fills e (predicted, range, basis).
 */
DD_MUST_CHECK bool estimate_step(Repo *repo, RateKind kind, double size, const char *what,
                                 Estimate *e);

/* "3.7 s", "12 s", "4 min 10 s", "2 h 5 min" into out. */
void estimate_format_seconds(double s, char *out, size_t len);

/* Sum the enabled steps into the plan's totals (and range). */
void estimate_totals(Plan *p);

/*
 * Estimate every enabled step of p from p->sizes and p->mf's changes, with
 * the formulas at the top of estimate.c (one place, so that "maint plan",
 * "maint rehearse" and "maint run" predict alike), the predicted hold and
 * the rollback, then the totals. Steps must be enabled/disabled first.
 */
DD_MUST_CHECK bool estimate_plan(Repo *repo, Plan *p);

/* A write of bytes watched since w (estimate_host.h): its sample of kind,
 * with its fixed part (0: none measured) and the budget, and the disk's rate. */
void rates_record_write(Repo *repo, const char *source, RateKind kind, const WriteWatch *w,
                        double bytes, double fixed);

/* For the tests: the host's dirty-page budget (bytes) the predictions use
 * instead of the one read from /proc; < 0: read it again. */
void estimate_set_budget(double budget);

/* What a backup and a restore measured, recorded as rates; source names the
 * operation. A failure is only a warning: the operation itself succeeded.
 * A full read records backup-read and backup-store; a WAL-guided one only
 * backup-guided, sized by the WAL from the previous backup's start LSN (the
 * backup before sum's in the repository) to sum's: its time follows the
 * changed pages, and neither says anything of a full read's rates.
 * rates_record_backup_span is the same with that span given (0: unknown,
 * nothing recorded for a guided backup). restore-write: with its fixed part,
 * 0 when not measured. */
void rates_record_backup(Repo *repo, const char *source, const BackupSummary *sum);
void rates_record_backup_span(Repo *repo, const char *source, const BackupSummary *sum,
                              uint64_t wal_span);
void rates_record_restore(Repo *repo, const char *source, uint64_t bytes, double seconds,
                          double fixed);

#endif
