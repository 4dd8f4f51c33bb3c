/*
 * object.c - see object.h for the format.
 */
#include "repo/object.h"

#include <string.h>

static const uint8_t obj_magic[4] = {'D', 'D', 'O', '1'};

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

bool obj_encode(Codec codec, int level, const void *raw, size_t len, const uint8_t *sha,
                uint8_t *sha_out, Buf *out)
{
    uint8_t digest[SHA256_LEN];
    if (sha)
        memcpy(digest, sha, SHA256_LEN);
    else
        sha256(raw, len, digest);
    if (sha_out)
        memcpy(sha_out, digest, SHA256_LEN);

    size_t start = out->len;
    buf_reserve(out, OBJ_HEADER_LEN);
    out->len += OBJ_HEADER_LEN;
    if (!compress_buf(codec, level, raw, len, out)) {
        out->len = start;
        return false;
    }
    /* Incompressible content is stored as is: never larger than raw + header. */
    if (codec != CODEC_NONE && out->len - start - OBJ_HEADER_LEN >= len) {
        out->len = start + OBJ_HEADER_LEN;
        buf_append(out, raw, len);
        codec = CODEC_NONE;
    }
    uint8_t *h = out->data + start;
    memcpy(h, obj_magic, 4);
    h[4] = OBJ_VERSION;
    h[5] = (uint8_t)codec;
    h[6] = h[7] = 0;
    put64(h + 8, len);
    put64(h + 16, out->len - start - OBJ_HEADER_LEN);
    memcpy(h + 24, digest, SHA256_LEN);
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
    uint16_t flags = (uint16_t)(h[6] | h[7] << 8);
    if (flags != 0)
        return err_set(DD_EXIT_CORRUPT, "object has unknown flags 0x%04x", flags);
    out->codec = (Codec)h[5];
    out->flags = flags;
    out->raw_len = get64(h + 8);
    out->stored_len = get64(h + 16);
    memcpy(out->sha256, h + 24, SHA256_LEN);
    if (out->raw_len > OBJ_MAX_RAW_LEN || out->stored_len > OBJ_MAX_RAW_LEN + OBJ_HEADER_LEN)
        return err_set(DD_EXIT_CORRUPT, "object header claims an impossible length");
    return true;
}

bool obj_decode(const void *data, size_t len, Buf *raw, ObjHeader *hdr_out)
{
    ObjHeader h;
    if (!obj_header_parse(data, len, &h))
        return false;
    if (len - OBJ_HEADER_LEN != h.stored_len)
        return err_set(DD_EXIT_CORRUPT, "object is %s: header says %llu payload bytes, found %zu",
                       len - OBJ_HEADER_LEN < h.stored_len ? "truncated" : "too long",
                       (unsigned long long)h.stored_len, len - OBJ_HEADER_LEN);
    size_t start = raw->len;
    buf_reserve(raw, h.raw_len + 1); /* + 1: a valid pointer even for empty content */
    if (!decompress_buf(h.codec, (const uint8_t *)data + OBJ_HEADER_LEN, h.stored_len,
                        raw->data + start, h.raw_len))
        return err_context("object payload");
    uint8_t digest[SHA256_LEN];
    sha256(raw->data + start, h.raw_len, digest);
    if (memcmp(digest, h.sha256, SHA256_LEN) != 0)
        return err_set(DD_EXIT_CORRUPT, "object checksum mismatch: content does not hash to the "
                                        "SHA-256 in its header");
    raw->len = start + h.raw_len;
    if (hdr_out)
        *hdr_out = h;
    return true;
}
