/*
 * object.h - the envelope of every object drydock stores.
 *
 * Layout (all integers little-endian), 56 bytes of header then the payload:
 *
 *   offset size field
 *   0      4    magic       "DDO1"
 *   4      1    version     OBJ_VERSION (1)
 *   5      1    codec       Codec (0 none, 1 zstd, 2 lz4)
 *   6      2    flags       bit 0 reserved for encryption; bit 1 OBJ_FLAG_PAYLOAD_SUM
 *   8      8    raw_len     length of the content before compression
 *   16     8    stored_len  length of the payload that follows the header
 *   24     32   sha256      SHA-256 of the raw content, or with
 *                           OBJ_FLAG_PAYLOAD_SUM of the payload
 *   56     ...  payload     the content, compressed with codec
 *
 * Invariants:
 *  1. An object is valid only if the header parses, stored_len equals the
 *     bytes that follow, the payload decompresses to exactly raw_len bytes,
 *     and the checksums hold. obj_decode() checks all of it.
 *  2. By default the SHA-256 is of the raw content, so the same content
 *     stored with two codecs has the same identity; a chunk's name is this
 *     hash.
 *  3. Content found by its name rather than its hash (a WAL segment) may be
 *     stored with OBJ_FLAG_PAYLOAD_SUM, only with codec zstd: the SHA-256
 *     then covers the compressed payload (a WAL segment compresses 10 to 30
 *     times, so writing and reading it hashes that much less), and the
 *     content is covered by the checksum of the raw bytes (XXH64) that every
 *     zstd frame of the payload carries and decompression verifies.
 *  4. Unknown versions, codecs or flag bits are refused, never guessed at.
 */
#ifndef DD_REPO_OBJECT_H
#define DD_REPO_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/compress.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/mem.h"

#define OBJ_HEADER_LEN  56
#define OBJ_VERSION     1
#define OBJ_MAX_RAW_LEN (1ull << 31) /* 2 GiB: larger is refused as damage */

#define OBJ_FLAG_PAYLOAD_SUM 0x0002 /* invariant 3 */

typedef struct {
    Codec codec;
    uint16_t flags;
    uint64_t raw_len;
    uint64_t stored_len;
    uint8_t sha256[SHA256_LEN];
} ObjHeader;

/*
 * Append header + compressed payload of raw to out. If sha is not NULL it is
 * the caller's SHA-256 of raw (saves hashing twice); if sha_out is not NULL
 * the hash is returned there.
 */
DD_MUST_CHECK bool obj_encode(Codec codec, int level, const void *raw, size_t len,
                              const uint8_t *sha, uint8_t *sha_out, Buf *out);

/*
 * Append header + payload of raw for content found by its name (invariant
 * 3): with codec zstd, a large content is compressed in two halves on two
 * threads, as two frames; other codecs, and content zstd cannot shrink, are
 * encoded as obj_encode() does.
 */
DD_MUST_CHECK bool obj_encode_named(Codec codec, int level, const void *raw, size_t len, Buf *out);

/* Parse and check the header (invariant 4); does not look at the payload. */
DD_MUST_CHECK bool obj_header_parse(const void *data, size_t len, ObjHeader *out);

/*
 * The checks obj_decode() makes before it decompresses: the header, the
 * stored length, the payload's SHA-256 (with OBJ_FLAG_PAYLOAD_SUM), and that
 * the payload can hold raw_len bytes. For a reader that decompresses by
 * itself (a streamed WAL fetch); DD_EXIT_CORRUPT like obj_decode().
 */
DD_MUST_CHECK bool obj_check_payload(const void *data, size_t len, ObjHeader *out);

/*
 * Verify an object (invariant 1) and append its raw content to raw. Errors
 * are DD_EXIT_CORRUPT and say what is wrong; the caller names the object.
 */
DD_MUST_CHECK bool obj_decode(const void *data, size_t len, Buf *raw, ObjHeader *hdr_out);

#endif
