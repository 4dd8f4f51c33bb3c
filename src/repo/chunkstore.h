/*
 * chunkstore.h - content-addressed chunks, stored in packs with an index.
 *
 * A chunk is a run of bytes of a file (page-aligned pieces of relation files)
 * named by the SHA-256 of its raw content. Chunks are written into append-only
 * pack files of tens of MiB under packs/, each chunk an object (object.h
 * envelope: codec, raw length, checksum), and each committed pack has an index
 * (chunk -> pack, offset, length). The exact pack and index layouts are
 * documented in chunkstore.c, which writes them.
 *
 * Invariants:
 *  1. A pack and its index are committed (atomically, durably) before any
 *     manifest references their chunks; a pack without an index is garbage
 *     that expire may collect, never read.
 *  2. A chunk is stored once per repository (identical content, one copy).
 *  3. Every read verifies the chunk's envelope and that its hash is its name.
 */
#ifndef DD_REPO_CHUNKSTORE_H
#define DD_REPO_CHUNKSTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "common/hash.h"
#include "common/mem.h"
#include "repo/repo.h"

typedef struct ChunkStore ChunkStore;

/* Open the chunk store of a repository, reading every committed index. */
DD_MUST_CHECK bool chunkstore_open(Repo *repo, ChunkStore **out);
void chunkstore_close(ChunkStore *cs);

/* Whether the store holds a chunk (index lookup only; no I/O). */
bool chunkstore_has(const ChunkStore *cs, const uint8_t sha256[SHA256_LEN]);

/*
 * Read, verify (invariant 3) and append a chunk's raw content to raw. A
 * missing or damaged chunk is DD_EXIT_CORRUPT naming it and its pack. Safe to
 * call from several threads at once (restore's workers share one store).
 */
DD_MUST_CHECK bool chunkstore_get(ChunkStore *cs, const uint8_t sha256[SHA256_LEN], Buf *raw);

/* The write side (backup) is declared below by the module that implements it. */

#endif
