/*
 * catalog_load.c - the repository side of catalog.h: reading manifests and
 * the archived segment list. (Kept apart from catalog.c so that the pure
 * window and rendering code links without the repository modules.)
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"
#include "pg/wal.h"
#include "repo/manifest.h"
#include "repo/walarchive.h"
#include "restore/catalog.h"

static bool load_backups(Repo *repo, Catalog *c)
{
    StrList ids = {0};
    bool ok = manifest_list(repo, &ids);
    c->backups = xcalloc(ids.len ? ids.len : 1, sizeof(*c->backups));
    for (size_t i = 0; ok && i < ids.len; i++) {
        Manifest *m = NULL;
        if (!manifest_load(repo, ids.items[i], &m)) {
            if (err_code() != DD_EXIT_CORRUPT) {
                ok = false;
                break;
            }
            log_warn("backup %s is left out: %s", ids.items[i], err_message());
            err_clear();
            strlist_push(&c->damaged, ids.items[i]);
            continue;
        }
        c->backups[c->nbackups++] = (CatalogBackup){
            .id = xstrdup(m->id),
            .source_node = xstrdup(m->source_node ? m->source_node : ""),
            .tli = m->tli,
            .start_lsn = m->start_lsn,
            .stop_lsn = m->stop_lsn,
            .start_time = m->start_time,
            .stop_time = m->stop_time,
            .bytes_logical = m->bytes_logical,
            .bytes_new = m->bytes_new,
            .bytes_stored = m->bytes_stored,
            .duration = m->duration,
            .nfiles = m->nfiles,
            .ntablespaces = m->ntablespaces,
            .guided = m->guided,
            .full_read_reason = xstrdup(m->full_read_reason ? m->full_read_reason : ""),
            .files_guided = m->files_guided,
            .read_whole = m->read_whole,
            .nread_whole = m->nread_whole,
        };
        for (size_t k = 0; k < m->nread_whole; k++)
            c->backups[c->nbackups - 1].files_read_whole += m->read_whole[k].n;
        m->read_whole = NULL; /* now the catalog's */
        m->nread_whole = 0;
        manifest_free(m);
    }
    strlist_free(&ids);
    return ok;
}

/* The archived segments with their archived-at times. */
static bool load_segments(Repo *repo, WindowSegment **out, size_t *n)
{
    StrList names = {0};
    uint32_t seg_size = repo_wal_seg_size(repo);
    bool ok = walarchive_list_segments(repo, &names);
    *out = xcalloc(names.len ? names.len : 1, sizeof(**out));
    *n = 0;
    for (size_t i = 0; ok && i < names.len; i++) {
        WalFileName wn;
        if (!wal_name_parse(names.items[i], &wn)) {
            err_clear();
            continue;
        }
        char *path = walarchive_path(&wn, names.items[i]);
        bool found = false;
        StorageInfo info = {0};
        ok = storage_info(repo_storage(repo), path, &found, &info);
        free(path);
        if (ok && found)
            (*out)[(*n)++] = (WindowSegment){wn.tli, wal_segno(&wn, seg_size), info.mtime};
    }
    strlist_free(&names);
    return ok;
}

bool catalog_load(Repo *repo, Catalog *out)
{
    memset(out, 0, sizeof(*out));
    WindowSegment *segs = NULL;
    size_t nsegs = 0;
    bool ok = load_backups(repo, out) && load_segments(repo, &segs, &nsegs);
    if (ok)
        catalog_compute(out, segs, nsegs, repo_wal_seg_size(repo));
    free(segs);
    if (!ok)
        catalog_free(out);
    return ok;
}
