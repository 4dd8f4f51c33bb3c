/*
 * compare.c - see compare.h.
 */
#include "backup/compare.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/endian.h"
#include "common/fsutil.h"
#include "pg/datadir.h"
#include "repo/chunkstore.h"
#include "repo/manifest.h"

static uint64_t page_lsn(const uint8_t *page)
{
    return (uint64_t)le_get32(page) << 32 | le_get32(page + 4);
}

static bool is_map_fork(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return strstr(base, "_fsm") || strstr(base, "_vm");
}

static void problem(CompareReport *r, const char *fmt, ...) DD_PRINTF(2, 3);
static void problem(CompareReport *r, const char *fmt, ...)
{
    r->mismatches++;
    if (r->problems.len >= COMPARE_PROBLEMS_KEPT)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    if (s)
        strlist_push_owned(&r->problems, s);
}

/* The pages of one chunk, stored as raw, against the file at offset. */
static void compare_chunk(CompareReport *r, const Manifest *m, const ManifestFile *f, int fd,
                          uint32_t segno, uint64_t offset, const Buf *raw, uint8_t *live)
{
    size_t got = 0;
    if (!fs_pread_full(fd, live, raw->len, offset, &got, f->path)) {
        err_clear();
        return;
    }
    for (size_t p = 0; p + PG_BLCKSZ <= raw->len && p + PG_BLCKSZ <= got; p += PG_BLCKSZ) {
        if (page_lsn(live + p) >= m->start_lsn) {
            r->pages_newer++;
            continue;
        }
        r->pages_compared++;
        if (memcmp(live + p, raw->data + p, PG_BLCKSZ) == 0)
            continue;
        uint8_t again[PG_BLCKSZ];
        if (pread(fd, again, PG_BLCKSZ, (off_t)(offset + p)) == PG_BLCKSZ &&
            (page_lsn(again) >= m->start_lsn || memcmp(again, raw->data + p, PG_BLCKSZ) == 0))
            continue;
        uint64_t lsn = page_lsn(live + p);
        problem(r,
                "file \"%s\" block %u differs from backup %s although its LSN %X/%X is before "
                "the backup's start",
                f->path, segno * PG_RELSEG_BLOCKS + (uint32_t)((offset + p) / PG_BLCKSZ), m->id,
                (unsigned)(lsn >> 32), (unsigned)lsn);
    }
}

static bool compare_file(CompareReport *r, ChunkStore *cs, const Manifest *m, const ManifestFile *f,
                         const char *datadir)
{
    uint32_t segno;
    if (!S_ISREG(f->mode) || !datadir_relation_segment(f->path, &segno) || is_map_fork(f->path))
        return true;
    char *path = xasprintf("%s/%s", datadir, f->path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    if (fd < 0)
        return true; /* dropped since: nothing to compare */
    r->files++;
    Buf raw = {0};
    uint8_t *live = xmalloc(m->chunk_size);
    bool ok = true;
    uint64_t offset = 0;
    for (size_t i = 0; ok && i < f->nchunks; i++) {
        buf_reset(&raw);
        ok = chunkstore_get(cs, f->chunks[i].sha256, &raw);
        if (ok && raw.len <= m->chunk_size)
            compare_chunk(r, m, f, fd, segno, offset, &raw, live);
        offset += f->chunks[i].len;
    }
    free(live);
    buf_free(&raw);
    close(fd);
    return ok;
}

bool backup_compare_full(Repo *repo, const char *id, const char *datadir, CompareReport *out)
{
    memset(out, 0, sizeof(*out));
    StrList ids = {0};
    Manifest *m = NULL;
    ChunkStore *cs = NULL;
    bool ok = manifest_list(repo, &ids);
    if (ok && !id && ids.len == 0)
        ok = err_set(DD_EXIT_REPO, "repository \"%s\" holds no backup to compare", repo_path(repo));
    ok = ok && manifest_load(repo, id ? id : ids.items[ids.len - 1], &m) &&
         chunkstore_open(repo, &cs);
    if (ok) {
        snprintf(out->backup, sizeof(out->backup), "%s", m->id);
        out->guided = m->guided;
        for (size_t i = 0; ok && i < m->nfiles; i++)
            ok = compare_file(out, cs, m, &m->files[i], datadir);
    }
    chunkstore_close(cs);
    manifest_free(m);
    strlist_free(&ids);
    return ok;
}

void compare_report_free(CompareReport *r)
{
    strlist_free(&r->problems);
}
