/*
 * chunkstore.c - chunks in packs, with one index per pack (see chunkstore.h).
 *
 * Files, under packs/ in the repository:
 *
 *   packs/<name>.pack    <name> is 32 random hex digits. The concatenation of
 *                        chunk objects, each a complete object.h envelope
 *                        (56-byte header, then the payload), nothing else: no
 *                        pack header, no padding. A chunk's name is the
 *                        SHA-256 in its envelope, of its raw content.
 *   packs/<name>.index   an object (object.h envelope, repository codec)
 *                        whose raw content is, little-endian:
 *
 *       offset size field
 *       0      4    magic      "DDIX"
 *       4      4    version    1
 *       8      8    count      number of entries
 *       16     8    pack_size  exact length of <name>.pack
 *       24     84*n entries, in pack (offset) order:
 *                     0  32 sha256      the chunk's name
 *                     32  8 offset      of its envelope in the pack
 *                     40  4 stored_len  envelope length (header + payload)
 *                     44  4 raw_len     the chunk's length
 *                     48  1 kind        0 full, 1 delta
 *                     49  1 depth       0 full; delta: base's depth + 1 (<= 3)
 *                     50  2 reserved    0
 *                     52 32 base        delta: the base chunk's name; else 0
 *
 * A full chunk's envelope holds the chunk: its SHA-256 is the chunk's name. A
 * delta chunk's envelope holds a delta payload (its own SHA-256 in the
 * envelope), little-endian:
 *
 *       0  4  magic "DDDL"
 *       4  4  npages     ceil(raw_len / 8192)
 *       8  32 base       the base chunk's name (equals the index's)
 *       40 ceil(npages/8)  bitmap, bit i (byte i/8, bit i%8) = page i differs
 *       .. the differing pages in order, 8192 bytes each (the last page of the
 *          chunk may be shorter: raw_len - 8192 * i), each XOR-ed with the
 *          base's page at the same place when the base has all of it (a
 *          changed page differs in a few bytes: the rest XORs to zeros, which
 *          the envelope's codec compresses away), as is otherwise
 *
 * and the chunk is the base with those pages replaced (pages past the base's
 * end are always in the delta).
 *
 * Invariants (numbered as in chunkstore.h, plus):
 *  4. A pack is committed (storage: atomic rename, fsync) before its index;
 *     an index is the proof that its pack is complete. Readers only consider
 *     packs that have an index; a pack without one is an interrupted write.
 *  5. Entries of an index cover their pack exactly: sorted by offset, each
 *     starting where the previous ended, the last ending at pack_size.
 *  7. A delta whose base chain is not complete in the store (gc removed its
 *     base, which no kept backup needed, while the dead delta stayed in a
 *     pack kept whole; or a kill in the middle of gc) is an orphan: it is
 *     treated as absent (has() is false, a backup stores the chunk again, gc
 *     collects it), so no backup can ever come to reference it.
 *  6. The same chunk may appear in two indexes only while expire rewrites a
 *     pack (new pack committed before the old index is removed); the loader
 *     keeps the first, and both copies are valid.
 *  8. An index that does not load (a damaged object, or entries that break
 *     invariant 5) costs its pack only: the pack's chunks are absent (a
 *     backup stores them again, a restore that needs none of them succeeds),
 *     verify names it, gc removes the index and the pack.
 *
 * In memory: the packs with their entries (the indexes as read), and an
 * open-addressing hash table from a chunk's name to (pack, entry). A chunk
 * being written by a worker is "in flight": its slot points into a small
 * table of names, so that a second worker with the same content skips it
 * (invariant 2) without waiting. One mutex guards the table, the pack list
 * and the open pack; the encoding (compression) runs outside it, and so does
 * committing a full pack.
 */
#include "repo/chunkstore.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/rand.h"
#include "common/timeutil.h"
#include "repo/object.h"

#include "repo/chunkstore_int.h"

static uint64_t key_hash(const uint8_t *sha)
{
    uint64_t h;
    memcpy(&h, sha, sizeof(h)); /* a SHA-256 is already uniform */
    return h;
}

static const uint8_t *slot_sha(const ChunkStore *cs, Slot s)
{
    if (s.pack == SLOT_INFLIGHT)
        return cs->inflight[s.idx];
    return cs->packs[s.pack - 1].entries[s.idx].sha256;
}

/* The slot holding sha, or the empty slot where it would go. Lock held. */
static Slot *table_find(const ChunkStore *cs, const uint8_t *sha)
{
    size_t mask = cs->nslots - 1;
    for (size_t i = key_hash(sha) & mask;; i = (i + 1) & mask) {
        Slot *s = &cs->slots[i];
        if (s->pack == SLOT_EMPTY || memcmp(slot_sha(cs, *s), sha, SHA256_LEN) == 0)
            return s;
    }
}

static void table_grow(ChunkStore *cs)
{
    Slot *old = cs->slots;
    size_t nold = cs->nslots;
    cs->nslots = nold ? nold * 2 : 1024;
    cs->slots = xcalloc(cs->nslots, sizeof(Slot));
    for (size_t i = 0; i < nold; i++)
        if (old[i].pack != SLOT_EMPTY)
            *table_find(cs, slot_sha(cs, old[i])) = old[i];
    free(old);
}

/* Insert or re-point sha. Lock held. */
static void table_set(ChunkStore *cs, const uint8_t *sha, Slot v)
{
    if ((cs->nused + 1) * 2 > cs->nslots)
        table_grow(cs);
    Slot *s = table_find(cs, sha);
    if (s->pack == SLOT_EMPTY)
        cs->nused++;
    *s = v;
}

/* A slot that names a readable chunk: committed, and not an orphan (invariant 7). */
static bool slot_present(const ChunkStore *cs, Slot s)
{
    return s.pack != SLOT_EMPTY && s.pack != SLOT_INFLIGHT && cs->packs[s.pack - 1].committed &&
           !chunkstore_int_orphan(&cs->packs[s.pack - 1], s.idx);
}

static size_t pack_add(ChunkStore *cs, const char *name, bool committed)
{
    if (cs->npacks == cs->cap_packs) {
        cs->cap_packs = cs->cap_packs ? cs->cap_packs * 2 : 16;
        cs->packs = xrealloc(cs->packs, cs->cap_packs * sizeof(Pack));
    }
    Pack *p = &cs->packs[cs->npacks];
    memset(p, 0, sizeof(*p));
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->committed = committed;
    return cs->npacks++;
}

static void pack_push_entry(Pack *p, const ChunkIndexEntry *e)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 256;
        p->entries = xrealloc(p->entries, p->cap * sizeof(ChunkIndexEntry));
    }
    p->entries[p->n++] = *e;
}

char *chunkstore_int_path(const char *name, const char *ext)
{
    return xasprintf("%s/%s.%s", CHUNKSTORE_PACK_DIR, name, ext);
}

/* Parse an index (invariant 5) into pack p. */
static bool index_parse(const Buf *raw, Pack *p)
{
    const uint8_t *d = raw->data;
    if (raw->len < IDX_HEADER_LEN || memcmp(d, IDX_MAGIC, 4) != 0 || le_get32(d + 4) != IDX_VERSION)
        return err_set(DD_EXIT_CORRUPT, "not a version %d pack index", IDX_VERSION);
    uint64_t count = le_get64(d + 8);
    p->size = le_get64(d + 16);
    if (count > (raw->len - IDX_HEADER_LEN) / IDX_ENTRY_LEN ||
        raw->len != IDX_HEADER_LEN + count * IDX_ENTRY_LEN)
        return err_set(DD_EXIT_CORRUPT, "index length %zu does not match its %llu entries",
                       raw->len, (unsigned long long)count);
    uint64_t expect = 0;
    for (uint64_t i = 0; i < count; i++) {
        const uint8_t *e = d + IDX_HEADER_LEN + i * IDX_ENTRY_LEN;
        ChunkIndexEntry ce = {0};
        memcpy(ce.sha256, e, SHA256_LEN);
        ce.offset = le_get64(e + 32);
        ce.stored_len = le_get32(e + 40);
        ce.raw_len = le_get32(e + 44);
        ce.kind = e[48];
        ce.depth = e[49];
        memcpy(ce.base, e + 52, SHA256_LEN);
        if (ce.offset != expect || ce.stored_len < OBJ_HEADER_LEN || ce.kind > CHUNK_DELTA ||
            (ce.kind == CHUNK_DELTA) != (ce.depth > 0) || ce.depth > CHUNKSTORE_DELTA_MAX_DEPTH)
            return err_set(DD_EXIT_CORRUPT, "index entry %llu is out of sequence",
                           (unsigned long long)i);
        expect += ce.stored_len;
        pack_push_entry(p, &ce);
    }
    if (expect != p->size)
        return err_set(DD_EXIT_CORRUPT, "index entries end at %llu, pack size is %llu",
                       (unsigned long long)expect, (unsigned long long)p->size);
    return true;
}

/*
 * Load one index. A damaged one (an object that does not decode, or entries
 * that break invariant 5) costs its pack, not the store: the pack is kept in
 * the list as damaged, with no entries, so its chunks are absent (a backup
 * stores them again), gc removes it, and verify names it. The message goes
 * to damaged when given (verify), else to the log as a warning. Only an I/O
 * error fails the load.
 */
static bool index_load(ChunkStore *cs, const char *name, StrList *damaged)
{
    char *path = chunkstore_int_path(name, "index");
    Buf raw = {0};
    bool found = false;
    bool ok = repo_object_get(cs->repo, path, &raw, &found);
    if (!ok && err_code() != DD_EXIT_CORRUPT)
        goto done;
    if (ok && !found)
        goto done;
    size_t pi = pack_add(cs, name, true);
    if (ok)
        ok = index_parse(&raw, &cs->packs[pi]);
    if (!ok) {
        cs->packs[pi].n = 0; /* never listed, never looked up */
        cs->packs[pi].damaged = true;
        err_context("pack index \"%s\"", name);
        if (damaged)
            strlist_push(damaged, err_message());
        else
            log_warn("%s: its pack's chunks are treated as missing. HINT: \"drydock verify\" names "
                     "the backups this breaks; the next backup stores the chunks again and "
                     "\"drydock expire\" removes the pack",
                     err_message());
        err_clear();
        ok = true;
    }
    for (size_t j = 0; ok && j < cs->packs[pi].n; j++) {
        const uint8_t *sha = cs->packs[pi].entries[j].sha256;
        if (cs->nused * 2 + 2 > cs->nslots)
            table_grow(cs);
        if (table_find(cs, sha)->pack == SLOT_EMPTY) /* invariant 6: first wins */
            table_set(cs, sha, (Slot){(uint32_t)pi + 1, (uint32_t)j});
    }
done:
    buf_free(&raw);
    free(path);
    return ok;
}

/* Point sha's slot at entry i of pack pi unless it already names a present chunk. */
static bool orphans_repoint(ChunkStore *cs, size_t pi, size_t i)
{
    Slot *s = table_find(cs, cs->packs[pi].entries[i].sha256);
    if (slot_present(cs, *s))
        return false;
    *s = (Slot){(uint32_t)pi + 1, (uint32_t)i};
    return true;
}

/*
 * Invariant 7, as a fixpoint: full chunks are valid; a delta is valid once
 * its base names a valid chunk. Deltas start as orphans and are cleared as
 * their bases prove valid; each valid entry takes over its name's slot from
 * an orphan copy (a chunk stored again after its first copy was orphaned).
 */
static void orphans_mark(ChunkStore *cs)
{
    for (size_t pi = 0; pi < cs->npacks; pi++) {
        Pack *p = &cs->packs[pi];
        for (size_t i = 0; p->committed && i < p->n; i++) {
            if (p->entries[i].kind != CHUNK_DELTA)
                continue;
            if (!p->orphan)
                p->orphan = xcalloc(p->cap ? p->cap : 1, sizeof(bool));
            p->orphan[i] = true;
        }
    }
    for (size_t pi = 0; pi < cs->npacks; pi++)
        for (size_t i = 0; cs->packs[pi].committed && i < cs->packs[pi].n; i++)
            if (!chunkstore_int_orphan(&cs->packs[pi], i))
                orphans_repoint(cs, pi, i);
    bool changed = true;
    while (changed) {
        changed = false;
        for (size_t pi = 0; pi < cs->npacks; pi++) {
            Pack *p = &cs->packs[pi];
            for (size_t i = 0; p->committed && i < p->n; i++) {
                if (!chunkstore_int_orphan(p, i) ||
                    !slot_present(cs, *table_find(cs, p->entries[i].base)))
                    continue;
                p->orphan[i] = false;
                orphans_repoint(cs, pi, i);
                changed = true;
            }
        }
    }
}

static bool chunkstore_open_impl(Repo *repo, ChunkStore **out, StrList *damaged)
{
    ChunkStore *cs = xcalloc(1, sizeof(*cs));
    cs->repo = repo;
    pthread_mutex_init(&cs->lock, NULL);
    table_grow(cs);
    StrList names = {0};
    bool ok = repo_obj_keys(repo, false, &cs->keys) &&
              storage_list(repo_storage(repo), CHUNKSTORE_PACK_DIR, &names);
    strlist_sort(&names);
    for (size_t i = 0; ok && i < names.len; i++) {
        size_t l = strlen(names.items[i]);
        if (l == CHUNKSTORE_PACK_NAME_LEN + 6 &&
            strcmp(names.items[i] + CHUNKSTORE_PACK_NAME_LEN, ".index") == 0) {
            char name[CHUNKSTORE_PACK_NAME_LEN + 1];
            memcpy(name, names.items[i], CHUNKSTORE_PACK_NAME_LEN);
            name[CHUNKSTORE_PACK_NAME_LEN] = 0;
            ok = index_load(cs, name, damaged);
        }
    }
    strlist_free(&names);
    if (ok)
        orphans_mark(cs);
    if (!ok) {
        chunkstore_close(cs);
        return false;
    }
    *out = cs;
    return true;
}

void chunkstore_content_id(const ChunkStore *cs, const void *data, size_t len,
                           uint8_t out[SHA256_LEN])
{
    obj_content_id(cs->keys, data, len, out);
}

const ObjKeys *chunkstore_keys(const ChunkStore *cs)
{
    return cs->keys;
}

bool chunkstore_open(Repo *repo, ChunkStore **out)
{
    return chunkstore_open_impl(repo, out, NULL);
}

bool chunkstore_open_lenient(Repo *repo, ChunkStore **out, StrList *damaged)
{
    return chunkstore_open_impl(repo, out, damaged);
}

void chunkstore_close(ChunkStore *cs)
{
    if (!cs)
        return;
    if (cs->open_w)
        storage_write_abort(cs->open_w);
    for (size_t i = 0; i < cs->npacks; i++) {
        free(cs->packs[i].entries);
        free(cs->packs[i].orphan);
    }
    free(cs->packs);
    free(cs->slots);
    free(cs->inflight);
    free(cs->inflight_free);
    pthread_mutex_destroy(&cs->lock);
    free(cs);
}

bool chunkstore_has(const ChunkStore *cs, const uint8_t sha256[SHA256_LEN])
{
    ChunkStore *m = (ChunkStore *)cs; /* the lock is not part of the logical state */
    pthread_mutex_lock(&m->lock);
    Slot s = *table_find(cs, sha256);
    bool has = slot_present(cs, s);
    pthread_mutex_unlock(&m->lock);
    return has;
}

bool chunkstore_raw_len(ChunkStore *cs, const uint8_t sha256[SHA256_LEN], uint32_t *raw_len)
{
    ChunkIndexEntry e;
    char pack[33];
    if (!chunkstore_int_lookup(cs, sha256, &e, pack))
        return false;
    *raw_len = e.raw_len;
    return true;
}

/* Look a committed chunk up: a copy of its entry and pack name. Lock taken here. */
bool chunkstore_int_lookup(ChunkStore *cs, const uint8_t *sha, ChunkIndexEntry *e,
                           char pack[CHUNKSTORE_PACK_NAME_LEN + 1])
{
    pthread_mutex_lock(&cs->lock);
    Slot s = *table_find(cs, sha);
    bool present = slot_present(cs, s);
    if (present) {
        *e = cs->packs[s.pack - 1].entries[s.idx];
        memcpy(pack, cs->packs[s.pack - 1].name, 33);
    }
    pthread_mutex_unlock(&cs->lock);
    return present;
}

/* ---- write side ---- */

/* Serialise pack p's index (layout at the top of this file). */
static void index_build(const Pack *p, Buf *out)
{
    buf_reserve(out, IDX_HEADER_LEN + p->n * IDX_ENTRY_LEN);
    uint8_t *d = out->data + out->len;
    memcpy(d, IDX_MAGIC, 4);
    le_put32(d + 4, IDX_VERSION);
    le_put64(d + 8, p->n);
    le_put64(d + 16, p->size);
    for (size_t i = 0; i < p->n; i++) {
        uint8_t *e = d + IDX_HEADER_LEN + i * IDX_ENTRY_LEN;
        memcpy(e, p->entries[i].sha256, SHA256_LEN);
        le_put64(e + 32, p->entries[i].offset);
        le_put32(e + 40, p->entries[i].stored_len);
        le_put32(e + 44, p->entries[i].raw_len);
        e[48] = p->entries[i].kind;
        e[49] = p->entries[i].depth;
        e[50] = e[51] = 0;
        memcpy(e + 52, p->entries[i].base, SHA256_LEN);
    }
    out->len += IDX_HEADER_LEN + p->n * IDX_ENTRY_LEN;
}

/*
 * Commit a detached pack and then its index (invariant 4). The caller took w
 * out of the store under the lock, so nobody appends to pack pi any more;
 * its entries are read without the lock (the array is not resized).
 */
bool chunkstore_int_commit(ChunkStore *cs, StorageWrite *w, size_t pi)
{
    pthread_mutex_lock(&cs->lock);
    Pack snapshot = cs->packs[pi];
    pthread_mutex_unlock(&cs->lock);
    Buf idx = {0};
    index_build(&snapshot, &idx);
    char *path = chunkstore_int_path(snapshot.name, "index");
    bool ok =
        storage_write_commit(w, (StoragePutOpts){.exclusive = true}) &&
        repo_object_put(cs->repo, path, idx.data, idx.len, (StoragePutOpts){.exclusive = true});
    if (ok) {
        pthread_mutex_lock(&cs->lock);
        cs->packs[pi].committed = true;
        pthread_mutex_unlock(&cs->lock);
    } else {
        err_context("committing pack \"%s\"", snapshot.name);
    }
    buf_free(&idx);
    free(path);
    return ok;
}

/*
 * Append an encoded chunk object to the open pack (opening one if needed).
 * Lock held. When the pack passes the target size it is detached into
 * *full_w / *full_pack for the caller to commit outside the lock.
 */
bool chunkstore_int_append(ChunkStore *cs, const ChunkIndexEntry *tmpl, const uint8_t *obj,
                           size_t obj_len, StorageWrite **full_w, size_t *full_pack)
{
    if (!cs->open_w) {
        char name[CHUNKSTORE_PACK_NAME_LEN + 1];
        rand_hex(name, CHUNKSTORE_PACK_NAME_LEN / 2);
        char *path = chunkstore_int_path(name, "pack");
        cs->open_w = storage_write_begin(repo_storage(cs->repo), path);
        free(path);
        if (!cs->open_w)
            return false;
        cs->open_pack = pack_add(cs, name, false);
    }
    Pack *p = &cs->packs[cs->open_pack];
    if (!storage_write_append(cs->open_w, obj, obj_len))
        return false;
    ChunkIndexEntry e = *tmpl;
    e.offset = p->size;
    e.stored_len = (uint32_t)obj_len;
    pack_push_entry(p, &e);
    p->size += obj_len;
    table_set(cs, e.sha256, (Slot){(uint32_t)cs->open_pack + 1, (uint32_t)(p->n - 1)});
    if (p->size >= CHUNKSTORE_PACK_TARGET) {
        *full_w = cs->open_w;
        *full_pack = cs->open_pack;
        cs->open_w = NULL;
    }
    return true;
}

/* Mark sha in flight unless known; false when it is (stored or in flight). Lock held. */
static bool inflight_reserve(ChunkStore *cs, const uint8_t *sha, uint32_t *slot_idx)
{
    if ((cs->nused + 1) * 2 > cs->nslots)
        table_grow(cs);
    Slot *s = table_find(cs, sha);
    bool orphan = s->pack != SLOT_EMPTY && s->pack != SLOT_INFLIGHT &&
                  chunkstore_int_orphan(&cs->packs[s->pack - 1], s->idx);
    if (s->pack != SLOT_EMPTY && !orphan)
        return false;
    uint32_t i;
    if (cs->nfree > 0) {
        i = cs->inflight_free[--cs->nfree];
    } else {
        if (cs->ninflight == cs->cap_inflight) {
            cs->cap_inflight = cs->cap_inflight ? cs->cap_inflight * 2 : 64;
            cs->inflight = xrealloc(cs->inflight, cs->cap_inflight * SHA256_LEN);
            cs->inflight_free = xrealloc(cs->inflight_free, cs->cap_inflight * sizeof(uint32_t));
        }
        i = (uint32_t)cs->ninflight++;
    }
    memcpy(cs->inflight[i], sha, SHA256_LEN);
    *s = (Slot){SLOT_INFLIGHT, i};
    if (!orphan)
        cs->nused++;
    *slot_idx = i;
    return true;
}

/*
 * The delta payload of raw against base (format at the top), into out;
 * false when more than half of the pages differ (a full chunk is better).
 */
static bool delta_build(const uint8_t *raw, size_t len, const Buf *base, const uint8_t *base_sha,
                        Buf *out)
{
    size_t npages = (len + DELTA_PAGE - 1) / DELTA_PAGE;
    size_t bm = (npages + 7) / 8;
    uint8_t head[40];
    memcpy(head, DELTA_MAGIC, 4);
    le_put32(head + 4, (uint32_t)npages);
    memcpy(head + 8, base_sha, SHA256_LEN);
    buf_append(out, head, sizeof(head));
    size_t bitmap_at = out->len;
    buf_reserve(out, bm);
    memset(out->data + out->len, 0, bm);
    out->len += bm;
    size_t changed = 0;
    for (size_t i = 0; i < npages; i++) {
        size_t off = i * DELTA_PAGE;
        size_t plen = len - off < DELTA_PAGE ? len - off : DELTA_PAGE;
        if (off + plen <= base->len && memcmp(raw + off, base->data + off, plen) == 0)
            continue;
        if (++changed * 2 > npages)
            return false;
        out->data[bitmap_at + i / 8] |= (uint8_t)(1u << (i % 8));
        size_t at = out->len;
        buf_append(out, raw + off, plen);
        if (off + plen <= base->len)
            for (size_t k = 0; k < plen; k++)
                out->data[at + k] ^= base->data[off + k];
    }
    return true;
}

/*
 * Try to express raw as a delta against base; fills tmpl and payload when it
 * pays. base_raw: the base's content when the caller has it, else NULL (read
 * with rd, the caller's reader, when it has one).
 */
static void delta_try(ChunkStore *cs, ChunkReader *rd, const uint8_t *raw, size_t len,
                      const uint8_t *base, const Buf *base_raw, ChunkIndexEntry *tmpl, Buf *payload)
{
    ChunkIndexEntry be;
    char pack[CHUNKSTORE_PACK_NAME_LEN + 1];
    if (memcmp(base, tmpl->sha256, SHA256_LEN) == 0 ||
        !chunkstore_int_lookup(cs, base, &be, pack) || be.depth >= CHUNKSTORE_DELTA_MAX_DEPTH)
        return;
    Buf braw = {0};
    if (!base_raw && !(rd ? chunkstore_int_read_with(rd, pack, &be, &braw)
                          : chunkstore_int_read(cs, pack, &be, &braw))) {
        err_clear(); /* an unreadable base: store the chunk whole */
    } else if (delta_build(raw, len, base_raw ? base_raw : &braw, base, payload)) {
        tmpl->kind = CHUNK_DELTA;
        tmpl->depth = (uint8_t)(be.depth + 1);
        memcpy(tmpl->base, base, SHA256_LEN);
    } else {
        payload->len = 0;
    }
    buf_free(&braw);
}

bool chunkstore_put(ChunkStore *cs, const uint8_t sha256[SHA256_LEN], const void *raw, size_t len,
                    uint64_t *stored)
{
    return chunkstore_put_delta(cs, sha256, raw, len, NULL, stored);
}

bool chunkstore_put_delta(ChunkStore *cs, const uint8_t sha256[SHA256_LEN], const void *raw,
                          size_t len, const uint8_t *base, uint64_t *stored)
{
    return chunkstore_put_delta_with(cs, NULL, sha256, raw, len, base, stored);
}

static bool put_delta(ChunkStore *cs, ChunkReader *rd, const uint8_t sha256[SHA256_LEN],
                      const void *raw, size_t len, const uint8_t *base, const void *base_raw,
                      size_t base_len, uint64_t *stored);

bool chunkstore_put_delta_with(ChunkStore *cs, ChunkReader *rd, const uint8_t sha256[SHA256_LEN],
                               const void *raw, size_t len, const uint8_t *base, uint64_t *stored)
{
    return put_delta(cs, rd, sha256, raw, len, base, NULL, 0, stored);
}

bool chunkstore_put_delta_from(ChunkStore *cs, const uint8_t sha256[SHA256_LEN], const void *raw,
                               size_t len, const uint8_t *base, const void *base_raw,
                               size_t base_len, uint64_t *stored)
{
    return put_delta(cs, NULL, sha256, raw, len, base, base_raw, base_len, stored);
}

static bool put_delta(ChunkStore *cs, ChunkReader *rd, const uint8_t sha256[SHA256_LEN],
                      const void *raw, size_t len, const uint8_t *base, const void *base_raw,
                      size_t base_len, uint64_t *stored)
{
    *stored = 0;
    uint32_t fi = 0;
    pthread_mutex_lock(&cs->lock);
    bool mine = inflight_reserve(cs, sha256, &fi);
    pthread_mutex_unlock(&cs->lock);
    if (!mine)
        return true;
    ChunkIndexEntry tmpl = {.raw_len = (uint32_t)len, .kind = CHUNK_FULL};
    memcpy(tmpl.sha256, sha256, SHA256_LEN);
    Buf payload = {0};
    Buf braw = {.data = (uint8_t *)base_raw, .len = base_len};
    if (base)
        delta_try(cs, rd, raw, len, base, base_raw ? &braw : NULL, &tmpl, &payload);
    Buf obj = {0};
    const ObjKeys *keys = NULL;
    bool ok = repo_obj_keys(cs->repo, true, &keys);
    ok = ok && (tmpl.kind == CHUNK_DELTA
                    ? obj_encode_keyed(repo_codec(cs->repo), repo_compress_level(cs->repo),
                                       payload.data, payload.len, NULL, NULL, keys, &obj)
                    : obj_encode_keyed(repo_codec(cs->repo), repo_compress_level(cs->repo), raw,
                                       len, sha256, NULL, keys, &obj));
    buf_free(&payload);
    StorageWrite *full_w = NULL;
    size_t full_pack = 0;
    pthread_mutex_lock(&cs->lock);
    if (ok)
        ok = chunkstore_int_append(cs, &tmpl, obj.data, obj.len, &full_w, &full_pack);
    if (ok) { /* the slot now points at the pack; on failure it stays in flight (backup fails) */
        cs->inflight_free[cs->nfree++] = fi;
        cs->st_chunks++;
        cs->st_raw += len;
        cs->st_stored += obj.len;
        cs->st_deltas += tmpl.kind == CHUNK_DELTA;
    }
    pthread_mutex_unlock(&cs->lock);
    if (ok)
        *stored = obj.len;
    buf_free(&obj);
    if (ok && full_w)
        ok = chunkstore_int_commit(cs, full_w, full_pack);
    return ok;
}

bool chunkstore_flush(ChunkStore *cs)
{
    pthread_mutex_lock(&cs->lock);
    StorageWrite *w = cs->open_w;
    size_t pi = cs->open_pack;
    cs->open_w = NULL;
    pthread_mutex_unlock(&cs->lock);
    return w ? chunkstore_int_commit(cs, w, pi) : true;
}

uint64_t chunkstore_delta_count(const ChunkStore *cs)
{
    ChunkStore *m = (ChunkStore *)cs;
    pthread_mutex_lock(&m->lock);
    uint64_t n = cs->st_deltas;
    pthread_mutex_unlock(&m->lock);
    return n;
}

void chunkstore_stats(const ChunkStore *cs, uint64_t *chunks, uint64_t *raw, uint64_t *stored)
{
    ChunkStore *m = (ChunkStore *)cs;
    pthread_mutex_lock(&m->lock);
    *chunks = cs->st_chunks;
    *raw = cs->st_raw;
    *stored = cs->st_stored;
    pthread_mutex_unlock(&m->lock);
}
