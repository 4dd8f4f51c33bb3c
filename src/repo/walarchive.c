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
#include <zstd.h>

#include "common/log.h"
#include "repo/object.h"

char *walarchive_path(const WalFileName *n, const char *name)
{
    if (n->kind == WAL_FILE_HISTORY)
        return xasprintf("wal/history/%s", name);
    return xasprintf("wal/%.16s/%s", name, name);
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

/* Compare what is archived under path with sha; DD_EXIT_CONFLICT when it differs. */
static bool compare_existing(Repo *repo, const char *path, const char *name,
                             const uint8_t sha[SHA256_LEN], bool *same)
{
    bool found;
    StorageRead *r = storage_read_open(repo_storage(repo), path, &found);
    *same = false;
    if (!r)
        return !found;
    uint8_t head[OBJ_HEADER_LEN];
    ObjHeader h;
    bool ok = storage_read_at(r, 0, head, sizeof(head)) && obj_header_parse(head, sizeof(head), &h);
    storage_read_close(r);
    if (!ok)
        return err_context("archived WAL file \"%s\"", name);
    if (memcmp(h.sha256, sha, SHA256_LEN) == 0) {
        *same = true;
        return true;
    }
    err_set(DD_EXIT_CONFLICT,
            "WAL file \"%s\" is already archived in \"%s\" with different content", name,
            repo_path(repo));
    err_hint("two clusters may be archiving into one repository, or this cluster was restored "
             "without a new timeline; give each cluster its own repository");
    return false;
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
    bool ok = wal_name_parse(name, &wn) && wal_file_map(src_path, &data);
    if (ok && (wn.kind == WAL_FILE_SEGMENT || wn.kind == WAL_FILE_PARTIAL))
        ok = check_segment(repo, name, &wn, &data);
    if (!ok)
        goto done;
    path = walarchive_path(&wn, name);

    /*
     * Invariant 1. The common case is a new file: encode it (hashing and
     * compressing side by side) and store it exclusively. A file already
     * there, a retry after a crash or a race with another pusher, is
     * compared by hash.
     */
    uint8_t sha[SHA256_LEN];
    bool exists = false, same = false;
    if (!(ok = storage_exists(repo_storage(repo), path, &exists)))
        goto done;
    if (exists) {
        sha256(data.data, data.len, sha);
        if ((ok = compare_existing(repo, path, name, sha, &same)) && same)
            *result = WAL_PUSH_ALREADY;
        goto done;
    }
    ok = obj_encode(repo_codec(repo), repo_compress_level(repo), data.data, data.len, NULL, sha,
                    &obj);
    if (ok)
        ok = storage_put(repo_storage(repo), path, obj.data, obj.len,
                         (StoragePutOpts){.exclusive = true});
    if (!ok && err_code() == DD_EXIT_CONFLICT) {
        /* Lost a race with another pusher: fine if it stored the same bytes. */
        ok = compare_existing(repo, path, name, sha, &same);
        if (ok && !same)
            ok = err_set(DD_EXIT_CONFLICT, "WAL file \"%s\" vanished during the push", name);
        *result = WAL_PUSH_ALREADY;
        goto done;
    }
    *result = WAL_PUSH_STORED;
done:
    if (!ok && err_code() == DD_EXIT_IO)
        err_context("could not archive \"%s\"", name);
    wal_file_unmap(&data);
    buf_free(&obj);
    free(path);
    free(name);
    return ok;
}

static bool write_file_durably(const char *dest, const void *data, size_t len)
{
    char *tmp = xasprintf("%s.dd-tmp.%d", dest, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0;
    if (!ok)
        err_errno("could not create file \"%s\"", tmp);
    const uint8_t *p = data;
    while (ok && len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            ok = err_errno("could not write file \"%s\"", tmp);
        else {
            p += n;
            len -= (size_t)n;
        }
    }
    if (fd >= 0 && close(fd) != 0 && ok)
        ok = err_errno("could not close file \"%s\"", tmp);
    if (ok && rename(tmp, dest) != 0)
        ok = err_errno("could not rename \"%s\" to \"%s\"", tmp, dest);
    if (!ok)
        unlink(tmp);
    free(tmp);
    return ok;
}

/*
 * The hashing thread of a fetch: it follows the decompressor through the
 * output buffer, so SHA-256 and zstd run side by side instead of one after
 * the other (the two take about the same time on a 16 MiB segment).
 */
typedef struct {
    const uint8_t *data;
    Sha256Ctx *ctx;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t ready; /* bytes the decompressor has finished */
    bool done;
} HashFollow;

static void *hash_follow_main(void *arg)
{
    HashFollow *f = arg;
    size_t hashed = 0;
    for (;;) {
        pthread_mutex_lock(&f->mu);
        while (f->ready == hashed && !f->done)
            pthread_cond_wait(&f->cv, &f->mu);
        size_t upto = f->ready;
        bool done = f->done;
        pthread_mutex_unlock(&f->mu);
        sha256_update(f->ctx, f->data + hashed, upto - hashed);
        hashed = upto;
        if (done && hashed == upto)
            return NULL;
    }
}

static void hash_follow_publish(HashFollow *f, size_t ready, bool done)
{
    pthread_mutex_lock(&f->mu);
    f->ready = ready;
    f->done = done;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

#define FETCH_PIECE (1u << 20) /* the decompressor hands the hasher 1 MiB at a time */

/* Decompress a zstd payload into out (raw_len bytes), hashing it on the way. */
static bool zstd_decode_hashed(const uint8_t *src, size_t len, uint8_t *out, size_t raw_len,
                               uint8_t digest[SHA256_LEN])
{
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    HashFollow f = {.data = out, .ctx = sha256_begin()};
    pthread_mutex_init(&f.mu, NULL);
    pthread_cond_init(&f.cv, NULL);
    pthread_t th;
    bool threaded = pthread_create(&th, NULL, hash_follow_main, &f) == 0;
    ZSTD_inBuffer in = {src, len, 0};
    ZSTD_outBuffer ob = {out, 0, 0};
    size_t ret = 1;
    bool ok = dctx != NULL;
    while (ok && ob.pos < raw_len) {
        ob.size = ob.pos + FETCH_PIECE < raw_len ? ob.pos + FETCH_PIECE : raw_len;
        size_t before = ob.pos;
        ret = ZSTD_decompressStream(dctx, &ob, &in);
        if (ZSTD_isError(ret))
            ok = err_set(DD_EXIT_CORRUPT, "object payload does not decompress: %s",
                         ZSTD_getErrorName(ret));
        else if (ob.pos == before && in.pos == in.size)
            break; /* the frame ended early: caught below */
        if (threaded)
            hash_follow_publish(&f, ob.pos, false);
    }
    if (ok && ret != 0) {
        /* The output is full: the frame must end here, with no byte left over. */
        uint8_t extra;
        ZSTD_outBuffer probe = {&extra, 1, 0};
        ret = ZSTD_decompressStream(dctx, &probe, &in);
        if (ZSTD_isError(ret) || probe.pos != 0 || ret != 0)
            ok = err_set(DD_EXIT_CORRUPT, "object payload does not decompress to its length");
    }
    if (ok && (ob.pos != raw_len || in.pos != in.size))
        ok = err_set(DD_EXIT_CORRUPT, "object payload does not decompress to its length");
    if (threaded) {
        hash_follow_publish(&f, ob.pos, true);
        pthread_join(th, NULL);
    } else {
        sha256_update(f.ctx, out, ob.pos);
    }
    sha256_end(f.ctx, digest);
    pthread_cond_destroy(&f.cv);
    pthread_mutex_destroy(&f.mu);
    ZSTD_freeDCtx(dctx);
    return ok;
}

/*
 * Verify an object (object.h invariant 1) into a buffer of exactly its raw
 * length. zstd objects, what WAL is stored as, take the hashed streaming path;
 * other codecs go through obj_decode().
 */
static bool fetch_decode(const Buf *obj, Buf *raw)
{
    ObjHeader h;
    if (!obj_header_parse(obj->data, obj->len, &h))
        return false;
    if (h.codec != CODEC_ZSTD)
        return obj_decode(obj->data, obj->len, raw, NULL);
    if (obj->len - OBJ_HEADER_LEN != h.stored_len)
        return err_set(DD_EXIT_CORRUPT, "object is %s: header says %llu payload bytes, found %zu",
                       obj->len - OBJ_HEADER_LEN < h.stored_len ? "truncated" : "too long",
                       (unsigned long long)h.stored_len, obj->len - OBJ_HEADER_LEN);
    const uint8_t *payload = obj->data + OBJ_HEADER_LEN;
    if (!decompress_check_len(h.codec, payload, h.stored_len, h.raw_len))
        return err_context("object payload");
    raw->data = xmalloc(h.raw_len + 1); /* exactly: no doubling of a 16 MiB buffer */
    raw->cap = h.raw_len + 1;
    uint8_t digest[SHA256_LEN];
    if (!zstd_decode_hashed(payload, h.stored_len, raw->data, h.raw_len, digest))
        return err_context("object payload");
    if (memcmp(digest, h.sha256, SHA256_LEN) != 0)
        return err_set(DD_EXIT_CORRUPT, "object checksum mismatch: content does not hash to the "
                                        "SHA-256 in its header");
    raw->len = h.raw_len;
    return true;
}

bool walarchive_fetch(Repo *repo, const char *name, const char *dest_path, bool *found)
{
    WalFileName wn;
    if (!wal_name_parse(name, &wn))
        return false;
    char *path = walarchive_path(&wn, name);
    Buf obj = {0}, raw = {0};
    bool ok = storage_get(repo_storage(repo), path, &obj, found);
    if (ok && *found && !fetch_decode(&obj, &raw))
        ok = err_context("repository object \"%s/%s\"", repo_path(repo), path);
    if (ok && *found)
        ok = write_file_durably(dest_path, raw.data, raw.len);
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

bool walarchive_list_segments(Repo *repo, StrList *out)
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
            if (strlen(names.items[j]) == 24 && wal_name_parse(names.items[j], &wn))
                strlist_push(out, names.items[j]);
        }
        strlist_free(&names);
        free(dir);
    }
    strlist_free(&dirs);
    if (ok)
        err_clear(); /* names that are not segments were skipped, not errors */
    strlist_sort(out);
    return ok;
}
