/*
 * chunkstore_int.h - what chunkstore.c and chunkstore_gc.c share; private to
 * the chunk store module (nothing else includes it). Formats and invariants
 * are documented at the top of chunkstore.c.
 */
#ifndef DD_REPO_CHUNKSTORE_INT_H
#define DD_REPO_CHUNKSTORE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/endian.h"
#include "common/mem.h"
#include "repo/chunkstore.h"
#include "storage/storage.h"

#define IDX_MAGIC      "DDIX"
#define IDX_VERSION    1
#define IDX_HEADER_LEN 24
#define IDX_ENTRY_LEN  84
#define DELTA_MAGIC    "DDDL"
#define DELTA_PAGE     8192 /* PG_BLCKSZ; fixed by the delta format */
#define SLOT_EMPTY     0
#define SLOT_INFLIGHT  UINT32_MAX

typedef struct {
    char name[CHUNKSTORE_PACK_NAME_LEN + 1];
    ChunkIndexEntry *entries;
    size_t n, cap;
    uint64_t size;
    bool committed;
    bool removed; /* by gc */
    bool damaged; /* its index did not load: no entries (invariant 8) */
    bool *orphan; /* per entry: a delta whose base chain is incomplete; NULL: none */
} Pack;

typedef struct {
    uint32_t pack; /* pack index + 1; SLOT_EMPTY; SLOT_INFLIGHT: idx is into inflight */
    uint32_t idx;
} Slot;

struct ChunkStore {
    Repo *repo;
    const ObjKeys *keys; /* NULL: not encrypted; read keys (the write key is chosen at put) */
    pthread_mutex_t lock;
    Pack *packs;
    size_t npacks, cap_packs;
    Slot *slots;
    size_t nslots, nused; /* nslots: a power of two */
    uint8_t (*inflight)[SHA256_LEN];
    uint32_t *inflight_free;
    size_t ninflight, cap_inflight, nfree;
    StorageWrite *open_w; /* the pack being written, or NULL */
    size_t open_pack;
    uint64_t st_chunks, st_raw, st_stored, st_deltas;
};

/* Whether entry i of pack p is an orphan delta (treated as absent). */
static inline bool chunkstore_int_orphan(const Pack *p, size_t i)
{
    return p->orphan && p->orphan[i];
}

/* packs/<name>.<ext> (caller frees). */
char *chunkstore_int_path(const char *name, const char *ext);

/* Look a committed chunk up: a copy of its entry and its pack's name. Takes the lock. */
bool chunkstore_int_lookup(ChunkStore *cs, const uint8_t *sha, ChunkIndexEntry *e,
                           char pack[CHUNKSTORE_PACK_NAME_LEN + 1]);

/* Read, verify (deltas: rebuild) one chunk at a known place; appends to raw. */
/* As chunkstore_int_read through a reader, which keeps the pack open between calls. */
DD_MUST_CHECK bool chunkstore_int_read_with(ChunkReader *rd, const char *pack,
                                            const ChunkIndexEntry *e, Buf *raw);
DD_MUST_CHECK bool chunkstore_int_read(ChunkStore *cs, const char *pack, const ChunkIndexEntry *e,
                                       Buf *raw);

/*
 * Append an encoded chunk object (tmpl: name, lengths, kind, base) to the open
 * pack, opening one if needed; lock held (or a single-threaded caller). A pack
 * past the target size is detached into *full_w / *full_pack.
 */
DD_MUST_CHECK bool chunkstore_int_append(ChunkStore *cs, const ChunkIndexEntry *tmpl,
                                         const uint8_t *obj, size_t obj_len, StorageWrite **full_w,
                                         size_t *full_pack);

/* Commit a detached pack, then its index (invariant 4). */
DD_MUST_CHECK bool chunkstore_int_commit(ChunkStore *cs, StorageWrite *w, size_t pi);

#endif
