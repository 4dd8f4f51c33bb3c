/*
 * copy.c - see copy.h.
 *
 * Shared state: the per-file chunk slots (each written by exactly the worker
 * that owns the unit), the vanished flags, the counters (atomics) and the
 * bad-page list (mutex). The cursor and the first error are the pool's
 * (common/workers.h).
 */
#include "backup/copy.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/testpoint.h"
#include "common/workers.h"
#include "pg/pagecheck.h"

#define UNIT_BYTES (16u * 1024 * 1024)

typedef struct {
    uint32_t file;
    uint32_t first; /* chunk index in the file */
    uint32_t count;
} Unit;

typedef struct {
    const DatadirList *dl;
    ChunkStore *cs;
    BackupCopyOpts opts;
    Unit *units;
    size_t nunits;
    Unit control; /* global/pg_control */
    bool has_control;
    atomic_bool paused;     /* testpoint_pause("copy") done */
    ManifestChunk **chunks; /* per file, sized at the walk's length */
    uint32_t *nchunks;
    atomic_bool *vanished;
    _Atomic uint64_t bytes_read, chunks_new, bytes_new, bytes_stored, pages_checked, bad_pages;
    _Atomic uint64_t files_guided, files_whole[GUIDE_WHOLE_COUNT], chunks_reused, bytes_reused;
    _Atomic uint64_t chunks_rebuilt;
    pthread_mutex_t lock; /* bad list */
    BackupBadPage *bad;
    size_t nbad;
} Copy;

static void copy_bad_page(Copy *c, const DatadirEntry *e, uint32_t blkno, uint16_t stored,
                          uint16_t computed)
{
    uint64_t n = atomic_fetch_add(&c->bad_pages, 1);
    if (n >= BACKUP_BAD_PAGES_KEPT)
        return;
    log_warn("page checksum mismatch in file \"%s\", block %u: stored %u, computed %u", e->path,
             blkno, stored, computed);
    pthread_mutex_lock(&c->lock);
    if (c->nbad < BACKUP_BAD_PAGES_KEPT) {
        c->bad[c->nbad].path = xstrdup(e->path);
        c->bad[c->nbad++].blkno = blkno;
    }
    pthread_mutex_unlock(&c->lock);
}

/* Check the full pages of a chunk read at offset; a mismatch is read again once. */
static void copy_check_pages(Copy *c, const DatadirEntry *e, int fd, uint64_t offset,
                             const uint8_t *data, size_t len)
{
    for (size_t p = 0; p + PG_BLCKSZ <= len; p += PG_BLCKSZ) {
        uint32_t blkno = e->segno * PG_RELSEG_BLOCKS + (uint32_t)((offset + p) / PG_BLCKSZ);
        uint16_t stored = 0, computed = 0;
        PageCheck r = pg_page_check(data + p, blkno, c->opts.start_lsn, &stored, &computed);
        if (r == PAGE_CHECK_MISMATCH) {
            uint8_t again[PG_BLCKSZ];
            if (pread(fd, again, PG_BLCKSZ, (off_t)(offset + p)) == PG_BLCKSZ)
                r = pg_page_check(again, blkno, c->opts.start_lsn, &stored, &computed);
        }
        if (r == PAGE_CHECK_OK || r == PAGE_CHECK_MISMATCH)
            atomic_fetch_add(&c->pages_checked, 1);
        if (r == PAGE_CHECK_MISMATCH)
            copy_bad_page(c, e, blkno, stored, computed);
    }
}

static int prev_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const ManifestFile *)elem)->path);
}

/* The file at the same path in the previous backup, or NULL. */
static const ManifestFile *copy_prev_file(const Copy *c, const char *path)
{
    const Manifest *m = c->opts.prev;
    if (!m)
        return NULL;
    return m->nfiles ? bsearch(path, m->files, m->nfiles, sizeof(ManifestFile), prev_cmp) : NULL;
}

/*
 * Whether the unit's file is guided (guide.h); counted once a file, by the
 * unit that starts it.
 */
static bool copy_guided(Copy *c, const Unit *u, const DatadirEntry *e, const ManifestFile *prev)
{
    if (!c->opts.guide)
        return false;
    GuideReason why;
    bool guided = backup_guide_file(c->opts.guide, e, prev, &why);
    if (u->first == 0 && guided)
        atomic_fetch_add(&c->files_guided, 1);
    else if (u->first == 0 && why != GUIDE_READ_CHANGED)
        atomic_fetch_add(&c->files_whole[why], 1);
    return guided;
}

/* A chunk the guide proves unchanged: its entry comes from the previous backup. */
static bool copy_reuse(Copy *c, const DatadirEntry *e, const ManifestFile *prev, uint32_t ci,
                       uint64_t offset, uint64_t want, ManifestChunk *mc)
{
    if (ci >= prev->nchunks || prev->chunks[ci].len != want ||
        backup_guide_chunk_changed(c->opts.guide, e, offset, (uint32_t)want))
        return false;
    *mc = prev->chunks[ci];
    atomic_fetch_add(&c->chunks_reused, 1);
    atomic_fetch_add(&c->bytes_reused, want);
    if (c->opts.progress)
        progress_add(c->opts.progress, want);
    return true;
}

/* A worker's own: the chunk buffer, a reader of the store, a base chunk read. */
typedef struct {
    uint8_t *buf;
    ChunkReader *rd;
    Buf base;
} CopyLocal;

/*
 * A chunk with few changed pages (guide.h), rebuilt without reading the rest:
 * the previous backup's chunk (the base, into l->base) with the changed pages
 * read from the file put in place, into l->buf. The unchanged pages are what
 * copy_reuse() would take whole, by the same argument. False (nothing read
 * yet, or the file shrank under the read): read the chunk whole instead.
 */
static bool copy_rebuild(Copy *c, CopyLocal *l, int fd, const DatadirEntry *e,
                         const ManifestChunk *pc, uint64_t offset, uint64_t want)
{
    uint64_t pages[GUIDE_CHUNK_PAGES_MAX / 64];
    uint32_t npages = (uint32_t)((want + PG_BLCKSZ - 1) / PG_BLCKSZ);
    uint32_t n = backup_guide_chunk_pages(c->opts.guide, e, offset, (uint32_t)want, pages);
    if (n == 0 || n * 2 > npages || npages > GUIDE_CHUNK_PAGES_MAX)
        return false; /* most pages changed: one read of the whole chunk is cheaper */
    l->base.len = 0;
    if (!chunkstore_reader_get_base(l->rd, pc->sha256, &l->base) || l->base.len != want) {
        err_clear(); /* an unreadable base: the chunk is read whole (and stored whole) */
        return false;
    }
    memcpy(l->buf, l->base.data, want);
    for (uint32_t i = 0; i < npages; i++) {
        if (!(pages[i / 64] >> (i % 64) & 1))
            continue;
        uint64_t at = (uint64_t)i * PG_BLCKSZ;
        size_t plen = want - at < PG_BLCKSZ ? (size_t)(want - at) : PG_BLCKSZ, got = 0;
        if (pread(fd, l->buf + at, plen, (off_t)(offset + at)) != (ssize_t)plen)
            return false; /* shrank, or an error: the whole read says which */
        got = plen;
        if (c->opts.check_pages && e->relation)
            copy_check_pages(c, e, fd, offset + at, l->buf + at, got);
        atomic_fetch_add(&c->bytes_read, got);
    }
    atomic_fetch_add(&c->chunks_rebuilt, 1);
    return true;
}

/* Name and store the chunk in l->buf (len got); base: the previous backup's chunk here. */
static bool copy_store(Copy *c, CopyLocal *l, ManifestChunk *mc, size_t got,
                       const ManifestChunk *base, bool have_base)
{
    chunkstore_content_id(c->cs, l->buf, got, mc->sha256);
    mc->len = (uint32_t)got;
    uint64_t stored = 0;
    bool ok = have_base ? chunkstore_put_delta_from(c->cs, mc->sha256, l->buf, got, base->sha256,
                                                    l->base.data, l->base.len, &stored)
                        : chunkstore_put_delta_with(c->cs, l->rd, mc->sha256, l->buf, got,
                                                    base ? base->sha256 : NULL, &stored);
    if (ok && stored > 0) {
        atomic_fetch_add(&c->chunks_new, 1);
        atomic_fetch_add(&c->bytes_new, got);
        atomic_fetch_add(&c->bytes_stored, stored);
    }
    if (c->opts.progress)
        progress_add(c->opts.progress, got);
    return ok;
}

/* Copy one unit; w (NULL on the calling thread) says when another worker failed. */
static bool copy_unit(Copy *c, Workers *w, const Unit *u, CopyLocal *l)
{
    const DatadirEntry *e = &c->dl->entries[u->file];
    const ManifestFile *prev = copy_prev_file(c, e->path);
    bool guided = copy_guided(c, u, e, prev);
    int fd = open(e->fullpath, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) { /* dropped during the backup: WAL replay drops it too */
            atomic_store(&c->vanished[u->file], true);
            return true;
        }
        return err_errno("could not open file \"%s\"", e->fullpath);
    }
    uint32_t cs = c->opts.chunk_size;
    posix_fadvise(fd, (off_t)u->first * cs, (off_t)u->count * cs, POSIX_FADV_SEQUENTIAL);
    bool ok = true;
    for (uint32_t i = 0; ok && i < u->count && !(w && workers_failed(w)); i++) {
        uint32_t ci = u->first + i;
        uint64_t offset = (uint64_t)ci * cs;
        uint64_t want = e->size - offset < cs ? e->size - offset : cs;
        ManifestChunk *mc = &c->chunks[u->file][ci];
        const ManifestChunk *base = prev && ci < prev->nchunks ? &prev->chunks[ci] : NULL;
        if (guided && copy_reuse(c, e, prev, ci, offset, want, mc))
            continue;
        if (guided && base && base->len == want && copy_rebuild(c, l, fd, e, base, offset, want)) {
            ok = copy_store(c, l, mc, (size_t)want, base, true);
            continue;
        }
        size_t got = 0;
        ok = fs_pread_full(fd, l->buf, (size_t)want, offset, &got, e->fullpath);
        if (!ok || got == 0)
            break; /* the file shrank: this and later chunks stay empty */
        if (c->opts.check_pages && e->relation)
            copy_check_pages(c, e, fd, offset, l->buf, got);
        atomic_fetch_add(&c->bytes_read, got);
        ok = copy_store(c, l, mc, got, base, false);
        if (got < want)
            break;
    }
    close(fd);
    return ok;
}

static bool copy_item(Workers *w, size_t i, void *local, void *arg)
{
    Copy *c = arg;
    if (!copy_unit(c, w, &c->units[i], local))
        return false;
    /* halfway through the copy, reused chunks (guided backups) counting as copied */
    uint64_t done = atomic_load(&c->bytes_read) + atomic_load(&c->bytes_reused);
    if (done * 2 >= c->dl->total_bytes && !atomic_exchange(&c->paused, true))
        testpoint_pause("copy");
    return true;
}

static void *copy_local_new(void *arg)
{
    Copy *c = arg;
    CopyLocal *l = xcalloc(1, sizeof(*l));
    l->buf = xmalloc(c->opts.chunk_size);
    l->rd = chunkstore_reader_new(c->cs);
    return l;
}

static void copy_local_free(void *local, void *arg)
{
    (void)arg;
    CopyLocal *l = local;
    chunkstore_reader_free(l->rd);
    buf_free(&l->base);
    free(l->buf);
    free(l);
}

/* Split the files into units and size the chunk slots. */
static void copy_plan(Copy *c)
{
    const DatadirList *dl = c->dl;
    uint32_t per_unit = UNIT_BYTES / c->opts.chunk_size;
    if (per_unit == 0)
        per_unit = 1;
    size_t cap = dl->total_bytes / UNIT_BYTES + dl->n + 1;
    c->units = xmalloc(cap * sizeof(Unit));
    c->chunks = xcalloc(dl->n + 1, sizeof(ManifestChunk *));
    c->nchunks = xcalloc(dl->n + 1, sizeof(uint32_t));
    c->vanished = xcalloc(dl->n + 1, sizeof(atomic_bool));
    for (size_t f = 0; f < dl->n; f++) {
        const DatadirEntry *e = &dl->entries[f];
        if (!S_ISREG(e->mode) || e->size == 0)
            continue;
        uint64_t n = (e->size + c->opts.chunk_size - 1) / c->opts.chunk_size;
        c->nchunks[f] = (uint32_t)n;
        c->chunks[f] = xcalloc(n, sizeof(ManifestChunk));
        if (strcmp(e->path, "global/pg_control") == 0) {
            c->control = (Unit){(uint32_t)f, 0, (uint32_t)n};
            c->has_control = true;
            continue; /* copied last: see backup_copy() */
        }
        for (uint64_t first = 0; first < n; first += per_unit) {
            if (c->nunits == cap) {
                cap *= 2;
                c->units = xrealloc(c->units, cap * sizeof(Unit));
            }
            uint64_t count = n - first < per_unit ? n - first : per_unit;
            c->units[c->nunits++] = (Unit){(uint32_t)f, (uint32_t)first, (uint32_t)count};
        }
    }
}

/* The manifest's file list: directories, and files up to their first short chunk. */
static void copy_collect(Copy *c, BackupCopyResult *out)
{
    const DatadirList *dl = c->dl;
    out->files = xcalloc(dl->n + 1, sizeof(ManifestFile));
    for (size_t f = 0; f < dl->n; f++) {
        const DatadirEntry *e = &dl->entries[f];
        if (atomic_load(&c->vanished[f]))
            continue;
        ManifestFile *mf = &out->files[out->nfiles++];
        mf->path = xstrdup(e->path);
        mf->mode = e->mode;
        mf->mtime = e->mtime;
        if (!S_ISREG(e->mode))
            continue;
        size_t n = 0;
        uint64_t size = 0;
        while (n < c->nchunks[f] && c->chunks[f][n].len > 0) {
            size += c->chunks[f][n].len;
            n++;
            if (c->chunks[f][n - 1].len < c->opts.chunk_size)
                break;
        }
        mf->size = size;
        mf->nchunks = n;
        mf->chunks = c->chunks[f];
        c->chunks[f] = NULL;
        if (!mf->chunks)
            mf->chunks = xcalloc(1, sizeof(ManifestChunk));
        out->bytes_logical += size;
        out->chunks += n;
    }
}

bool backup_copy(const DatadirList *dl, ChunkStore *cs, BackupCopyOpts opts, BackupCopyResult *out)
{
    memset(out, 0, sizeof(*out));
    Copy *c = xcalloc(1, sizeof(*c));
    c->dl = dl;
    c->cs = cs;
    c->opts = opts;
    if (c->opts.jobs < 1)
        c->opts.jobs = 1;
    pthread_mutex_init(&c->lock, NULL);
    c->bad = xcalloc(BACKUP_BAD_PAGES_KEPT, sizeof(BackupBadPage));
    copy_plan(c);
    bool ok = workers_run(&(WorkersOpts){.jobs = c->opts.jobs,
                                         .n = c->nunits,
                                         .item = copy_item,
                                         .local_new = copy_local_new,
                                         .local_free = copy_local_free,
                                         .arg = c});
    /*
     * pg_control goes last, as pg_basebackup sends it last: recovery of a
     * backup taken on a standby ends at the minRecoveryPoint of the copied
     * pg_control, which must therefore cover every change in the other files.
     */
    if (ok && c->has_control) {
        CopyLocal *l = copy_local_new(c);
        ok = copy_unit(c, NULL, &c->control, l);
        copy_local_free(l, c);
    }
    if (ok) {
        copy_collect(c, out);
        out->bytes_read = atomic_load(&c->bytes_read);
        out->chunks_new = atomic_load(&c->chunks_new);
        out->bytes_new = atomic_load(&c->bytes_new);
        out->bytes_stored = atomic_load(&c->bytes_stored);
        out->pages_checked = atomic_load(&c->pages_checked);
        out->bad_pages = atomic_load(&c->bad_pages);
        out->files_guided = atomic_load(&c->files_guided);
        for (int r = 0; r < GUIDE_WHOLE_COUNT; r++)
            out->files_whole[r] = atomic_load(&c->files_whole[r]);
        out->chunks_reused = atomic_load(&c->chunks_reused);
        out->bytes_reused = atomic_load(&c->bytes_reused);
        out->chunks_rebuilt = atomic_load(&c->chunks_rebuilt);
        out->bad = c->bad;
        out->nbad = c->nbad;
        c->bad = NULL;
    }
    for (size_t f = 0; f < dl->n; f++)
        free(c->chunks[f]);
    if (c->bad) {
        for (size_t i = 0; i < c->nbad; i++)
            free(c->bad[i].path);
        free(c->bad);
    }
    free(c->chunks);
    free(c->nchunks);
    free(c->vanished);
    free(c->units);
    pthread_mutex_destroy(&c->lock);
    free(c);
    return ok;
}

void backup_copy_result_free(BackupCopyResult *r)
{
    for (size_t i = 0; i < r->nbad; i++)
        free(r->bad[i].path);
    free(r->bad);
    if (r->files) {
        for (size_t i = 0; i < r->nfiles; i++) {
            free(r->files[i].path);
            free(r->files[i].chunks);
        }
        free(r->files);
    }
    memset(r, 0, sizeof(*r));
}
