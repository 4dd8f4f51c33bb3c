/*
 * repocopy.c - see repocopy.h.
 */
#include "repo/repocopy.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"
#include "repo/chunkstore.h"
#include "repo/lock.h"
#include "repo/manifest.h"

#define COPY_PIECE (1u << 20)

typedef struct {
    Storage *from, *to;
    RepoCopyResult *out;
} Copy;

/* Copy one object unless the destination has it with the same size. */
static bool copy_object(Copy *c, const char *path)
{
    StorageInfo si, di;
    bool found = false, there = false;
    if (!storage_info(c->from, path, &found, &si) || !storage_info(c->to, path, &there, &di))
        return false;
    c->out->objects++;
    if (!found)
        return true; /* removed meanwhile: not ours to worry about */
    if (there && di.size == si.size) {
        c->out->skipped++;
        return true;
    }
    StorageRead *r = storage_read_open(c->from, path, &found);
    if (!r)
        return !found;
    StorageWrite *w = storage_write_begin(c->to, path);
    uint8_t *piece = xmalloc(COPY_PIECE);
    bool ok = w != NULL;
    for (size_t got = 1; ok && got > 0;) {
        ok = storage_read(r, piece, COPY_PIECE, &got) && storage_write_append(w, piece, got);
        c->out->bytes += got;
    }
    free(piece);
    storage_read_close(r);
    if (!ok) {
        storage_write_abort(w);
        return err_context("could not copy \"%s\"", path);
    }
    c->out->copied++;
    return storage_write_commit(w, (StoragePutOpts){0});
}

/* Copy the objects of dir whose names end with suffix ("" for all). */
static bool copy_dir(Copy *c, const char *dir, const char *suffix)
{
    StrList names = {0};
    bool ok = storage_list(c->from, dir, &names);
    size_t sl = strlen(suffix);
    for (size_t i = 0; ok && i < names.len; i++) {
        size_t n = strlen(names.items[i]);
        if (n < sl || strcmp(names.items[i] + n - sl, suffix) != 0)
            continue;
        char *path = xasprintf("%s/%s", dir, names.items[i]);
        ok = copy_object(c, path);
        free(path);
    }
    strlist_free(&names);
    return ok;
}

static bool copy_wal(Copy *c)
{
    StrList dirs = {0};
    bool ok = copy_dir(c, "wal/history", "") && storage_list(c->from, "wal", &dirs);
    for (size_t i = 0; ok && i < dirs.len; i++) {
        if (strlen(dirs.items[i]) != 16)
            continue;
        char *dir = xasprintf("wal/%s", dirs.items[i]);
        ok = copy_dir(c, dir, "");
        free(dir);
    }
    strlist_free(&dirs);
    return ok;
}

/* An encrypted repository's keys (keyring.h): every generation, then keys/current. */
static bool copy_keys(Copy *c)
{
    StrList names = {0};
    bool ok = storage_list(c->from, "keys", &names);
    for (size_t i = 0; ok && i < names.len; i++) {
        if (names.items[i][0] != 'g')
            continue;
        char *dir = xasprintf("keys/%s", names.items[i]);
        ok = copy_dir(c, dir, "");
        free(dir);
    }
    if (ok && names.len > 0)
        ok = copy_object(c, "keys/current");
    strlist_free(&names);
    return ok;
}

/* The destination is empty, or an unfinished copy (no metadata yet), or this very repository. */
static bool check_destination(Copy *c)
{
    bool exists, empty, found = false;
    Buf mine = {0}, theirs = {0};
    bool ok = storage_root_state(c->to, &exists, &empty) && storage_root_create(c->to);
    if (ok && exists && !empty)
        ok = storage_get(c->to, REPO_META_FILE, &theirs, &found) &&
             (!found || storage_get(c->from, REPO_META_FILE, &mine, &found));
    if (ok && theirs.len && (mine.len != theirs.len || memcmp(mine.data, theirs.data, mine.len))) {
        err_set(DD_EXIT_REPO, "destination \"%s\" holds another repository", storage_root(c->to));
        err_hint("copy into an empty directory or prefix");
        ok = false;
    }
    buf_free(&mine);
    buf_free(&theirs);
    return ok;
}

bool repo_copy(Repo *src, const Config *dst_cfg, RepoCopyResult *out)
{
    memset(out, 0, sizeof(*out));
    StorageConfig sc;
    Copy c = {.from = repo_storage(src), .out = out};
    RepoLock *archive = NULL, *backup = NULL;
    if (!repo_storage_config(dst_cfg, &sc) || !storage_open(&sc, &c.to))
        return false;
    bool ok = strcmp(storage_root(c.to), storage_root(c.from)) != 0 ||
              err_set(DD_EXIT_USAGE, "repo-copy: the source and the destination are both \"%s\"",
                      storage_root(c.from));
    ok = ok && repo_lock_wait(src, REPO_LOCK_ARCHIVE, "repo-copy", 60, &archive) &&
         repo_lock(src, REPO_LOCK_BACKUP, "repo-copy", &backup) && check_destination(&c);
    /*
     * The keys, packs before their indexes, the manifests, the WAL, the
     * metadata last. The WAL is listed once, after the manifests: in a
     * bucket wal-push takes no archive lock (walpush.h), so segments may
     * arrive while the copy runs, and the later the one listing, the more
     * it takes. What arrives after it stays in the source, as with a
     * directory's lock, until archive_command points at the destination.
     * (No manifest arrives meanwhile: the backup lock is held; and until
     * the metadata is there the copy is not a repository, so the WAL after
     * the manifests is no gap anyone can see.)
     */
    ok = ok && copy_keys(&c) && copy_dir(&c, CHUNKSTORE_PACK_DIR, ".pack") &&
         copy_dir(&c, CHUNKSTORE_PACK_DIR, ".index") && copy_dir(&c, MANIFEST_DIR, "") &&
         copy_wal(&c) && copy_object(&c, REPO_META_FILE);
    repo_lock_release(backup);
    repo_lock_release(archive);
    storage_free(c.to);
    return ok;
}
