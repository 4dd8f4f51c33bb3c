/*
 * plan.h - how a restore cuts its work: the regular files of a manifest,
 * split into units that the workers take one at a time.
 *
 * A unit is a run of consecutive chunks of one file, at most max_bytes long
 * (but at least one chunk): a 1 GiB relation segment becomes many units, so
 * that every worker stays busy whatever the file sizes; a small file is one
 * unit. Units are listed file by file, in manifest order, offsets rising.
 * Empty files have no unit (they are created, sized 0, beforehand).
 *
 * In a delta restore a chunk is rewritten only when what is on disk at its
 * offset differs: plan_chunk_same() says whether it does.
 */
#ifndef DD_RESTORE_PLAN_H
#define DD_RESTORE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "repo/manifest.h"

typedef struct {
    size_t file;     /* index into the manifest's files */
    size_t first;    /* its first chunk */
    size_t nchunks;  /* >= 1 */
    uint64_t offset; /* byte offset of the first chunk in the file */
    uint64_t bytes;  /* sum of the chunks' lengths */
} PlanUnit;

/* The units of every regular file (caller frees *out); returns their count. */
size_t plan_units(const ManifestFile *files, size_t nfiles, uint64_t max_bytes, PlanUnit **out);

/* Whether len bytes read from disk are exactly the chunk (length and SHA-256). */
/* keys: the repository's (NULL when not encrypted), whose name key makes chunk ids. */
bool plan_chunk_same(const ObjKeys *keys, const ManifestChunk *c, const void *disk, size_t len);

#endif
