/*
 * compress.h - the codecs a repository object can use: zstd, lz4, none.
 *
 * Buffer-to-buffer only: objects are bounded (a WAL segment, a chunk), so a
 * whole-buffer API is both simpler and faster than streaming. Compression
 * contexts are kept per thread and reused.
 */
#ifndef DD_COMMON_COMPRESS_H
#define DD_COMMON_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/mem.h"

/* Stored in object headers: never renumber. */
typedef enum { CODEC_NONE = 0, CODEC_ZSTD = 1, CODEC_LZ4 = 2 } Codec;

/* "zstd" | "lz4" | "none" -> codec; false for anything else. */
bool codec_parse(const char *name, Codec *out);
const char *codec_name(Codec codec);
/* Valid level range for the codec (lz4: 1 = fast, above uses HC). */
void codec_level_range(Codec codec, int *min, int *max);

/* Append the compressed form of src to out. */
DD_MUST_CHECK bool compress_buf(Codec codec, int level, const void *src, size_t len, Buf *out);

/*
 * Append one zstd frame of src to out that also carries zstd's checksum of
 * src (XXH64), which every decompression of the frame verifies: for objects
 * whose own checksum covers the compressed bytes, not the content.
 */
DD_MUST_CHECK bool compress_zstd_checksummed(int level, const void *src, size_t len, Buf *out);

/*
 * Check, before allocating raw_len bytes, that a payload of len bytes can
 * decompress to raw_len (so a damaged header cannot make a reader allocate
 * gigabytes): DD_EXIT_CORRUPT when it cannot.
 */
DD_MUST_CHECK bool decompress_check_len(Codec codec, const void *src, size_t len, size_t raw_len);

/*
 * Decompress src into dst, which has room for exactly raw_len bytes; fails
 * (DD_EXIT_CORRUPT) unless the result is exactly raw_len bytes. A zstd
 * payload may be several frames one after another.
 */
DD_MUST_CHECK bool decompress_buf(Codec codec, const void *src, size_t len, void *dst,
                                  size_t raw_len);

#endif
