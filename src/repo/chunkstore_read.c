/*
 * chunkstore_read.c - the read side of the chunk store (see chunkstore.h;
 * the pack, index and delta layouts are at the top of chunkstore.c):
 * chunkstore_get(), and the reader that keeps a few packs open for a thread.
 *
 * A read looks the chunk up (under the store's lock), reads its object from
 * the pack with one pread, and verifies it (invariant 3): obj_decode()
 * checks the envelope and that the content hashes to the SHA-256 in it, and
 * that SHA-256 must be the chunk's name; a delta is rebuilt from its base
 * (read the same way) and the result hashed against its name. A full chunk
 * is decoded straight into the caller's buffer; on any failure the buffer
 * is left as it was.
 *
 * The reader's cache: CHUNKSTORE_READER_PACKS slots of (pack name, open
 * handle, last use). A miss takes an empty slot or closes the least recently
 * used one. A handle whose read failed is closed, so that a damaged or
 * vanished pack is opened again (and named again) by the next read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repo/chunkstore.h"
#include "repo/object.h"

#include "repo/chunkstore_int.h"

typedef struct {
    char name[CHUNKSTORE_PACK_NAME_LEN + 1]; /* "" for an empty slot */
    StorageRead *r;
    uint64_t used; /* the reader's tick at its last use */
} ReaderPack;

struct ChunkReader {
    ChunkStore *cs;
    ReaderPack packs[CHUNKSTORE_READER_PACKS];
    uint64_t tick, opens;
    Buf obj; /* the object being read, reused */
};

ChunkReader *chunkstore_reader_new(ChunkStore *cs)
{
    ChunkReader *rd = xcalloc(1, sizeof(*rd));
    rd->cs = cs;
    return rd;
}

void chunkstore_reader_free(ChunkReader *rd)
{
    if (!rd)
        return;
    for (size_t i = 0; i < CHUNKSTORE_READER_PACKS; i++)
        if (rd->packs[i].r)
            storage_read_close(rd->packs[i].r);
    buf_free(&rd->obj);
    free(rd);
}

uint64_t chunkstore_reader_opens(const ChunkReader *rd)
{
    return rd->opens;
}

/* Open a pack for reading; a missing one is damage (an index names it). */
static StorageRead *pack_open(ChunkStore *cs, const char *pack)
{
    char *path = chunkstore_int_path(pack, "pack");
    bool found = false;
    StorageRead *r = storage_read_open(repo_storage(cs->repo), path, &found);
    if (!r && !found)
        err_set(DD_EXIT_CORRUPT, "pack \"%s\" is missing", path);
    free(path);
    return r;
}

/* The reader's slot for pack: a cached handle, or a new one in a free or the oldest slot. */
static ReaderPack *reader_pack(ChunkReader *rd, const char *pack)
{
    ReaderPack *victim = &rd->packs[0];
    for (size_t i = 0; i < CHUNKSTORE_READER_PACKS; i++) {
        ReaderPack *p = &rd->packs[i];
        if (p->r && strcmp(p->name, pack) == 0) {
            p->used = ++rd->tick;
            return p;
        }
        /* An empty slot first, else the least recently used. */
        bool older = victim->r != NULL && (!p->r || p->used < victim->used);
        if (older)
            victim = p;
    }
    if (victim->r)
        storage_read_close(victim->r);
    *victim = (ReaderPack){.used = ++rd->tick};
    victim->r = pack_open(rd->cs, pack);
    if (!victim->r)
        return NULL;
    snprintf(victim->name, sizeof(victim->name), "%s", pack);
    rd->opens++;
    return victim;
}

/* Read the stored object of entry e into obj, through the reader's cache if rd. */
static bool object_read(ChunkStore *cs, ChunkReader *rd, const char *pack, const ChunkIndexEntry *e,
                        Buf *obj)
{
    ReaderPack *p = rd ? reader_pack(rd, pack) : NULL;
    StorageRead *r = rd ? (p ? p->r : NULL) : pack_open(cs, pack);
    if (!r)
        return false;
    buf_reset(obj);
    buf_reserve(obj, e->stored_len);
    bool ok = storage_read_at(r, e->offset, obj->data, e->stored_len);
    if (ok)
        obj->len = e->stored_len;
    if (!rd || !ok) { /* a failed handle is not kept */
        storage_read_close(r);
        if (p)
            *p = (ReaderPack){0};
    }
    return ok;
}

static bool chunk_get_depth(ChunkStore *cs, ChunkReader *rd, const uint8_t *sha, int max_depth,
                            bool light, Buf *raw);

/*
 * Rebuild a delta chunk from its payload and its base (format at the top of
 * chunkstore.c); light: its parts were checked by their codec (object.h
 * invariant 7) and the result is not hashed again.
 */
static bool delta_apply(ChunkStore *cs, ChunkReader *rd, const ChunkIndexEntry *e, const Buf *pl,
                        bool light, Buf *raw)
{
    size_t npages = (e->raw_len + DELTA_PAGE - 1) / DELTA_PAGE;
    size_t bm = (npages + 7) / 8;
    if (pl->len < 40 + bm || memcmp(pl->data, DELTA_MAGIC, 4) != 0 ||
        le_get32(pl->data + 4) != npages || memcmp(pl->data + 8, e->base, SHA256_LEN) != 0)
        return err_set(DD_EXIT_CORRUPT, "malformed delta");
    Buf base = {0};
    if (!chunk_get_depth(cs, rd, e->base, e->depth - 1, light, &base)) {
        char hex[SHA256_HEX_LEN + 1];
        sha256_hex(e->base, hex);
        buf_free(&base); /* a failed decode may have sized it */
        return err_context("its base chunk %s", hex);
    }
    const uint8_t *bitmap = pl->data + 40;
    const uint8_t *page = bitmap + bm;
    const uint8_t *end = pl->data + pl->len;
    size_t start = raw->len;
    buf_reserve(raw, e->raw_len);
    bool ok = true;
    for (size_t i = 0; ok && i < npages; i++) {
        size_t off = i * DELTA_PAGE;
        size_t plen = e->raw_len - off < DELTA_PAGE ? e->raw_len - off : DELTA_PAGE;
        if (bitmap[i / 8] & (1u << (i % 8))) {
            if ((size_t)(end - page) < plen) {
                ok = err_set(DD_EXIT_CORRUPT, "delta is shorter than its bitmap says");
            } else {
                size_t at = raw->len;
                buf_append(raw, page, plen);
                if (off + plen <= base.len)
                    for (size_t k = 0; k < plen; k++)
                        raw->data[at + k] ^= base.data[off + k];
            }
            page += plen;
        } else if (off + plen > base.len) {
            ok = err_set(DD_EXIT_CORRUPT, "delta refers to bytes its base does not have");
        } else {
            buf_append(raw, base.data + off, plen);
        }
    }
    uint8_t digest[SHA256_LEN];
    if (ok && !light)
        chunkstore_content_id(cs, raw->data + start, raw->len - start, digest);
    if (ok && !light && memcmp(digest, e->sha256, SHA256_LEN) != 0)
        ok = err_set(DD_EXIT_CORRUPT, "the rebuilt chunk does not match its name");
    if (!ok)
        raw->len = start;
    buf_free(&base);
    return ok;
}

/*
 * Verify the object in obj as entry e and append the chunk to raw: a full
 * chunk is decoded into raw directly, a delta's payload aside and rebuilt.
 */
static bool object_to_chunk(ChunkStore *cs, ChunkReader *rd, const ChunkIndexEntry *e,
                            const Buf *obj, bool light, Buf *raw)
{
    ObjHeader h;
    size_t start = raw->len;
    bool (*decode)(const void *, size_t, const ObjKeys *, Buf *, ObjHeader *) =
        light ? obj_decode_light : obj_decode_keyed;
    if (e->kind == CHUNK_DELTA) {
        Buf payload = {0};
        bool ok = decode(obj->data, obj->len, cs->keys, &payload, &h) &&
                  delta_apply(cs, rd, e, &payload, light, raw);
        buf_free(&payload);
        return ok;
    }
    if (!decode(obj->data, obj->len, cs->keys, raw, &h))
        return false;
    if (memcmp(h.sha256, e->sha256, SHA256_LEN) != 0 || h.raw_len != e->raw_len) {
        raw->len = start;
        return err_set(DD_EXIT_CORRUPT, "the object at offset %llu is another chunk",
                       (unsigned long long)e->offset);
    }
    return true;
}

/* Read and verify one chunk at a known place, through rd's cache if not NULL. */
static bool chunk_read(ChunkStore *cs, ChunkReader *rd, const char *pack, const ChunkIndexEntry *e,
                       bool light, Buf *raw)
{
    Buf own = {0};
    Buf *obj = rd ? &rd->obj : &own;
    bool ok = object_read(cs, rd, pack, e, obj);
    /* A delta's base goes through rd->obj too, once the delta's payload is decoded out of it. */
    ok = ok && object_to_chunk(cs, rd, e, obj, light, raw);
    if (!ok) {
        char hex[SHA256_HEX_LEN + 1], why[512];
        sha256_hex(e->sha256, hex);
        snprintf(why, sizeof(why), "%s", err_message());
        char *path = chunkstore_int_path(pack, "pack");
        err_set(err_code() == DD_EXIT_IO ? DD_EXIT_IO : DD_EXIT_CORRUPT,
                "chunk %s in pack \"%s/%s\" is damaged: %s", hex, repo_path(cs->repo), path, why);
        err_hint("run \"drydock verify\" to see which backups this affects");
        free(path);
    }
    buf_free(&own);
    return ok;
}

bool chunkstore_int_read(ChunkStore *cs, const char *pack, const ChunkIndexEntry *e, Buf *raw)
{
    return chunk_read(cs, NULL, pack, e, false, raw);
}

bool chunkstore_int_read_with(ChunkReader *rd, const char *pack, const ChunkIndexEntry *e, Buf *raw)
{
    return chunk_read(rd->cs, rd, pack, e, false, raw);
}

/* chunkstore_get with a bound on the delta depth (a damaged index cannot loop). */
static bool chunk_get_depth(ChunkStore *cs, ChunkReader *rd, const uint8_t *sha, int max_depth,
                            bool light, Buf *raw)
{
    ChunkIndexEntry e;
    char pack[CHUNKSTORE_PACK_NAME_LEN + 1];
    if (!chunkstore_int_lookup(cs, sha, &e, pack)) {
        char hex[SHA256_HEX_LEN + 1];
        sha256_hex(sha, hex);
        err_set(DD_EXIT_CORRUPT, "chunk %s is not in any pack of repository \"%s\"", hex,
                repo_path(cs->repo));
        err_hint("the repository lost data: run \"drydock verify\" to see which backups this "
                 "affects");
        return false;
    }
    if (e.depth > max_depth)
        return err_set(DD_EXIT_CORRUPT, "delta chain too deep");
    return chunk_read(cs, rd, pack, &e, light, raw);
}

bool chunkstore_get(ChunkStore *cs, const uint8_t sha256[SHA256_LEN], Buf *raw)
{
    return chunk_get_depth(cs, NULL, sha256, CHUNKSTORE_DELTA_MAX_DEPTH, false, raw);
}

bool chunkstore_reader_get(ChunkReader *rd, const uint8_t sha256[SHA256_LEN], Buf *raw)
{
    return chunk_get_depth(rd->cs, rd, sha256, CHUNKSTORE_DELTA_MAX_DEPTH, false, raw);
}

bool chunkstore_reader_get_base(ChunkReader *rd, const uint8_t sha256[SHA256_LEN], Buf *raw)
{
    return chunk_get_depth(rd->cs, rd, sha256, CHUNKSTORE_DELTA_MAX_DEPTH, true, raw);
}
