/*
 * compare.h - compare a backup with a full read of the live cluster.
 *
 * "verify --compare-full": for every relation file of a backup, every page
 * whose current page LSN is older than the backup's start LSN has not changed
 * since that start, so the backup's copy must be equal to it byte for byte,
 * however the backup read it (whole, or WAL-guided from the chunks of the
 * backup before: backup/guide.h). Pages changed since (newer LSN) are left
 * to WAL replay and skipped; so are free space and visibility map forks
 * (updated without page LSNs) and files that vanished or shrank. A mismatch
 * is read again once (a write may have been in progress). Meaningful with
 * data checksums or wal_log_hints: otherwise hint bits change pages without
 * moving their LSN.
 */
#ifndef DD_BACKUP_COMPARE_H
#define DD_BACKUP_COMPARE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "common/mem.h"
#include "repo/repo.h"

#define COMPARE_PROBLEMS_KEPT 20

typedef struct {
    char backup[24];
    bool guided;
    uint64_t files, pages_compared, pages_newer, mismatches;
    StrList problems; /* the first COMPARE_PROBLEMS_KEPT, one line each */
} CompareReport;

/* Compare backup id (NULL: the newest) with the data directory datadir. */
DD_MUST_CHECK bool backup_compare_full(Repo *repo, const char *id, const char *datadir,
                                       CompareReport *out);
void compare_report_free(CompareReport *r);

#endif
