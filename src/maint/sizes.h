/*
 * sizes.h - the sizes a plan's estimates are made from (plan.h PlanSizes),
 * measured now on the live clusters and the repository, cheaply:
 *
 *   data_bytes        the primary's data directory and tablespaces as a
 *                     backup sees them (a walk of [cluster] primary-data with
 *                     the backup's exclusions: stat only); when drydock
 *                     cannot read it, the sum of pg_database_size()
 *   backup_guided     the next backup can follow the WAL since the newest
 *                     backup (backup/guide.h's backup_guide_refusal, with the
 *                     primary's timeline and data-checksum state now and
 *                     backup-full-every/-days; the WAL summaries are not
 *                     checked: one missing makes the backup a full read);
 *                     else backup_full_reason says why not
 *   backup_read       data_bytes for a full read; for a guided one
 *                     backup_store (the changed pages, at most); a guided
 *                     backup's time is predicted from wal_since_backup
 *   backup_store      what changed since the last backup, estimated without
 *                     reading the cluster: the WAL written since the last
 *                     backup's start LSN (every change is in the WAL, at
 *                     most once per page between checkpoints with full
 *                     page writes), capped by data_bytes; data_bytes when
 *                     there is no backup
 *   wal_since_backup  pg_current_wal_lsn() − the newest backup's start LSN
 *   wal_rate          two readings of pg_current_wal_lsn() interval apart
 *   standby_lag       the primary's current LSN − the standby's replay LSN
 *   have_backup       the repository holds a backup
 */
#ifndef DD_MAINT_SIZES_H
#define DD_MAINT_SIZES_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "maint/plan.h"
#include "repo/repo.h"

typedef struct {
    char id[32];            /* "" when there is none */
    uint64_t start_lsn;     /* where its WAL starts */
    uint64_t bytes_logical; /* what a restore of it writes */
    uint32_t ntablespaces;
    /* What backup_guide_refusal judges (backup/guide.h) */
    uint32_t tli, chunk_size, guided_since_full;
    int data_checksums; /* -1: unknown (an older backup) */
    double full_read_time;
} SizesBackup;

/* The newest backup of the repository (id "" when there is none). */
DD_MUST_CHECK bool sizes_newest_backup(Repo *repo, SizesBackup *out);

typedef struct {
    const char *primary;      /* conninfo of the current primary */
    const char *primary_data; /* its data directory, or NULL */
    const char *standby;      /* conninfo of its standby, or NULL */
    double interval;          /* seconds between the two WAL readings; 0: 1 s */
    uint32_t full_every;      /* [backup] full-every (0: never by count) */
    double full_days;         /* [backup] full-days (0: never by age) */
} SizesOpts;

/* Fill out from the live nodes of o (the topology's, not only the config's) and the repository. */
DD_MUST_CHECK bool sizes_measure(const SizesOpts *o, Repo *repo, PlanSizes *out);

#endif
