/*
 * expire.c - see expire.h.
 */
#include "backup/expire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/shaset.h"
#include "common/testpoint.h"
#include "common/timeutil.h"
#include "pg/wal.h"
#include "repo/lock.h"
#include "repo/manifest.h"
#include "repo/walarchive.h"
#include "repo/walsum.h"

static bool live_has(void *ctx, const uint8_t sha[SHA256_LEN])
{
    return sha_set_has(ctx, sha);
}

static void live_add_manifest(ShaSet *l, const Manifest *m)
{
    for (size_t f = 0; f < m->nfiles; f++)
        for (size_t c = 0; c < m->files[f].nchunks; c++)
            sha_set_add(l, m->files[f].chunks[c].sha256);
}

/* Index of the oldest kept backup in ids (oldest first). */
static size_t expire_first_kept(Repo *repo, const StrList *ids, ExpireOpts opts, bool *ok)
{
    *ok = true;
    if (ids->len == 0)
        return 0;
    if (opts.keep_backups > 0)
        return ids->len > (size_t)opts.keep_backups ? ids->len - (size_t)opts.keep_backups : 0;
    double cutoff = time_wall() - (double)opts.keep_days * 86400.0;
    size_t first = ids->len - 1; /* the newest is always kept */
    for (size_t i = ids->len; i-- > 0;) {
        Manifest *m = NULL;
        if (!manifest_load(repo, ids->items[i], &m)) {
            *ok = false;
            return 0;
        }
        double start = m->start_time;
        manifest_free(m);
        first = i;
        if (start < cutoff) /* the newest before the window: keeps its first point reachable */
            break;
    }
    return first;
}

/*
 * Remove WAL segments older than the oldest kept backup's start segment, and
 * the .partial and .backup files of those segments (nothing needs them).
 */
static bool expire_wal(Repo *repo, uint64_t keep_from, ExpireResult *out)
{
    StrList segs = {0};
    if (!walarchive_list_files(repo, &segs))
        return false;
    uint32_t seg_size = repo_wal_seg_size(repo);
    StrList paths = {0}, dirs = {0};
    uint64_t nsegs = 0; /* segments, not .partial or .backup files */
    for (size_t i = 0; i < segs.len; i++) {
        WalFileName wn;
        if (!wal_name_parse(segs.items[i], &wn) || wal_segno(&wn, seg_size) >= keep_from)
            continue;
        char *path = walarchive_path(&wn, segs.items[i]);
        strlist_push(&paths, path);
        if (wn.kind == WAL_FILE_SEGMENT) { /* its summary (repo/walsum.h) goes with it */
            char *sum = walsum_path(segs.items[i]);
            strlist_push(&paths, sum);
            free(sum);
        }
        free(path);
        if (wn.kind == WAL_FILE_SEGMENT)
            nsegs++;
        char dir[32];
        snprintf(dir, sizeof(dir), "wal/%.16s", segs.items[i]);
        if (dirs.len == 0 || strcmp(dirs.items[dirs.len - 1], dir) != 0)
            strlist_push(&dirs, dir);
    }
    err_clear(); /* names that are not segments were skipped, not errors */
    /* Segments in batches, then their folders (a directory's, only if empty). */
    bool ok = storage_remove_many(repo_storage(repo), &paths);
    if (ok)
        out->segments_removed += nsegs;
    for (size_t i = 0; ok && i < dirs.len; i++)
        ok = storage_remove(repo_storage(repo), dirs.items[i]);
    strlist_free(&paths);
    strlist_free(&dirs);
    strlist_free(&segs);
    return ok;
}

/*
 * Remove the temporary files of writers killed mid-write (a backup's pack,
 * a manifest, a wal-push): invisible to every reader, but they use space.
 * Only files whose writer is dead go (storage_remove_orphans): in packs/
 * and backups/ any unfinished upload is dead, since expire holds the backup
 * lock; in wal/ a wal-push may be running, so an upload must be an hour old.
 */
#define EXPIRE_WAL_ORPHAN_AGE 3600.0

static bool expire_orphans(Repo *repo, ExpireResult *out)
{
    Storage *st = repo_storage(repo);
    StrList dirs = {0};
    bool ok =
        storage_remove_orphans(st, "packs", 0, &out->temps_removed) &&
        storage_remove_orphans(st, MANIFEST_DIR, 0, &out->temps_removed) &&
        storage_remove_orphans(st, "wal/history", EXPIRE_WAL_ORPHAN_AGE, &out->temps_removed) &&
        storage_list(st, "wal", &dirs);
    for (size_t i = 0; ok && i < dirs.len; i++) {
        char *dir = xasprintf("wal/%s", dirs.items[i]);
        ok = storage_remove_orphans(st, dir, EXPIRE_WAL_ORPHAN_AGE, &out->temps_removed);
        free(dir);
    }
    strlist_free(&dirs);
    return ok;
}

/* Encrypted: the packs expire rewrites get a data key of this run (keyring.h). */
static bool expire_use_key(Repo *repo)
{
    char when[64], key[80];
    time_format(time_wall(), when, sizeof(when));
    snprintf(key, sizeof(key), "expire-%s", when);
    return repo_use_key(repo, key);
}

static bool expire_locked(Repo *repo, ExpireOpts opts, ExpireResult *out)
{
    StrList ids = {0};
    ShaSet live = {0};
    Manifest *oldest = NULL;
    ChunkStore *cs = NULL;
    bool ok = manifest_list(repo, &ids);
    size_t first = ok ? expire_first_kept(repo, &ids, opts, &ok) : 0;
    for (size_t i = first; ok && i < ids.len; i++) { /* step 1 */
        Manifest *m = NULL;
        ok = manifest_load(repo, ids.items[i], &m);
        if (!ok) {
            err_context("expire keeps backup \"%s\" but cannot read it", ids.items[i]);
            err_hint("run \"drydock verify\"; nothing was removed");
            break;
        }
        live_add_manifest(&live, m);
        if (i == first)
            oldest = m;
        else
            manifest_free(m);
    }
    if (ok && oldest) {
        snprintf(out->oldest_kept, sizeof(out->oldest_kept), "%s", oldest->id);
        out->backups_kept = ids.len - first;
    }
    for (size_t i = 0; ok && i < first; i++) { /* step 2 */
        ok = manifest_remove(repo, ids.items[i]);
        if (ok)
            out->backups_removed++;
    }
    if (ok)
        testpoint_pause("expire-manifests"); /* manifests gone, WAL and chunks not yet */
    if (ok && oldest)                        /* step 3 */
        ok = expire_wal(repo, wal_segno_of_lsn(oldest->start_lsn, repo_wal_seg_size(repo), false),
                        out);
    sha_set_sort(&live);
    if (ok) /* step 4: with no backup left, every chunk is garbage */
        ok = expire_use_key(repo) && chunkstore_open(repo, &cs) &&
             chunkstore_gc(cs, live_has, &live, &out->gc);
    chunkstore_close(cs);
    if (ok) /* step 5: what killed writers left behind */
        ok = expire_orphans(repo, out);
    manifest_free(oldest);
    sha_set_free(&live);
    strlist_free(&ids);
    return ok;
}

bool expire_run(Repo *repo, ExpireOpts opts, ExpireResult *out)
{
    memset(out, 0, sizeof(*out));
    RepoLock *lock = NULL, *chunks = NULL;
    bool ok = repo_lock(repo, REPO_LOCK_BACKUP, "expire", &lock) &&
              repo_lock(repo, REPO_LOCK_CHUNKS, "expire", &chunks) &&
              expire_locked(repo, opts, out);
    repo_lock_release(chunks);
    repo_lock_release(lock);
    return ok;
}
