/*
 * object.c - see object.h for the format.
 */
#include "repo/object.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common/endian.h"

static const uint8_t obj_magic[4] = {'D', 'D', 'O', '1'};

static void header_put(uint8_t *h, Codec codec, uint16_t flags, uint64_t raw_len,
                       uint64_t stored_len, const uint8_t sha[SHA256_LEN])
{
    memcpy(h, obj_magic, 4);
    h[4] = OBJ_VERSION;
    h[5] = (uint8_t)codec;
    le_put16(h + 6, flags);
    le_put64(h + 8, raw_len);
    le_put64(h + 16, stored_len);
    memcpy(h + 24, sha, SHA256_LEN);
}

/* Below this size hashing on a second thread costs more than it saves. */
#define OBJ_PARALLEL_HASH_MIN (1u << 20)

typedef struct {
    const void *data;
    size_t len;
    uint8_t digest[SHA256_LEN];
} HashJob;

static void *hash_job_run(void *arg)
{
    HashJob *job = arg;
    sha256(job->data, job->len, job->digest);
    return NULL;
}

bool obj_encode(Codec codec, int level, const void *raw, size_t len, const uint8_t *sha,
                uint8_t *sha_out, Buf *out)
{
    /*
     * Large content (a WAL segment) is hashed on a second thread while this
     * one compresses: the two take about as long, so the pair takes half.
     */
    HashJob job = {.data = raw, .len = len};
    pthread_t hasher;
    bool threaded = false;
    if (sha)
        memcpy(job.digest, sha, SHA256_LEN);
    else if (codec != CODEC_NONE && len >= OBJ_PARALLEL_HASH_MIN)
        threaded = pthread_create(&hasher, NULL, hash_job_run, &job) == 0;
    if (!sha && !threaded)
        hash_job_run(&job);

    size_t start = out->len;
    buf_reserve(out, OBJ_HEADER_LEN);
    out->len += OBJ_HEADER_LEN;
    bool ok = compress_buf(codec, level, raw, len, out);
    if (threaded)
        pthread_join(hasher, NULL);
    if (sha_out)
        memcpy(sha_out, job.digest, SHA256_LEN);
    if (!ok) {
        out->len = start;
        return false;
    }
    /* Incompressible content is stored as is: never larger than raw + header. */
    if (codec != CODEC_NONE && out->len - start - OBJ_HEADER_LEN >= len) {
        out->len = start + OBJ_HEADER_LEN;
        buf_append(out, raw, len);
        codec = CODEC_NONE;
    }
    header_put(out->data + start, codec, 0, len, out->len - start - OBJ_HEADER_LEN, job.digest);
    return true;
}

/* Content this large is compressed as two zstd frames, side by side. */
#define OBJ_SPLIT_MIN (4u << 20)

typedef struct {
    int level;
    const uint8_t *src;
    size_t len;
    Buf out;
    bool ok;
    ErrSaved err; /* the error slot is per thread */
} FrameJob;

static void *frame_job_run(void *arg)
{
    FrameJob *job = arg;
    job->ok = compress_zstd_checksummed(job->level, job->src, job->len, &job->out);
    if (!job->ok)
        job->err = err_save();
    return NULL;
}

bool obj_encode_named(Codec codec, int level, const void *raw, size_t len, Buf *out)
{
    if (codec != CODEC_ZSTD)
        return obj_encode(codec, level, raw, len, NULL, NULL, out);
    /*
     * The second half (from a page boundary) goes to a second thread while
     * this one compresses the first; frames concatenate into one payload.
     */
    size_t half = len >= OBJ_SPLIT_MIN ? (len / 2) & ~(size_t)8191 : len;
    FrameJob second = {.level = level, .src = (const uint8_t *)raw + half, .len = len - half};
    pthread_t th;
    bool threaded = half < len && pthread_create(&th, NULL, frame_job_run, &second) == 0;
    size_t start = out->len;
    buf_reserve(out, OBJ_HEADER_LEN);
    out->len += OBJ_HEADER_LEN;
    bool ok = compress_zstd_checksummed(level, raw, half, out);
    if (threaded)
        pthread_join(th, NULL);
    else if (half < len && ok)
        frame_job_run(&second);
    if (ok && half < len && !second.ok)
        ok = err_restore(&second.err);
    if (ok)
        buf_append(out, second.out.data, second.out.len);
    buf_free(&second.out);
    if (!ok) {
        out->len = start;
        return false;
    }
    size_t stored = out->len - start - OBJ_HEADER_LEN;
    if (stored >= len) { /* incompressible: stored as is, as obj_encode does */
        out->len = start;
        return obj_encode(CODEC_NONE, 0, raw, len, NULL, NULL, out);
    }
    uint8_t digest[SHA256_LEN];
    sha256(out->data + start + OBJ_HEADER_LEN, stored, digest);
    header_put(out->data + start, CODEC_ZSTD, OBJ_FLAG_PAYLOAD_SUM, len, stored, digest);
    return true;
}

bool obj_header_parse(const void *data, size_t len, ObjHeader *out)
{
    const uint8_t *h = data;
    if (len < OBJ_HEADER_LEN)
        return err_set(DD_EXIT_CORRUPT, "object is truncated: %zu bytes, shorter than its header",
                       len);
    if (memcmp(h, obj_magic, 4) != 0)
        return err_set(DD_EXIT_CORRUPT, "object has no drydock header (bad magic)");
    if (h[4] != OBJ_VERSION) {
        err_set(DD_EXIT_REPO, "object has format version %u, this drydock reads version %u", h[4],
                OBJ_VERSION);
        err_hint("use the drydock version that wrote this repository");
        return false;
    }
    if (h[5] > CODEC_LZ4)
        return err_set(DD_EXIT_CORRUPT, "object has unknown codec %u", h[5]);
    uint16_t flags = le_get16(h + 6);
    if (flags & ~OBJ_FLAG_PAYLOAD_SUM)
        return err_set(DD_EXIT_CORRUPT, "object has unknown flags 0x%04x", flags);
    if ((flags & OBJ_FLAG_PAYLOAD_SUM) && h[5] != CODEC_ZSTD)
        return err_set(DD_EXIT_CORRUPT,
                       "object is marked checksummed by its payload but its codec is %s, not zstd",
                       codec_name((Codec)h[5]));
    out->codec = (Codec)h[5];
    out->flags = flags;
    out->raw_len = le_get64(h + 8);
    out->stored_len = le_get64(h + 16);
    memcpy(out->sha256, h + 24, SHA256_LEN);
    if (out->raw_len > OBJ_MAX_RAW_LEN || out->stored_len > OBJ_MAX_RAW_LEN + OBJ_HEADER_LEN)
        return err_set(DD_EXIT_CORRUPT, "object header claims an impossible length");
    return true;
}

bool obj_check_payload(const void *data, size_t len, ObjHeader *h)
{
    if (!obj_header_parse(data, len, h))
        return false;
    if (len - OBJ_HEADER_LEN != h->stored_len)
        return err_set(DD_EXIT_CORRUPT, "object is %s: header says %llu payload bytes, found %zu",
                       len - OBJ_HEADER_LEN < h->stored_len ? "truncated" : "too long",
                       (unsigned long long)h->stored_len, len - OBJ_HEADER_LEN);
    const uint8_t *payload = (const uint8_t *)data + OBJ_HEADER_LEN;
    if (h->flags & OBJ_FLAG_PAYLOAD_SUM) { /* the payload first; zstd checks the content */
        uint8_t digest[SHA256_LEN];
        sha256(payload, h->stored_len, digest);
        if (memcmp(digest, h->sha256, SHA256_LEN) != 0)
            return err_set(DD_EXIT_CORRUPT, "object checksum mismatch: payload does not hash to "
                                            "the SHA-256 in its header");
    }
    if (!decompress_check_len(h->codec, payload, h->stored_len, h->raw_len))
        return err_context("object payload");
    return true;
}

bool obj_decode(const void *data, size_t len, Buf *raw, ObjHeader *hdr_out)
{
    ObjHeader h;
    if (!obj_check_payload(data, len, &h))
        return false;
    const uint8_t *payload = (const uint8_t *)data + OBJ_HEADER_LEN;
    size_t start = raw->len;
    buf_reserve(raw, h.raw_len + 1); /* + 1: a valid pointer even for empty content */
    if (!decompress_buf(h.codec, payload, h.stored_len, raw->data + start, h.raw_len))
        return err_context("object payload");
    uint8_t digest[SHA256_LEN];
    if (!(h.flags & OBJ_FLAG_PAYLOAD_SUM))
        sha256(raw->data + start, h.raw_len, digest);
    if (!(h.flags & OBJ_FLAG_PAYLOAD_SUM) && memcmp(digest, h.sha256, SHA256_LEN) != 0)
        return err_set(DD_EXIT_CORRUPT, "object checksum mismatch: content does not hash to the "
                                        "SHA-256 in its header");
    raw->len = start + h.raw_len;
    if (hdr_out)
        *hdr_out = h;
    return true;
}
