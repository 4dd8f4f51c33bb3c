/*
 * repocopy.h - "drydock repo-copy": move a repository between a directory
 * and a bucket (or any two storages), verified.
 *
 * Objects are copied byte for byte (each carries its own checksum,
 * object.h; an encrypted one stays encrypted, and its keys go along), in
 * the order that keeps the copy consistent at every instant:
 * packs before their indexes, manifests, then WAL, and the metadata
 * (drydock.repo) last, so that an interrupted copy is not a repository yet
 * and a second run continues it (an object already there with the same size
 * is not sent again). The source is held with its archive and backup locks
 * for the whole copy, so nothing changes under it: wal-push waits (and
 * PostgreSQL keeps the WAL in pg_wal meanwhile).
 */
#ifndef DD_REPO_REPOCOPY_H
#define DD_REPO_REPOCOPY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "config/config.h"
#include "repo/repo.h"

typedef struct {
    uint64_t objects, copied, skipped, bytes;
} RepoCopyResult;

/*
 * Copy src into the storage dst_cfg names, which must be empty or hold an
 * unfinished copy of this repository (DD_EXIT_REPO otherwise).
 */
DD_MUST_CHECK bool repo_copy(Repo *src, const Config *dst_cfg, RepoCopyResult *out);

#endif
