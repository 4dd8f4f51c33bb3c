/*
 * object_fuzz.c - libFuzzer target for the object envelope (repo/object.h).
 *
 * Every repository read goes through obj_decode(); a damaged or hostile
 * object must be refused with an error, never crash or over-read. Also
 * decodes the input as the payload of a payload-summed zstd object (whose
 * SHA-256 a fuzzer could never guess), to reach the multi-frame decoder, and
 * round-trips the input through every codec and both encoders.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "repo/object.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Buf raw = {0}, enc = {0};
    ObjHeader h;
    if (!obj_decode(data, size, &raw, &h))
        err_clear();
    buf_reset(&raw);

    /* The first 3 bytes claim the raw length; the rest is the payload. */
    if (size >= 3) {
        uint8_t hdr[OBJ_HEADER_LEN] = {
            'D', 'D', 'O', '1', OBJ_VERSION, CODEC_ZSTD, OBJ_FLAG_PAYLOAD_SUM};
        memcpy(hdr + 8, data, 3);
        size_t stored = size - 3;
        for (int i = 0; i < 8; i++)
            hdr[16 + i] = (uint8_t)((uint64_t)stored >> (8 * i));
        Buf obj = {0};
        buf_append(&obj, hdr, sizeof(hdr));
        buf_append(&obj, data + 3, stored);
        sha256(data + 3, stored, obj.data + 24);
        if (!obj_decode(obj.data, obj.len, &raw, &h))
            err_clear();
        buf_reset(&raw);
        buf_free(&obj);
    }

    static const Codec codecs[] = {CODEC_NONE, CODEC_ZSTD, CODEC_LZ4};
    Codec c = codecs[size % 3];
    bool ok = size % 2 ? obj_encode_named(c, 1, data, size, &enc)
                       : obj_encode(c, 1, data, size, NULL, NULL, &enc);
    if (ok) {
        if (!obj_decode(enc.data, enc.len, &raw, &h) || raw.len != size ||
            (size > 0 && memcmp(raw.data, data, size) != 0))
            abort();
    }
    buf_free(&raw);
    buf_free(&enc);
    return 0;
}
