/*
 * verify.h - "drydock verify": check every object a restore could need.
 *
 * Reads every pack index and every chunk in the packs (envelope, checksum,
 * name), every manifest (structure) and checks that each chunk it names is
 * in a committed pack and undamaged, and reads every archived WAL segment and
 * history file (envelope, checksum). Each problem becomes one line saying
 * what is wrong and what it affects: the backups that cannot be restored and
 * the WAL ranges point-in-time recovery cannot cross.
 */
#ifndef DD_BACKUP_VERIFY_H
#define DD_BACKUP_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "common/mem.h"
#include "common/progress.h"
#include "repo/repo.h"

typedef struct {
    StrList problems;        /* one line each */
    StrList damaged_backups; /* ids of backups that cannot be restored */
    uint64_t manifests, packs, chunks, chunks_bad, chunks_missing;
    uint64_t segments, segments_bad, segments_missing, history_files;
} VerifyReport;

/* false only when verification itself could not run (no repository, I/O); damage is in r. */
DD_MUST_CHECK bool verify_run(Repo *repo, Progress *progress, VerifyReport *r);
void verify_report_free(VerifyReport *r);

#endif
