/*
 * expire.h - "drydock expire": retention, then garbage collection.
 *
 * Which backups stay: --keep-backups N keeps the newest N; --keep-days D
 * keeps every backup started in the last D days and, so that any point of
 * those D days stays reachable, the newest backup started before them. The
 * newest backup is always kept.
 *
 * Steps, in this order so that a kill at any instant never loses what a kept
 * backup needs:
 *   1. load every kept manifest (a damaged one stops expire: its chunks are
 *      unknown, so nothing could be collected safely);
 *   2. remove the manifests of the other backups;
 *   3. remove archived WAL segments older than the start segment of the
 *      oldest kept backup (any timeline); history files are kept;
 *   4. collect chunks no kept manifest references (chunkstore_gc: copies
 *      committed before originals are removed).
 */
#ifndef DD_BACKUP_EXPIRE_H
#define DD_BACKUP_EXPIRE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "repo/repo.h"
#include "repo/chunkstore.h"

typedef struct {
    int keep_backups; /* > 0, or 0 when keep_days is used */
    int keep_days;
} ExpireOpts;

typedef struct {
    uint64_t backups_kept, backups_removed, segments_removed;
    size_t temps_removed; /* temporary files of writers killed mid-write */
    char oldest_kept[24]; /* "" when the repository has no backup */
    ChunkGcStats gc;
} ExpireResult;

DD_MUST_CHECK bool expire_run(Repo *repo, ExpireOpts opts, ExpireResult *out);

#endif
