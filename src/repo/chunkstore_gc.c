/*
 * chunkstore_gc.c - the chunk store's enumeration, verification and garbage
 * collection (verify, expire): single-threaded callers. Formats and
 * invariants are at the top of chunkstore.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/shaset.h"
#include "common/testpoint.h"
#include "repo/chunkstore_int.h"
#include "repo/object.h"

size_t chunkstore_npacks(const ChunkStore *cs)
{
    return cs->npacks;
}

const char *chunkstore_pack_name(const ChunkStore *cs, size_t pack)
{
    return cs->packs[pack].name;
}

const ChunkIndexEntry *chunkstore_pack_entries(const ChunkStore *cs, size_t pack, size_t *n)
{
    *n = cs->packs[pack].committed && !cs->packs[pack].removed ? cs->packs[pack].n : 0;
    return cs->packs[pack].entries;
}

bool chunkstore_pack_damaged(const ChunkStore *cs, size_t pack)
{
    return cs->packs[pack].damaged && !cs->packs[pack].removed;
}

/*
 * Walk a damaged pack's envelopes from its start (each header gives the
 * length of what follows) while they parse and fit; a full chunk's envelope
 * names the chunk. Best effort: it stops at the first damaged envelope.
 */
void chunkstore_scan_damaged(ChunkStore *cs, size_t pi, ChunkNameFn fn, void *ctx)
{
    char *path = chunkstore_int_path(cs->packs[pi].name, "pack");
    StorageInfo info = {0};
    bool found = false;
    StorageRead *r = NULL;
    if (storage_info(repo_storage(cs->repo), path, &found, &info) && found)
        r = storage_read_open(repo_storage(cs->repo), path, &found);
    uint64_t off = 0;
    uint8_t h[OBJ_HEADER_LEN];
    ObjHeader oh;
    while (r && off + OBJ_HEADER_LEN <= info.size && storage_read_at(r, off, h, sizeof(h)) &&
           obj_header_parse(h, sizeof(h), &oh) && oh.stored_len <= info.size - off - sizeof(h)) {
        fn(ctx, oh.sha256);
        off += sizeof(h) + oh.stored_len;
    }
    err_clear();
    if (r)
        storage_read_close(r);
    free(path);
}

bool chunkstore_verify_pack(ChunkStore *cs, size_t pi, ChunkBadFn bad, void *ctx)
{
    Pack *p = &cs->packs[pi];
    if (!p->committed || p->removed)
        return true;
    char *path = chunkstore_int_path(p->name, "pack");
    StorageInfo info = {0};
    bool found = false;
    bool ok = storage_info(repo_storage(cs->repo), path, &found, &info);
    if (ok && found && info.size != p->size) {
        char msg[200];
        snprintf(msg, sizeof(msg), "pack \"%s\" is %llu bytes, its index says %llu", path,
                 (unsigned long long)info.size, (unsigned long long)p->size);
        for (size_t i = 0; i < p->n; i++)
            if (p->entries[i].offset + p->entries[i].stored_len > info.size)
                bad(ctx, p->entries[i].sha256, msg);
    }
    Buf raw = {0};
    /* One reader: the pack stays open from chunk to chunk (one GET per window on S3). */
    ChunkReader *rd = chunkstore_reader_new(cs);
    for (size_t i = 0; ok && i < p->n; i++) {
        if (found && p->entries[i].offset + p->entries[i].stored_len > info.size)
            continue; /* reported above */
        if (chunkstore_int_orphan(p, i))
            continue; /* absent by invariant 7: garbage; a manifest naming it is reported */
        raw.len = 0;
        if (!chunkstore_int_read_with(rd, p->name, &p->entries[i], &raw)) {
            if (err_code() == DD_EXIT_IO && found) {
                ok = false;
                break;
            }
            bad(ctx, p->entries[i].sha256, err_message());
            err_clear();
        }
    }
    chunkstore_reader_free(rd);
    buf_free(&raw);
    free(path);
    return ok;
}

/* Remove a pack: index first, so that a kill in between leaves an unindexed pack (garbage). */
static bool pack_remove(ChunkStore *cs, size_t pi)
{
    char *idx = chunkstore_int_path(cs->packs[pi].name, "index");
    char *pack = chunkstore_int_path(cs->packs[pi].name, "pack");
    bool ok =
        storage_remove(repo_storage(cs->repo), idx) && storage_remove(repo_storage(cs->repo), pack);
    cs->packs[pi].removed = ok;
    free(idx);
    free(pack);
    return ok;
}

/* Copy a live chunk's object, as stored, into the open pack. */
static bool gc_copy(ChunkStore *cs, StorageRead *r, const ChunkIndexEntry *e)
{
    uint8_t *obj = xmalloc(e->stored_len);
    ObjHeader h;
    bool ok = storage_read_at(r, e->offset, obj, e->stored_len) &&
              obj_header_parse(obj, e->stored_len, &h);
    if (ok && e->kind == CHUNK_FULL && memcmp(h.sha256, e->sha256, SHA256_LEN) != 0)
        ok = err_set(DD_EXIT_CORRUPT, "the object at offset %llu is another chunk",
                     (unsigned long long)e->offset);
    StorageWrite *full_w = NULL;
    size_t full_pack = 0;
    if (ok)
        ok = chunkstore_int_append(cs, e, obj, e->stored_len, &full_w, &full_pack);
    free(obj);
    if (ok && full_w)
        ok = chunkstore_int_commit(cs, full_w, full_pack);
    return ok;
}

static bool gc_rewrite(ChunkStore *cs, size_t pi, ChunkLiveFn live, void *ctx)
{
    char *path = chunkstore_int_path(cs->packs[pi].name, "pack");
    bool found = false;
    StorageRead *r = storage_read_open(repo_storage(cs->repo), path, &found);
    bool ok = r != NULL;
    if (!r && !found)
        err_set(DD_EXIT_CORRUPT, "pack \"%s\" is missing", path);
    size_t n = cs->packs[pi].n;
    for (size_t i = 0; ok && i < n; i++) {
        ChunkIndexEntry e = cs->packs[pi].entries[i]; /* copy: the pack array may move */
        if (live(ctx, e.sha256))
            ok = gc_copy(cs, r, &e);
    }
    if (r)
        storage_read_close(r);
    if (!ok)
        err_context("rewriting pack \"%s\"", path);
    free(path);
    return ok;
}

/* Remove pack files that have no index: writes that a kill interrupted. */
static bool gc_unindexed(ChunkStore *cs, ChunkGcStats *stats)
{
    StrList names = {0};
    bool ok = storage_list(repo_storage(cs->repo), CHUNKSTORE_PACK_DIR, &names);
    for (size_t i = 0; ok && i < names.len; i++) {
        const char *nm = names.items[i];
        if (strlen(nm) != 32 + 5 || strcmp(nm + 32, ".pack") != 0)
            continue;
        bool indexed = false;
        for (size_t j = 0; j < cs->npacks && !indexed; j++)
            indexed = strncmp(cs->packs[j].name, nm, 32) == 0;
        if (indexed)
            continue;
        char *path = xasprintf("%s/%s", CHUNKSTORE_PACK_DIR, nm);
        StorageInfo info = {0};
        bool found = false;
        ok = storage_info(repo_storage(cs->repo), path, &found, &info) &&
             storage_remove(repo_storage(cs->repo), path);
        if (ok && found) {
            stats->packs_removed++;
            stats->bytes_freed += info.size;
        }
        free(path);
    }
    strlist_free(&names);
    return ok;
}

static bool chunkstore_gc_closed(ChunkStore *cs, ChunkLiveFn live, void *ctx, ChunkGcStats *stats);

/* Add the sizes of a damaged pack's files (its index gives none) to *bytes. */
static bool gc_damaged_size(ChunkStore *cs, size_t pi, uint64_t *bytes)
{
    static const char *const exts[] = {"pack", "index"};
    bool ok = true;
    for (size_t i = 0; ok && i < 2; i++) {
        char *path = chunkstore_int_path(cs->packs[pi].name, exts[i]);
        StorageInfo info = {0};
        bool found = false;
        ok = storage_info(repo_storage(cs->repo), path, &found, &info);
        if (ok && found)
            *bytes += info.size;
        free(path);
    }
    return ok;
}

/* Liveness for gc: the caller's, closed over delta bases (a live delta keeps its base). */
typedef struct {
    ChunkLiveFn live;
    void *ctx;
    ShaSet bases;
} GcLive;

static bool gc_is_live(void *ctx, const uint8_t sha[SHA256_LEN])
{
    GcLive *g = ctx;
    return g->live(g->ctx, sha) || sha_set_has(&g->bases, sha);
}

/* Whether gc leaves a pack as it is: nothing dead in it, or at least half of it alive. */
static bool gc_pack_kept(const Pack *p, ChunkLiveFn live, void *ctx)
{
    uint64_t live_bytes = 0, dead_chunks = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (live(ctx, p->entries[i].sha256))
            live_bytes += p->entries[i].stored_len;
        else
            dead_chunks++;
    }
    return dead_chunks == 0 || (live_bytes > 0 && live_bytes * 2 >= p->size);
}

/*
 * Close liveness over delta bases until nothing changes: a live delta keeps
 * its base (transitively, chains are at most CHUNKSTORE_DELTA_MAX_DEPTH
 * long). Liveness starts from the caller's chunks (the kept manifests) only:
 * a dead delta keeps nothing alive, even when its pack stays whole, so that
 * dead chains do not hold each other's packs. Such a delta may lose its base;
 * it is then an orphan (invariant 7 in chunkstore.c): absent, never reused.
 */
static void gc_close_bases(ChunkStore *cs, GcLive *g)
{
    for (int round = 0; round < 64; round++) {
        size_t before = g->bases.n;
        for (size_t pi = 0; pi < cs->npacks; pi++) {
            Pack *p = &cs->packs[pi];
            if (!p->committed || p->removed)
                continue;
            for (size_t i = 0; i < p->n; i++) {
                const ChunkIndexEntry *e = &p->entries[i];
                if (e->kind != CHUNK_DELTA || chunkstore_int_orphan(p, i) ||
                    !gc_is_live(g, e->sha256) || gc_is_live(g, e->base))
                    continue;
                sha_set_add(&g->bases, e->base);
            }
        }
        sha_set_sort(&g->bases);
        if (g->bases.n == before)
            break;
    }
}

bool chunkstore_gc(ChunkStore *cs, ChunkLiveFn caller_live, void *caller_ctx, ChunkGcStats *stats)
{
    GcLive g = {.live = caller_live, .ctx = caller_ctx};
    gc_close_bases(cs, &g);
    bool ok = chunkstore_gc_closed(cs, gc_is_live, &g, stats);
    sha_set_free(&g.bases);
    return ok;
}

static bool chunkstore_gc_closed(ChunkStore *cs, ChunkLiveFn live, void *ctx, ChunkGcStats *stats)
{
    memset(stats, 0, sizeof(*stats));
    if (!gc_unindexed(cs, stats))
        return false;
    size_t npacks = cs->npacks; /* packs the rewrite adds are not looked at */
    bool *dead = xcalloc(npacks ? npacks : 1, sizeof(bool));
    bool ok = true;
    for (size_t pi = 0; ok && pi < npacks; pi++) {
        Pack *p = &cs->packs[pi];
        if (p->damaged && !p->removed) { /* invariant 8: its chunks are absent already */
            ok = gc_damaged_size(cs, pi, &stats->bytes_freed);
            stats->packs_removed++;
            dead[pi] = true;
            continue;
        }
        if (!p->committed || p->removed)
            continue;
        if (gc_pack_kept(p, live, ctx))
            continue;
        uint64_t live_bytes = 0, dead_chunks = 0;
        for (size_t i = 0; i < p->n; i++) {
            if (live(ctx, p->entries[i].sha256))
                live_bytes += p->entries[i].stored_len;
            else
                dead_chunks++;
        }
        if (live_bytes > 0) {
            ok = gc_rewrite(cs, pi, live, ctx);
            stats->packs_rewritten++;
        } else {
            stats->packs_removed++;
        }
        dead[pi] = true;
        stats->chunks_removed += dead_chunks;
        stats->bytes_freed += cs->packs[pi].size - live_bytes;
    }
    /* the copies are committed (pack, then index) before any original goes */
    ok = ok && chunkstore_flush(cs);
    if (ok)
        testpoint_pause("gc-copied"); /* copies committed, originals still there */
    for (size_t pi = 0; ok && pi < npacks; pi++)
        if (dead[pi]) {
            ok = pack_remove(cs, pi);
            testpoint_pause("gc-removing"); /* one pack gone, others not yet */
        }
    free(dead);
    return ok;
}
