/*
 * verify.c - see verify.h.
 *
 * Memory: the damaged chunks (a sorted array, normally empty) and, per
 * backup, its WAL range; manifests are loaded one at a time.
 */
#include "backup/verify.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/testpoint.h"
#include "pg/wal.h"
#include "repo/chunkstore.h"
#include "repo/lock.h"
#include "repo/manifest.h"
#include "repo/repo.h"
#include "repo/walarchive.h"

#define VERIFY_LINES_PER_BACKUP 10
#define VERIFY_MAX_PROBLEMS     1000 /* a hand-edited manifest can name billions */
#define VERIFY_MAX_STR          "1000"

typedef struct {
    char *id;
    uint32_t tli;
    uint64_t first_seg, last_seg;
} BackupRange;

/* A chunk name a damaged pack still shows (chunkstore_scan_damaged), and that pack. */
typedef struct {
    uint8_t sha[SHA256_LEN];
    size_t pack;
} LostChunk;

typedef struct {
    Repo *repo;
    ChunkStore *cs;
    LostChunk *lost; /* sorted by name */
    size_t nlost, caplost;
    size_t cur_pack;      /* the damaged pack being scanned */
    size_t ndamaged;      /* packs whose index is damaged */
    size_t first_damaged; /* the first of them */
    VerifyReport *r;
    Progress *progress;
    uint8_t (*bad)[SHA256_LEN];
    size_t nbad, capbad;
    BackupRange *ranges;
    size_t nranges;
} Verify;

static void problem(VerifyReport *r, const char *fmt, ...) DD_PRINTF(2, 3);
/* Collect one problem line; past VERIFY_MAX_PROBLEMS, one last line says so. */
static void problem(VerifyReport *r, const char *fmt, ...)
{
    if (r->problems.len > VERIFY_MAX_PROBLEMS)
        return;
    if (r->problems.len == VERIFY_MAX_PROBLEMS) {
        strlist_push(&r->problems,
                     "more problems were found; only the first " VERIFY_MAX_STR " are listed");
        return;
    }
    char line[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    strlist_push(&r->problems, line);
}

static void damaged_backup(VerifyReport *r, const char *id)
{
    for (size_t i = 0; i < r->damaged_backups.len; i++)
        if (strcmp(r->damaged_backups.items[i], id) == 0)
            return;
    strlist_push(&r->damaged_backups, id);
}

static int sha_cmp(const void *a, const void *b)
{
    return memcmp(a, b, SHA256_LEN);
}

/* One line per problem: a pack-wide one (a truncated pack) is reported for each
 * of its chunks with the same message, and printed once. */
static void bad_chunk(void *ctx, const uint8_t sha[SHA256_LEN], const char *message)
{
    Verify *v = ctx;
    if (v->nbad == v->capbad) {
        v->capbad = v->capbad ? v->capbad * 2 : 16;
        v->bad = xrealloc(v->bad, v->capbad * SHA256_LEN);
    }
    memcpy(v->bad[v->nbad++], sha, SHA256_LEN);
    v->r->chunks_bad++;
    StrList *pl = &v->r->problems;
    if (pl->len == 0 || strcmp(pl->items[pl->len - 1], message) != 0)
        problem(v->r, "%s", message);
}

static void lost_chunk(void *ctx, const uint8_t sha[SHA256_LEN])
{
    Verify *v = ctx;
    if (v->nlost == v->caplost) {
        v->caplost = v->caplost ? v->caplost * 2 : 256;
        v->lost = xrealloc(v->lost, v->caplost * sizeof(LostChunk));
    }
    memcpy(v->lost[v->nlost].sha, sha, SHA256_LEN);
    v->lost[v->nlost++].pack = v->cur_pack;
}

/* The damaged pack that showed sha, or SIZE_MAX. */
static size_t lost_pack(const Verify *v, const uint8_t *sha)
{
    const LostChunk *l =
        v->nlost ? bsearch(sha, v->lost, v->nlost, sizeof(LostChunk), sha_cmp) : NULL;
    return l ? l->pack : SIZE_MAX;
}

static bool verify_packs(Verify *v)
{
    size_t np = chunkstore_npacks(v->cs);
    uint64_t total = 0;
    for (size_t i = 0; i < np; i++) {
        size_t n;
        const ChunkIndexEntry *e = chunkstore_pack_entries(v->cs, i, &n);
        if (n > 0)
            total += e[n - 1].offset + e[n - 1].stored_len;
    }
    if (v->progress)
        progress_phase(v->progress, "packs", total);
    for (size_t i = 0; i < np; i++) {
        size_t n;
        const ChunkIndexEntry *e = chunkstore_pack_entries(v->cs, i, &n);
        if (chunkstore_pack_damaged(v->cs, i)) {
            v->cur_pack = i;
            if (v->ndamaged++ == 0)
                v->first_damaged = i;
            chunkstore_scan_damaged(v->cs, i, lost_chunk, v);
        }
        if (n == 0)
            continue;
        v->r->packs++;
        v->r->chunks += n;
        if (!chunkstore_verify_pack(v->cs, i, bad_chunk, v))
            return false;
        if (v->progress)
            progress_add(v->progress, e[n - 1].offset + e[n - 1].stored_len);
    }
    if (v->progress)
        progress_end_phase(v->progress);
    if (v->nbad > 0)
        qsort(v->bad, v->nbad, SHA256_LEN, sha_cmp);
    if (v->nlost > 0)
        qsort(v->lost, v->nlost, sizeof(LostChunk), sha_cmp);
    return true;
}

/*
 * Name the damaged packs that break backup id: those whose envelopes showed
 * a chunk it needs (flags), and, for missing chunks no envelope named (a
 * delta's envelope names its payload, not the chunk), the damaged packs
 * that may hold them.
 */
static void verify_lost_packs(Verify *v, const char *id, const bool *flags, uint64_t unnamed)
{
    for (size_t p = 0; p < chunkstore_npacks(v->cs); p++)
        if (flags[p])
            problem(v->r,
                    "backup %s cannot be restored: it needs chunks of pack \"%s\", whose index "
                    "is damaged",
                    id, chunkstore_pack_name(v->cs, p));
    if (unnamed > 0 && v->ndamaged > 0)
        problem(v->r,
                "backup %s cannot be restored: %" PRIu64 " chunks it needs are missing; pack "
                "\"%s\"%s, whose index is damaged, may hold them",
                id, unnamed, chunkstore_pack_name(v->cs, v->first_damaged),
                v->ndamaged > 1 ? " (or another pack with a damaged index)" : "");
}

/* Check one manifest's chunk references; returns the number of problems. */
static uint64_t verify_references(Verify *v, const Manifest *m)
{
    uint64_t bad = 0;
    bool *lost = v->ndamaged ? xcalloc(chunkstore_npacks(v->cs), sizeof(bool)) : NULL;
    uint64_t unnamed = 0;
    for (size_t f = 0; f < m->nfiles; f++) {
        const ManifestFile *mf = &m->files[f];
        for (size_t c = 0; c < mf->nchunks; c++) {
            const uint8_t *sha = mf->chunks[c].sha256;
            const char *what = NULL;
            char len_what[96];
            uint32_t raw_len = 0;
            if (v->nbad && bsearch(sha, v->bad, v->nbad, SHA256_LEN, sha_cmp))
                what = "damaged";
            else if (!chunkstore_raw_len(v->cs, sha, &raw_len))
                what = "missing", v->r->chunks_missing++;
            else if (raw_len != mf->chunks[c].len) {
                snprintf(len_what, sizeof(len_what), "%" PRIu32 " bytes, not %" PRIu32, raw_len,
                         mf->chunks[c].len);
                what = len_what;
            }
            if (!what)
                continue;
            size_t lp = lost ? lost_pack(v, sha) : SIZE_MAX;
            if (lp != SIZE_MAX)
                lost[lp] = true;
            else if (strcmp(what, "missing") == 0)
                unnamed++;
            if (bad++ < VERIFY_LINES_PER_BACKUP) {
                char hex[SHA256_HEX_LEN + 1];
                sha256_hex(sha, hex);
                problem(v->r, "backup %s: file \"%s\" (offset %llu): chunk %s is %s", m->id,
                        mf->path, (unsigned long long)c * m->chunk_size, hex, what);
            }
        }
    }
    if (bad > VERIFY_LINES_PER_BACKUP)
        problem(v->r, "backup %s: %" PRIu64 " more damaged or missing chunks", m->id,
                bad - VERIFY_LINES_PER_BACKUP);
    if (lost)
        verify_lost_packs(v, m->id, lost, unnamed);
    free(lost);
    return bad;
}

/* The manifests listed before the indexes were read (verify_run says why). */
static bool verify_manifests(Verify *v, const StrList *listed)
{
    StrList ids = {0};
    for (size_t i = 0; i < listed->len; i++)
        strlist_push(&ids, listed->items[i]);
    v->ranges = xcalloc(ids.len + 1, sizeof(BackupRange));
    uint32_t seg_size = repo_wal_seg_size(v->repo);
    for (size_t i = 0; i < ids.len; i++) {
        Manifest *m = NULL;
        v->r->manifests++;
        if (!manifest_load(v->repo, ids.items[i], &m)) {
            problem(v->r, "backup %s cannot be restored: %s", ids.items[i], err_message());
            damaged_backup(v->r, ids.items[i]);
            err_clear();
            continue;
        }
        BackupRange *br = &v->ranges[v->nranges++];
        br->id = xstrdup(m->id);
        br->tli = m->tli;
        br->first_seg = wal_segno_of_lsn(m->start_lsn, seg_size, false);
        br->last_seg = wal_segno_of_lsn(m->stop_lsn, seg_size, true);
        if (br->last_seg < br->first_seg)
            br->last_seg = br->first_seg;
        if (verify_references(v, m) > 0)
            damaged_backup(v->r, m->id);
        manifest_free(m);
    }
    strlist_free(&ids);
    return true;
}

/* Say which backups a bad or missing segment breaks, and the PITR range it cuts. */
static void verify_segment_impact(Verify *v, const char *name, const char *what)
{
    WalFileName wn;
    if (!wal_name_parse(name, &wn))
        return;
    uint64_t seg = wal_segno(&wn, repo_wal_seg_size(v->repo));
    bool any = false;
    for (size_t i = 0; i < v->nranges; i++) {
        BackupRange *br = &v->ranges[i];
        if (br->tli == wn.tli && seg >= br->first_seg && seg <= br->last_seg) {
            problem(v->r, "WAL segment %s is %s: backup %s cannot be restored", name, what, br->id);
            damaged_backup(v->r, br->id);
            any = true;
        }
    }
    if (!any)
        problem(v->r,
                "WAL segment %s is %s: point-in-time recovery cannot pass its start (timeline "
                "%u); restores to earlier points are not affected",
                name, what, wn.tli);
}

/* Read one WAL archive object back; a history or backup file's content is checked too. */
static bool verify_one_object(Verify *v, const char *path, const char *name, bool *ok_out)
{
    Buf raw = {0};
    bool found = false;
    *ok_out = true;
    if (!repo_object_get(v->repo, path, &raw, &found)) {
        if (err_code() != DD_EXIT_CORRUPT) {
            buf_free(&raw);
            return false;
        }
        problem(v->r, "%s", err_message());
        err_clear();
        *ok_out = false;
    }
    WalFileName wn;
    if (*ok_out && found && wal_name_parse(name, &wn) &&
        !walarchive_check_side(v->repo, &wn, name, raw.data, raw.len)) {
        problem(v->r, "archived %s: restores that need it fail to start", err_message());
        *ok_out = false;
    }
    err_clear();
    if (v->progress)
        progress_add(v->progress, raw.len);
    buf_free(&raw);
    return true;
}

/* The backup history files (.backup) of the archive, checked. */
static bool verify_backup_files(Verify *v)
{
    StrList files = {0};
    bool ok = walarchive_list_files(v->repo, &files);
    for (size_t i = 0; ok && i < files.len; i++) {
        WalFileName wn;
        if (!wal_name_parse(files.items[i], &wn) || wn.kind != WAL_FILE_BACKUP)
            continue;
        char *path = walarchive_path(&wn, files.items[i]);
        bool good = true;
        ok = verify_one_object(v, path, files.items[i], &good);
        free(path);
    }
    err_clear();
    strlist_free(&files);
    return ok;
}

/*
 * The segments a backup needs (start to stop) that are not archived: the
 * first VERIFY_LINES_PER_BACKUP named, the rest counted from the sorted list
 * of archived segments, so that a range of billions (a hand-edited stop LSN)
 * costs no more than the archive's length.
 */
static bool verify_backup_wal(Verify *v, const BackupRange *br, const StrList *segs)
{
    uint32_t seg_size = repo_wal_seg_size(v->repo);
    uint64_t named = 0, present = 0, s = br->first_seg;
    for (; named < VERIFY_LINES_PER_BACKUP && s <= br->last_seg; s++) {
        char name[32];
        wal_segment_name(br->tli, s, seg_size, name);
        bool exists = false;
        if (!walarchive_exists(v->repo, name, &exists))
            return false;
        if (exists)
            continue;
        problem(v->r, "WAL segment %s is missing: backup %s cannot be restored", name, br->id);
        damaged_backup(v->r, br->id);
        named++;
    }
    if (s > br->last_seg)
        return true;
    for (size_t i = 0; i < segs->len; i++) { /* archived segments in [s, last] */
        WalFileName wn;
        if (wal_name_parse(segs->items[i], &wn) && wn.tli == br->tli &&
            wal_segno(&wn, seg_size) >= s && wal_segno(&wn, seg_size) <= br->last_seg)
            present++;
    }
    err_clear();
    uint64_t more = br->last_seg - s + 1 - present;
    if (more > 0)
        problem(v->r, "backup %s: %" PRIu64 " more WAL segments missing", br->id, more);
    return true;
}

static bool verify_wal(Verify *v)
{
    StrList segs = {0};
    if (!walarchive_list_segments(v->repo, &segs))
        return false;
    uint32_t seg_size = repo_wal_seg_size(v->repo);
    if (v->progress)
        progress_phase(v->progress, "wal", (uint64_t)segs.len * seg_size);
    bool ok = true;
    for (size_t i = 0; ok && i < segs.len; i++) {
        WalFileName wn;
        if (!wal_name_parse(segs.items[i], &wn))
            continue;
        char *path = walarchive_path(&wn, segs.items[i]);
        bool good = true;
        ok = verify_one_object(v, path, segs.items[i], &good);
        free(path);
        v->r->segments++;
        if (ok && !good) {
            v->r->segments_bad++;
            verify_segment_impact(v, segs.items[i], "damaged");
        }
        /* a hole between two archived segments of one timeline */
        WalFileName prev;
        if (ok && i > 0 && wal_name_parse(segs.items[i - 1], &prev) && prev.tli == wn.tli) {
            uint64_t a = wal_segno(&prev, seg_size), b = wal_segno(&wn, seg_size);
            for (uint64_t s = a + 1; s < b && s < a + 1000; s++) {
                char name[32];
                wal_segment_name(wn.tli, s, seg_size, name);
                v->r->segments_missing++;
                verify_segment_impact(v, name, "missing");
            }
        }
    }
    if (v->progress)
        progress_end_phase(v->progress);
    err_clear();
    /* backups whose WAL is not archived at all (past the last segment) */
    for (size_t b = 0; ok && b < v->nranges; b++)
        ok = verify_backup_wal(v, &v->ranges[b], &segs);
    StrList hist = {0};
    ok = ok && verify_backup_files(v) && storage_list(repo_storage(v->repo), "wal/history", &hist);
    for (size_t i = 0; ok && i < hist.len; i++) {
        char *path = xasprintf("wal/history/%s", hist.items[i]);
        bool good = true;
        ok = verify_one_object(v, path, hist.items[i], &good);
        v->r->history_files++;
        free(path);
    }
    strlist_free(&hist);
    strlist_free(&segs);
    return ok;
}

bool verify_run(Repo *repo, Progress *progress, VerifyReport *r)
{
    memset(r, 0, sizeof(*r));
    Verify v = {.r = r, .progress = progress, .repo = repo};
    /* Shared with restores; an expire removing chunks meanwhile would look like damage. */
    RepoLock *lock = NULL;
    if (!repo_lock(repo, REPO_LOCK_CHUNKS_SHARED, "verify", &lock))
        return false;
    /*
     * The manifests are listed before the indexes are read: a backup commits
     * its packs and indexes before its manifest, so every listed manifest's
     * chunks are in indexes read afterwards. (Read the other way round, a
     * backup committing in between looked like missing chunks.)
     */
    StrList ids = {0};
    StrList damaged = {0};
    bool ok = manifest_list(v.repo, &ids) && chunkstore_open_lenient(v.repo, &v.cs, &damaged);
    if (ok)
        testpoint_pause("verify-indexes"); /* indexes read, manifests not loaded yet */
    for (size_t i = 0; i < damaged.len; i++)
        problem(r, "%s: its pack's chunks are treated as missing", damaged.items[i]);
    strlist_free(&damaged);
    ok = ok && verify_packs(&v) && verify_manifests(&v, &ids) && verify_wal(&v);
    strlist_free(&ids);
    for (size_t i = 0; i < v.nranges; i++)
        free(v.ranges[i].id);
    free(v.ranges);
    free(v.bad);
    free(v.lost);
    chunkstore_close(v.cs);
    repo_lock_release(lock);
    return ok;
}

void verify_report_free(VerifyReport *r)
{
    strlist_free(&r->problems);
    strlist_free(&r->damaged_backups);
}
