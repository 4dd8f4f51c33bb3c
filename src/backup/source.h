/*
 * source.h - the PostgreSQL side of a backup: which node to read, the
 * non-exclusive backup API held in one session, and the WAL it needs.
 *
 * Sequence (standby source; the primary source skips steps 2-3):
 *   1. connect; check system identifiers against the repository;
 *   2. the standby is in recovery and its WAL receiver is streaming; report
 *      how far behind the primary it is;
 *   3. CHECKPOINT on the primary, note pg_current_wal_lsn(), wait until the
 *      standby replayed past it (its restartpoint then follows that
 *      checkpoint, so a restore replays little WAL);
 *   4. pg_backup_start(label, true) in a session kept open for the copy;
 *   5. (the caller copies the files)
 *   6. pg_backup_stop(false): backup_label, tablespace_map, stop LSN;
 *   7. pg_switch_wal() on the primary, so that the stop segment completes;
 *   8. wait until every segment from start to stop is in the archive.
 * Dropping the session (a kill) aborts the backup on the server.
 */
#ifndef DD_BACKUP_SOURCE_H
#define DD_BACKUP_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "config/config.h"
#include "repo/repo.h"

typedef struct BackupSource BackupSource;

typedef struct {
    uint64_t start_lsn, stop_lsn;
    uint32_t tli;
    uint32_t pg_version;
    uint64_t system_id;
    bool data_checksums;
    double start_time, stop_time;
    char *backup_label;   /* after stop */
    char *tablespace_map; /* after stop; "" when none */
} BackupSourceInfo;

/* Connect to the nodes and check them (steps 1-2); from_standby picks the source. */
DD_MUST_CHECK bool backup_source_open(const Config *cfg, Repo *repo, bool from_standby,
                                      BackupSource **out);
/* "standby" or "primary", and its data directory. */
const char *backup_source_node(const BackupSource *src);
const char *backup_source_datadir(const BackupSource *src);

/* Steps 3-4. */
DD_MUST_CHECK bool backup_source_start(BackupSource *src, const char *label, int timeout);
/* Steps 6-7. */
DD_MUST_CHECK bool backup_source_stop(BackupSource *src);
/* Step 8: wait until the archive holds the segments start..stop. */
DD_MUST_CHECK bool backup_source_wait_archive(BackupSource *src, Repo *repo, int timeout);

const BackupSourceInfo *backup_source_info(const BackupSource *src);
void backup_source_close(BackupSource *src);

#endif
