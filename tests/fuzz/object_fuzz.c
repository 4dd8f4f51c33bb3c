/*
 * object_fuzz.c - libFuzzer target for the object envelope (repo/object.h).
 *
 * Every repository read goes through obj_decode(); a damaged or hostile
 * object must be refused with an error, never crash or over-read. Also
 * round-trips the input through every codec.
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

    static const Codec codecs[] = {CODEC_NONE, CODEC_ZSTD, CODEC_LZ4};
    Codec c = codecs[size % 3];
    if (obj_encode(c, 1, data, size, NULL, NULL, &enc)) {
        if (!obj_decode(enc.data, enc.len, &raw, &h) || raw.len != size ||
            (size > 0 && memcmp(raw.data, data, size) != 0))
            abort();
    }
    buf_free(&raw);
    buf_free(&enc);
    return 0;
}
