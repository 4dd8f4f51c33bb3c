/*
 * walarchive.c - see walarchive.h.
 */
#include "repo/walarchive.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "pg/walside.h"
#include "repo/object.h"
#include "repo/walsum.h"

char *walarchive_path(const WalFileName *n, const char *name)
{
    if (n->kind == WAL_FILE_HISTORY)
        return xasprintf("wal/history/%s", name);
    return xasprintf("wal/%.16s/%s", name, name);
}

void walarchive_key_name(const char *name, char *out, size_t len)
{
    snprintf(out, len, "wal-%.16s", name);
}

/*
 * A WAL file mapped read-only: a segment is 16 MiB that is hashed and
 * compressed once, so mapping it saves copying it and faulting in a buffer.
 */
typedef struct {
    const uint8_t *data;
    size_t len;
} WalFile;

static bool wal_file_map(const char *path, WalFile *out)
{
    *out = (WalFile){0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err_errno("could not open WAL file \"%s\"", path);
        if (errno == ENOENT)
            err_hint("archive_command must pass %%p, the path relative to the data directory");
        return false;
    }
    struct stat st;
    bool ok = fstat(fd, &st) == 0;
    if (!ok)
        err_errno("could not stat WAL file \"%s\"", path);
    if (ok && st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (p == MAP_FAILED)
            ok = err_errno("could not read WAL file \"%s\"", path);
        else
            *out = (WalFile){.data = p, .len = (size_t)st.st_size};
    }
    close(fd);
    return ok;
}

static void wal_file_unmap(WalFile *f)
{
    if (f->len > 0)
        munmap((void *)f->data, f->len);
    *f = (WalFile){0};
}

/* Invariant 2: the segment belongs to this repository's cluster and to its name. */
static bool check_segment(Repo *repo, const char *name, const WalFileName *wn, const WalFile *data)
{
    uint32_t seg_size = repo_wal_seg_size(repo);
    if (data->len != seg_size) {
        err_set(DD_EXIT_CORRUPT, "WAL segment \"%s\" is %zu bytes, expected %u", name, data->len,
                seg_size);
        err_hint("a segment is archived only once complete; check archive_command passes %%p");
        return false;
    }
    WalSegmentHeader h;
    if (!wal_segment_header(data->data, data->len, &h))
        return err_context("WAL segment \"%s\"", name);
    if (h.sysid != repo_system_id(repo)) {
        err_set(DD_EXIT_CONFLICT,
                "WAL segment \"%s\" is from the cluster with system identifier %" PRIu64
                ", but repository \"%s\" belongs to %" PRIu64,
                name, h.sysid, repo_path(repo), repo_system_id(repo));
        err_hint("point this cluster's archive_command at its own repository");
        return false;
    }
    uint64_t expect = wal_segno(wn, seg_size) * seg_size;
    if (h.seg_size != seg_size || h.pageaddr != expect)
        return err_set(DD_EXIT_CORRUPT,
                       "WAL segment \"%s\" starts at LSN %X/%X, which does not match its name",
                       name, (unsigned)(h.pageaddr >> 32), (unsigned)h.pageaddr);
    return true;
}

/*
 * Whether what is archived under path is the segment, byte for byte: false
 * with DD_EXIT_CONFLICT when it differs. A damaged object is DD_EXIT_CORRUPT
 * and stays as it is (invariant 1): the error names it.
 */
static bool same_as_archived(Repo *repo, const char *path, const char *name, const WalFile *data)
{
    Buf stored = {0};
    bool found = false;
    bool ok = repo_object_get(repo, path, &stored, &found);
    bool same = ok && found && stored.len == data->len &&
                (data->len == 0 || memcmp(stored.data, data->data, data->len) == 0);
    buf_free(&stored);
    if (same)
        return true;
    if (!ok) {
        if (err_code() == DD_EXIT_CORRUPT)
            err_hint("\"drydock verify\" lists what else is damaged; moving the object aside lets "
                     "PostgreSQL's next try archive the segment again");
        return err_context("archived WAL file \"%s\"", name);
    }
    if (!found)
        return err_set(DD_EXIT_CONFLICT, "WAL file \"%s\" vanished during the push", name);
    err_set(DD_EXIT_CONFLICT,
            "WAL file \"%s\" is already archived in \"%s\" with different content", name,
            repo_path(repo));
    err_hint("two clusters may be archiving into one repository, or this cluster was restored "
             "without a new timeline; give each cluster its own repository");
    return false;
}

bool walarchive_check_side(Repo *repo, const WalFileName *wn, const char *name, const void *data,
                           size_t len)
{
    if (wn->kind == WAL_FILE_HISTORY)
        return walside_history_check(wn->tli, data, len);
    if (wn->kind == WAL_FILE_BACKUP)
        return walside_backup_check(name, repo_wal_seg_size(repo), data, len);
    return true;
}

/*
 * The segment's WAL summary (walsum.h) is decoded on a thread while the
 * segment is stored, and stored after it. A failure never fails the push:
 * the summary is then absent, a gap that makes the next guided backup read
 * the files it would have vouched for whole. DRYDOCK_WALSUM=off skips it
 * (benchmarks, and tests of gaps).
 */
static WalSumJob *summary_begin(Repo *repo, const char *name, const WalFileName *wn,
                                const WalFile *data)
{
    const char *env = getenv("DRYDOCK_WALSUM");
    if (wn->kind != WAL_FILE_SEGMENT || data->len == 0 || (env && strcmp(env, "off") == 0))
        return NULL;
    return walsum_begin(repo, name, data->data, data->len);
}

static void summary_finish(WalSumJob *job, bool pushed, const char *name)
{
    if (!job)
        return;
    ErrSaved saved = err_save(); /* the push's own error, if any, stays the one reported */
    if (!walsum_finish(job, pushed) && pushed)
        log_warn("could not summarise WAL segment \"%s\": %s (the next backup reads the files it "
                 "covers whole)",
                 name, err_message());
    if (pushed)
        err_clear();
    else
        (void)err_restore(&saved);
}

/* The segment's object: compressed (two halves side by side), encrypted when keyed. */
typedef struct {
    Repo *repo;
    const WalFile *data;
    const ObjKeys *keys;
    Buf obj;
    bool ok;
    ErrSaved err;
} EncodeJob;

static void *encode_run(void *arg)
{
    EncodeJob *j = arg;
    Repo *repo = j->repo;
    j->ok = obj_encode_named_keyed(repo_codec(repo), repo_compress_level(repo), j->data->data,
                                   j->data->len, j->keys, &j->obj);
    if (!j->ok)
        j->err = err_save();
    return NULL;
}

/*
 * Encode, and store exclusively. Where the exclusive put would be a HEAD
 * then a PUT (a bucket without conditional PUTs: s3cond.c), the HEAD runs
 * while the segment is encoded on a thread, and the PUT is a plain one
 * when the key was free: the same two requests, one fewer wait. The window
 * between the HEAD and the PUT is the one walpush.h describes.
 */
static bool encode_and_store(Repo *repo, const char *path, const WalFile *data, const ObjKeys *keys,
                             Buf *obj)
{
    Storage *st = repo_storage(repo);
    EncodeJob job = {.repo = repo, .data = data, .keys = keys};
    bool overlap = storage_remote(st) && !storage_exclusive_atomic(st);
    pthread_t th;
    bool threaded = overlap && pthread_create(&th, NULL, encode_run, &job) == 0;
    bool exists = false, ok = true;
    if (threaded) {
        ok = storage_exists(st, path, &exists);
        pthread_join(th, NULL);
    } else {
        encode_run(&job);
    }
    *obj = job.obj;
    if (ok && !job.ok)
        ok = err_restore(&job.err);
    if (ok && exists)
        return err_set(DD_EXIT_CONFLICT, "\"%s\" is already in the repository", path);
    return ok &&
           storage_put(st, path, obj->data, obj->len, (StoragePutOpts){.exclusive = !threaded});
}

bool walarchive_push(Repo *repo, const char *src_path, WalPushResult *result)
{
    char *copy = xstrdup(src_path);
    char *name = xstrdup(basename(copy));
    free(copy);
    WalFileName wn;
    WalFile data = {0};
    Buf obj = {0};
    char *path = NULL;
    WalSumJob *job = NULL;
    bool ok = wal_name_parse(name, &wn) && wal_file_map(src_path, &data);
    if (ok && (wn.kind == WAL_FILE_SEGMENT || wn.kind == WAL_FILE_PARTIAL))
        ok = check_segment(repo, name, &wn, &data);
    if (ok && wn.kind != WAL_FILE_SEGMENT && wn.kind != WAL_FILE_PARTIAL) {
        ok = walarchive_check_side(repo, &wn, name, data.data, data.len);
        if (!ok)
            err_hint("PostgreSQL writes this file itself; one it cannot read back would stop "
                     "every restore past it: replace it with the genuine file (or remove it)");
    }
    if (!ok)
        goto done;
    path = walarchive_path(&wn, name);
    job = summary_begin(repo, name, &wn, &data);

    /*
     * Invariant 1. The common case is a new file: encode it (two halves
     * compressed side by side, object.h invariant 3) and store it
     * exclusively. A file already there, a retry after a crash or a race
     * with another pusher, is compared with the segment byte for byte once
     * the exclusive put refuses it (no existence check first: on S3 the
     * exclusive put makes that check itself, and one request is a tenth of
     * a push).
     */
    /* Encrypted: one data key per WAL period (keyring.h), so per 256 segments. */
    char key[32];
    walarchive_key_name(name, key, sizeof(key));
    const ObjKeys *keys = NULL;
    ok = repo_use_key(repo, key) && repo_obj_keys(repo, true, &keys) &&
         encode_and_store(repo, path, &data, keys, &obj);
    if (!ok && err_code() == DD_EXIT_CONFLICT) {
        /* Lost a race with another pusher: fine if it stored the same bytes. */
        err_clear();
        if ((ok = same_as_archived(repo, path, name, &data)))
            *result = WAL_PUSH_ALREADY;
        goto done;
    }
    *result = WAL_PUSH_STORED;
done:
    summary_finish(job, ok, name);
    if (!ok && err_code() == DD_EXIT_IO)
        err_context("could not archive \"%s\"", name);
    wal_file_unmap(&data);
    buf_free(&obj);
    free(path);
    free(name);
    return ok;
}

/*
 * The fetch of a zstd object checksummed by its payload (object.h invariant
 * 3): the payload hashes first, then decompresses in pieces straight into
 * the temporary file (decompress_stream) while zstd checks each frame's
 * content checksum, so no 16 MiB buffer is allocated, faulted in and copied.
 * The file gets its final name only once every check passed.
 */
typedef struct {
    const uint8_t *payload;
    ObjHeader h;
    int fd;
    const char *path;
} StreamedObj;

static bool write_piece(const void *data, size_t len, void *arg)
{
    const StreamedObj *o = arg;
    return fs_write_all(o->fd, data, len, o->path);
}

static bool fill_decompressed(int fd, const char *path, void *arg)
{
    StreamedObj *o = arg;
    o->fd = fd;
    o->path = path;
    if (decompress_stream(o->h.codec, o->payload, o->h.stored_len, o->h.raw_len, write_piece, o))
        return true;
    return err_code() == DD_EXIT_CORRUPT ? err_context("object payload") : false;
}

/*
 * Fetch a verified payload-summed zstd object (object.h invariants 1, 3, 5;
 * an encrypted one is decrypted and checked first, keys the repository's)
 * into dest.
 */
static bool fetch_streamed(const Buf *obj, const ObjKeys *keys, const char *dest)
{
    StreamedObj o = {0};
    Buf plain = {0};
    bool ok = obj_payload_keyed(obj->data, obj->len, keys, &o.h, &plain, &o.payload) &&
              fs_replace_file_with(dest, 0600, false, fill_decompressed, &o);
    buf_free(&plain);
    return ok;
}

bool walarchive_fetch(Repo *repo, const char *name, const char *dest_path, bool *found)
{
    WalFileName wn;
    if (!wal_name_parse(name, &wn))
        return false;
    char *path = walarchive_path(&wn, name);
    Buf obj = {0}, raw = {0};
    ObjHeader h;
    const ObjKeys *keys = NULL;
    bool ok = storage_get(repo_storage(repo), path, &obj, found);
    if (ok && *found) {
        /* What wal-push stores with zstd streams; anything else decodes whole. */
        ok = obj_header_parse(obj.data, obj.len, &h) && repo_obj_keys(repo, false, &keys);
        if (ok && (h.flags & OBJ_FLAG_PAYLOAD_SUM))
            ok = fetch_streamed(&obj, keys, dest_path);
        else if (ok)
            ok = obj_decode_keyed(obj.data, obj.len, keys, &raw, NULL) &&
                 fs_replace_file(dest_path, raw.data, raw.len, 0600, false);
        if (!ok && err_code() == DD_EXIT_CORRUPT)
            err_context("repository object \"%s/%s\"", repo_path(repo), path);
    }
    buf_free(&obj);
    buf_free(&raw);
    free(path);
    return ok;
}

bool walarchive_exists(Repo *repo, const char *name, bool *exists)
{
    WalFileName wn;
    if (!wal_name_parse(name, &wn))
        return false;
    char *path = walarchive_path(&wn, name);
    bool ok = storage_exists(repo_storage(repo), path, exists);
    free(path);
    return ok;
}

static bool walarchive_list(Repo *repo, bool segments_only, StrList *out)
{
    StrList dirs = {0};
    bool ok = storage_list(repo_storage(repo), "wal", &dirs);
    for (size_t i = 0; ok && i < dirs.len; i++) {
        if (strlen(dirs.items[i]) != 16)
            continue;
        char *dir = xasprintf("wal/%s", dirs.items[i]);
        StrList names = {0};
        ok = storage_list(repo_storage(repo), dir, &names);
        for (size_t j = 0; ok && j < names.len; j++) {
            WalFileName wn;
            if ((!segments_only || strlen(names.items[j]) == WAL_NAME_LEN) &&
                wal_name_parse(names.items[j], &wn) && wn.kind != WAL_FILE_HISTORY)
                strlist_push(out, names.items[j]);
        }
        strlist_free(&names);
        free(dir);
    }
    strlist_free(&dirs);
    if (ok)
        err_clear(); /* names that are not WAL files were skipped, not errors */
    strlist_sort(out);
    return ok;
}

bool walarchive_list_segments(Repo *repo, StrList *out)
{
    return walarchive_list(repo, true, out);
}

bool walarchive_list_files(Repo *repo, StrList *out)
{
    return walarchive_list(repo, false, out);
}
