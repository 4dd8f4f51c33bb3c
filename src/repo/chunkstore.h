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
 *  3. Every read verifies the chunk's envelope and that its hash is its name
 *     (a base read, chunkstore_reader_get_base(), its codec's checksum).
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

/*
 * The id (name) of a chunk's content: SHA-256, or in an encrypted repository
 * HMAC-SHA256 with its name key (object.h invariant 5). Thread-safe.
 */
void chunkstore_content_id(const ChunkStore *cs, const void *data, size_t len,
                           uint8_t out[SHA256_LEN]);
/* The keys the store's objects are read with (NULL: not encrypted). */
const ObjKeys *chunkstore_keys(const ChunkStore *cs);

/* Whether the store holds a chunk (index lookup only; no I/O). */
bool chunkstore_has(const ChunkStore *cs, const uint8_t sha256[SHA256_LEN]);
/* Like chunkstore_has(), and the chunk's raw length as its index says. */
bool chunkstore_raw_len(ChunkStore *cs, const uint8_t sha256[SHA256_LEN], uint32_t *raw_len);

/*
 * Read, verify (invariant 3) and append a chunk's raw content to raw. A
 * missing or damaged chunk is DD_EXIT_CORRUPT naming it and its pack. Safe to
 * call from several threads at once (restore's workers share one store).
 */
DD_MUST_CHECK bool chunkstore_get(ChunkStore *cs, const uint8_t sha256[SHA256_LEN], Buf *raw);

/*
 * A reader: chunkstore_get() for one thread that reads many chunks (a
 * restore worker). It keeps the packs it read last open (CHUNKSTORE_READER_PACKS,
 * least recently used out first: a file's chunks mostly sit in a row in one
 * pack, a delta's bases in a few others) and reuses its buffers; every
 * chunk is still verified as chunkstore_get() does. Used by one thread
 * only; free it before closing the store. Packs never change once
 * committed, and the shared "chunks" lock keeps expire from removing them.
 */
#define CHUNKSTORE_READER_PACKS 4 /* a delta and its bases: at most 4 packs */
typedef struct ChunkReader ChunkReader;
ChunkReader *chunkstore_reader_new(ChunkStore *cs);
void chunkstore_reader_free(ChunkReader *rd);
DD_MUST_CHECK bool chunkstore_reader_get(ChunkReader *rd, const uint8_t sha256[SHA256_LEN],
                                         Buf *raw);
/*
 * chunkstore_reader_get() for a chunk read only to build another one from
 * (a guided backup's base, copy.h), which is then named by its own hash: its
 * objects are checked by their codec's checksum where they carry one
 * (object.h invariant 7) instead of hashing the content again.
 */
DD_MUST_CHECK bool chunkstore_reader_get_base(ChunkReader *rd, const uint8_t sha256[SHA256_LEN],
                                              Buf *raw);
/* How many times the reader opened a pack (for tests). */
uint64_t chunkstore_reader_opens(const ChunkReader *rd);

/* The write side (backup) is declared below by the module that implements it. */

#define CHUNKSTORE_PACK_DIR      "packs"
#define CHUNKSTORE_PACK_NAME_LEN 32                  /* a pack's name: random hex digits */
#define CHUNKSTORE_PACK_TARGET   (64u * 1024 * 1024) /* a pack is committed past this size */

/*
 * Store a chunk unless the store already has it (or another thread is
 * storing it right now): encode with the repository's codec and append it to
 * the open pack, committing the pack and its index once it passes the target
 * size. *stored is the bytes written (0 for a chunk already present).
 * Thread-safe. The caller gives the SHA-256 of raw (its name).
 */
DD_MUST_CHECK bool chunkstore_put(ChunkStore *cs, const uint8_t sha256[SHA256_LEN], const void *raw,
                                  size_t len, uint64_t *stored);

/*
 * Like chunkstore_put(), but when base (the chunk at the same place in the
 * previous backup) is in the store, not too deep, and differs from raw in at
 * most half of its 8 KiB pages, store only the pages that differ: a delta
 * chunk. Reads reconstruct it (invariant 3 still holds: the result must hash
 * to the chunk's name). base may be NULL.
 */
DD_MUST_CHECK bool chunkstore_put_delta(ChunkStore *cs, const uint8_t sha256[SHA256_LEN],
                                        const void *raw, size_t len, const uint8_t *base,
                                        uint64_t *stored);
/*
 * Like chunkstore_put_delta(), reading the base through rd (a reader of the
 * calling thread, or NULL): its packs stay open and, in a bucket, a run of
 * bases from one pack costs a few windowed GETs instead of two per base.
 */
DD_MUST_CHECK bool chunkstore_put_delta_with(ChunkStore *cs, ChunkReader *rd,
                                             const uint8_t sha256[SHA256_LEN], const void *raw,
                                             size_t len, const uint8_t *base, uint64_t *stored);

/*
 * chunkstore_put_delta() with the base's raw content already at hand
 * (base_raw, base_len: what chunkstore_get() returned for base), so it is not
 * read again: a WAL-guided backup rebuilds a chunk from its base.
 */
DD_MUST_CHECK bool chunkstore_put_delta_from(ChunkStore *cs, const uint8_t sha256[SHA256_LEN],
                                             const void *raw, size_t len, const uint8_t *base,
                                             const void *base_raw, size_t base_len,
                                             uint64_t *stored);

/* Commit the open pack and its index (invariant 1); call before the manifest. */
DD_MUST_CHECK bool chunkstore_flush(ChunkStore *cs);

/* Chunks this handle stored so far: count, raw bytes, bytes written to packs. */
void chunkstore_stats(const ChunkStore *cs, uint64_t *chunks, uint64_t *raw, uint64_t *stored);
/* How many of those were stored as deltas. */
uint64_t chunkstore_delta_count(const ChunkStore *cs);

/*
 * Like chunkstore_open(), but an index that fails to load is skipped and its
 * error message pushed to damaged (verify reports it and goes on).
 */
DD_MUST_CHECK bool chunkstore_open_lenient(Repo *repo, ChunkStore **out, StrList *damaged);

/* Enumeration (verify, expire): the committed packs and the chunks their indexes list. */
typedef enum { CHUNK_FULL = 0, CHUNK_DELTA = 1 } ChunkKind;

#define CHUNKSTORE_DELTA_MAX_DEPTH 3 /* a delta's base chain is at most this long */

typedef struct {
    uint8_t sha256[SHA256_LEN];
    uint64_t offset;          /* of the chunk's object in the pack */
    uint32_t stored_len;      /* object length: header + payload */
    uint32_t raw_len;         /* of the chunk (not of a delta's payload) */
    uint8_t kind;             /* ChunkKind */
    uint8_t depth;            /* 0 for a full chunk; a delta: its base's depth + 1 */
    uint8_t base[SHA256_LEN]; /* a delta's base chunk */
} ChunkIndexEntry;

size_t chunkstore_npacks(const ChunkStore *cs);
const char *chunkstore_pack_name(const ChunkStore *cs, size_t pack); /* "<hex>" */
/* The entries of a pack's index, in offset order; *n gets their number. */
const ChunkIndexEntry *chunkstore_pack_entries(const ChunkStore *cs, size_t pack, size_t *n);

/* Whether a pack's index did not load (its chunks are absent; gc removes it). */
bool chunkstore_pack_damaged(const ChunkStore *cs, size_t pack);
/*
 * The chunk names a damaged pack still shows (its envelopes, walked from the
 * start while they parse; a delta's envelope names its payload, not a chunk):
 * for verify to say which backups the pack breaks. fn is called per name.
 */
typedef void (*ChunkNameFn)(void *ctx, const uint8_t sha256[SHA256_LEN]);
void chunkstore_scan_damaged(ChunkStore *cs, size_t pack, ChunkNameFn fn, void *ctx);

/*
 * Read a whole pack and check every chunk its index lists (envelope, hash,
 * name). bad(sha, message) is called once per damaged chunk; a pack that is
 * missing or unreadable calls it for each of its chunks. Returns false only on
 * an I/O error outside the pack (reported through the error slot).
 */
typedef void (*ChunkBadFn)(void *ctx, const uint8_t sha256[SHA256_LEN], const char *message);
DD_MUST_CHECK bool chunkstore_verify_pack(ChunkStore *cs, size_t pack, ChunkBadFn bad, void *ctx);

/*
 * Garbage collection (expire). live(sha) says which chunks a kept manifest
 * needs. Packs with no live chunk are removed (index first, then pack);
 * packs whose live bytes are below half are rewritten: their live chunks are
 * copied (not re-encoded) into new packs, which are committed with their
 * indexes before the old index and pack are removed. Packs with no index
 * (left by an interrupted backup) are removed. A kill at any point leaves
 * every live chunk in a committed pack. Counts what was freed.
 */
typedef bool (*ChunkLiveFn)(void *ctx, const uint8_t sha256[SHA256_LEN]);
typedef struct {
    uint64_t packs_removed, packs_rewritten, chunks_removed, bytes_freed;
} ChunkGcStats;
DD_MUST_CHECK bool chunkstore_gc(ChunkStore *cs, ChunkLiveFn live, void *ctx, ChunkGcStats *stats);

#endif
