/*
 * backup.h - "drydock backup": an online, block-incremental backup from the
 * standby (default when one is configured) or the primary.
 *
 * Order, and why (source.h has the PostgreSQL side):
 *   lock "backup" -> check the source -> pg_backup_start -> walk the data
 *   directory -> copy (parallel; pg_control last) -> commit the open pack and
 *   its index -> pg_backup_stop -> switch WAL on the primary -> wait until the
 *   WAL start..stop is archived -> write the manifest.
 * The manifest is the last write: a backup killed at any earlier instant
 * leaves committed packs (reused by the next backup, or collected by expire)
 * or a temporary file, never a manifest that lacks something. Test points
 * (testpoint.h): "started", "copy" (half the bytes read), "wal-wait",
 * "manifest".
 */
#ifndef DD_BACKUP_BACKUP_H
#define DD_BACKUP_BACKUP_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "backup/guide.h"
#include "common/progress.h"
#include "config/config.h"
#include "repo/repo.h"

typedef enum { BACKUP_FROM_AUTO = 0, BACKUP_FROM_STANDBY, BACKUP_FROM_PRIMARY } BackupFrom;

typedef struct {
    BackupFrom from;
    int jobs;            /* 0: the number of cores */
    uint32_t chunk_size; /* 0: BACKUP_CHUNK_SIZE_DEFAULT */
    Progress *progress;  /* may be NULL */
    bool full;           /* --full: read every file whole, no WAL guide (guide.h) */
} BackupOpts;

typedef struct {
    char id[24];
    char node[8];
    uint64_t start_lsn, stop_lsn;
    uint32_t tli;
    uint64_t files, bytes_logical, bytes_read, bytes_new, bytes_stored;
    uint64_t chunks, chunks_new, chunks_delta;
    bool data_checksums;
    uint64_t pages_checked, bad_pages;
    double duration, copy_seconds, wal_wait_seconds;
    int jobs;
    uint32_t chunk_size;
    /* WAL-guided reading (guide.h) */
    bool guided;
    char full_reason[200];                 /* why not guided ("" when guided) */
    uint64_t wal_segments, changed_blocks; /* summaries merged, blocks they name */
    uint64_t files_guided, files_whole, files_whole_by[GUIDE_WHOLE_COUNT];
    uint64_t chunks_reused, bytes_reused;
    uint64_t chunks_rebuilt; /* from the previous chunk and the changed pages read */
    uint32_t guided_since_full;
    double full_read_time;
} BackupSummary;

/* Back up the cluster cfg names into repo (opened by the caller). */
DD_MUST_CHECK bool backup_run(const Config *cfg, Repo *repo, const BackupOpts *opts,
                              BackupSummary *out);

/* The summary as one JSON object ({"type":"summary",...}); caller frees. */
char *backup_summary_json(const BackupSummary *s);

#endif
