/*
 * object.c - see object.h for the format.
 */
#include "repo/object.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common/endian.h"
#include "common/rand.h"
#include "repo/objcrypt.h"

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

void obj_content_id(const ObjKeys *keys, const void *raw, size_t len, uint8_t out[SHA256_LEN])
{
    if (!keys) {
        sha256(raw, len, out);
        return;
    }
    objcrypt_hmac(keys->name_key, raw, len, out);
}

/* AES-256-GCM of len bytes from in to out (which may be in); enc or not. Pieces below INT_MAX. */
static bool gcm_run(EVP_CIPHER_CTX *c, bool enc, const uint8_t *in, uint8_t *out, size_t len)
{
    int n;
    for (size_t off = 0; off < len; off += 1u << 30) {
        int piece = (int)(len - off < (1u << 30) ? len - off : (1u << 30));
        if (!(enc ? EVP_EncryptUpdate(c, out + off, &n, in + off, piece)
                  : EVP_DecryptUpdate(c, out + off, &n, in + off, piece)))
            return false;
    }
    return true;
}

/* Encrypt the payload behind header h (invariant 5): key id, nonce and tag into h. */
static bool obj_seal(uint8_t *h, uint8_t *payload, size_t len, const ObjKeys *keys)
{
    memcpy(h + OBJ_HEADER_LEN, keys->write_id, OBJ_KEY_ID_LEN);
    uint8_t *nonce = h + OBJ_HEADER_LEN + OBJ_KEY_ID_LEN;
    rand_bytes(nonce, OBJ_NONCE_LEN);
    EVP_CIPHER_CTX *c = objcrypt_gcm(true, keys->write_key, nonce); /* this thread's */
    int n;
    bool ok = c && EVP_EncryptUpdate(c, NULL, &n, h, OBJ_HEADER_LEN + OBJ_KEY_ID_LEN) &&
              gcm_run(c, true, payload, payload, len) &&
              EVP_EncryptFinal_ex(c, payload + len, &n) &&
              EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, OBJ_TAG_LEN, nonce + OBJ_NONCE_LEN);
    return ok ? true : err_set(DD_EXIT_FAIL, "could not encrypt an object (OpenSSL)");
}

/* Decrypt and authenticate the payload of an encrypted object into plain. */
static bool obj_open(const uint8_t *data, const ObjHeader *h, const ObjKeys *keys, Buf *plain)
{
    if (!keys) {
        err_set(DD_EXIT_CONFIG, "object is encrypted and no key was given to read it");
        err_hint("set [repository] cipher and cipher-pass-file or cipher-pass-command");
        return false;
    }
    uint8_t key[OBJ_KEY_LEN];
    if (!keys->lookup(keys->ctx, h->key_id, key))
        return false;
    buf_reserve(plain, h->stored_len + 1);
    plain->len = h->stored_len;
    EVP_CIPHER_CTX *c = objcrypt_gcm(false, key, h->nonce); /* this thread's */
    OPENSSL_cleanse(key, sizeof(key));
    if (!c)
        return err_set(DD_EXIT_FAIL, "could not decrypt an object (OpenSSL)");
    int n;
    uint8_t tag[OBJ_TAG_LEN];
    memcpy(tag, h->tag, OBJ_TAG_LEN);
    bool ok = EVP_DecryptUpdate(c, NULL, &n, data, OBJ_HEADER_LEN + OBJ_KEY_ID_LEN) &&
              gcm_run(c, false, data + h->header_len, plain->data, plain->len) &&
              EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, OBJ_TAG_LEN, tag) &&
              EVP_DecryptFinal_ex(c, plain->data + plain->len, &n) > 0;
    return ok ? true
              : err_set(DD_EXIT_CORRUPT, "object failed authentication (AES-256-GCM): its bytes "
                                         "were changed after it was written");
}

/* Below this size hashing on a second thread costs more than it saves. */
#define OBJ_PARALLEL_HASH_MIN (1u << 20)

typedef struct {
    const void *data;
    size_t len;
    const ObjKeys *keys; /* the keyed content id (obj_content_id), else SHA-256 */
    uint8_t digest[SHA256_LEN];
} HashJob;

static void *hash_job_run(void *arg)
{
    HashJob *job = arg;
    if (job->keys)
        obj_content_id(job->keys, job->data, job->len, job->digest);
    else
        sha256(job->data, job->len, job->digest);
    return NULL;
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

/*
 * zstd frames of raw appended to out: one, or for content of OBJ_SPLIT_MIN
 * and more two, the second half (from a page boundary) compressed on a
 * second thread while this one compresses the first.
 */
static bool zstd_halves(int level, const void *raw, size_t len, Buf *out)
{
    size_t half = len >= OBJ_SPLIT_MIN ? (len / 2) & ~(size_t)8191 : len;
    FrameJob second = {.level = level, .src = (const uint8_t *)raw + half, .len = len - half};
    pthread_t th;
    bool threaded = half < len && pthread_create(&th, NULL, frame_job_run, &second) == 0;
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
    return ok;
}

bool obj_encode(Codec codec, int level, const void *raw, size_t len, const uint8_t *sha,
                uint8_t *sha_out, Buf *out)
{
    return obj_encode_keyed(codec, level, raw, len, sha, sha_out, NULL, out);
}

bool obj_encode_keyed(Codec codec, int level, const void *raw, size_t len, const uint8_t *sha,
                      uint8_t *sha_out, const ObjKeys *keys, Buf *out)
{
    size_t hlen = keys ? OBJ_CRYPT_HEADER_LEN : OBJ_HEADER_LEN;
    /*
     * Large content (a WAL segment) is hashed on a second thread while this
     * one compresses: the two take about as long, so the pair takes half.
     */
    HashJob job = {.data = raw, .len = len, .keys = keys};
    pthread_t hasher;
    bool threaded = false;
    if (sha)
        memcpy(job.digest, sha, SHA256_LEN);
    else if (codec != CODEC_NONE && len >= OBJ_PARALLEL_HASH_MIN)
        threaded = pthread_create(&hasher, NULL, hash_job_run, &job) == 0;
    if (!sha && !threaded)
        hash_job_run(&job);

    size_t start = out->len;
    buf_reserve(out, hlen);
    out->len += hlen;
    /* invariant 7: zstd frames carry their content's checksum */
    bool ok = codec == CODEC_ZSTD ? zstd_halves(level, raw, len, out)
                                  : compress_buf(codec, level, raw, len, out);
    if (threaded)
        pthread_join(hasher, NULL);
    if (sha_out)
        memcpy(sha_out, job.digest, SHA256_LEN);
    if (!ok) {
        out->len = start;
        return false;
    }
    /* Incompressible content is stored as is: never larger than raw + header. */
    if (codec != CODEC_NONE && out->len - start - hlen >= len) {
        out->len = start + hlen;
        buf_append(out, raw, len);
        codec = CODEC_NONE;
    }
    size_t stored = out->len - start - hlen;
    header_put(out->data + start, codec, keys ? OBJ_FLAG_ENCRYPTED : 0, len, stored, job.digest);
    if (keys && !obj_seal(out->data + start, out->data + start + hlen, stored, keys)) {
        out->len = start;
        return false;
    }
    return true;
}

bool obj_encode_named(Codec codec, int level, const void *raw, size_t len, Buf *out)
{
    return obj_encode_named_keyed(codec, level, raw, len, NULL, out);
}

bool obj_encode_named_keyed(Codec codec, int level, const void *raw, size_t len,
                            const ObjKeys *keys, Buf *out)
{
    if (codec != CODEC_ZSTD)
        return obj_encode_keyed(codec, level, raw, len, NULL, NULL, keys, out);
    /*
     * Two frames side by side for a segment (zstd_halves); they concatenate
     * into one payload, summed (invariant 3; keyed, invariant 5) and then,
     * with keys, sealed.
     */
    size_t hlen = keys ? OBJ_CRYPT_HEADER_LEN : OBJ_HEADER_LEN;
    size_t start = out->len;
    buf_reserve(out, hlen);
    out->len += hlen;
    bool ok = zstd_halves(level, raw, len, out);
    if (!ok) {
        out->len = start;
        return false;
    }
    size_t stored = out->len - start - hlen;
    if (stored >= len) { /* incompressible: stored as is, as obj_encode does */
        out->len = start;
        return obj_encode_keyed(CODEC_NONE, 0, raw, len, NULL, NULL, keys, out);
    }
    uint8_t *payload = out->data + start + hlen;
    uint8_t digest[SHA256_LEN];
    obj_content_id(keys, payload, stored, digest);
    header_put(out->data + start, CODEC_ZSTD,
               OBJ_FLAG_PAYLOAD_SUM | (keys ? OBJ_FLAG_ENCRYPTED : 0), len, stored, digest);
    if (keys && !obj_seal(out->data + start, payload, stored, keys)) {
        out->len = start;
        return false;
    }
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
    if (flags & ~(OBJ_FLAG_PAYLOAD_SUM | OBJ_FLAG_ENCRYPTED))
        return err_set(DD_EXIT_CORRUPT, "object has unknown flags 0x%04x", flags);
    out->header_len = flags & OBJ_FLAG_ENCRYPTED ? OBJ_CRYPT_HEADER_LEN : OBJ_HEADER_LEN;
    if (len < out->header_len)
        return err_set(DD_EXIT_CORRUPT, "object is truncated: %zu bytes, shorter than its header",
                       len);
    if (flags & OBJ_FLAG_ENCRYPTED) {
        memcpy(out->key_id, h + OBJ_HEADER_LEN, OBJ_KEY_ID_LEN);
        memcpy(out->nonce, h + OBJ_HEADER_LEN + OBJ_KEY_ID_LEN, OBJ_NONCE_LEN);
        memcpy(out->tag, h + OBJ_HEADER_LEN + OBJ_KEY_ID_LEN + OBJ_NONCE_LEN, OBJ_TAG_LEN);
    }
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
    if (len - h->header_len != h->stored_len)
        return err_set(DD_EXIT_CORRUPT, "object is %s: header says %llu payload bytes, found %zu",
                       len - h->header_len < h->stored_len ? "truncated" : "too long",
                       (unsigned long long)h->stored_len, len - h->header_len);
    if (h->flags & OBJ_FLAG_ENCRYPTED)
        return true; /* the payload is checked once decrypted */
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
    return obj_decode_keyed(data, len, NULL, raw, hdr_out);
}

/*
 * Decompress a checked payload into raw and verify the checksum of the
 * content; light: not when the payload vouches for itself (invariant 7).
 */
static bool obj_finish(const ObjHeader *h, const uint8_t *payload, const ObjKeys *keys, bool light,
                       Buf *raw)
{
    size_t start = raw->len;
    buf_reserve(raw, h->raw_len + 1); /* + 1: a valid pointer even for empty content */
    if (!decompress_buf(h->codec, payload, h->stored_len, raw->data + start, h->raw_len))
        return err_context("object payload");
    if ((h->flags & OBJ_FLAG_PAYLOAD_SUM) ||
        (light &&
         ((h->flags & OBJ_FLAG_ENCRYPTED) ||
          (h->codec == CODEC_ZSTD && compress_zstd_all_checksummed(payload, h->stored_len))))) {
        raw->len = start + h->raw_len;
        return true;
    }
    uint8_t digest[SHA256_LEN];
    obj_content_id(keys, raw->data + start, h->raw_len, digest);
    if (memcmp(digest, h->sha256, SHA256_LEN) != 0)
        return err_set(DD_EXIT_CORRUPT,
                       "object checksum mismatch: content does not hash to the "
                       "%s in its header",
                       keys ? "keyed checksum" : "SHA-256");
    raw->len = start + h->raw_len;
    return true;
}

static bool obj_decode_mode(const void *data, size_t len, const ObjKeys *keys, bool light, Buf *raw,
                            ObjHeader *hdr_out);

bool obj_decode_keyed(const void *data, size_t len, const ObjKeys *keys, Buf *raw,
                      ObjHeader *hdr_out)
{
    return obj_decode_mode(data, len, keys, false, raw, hdr_out);
}

bool obj_decode_light(const void *data, size_t len, const ObjKeys *keys, Buf *raw,
                      ObjHeader *hdr_out)
{
    return obj_decode_mode(data, len, keys, true, raw, hdr_out);
}

bool obj_payload_keyed(const void *data, size_t len, const ObjKeys *keys, ObjHeader *h, Buf *plain,
                       const uint8_t **payload)
{
    if (!obj_check_payload(data, len, h))
        return false;
    *payload = (const uint8_t *)data + h->header_len;
    if (!(h->flags & OBJ_FLAG_ENCRYPTED))
        return true;
    if (!obj_open(data, h, keys, plain))
        return false;
    if (h->flags & OBJ_FLAG_PAYLOAD_SUM) { /* invariant 5: the payload's keyed checksum */
        uint8_t digest[SHA256_LEN];
        obj_content_id(keys, plain->data, plain->len, digest);
        if (memcmp(digest, h->sha256, SHA256_LEN) != 0)
            return err_set(DD_EXIT_CORRUPT, "object checksum mismatch: payload does not hash to "
                                            "the keyed checksum in its header");
    }
    if (!decompress_check_len(h->codec, plain->data, plain->len, h->raw_len))
        return err_context("object payload");
    *payload = plain->data;
    return true;
}

static bool obj_decode_mode(const void *data, size_t len, const ObjKeys *keys, bool light, Buf *raw,
                            ObjHeader *hdr_out)
{
    ObjHeader h;
    Buf plain = {0};
    const uint8_t *payload = NULL;
    bool ok = obj_payload_keyed(data, len, keys, &h, &plain, &payload) &&
              obj_finish(&h, payload, h.flags & OBJ_FLAG_ENCRYPTED ? keys : NULL, light, raw);
    buf_free(&plain);
    if (ok && hdr_out)
        *hdr_out = h;
    return ok;
}
