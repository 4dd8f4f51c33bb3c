/*
 * compress.c - see compress.h.
 */
#include "common/compress.h"

#include <lz4.h>
#include <lz4hc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

static _Thread_local ZSTD_CCtx *zstd_cctx;
static _Thread_local ZSTD_DCtx *zstd_dctx;

/*
 * A worker thread's contexts are freed when it exits (a thread-specific key
 * with a destructor): without it, every thread of a parallel backup or
 * restore would leak its contexts.
 */
static pthread_key_t ctx_key;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;

static void ctx_release(void *unused)
{
    (void)unused;
    ZSTD_freeCCtx(zstd_cctx);
    ZSTD_freeDCtx(zstd_dctx);
    zstd_cctx = NULL;
    zstd_dctx = NULL;
}

static void ctx_key_create(void)
{
    (void)pthread_key_create(&ctx_key, ctx_release);
}

/* Arrange for this thread's contexts to be freed at its exit. */
static void ctx_track(void)
{
    pthread_once(&ctx_once, ctx_key_create);
    (void)pthread_setspecific(ctx_key, &ctx_key);
}

bool codec_parse(const char *name, Codec *out)
{
    if (strcmp(name, "zstd") == 0)
        *out = CODEC_ZSTD;
    else if (strcmp(name, "lz4") == 0)
        *out = CODEC_LZ4;
    else if (strcmp(name, "none") == 0)
        *out = CODEC_NONE;
    else
        return false;
    return true;
}

const char *codec_name(Codec codec)
{
    switch (codec) {
    case CODEC_NONE:
        return "none";
    case CODEC_ZSTD:
        return "zstd";
    case CODEC_LZ4:
        return "lz4";
    }
    return "unknown";
}

void codec_level_range(Codec codec, int *min, int *max)
{
    switch (codec) {
    case CODEC_ZSTD:
        *min = 1;
        *max = 19;
        return;
    case CODEC_LZ4:
        *min = 1;
        *max = 12;
        return;
    case CODEC_NONE:
        break;
    }
    *min = 0;
    *max = 9;
}

bool compress_buf(Codec codec, int level, const void *src, size_t len, Buf *out)
{
    switch (codec) {
    case CODEC_NONE:
        buf_append(out, src, len);
        return true;
    case CODEC_ZSTD: {
        if (!zstd_cctx) {
            zstd_cctx = ZSTD_createCCtx();
            ctx_track();
        }
        if (!zstd_cctx)
            return err_set(DD_EXIT_FAIL, "could not create a zstd context");
        size_t bound = ZSTD_compressBound(len);
        buf_reserve(out, bound);
        size_t n = ZSTD_compressCCtx(zstd_cctx, out->data + out->len, bound, src, len, level);
        if (ZSTD_isError(n))
            return err_set(DD_EXIT_FAIL, "zstd compression failed: %s", ZSTD_getErrorName(n));
        out->len += n;
        return true;
    }
    case CODEC_LZ4: {
        if (len > (size_t)LZ4_MAX_INPUT_SIZE)
            return err_set(DD_EXIT_FAIL, "lz4 cannot compress %zu bytes in one block", len);
        int bound = LZ4_compressBound((int)len);
        buf_reserve(out, (size_t)bound);
        int n = level > 1
                    ? LZ4_compress_HC(src, (char *)out->data + out->len, (int)len, bound, level)
                    : LZ4_compress_default(src, (char *)out->data + out->len, (int)len, bound);
        if (n <= 0)
            return err_set(DD_EXIT_FAIL, "lz4 compression failed");
        out->len += (size_t)n;
        return true;
    }
    }
    return err_set(DD_EXIT_FAIL, "unknown codec %d", (int)codec);
}

bool compress_zstd_all_checksummed(const void *src, size_t len)
{
    const uint8_t *p = src;
    if (len == 0)
        return false;
    while (len > 0) {
        /* a frame: magic 0xFD2FB528, then the descriptor, bit 2 Content_Checksum_flag */
        size_t n = ZSTD_findFrameCompressedSize(p, len);
        if (ZSTD_isError(n) || n > len || n < 5 || p[0] != 0x28 || p[1] != 0xB5 || p[2] != 0x2F ||
            p[3] != 0xFD || !(p[4] & 0x04))
            return false;
        p += n;
        len -= n;
    }
    return true;
}

bool compress_zstd_checksummed(int level, const void *src, size_t len, Buf *out)
{
    if (!zstd_cctx) {
        zstd_cctx = ZSTD_createCCtx();
        ctx_track();
    }
    if (!zstd_cctx)
        return err_set(DD_EXIT_FAIL, "could not create a zstd context");
    /* compress_buf's ZSTD_compressCCtx ignores these parameters: no reset needed there. */
    ZSTD_CCtx_reset(zstd_cctx, ZSTD_reset_session_and_parameters);
    size_t rc = ZSTD_CCtx_setParameter(zstd_cctx, ZSTD_c_compressionLevel, level);
    if (!ZSTD_isError(rc))
        rc = ZSTD_CCtx_setParameter(zstd_cctx, ZSTD_c_checksumFlag, 1);
    if (ZSTD_isError(rc))
        return err_set(DD_EXIT_FAIL, "zstd rejected level %d: %s", level, ZSTD_getErrorName(rc));
    size_t bound = ZSTD_compressBound(len);
    buf_reserve(out, bound);
    size_t n = ZSTD_compress2(zstd_cctx, out->data + out->len, bound, src, len);
    if (ZSTD_isError(n))
        return err_set(DD_EXIT_FAIL, "zstd compression failed: %s", ZSTD_getErrorName(n));
    out->len += n;
    return true;
}

/*
 * The content size of a zstd payload of one or more frames, from the frame
 * headers (drydock always records it there); ZSTD_CONTENTSIZE_ERROR when a
 * frame is damaged or does not say.
 */
static unsigned long long zstd_content_size(const uint8_t *src, size_t len)
{
    unsigned long long total = 0;
    do {
        unsigned long long n = ZSTD_getFrameContentSize(src, len);
        size_t frame = ZSTD_findFrameCompressedSize(src, len);
        if (n >= ZSTD_CONTENTSIZE_ERROR || ZSTD_isError(frame) || total + n < total)
            return ZSTD_CONTENTSIZE_ERROR;
        total += n;
        src += frame;
        len -= frame;
    } while (len > 0);
    return total;
}

#define ZSTD_MAX_EXPANSION ((128u * 1024) / 4)

bool decompress_check_len(Codec codec, const void *src, size_t len, size_t raw_len)
{
    bool ok = true;
    switch (codec) {
    case CODEC_NONE:
        ok = len == raw_len;
        break;
    case CODEC_ZSTD: {
        /*
         * The frame header's size is what the writer claimed, not a bound:
         * a block (128 KiB at most) takes at least 4 bytes (an RLE block),
         * so a payload cannot expand more than 32768 times. A header that
         * claims more is refused before its size is allocated.
         */
        ok = zstd_content_size(src, len) == (unsigned long long)raw_len &&
             raw_len / ZSTD_MAX_EXPANSION <= len;
        break;
    }
    case CODEC_LZ4:
        /* LZ4 cannot expand a block more than 255 times. */
        ok = raw_len / 255 <= len;
        break;
    }
    if (!ok)
        return err_set(DD_EXIT_CORRUPT,
                       "%s payload of %zu bytes cannot hold the %zu bytes its header claims",
                       codec_name(codec), len, raw_len);
    return true;
}

bool decompress_buf(Codec codec, const void *src, size_t len, void *dst, size_t raw_len)
{
    switch (codec) {
    case CODEC_NONE:
        if (len != raw_len)
            return err_set(DD_EXIT_CORRUPT, "stored length %zu differs from raw length %zu", len,
                           raw_len);
        if (len > 0)
            memcpy(dst, src, len);
        return true;
    case CODEC_ZSTD: {
        if (!zstd_dctx) {
            zstd_dctx = ZSTD_createDCtx();
            ctx_track();
        }
        if (!zstd_dctx)
            return err_set(DD_EXIT_FAIL, "could not create a zstd context");
        size_t n = ZSTD_decompressDCtx(zstd_dctx, dst, raw_len, src, len);
        if (ZSTD_isError(n))
            return err_set(DD_EXIT_CORRUPT, "zstd data is damaged: %s", ZSTD_getErrorName(n));
        if (n != raw_len)
            return err_set(DD_EXIT_CORRUPT, "zstd data holds %zu bytes, expected %zu", n, raw_len);
        return true;
    }
    case CODEC_LZ4: {
        if (len > (size_t)LZ4_MAX_INPUT_SIZE || raw_len > (size_t)LZ4_MAX_INPUT_SIZE)
            return err_set(DD_EXIT_CORRUPT, "lz4 block too large");
        int n = LZ4_decompress_safe(src, dst, (int)len, (int)raw_len);
        if (n < 0)
            return err_set(DD_EXIT_CORRUPT, "lz4 data is damaged");
        if ((size_t)n != raw_len)
            return err_set(DD_EXIT_CORRUPT, "lz4 data holds %d bytes, expected %zu", n, raw_len);
        return true;
    }
    }
    return err_set(DD_EXIT_CORRUPT, "unknown codec %d", (int)codec);
}

/* Content is handed to a stream's sink in pieces of at most this size. */
#define STREAM_PIECE (1u << 20)

/* Decompress the next piece (up to want bytes, across frames) into out; *got bytes came. */
static bool zstd_piece(ZSTD_DCtx *dctx, ZSTD_inBuffer *in, uint8_t *out, size_t want, size_t *got,
                       bool *frame_end)
{
    ZSTD_outBuffer ob = {out, want, 0};
    while (ob.pos < want) {
        size_t out_before = ob.pos, in_before = in->pos;
        size_t ret = ZSTD_decompressStream(dctx, &ob, in);
        if (ZSTD_isError(ret))
            return err_set(DD_EXIT_CORRUPT, "zstd data is damaged: %s", ZSTD_getErrorName(ret));
        *frame_end = ret == 0;
        if ((ret == 0 && in->pos == in->size) || (ob.pos == out_before && in->pos == in_before))
            break; /* the payload or the input ended early: the caller sees the short length */
    }
    *got = ob.pos;
    return true;
}

/*
 * After raw_len bytes the last frame must end (frame_end: the last call said
 * so), with no input left over.
 */
static bool zstd_at_end(ZSTD_DCtx *dctx, ZSTD_inBuffer *in, bool frame_end)
{
    if (!frame_end) {
        uint8_t extra;
        ZSTD_outBuffer probe = {&extra, 1, 0};
        size_t ret = ZSTD_decompressStream(dctx, &probe, in);
        frame_end = !ZSTD_isError(ret) && probe.pos == 0 && ret == 0;
    }
    if (!frame_end || in->pos != in->size)
        return err_set(DD_EXIT_CORRUPT, "zstd data does not hold the length in its header");
    return true;
}

static bool zstd_stream(const uint8_t *src, size_t len, uint64_t raw_len, DecompressSinkFn sink,
                        void *arg)
{
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    if (!dctx)
        return err_set(DD_EXIT_IO, "could not create a zstd decompression context");
    uint8_t *piece = xmalloc(STREAM_PIECE);
    ZSTD_inBuffer in = {src, len, 0};
    uint64_t total = 0;
    bool ok = true, frame_end = false;
    while (ok && total < raw_len) {
        size_t want = raw_len - total < STREAM_PIECE ? (size_t)(raw_len - total) : STREAM_PIECE;
        size_t got = 0;
        ok = zstd_piece(dctx, &in, piece, want, &got, &frame_end);
        if (ok && got < want)
            ok = err_set(DD_EXIT_CORRUPT, "zstd data does not hold the length in its header");
        ok = ok && sink(piece, got, arg);
        total += got;
    }
    ok = ok && zstd_at_end(dctx, &in, frame_end);
    free(piece);
    ZSTD_freeDCtx(dctx);
    return ok;
}

bool decompress_stream(Codec codec, const void *src, size_t len, uint64_t raw_len,
                       DecompressSinkFn sink, void *arg)
{
    if (codec == CODEC_ZSTD)
        return zstd_stream(src, len, raw_len, sink, arg);
    if (codec == CODEC_NONE) {
        if (len != raw_len)
            return err_set(DD_EXIT_CORRUPT, "stored content is %zu bytes, expected %llu", len,
                           (unsigned long long)raw_len);
        const uint8_t *p = src;
        for (size_t off = 0; off < len; off += STREAM_PIECE)
            if (!sink(p + off, len - off < STREAM_PIECE ? len - off : STREAM_PIECE, arg))
                return false;
        return true;
    }
    /* lz4 blocks do not stream: decode whole, then hand over. */
    if (!decompress_check_len(codec, src, len, (size_t)raw_len))
        return false;
    uint8_t *raw = xmalloc((size_t)raw_len + 1);
    bool ok = decompress_buf(codec, src, len, raw, (size_t)raw_len) && sink(raw, raw_len, arg);
    free(raw);
    return ok;
}
