/*
 * compress.h - the codecs a repository object can use: zstd, lz4, none.
 *
 * Buffer-to-buffer for writing and reading objects, which are bounded (a WAL
 * segment, a chunk), and one streaming decode for a reader that must not
 * hold the whole content (a fetched WAL segment written to its file as it
 * decompresses). Every codec call of drydock goes through here. Compression
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

/* Whether src is zstd frames that each carry their checksum of the content. */
bool compress_zstd_all_checksummed(const void *src, size_t len);

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

/* Receives the decompressed content, in order, a piece at a time. */
typedef bool (*DecompressSinkFn)(const void *data, size_t len, void *arg);

/*
 * Decompress src into exactly raw_len bytes of content handed to sink in
 * pieces of at most 1 MiB: zstd streams (several frames in a row allowed),
 * none passes through, lz4 (whose blocks do not stream) is decoded whole
 * first. Fails (DD_EXIT_CORRUPT) unless the payload holds exactly raw_len
 * bytes with nothing after; a false from sink stops it with sink's error.
 */
DD_MUST_CHECK bool decompress_stream(Codec codec, const void *src, size_t len, uint64_t raw_len,
                                     DecompressSinkFn sink, void *arg);

#endif
