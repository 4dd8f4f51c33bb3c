/*
 * object.h - the envelope of every object drydock stores.
 *
 * Layout (all integers little-endian), 56 bytes of header (92 when
 * encrypted) then the payload:
 *
 *   offset size field
 *   0      4    magic       "DDO1"
 *   4      1    version     OBJ_VERSION (1)
 *   5      1    codec       Codec (0 none, 1 zstd, 2 lz4)
 *   6      2    flags       bit 0 OBJ_FLAG_ENCRYPTED; bit 1 OBJ_FLAG_PAYLOAD_SUM
 *   8      8    raw_len     length of the content before compression
 *   16     8    stored_len  length of the payload that follows the header
 *   24     32   sha256      SHA-256 of the raw content, or with
 *                           OBJ_FLAG_PAYLOAD_SUM of the payload, or with
 *                           OBJ_FLAG_ENCRYPTED HMAC-SHA256(name key, raw content),
 *                           or with both HMAC-SHA256(name key, payload before
 *                           encryption)
 *   with OBJ_FLAG_ENCRYPTED only:
 *   56     8    key_id      the data key the payload is encrypted with
 *   64     12   nonce       AES-256-GCM nonce, random, never reused (invariant 6)
 *   76     16   tag         AES-256-GCM tag over the payload, with bytes 0..63
 *                           of the header as additional data
 *   56|92  ...  payload     the content, compressed with codec (then encrypted)
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
 *  5. An encrypted object is compressed, then encrypted (AES-256-GCM, OpenSSL)
 *     with the data key key_id names; the tag covers the payload and the
 *     header up to the key id, so a flipped bit anywhere but in the nonce or
 *     tag fails authentication, and one there fails it too. Its checksum is
 *     keyed (HMAC-SHA256 with the repository's name key), so that a chunk's
 *     name, which is this checksum, says nothing about its content to who
 *     reads the bucket, while equal content still has one name (dedup).
 *     Content found by its name (a WAL segment) may be stored with
 *     OBJ_FLAG_PAYLOAD_SUM too (obj_encode_named_keyed), as invariant 3 says
 *     but with the keyed checksum of the compressed payload before
 *     encryption: keying the 16 MiB of a segment cost more than compressing
 *     and encrypting it. Objects with both flags are written since
 *     2026-11; a drydock from before refuses them ("marked both encrypted
 *     and payload-summed"), and this one reads the older objects as before.
 *  6. Nonces are 96 random bits (getrandom), so a key must not encrypt more
 *     than 2^32 objects (NIST SP 800-38D, 8.3); data keys are per backup and
 *     per WAL period (keyring.h), each far below that.
 *  7. Every zstd payload carries zstd's checksum of its content (XXH64) in
 *     each frame (objects written before this rule may not). A reader that
 *     only builds other content from an object, which is then named by its
 *     own hash (a delta's base, chunkstore.h), may decode it with
 *     obj_decode_light(): the frame checksum, or the GCM tag when encrypted,
 *     stands for the SHA-256, which is not computed again.
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

#define OBJ_FLAG_ENCRYPTED   0x0001 /* invariant 5 */
#define OBJ_FLAG_PAYLOAD_SUM 0x0002 /* invariant 3 */

#define OBJ_KEY_ID_LEN       8
#define OBJ_KEY_LEN          32
#define OBJ_NONCE_LEN        12
#define OBJ_TAG_LEN          16
#define OBJ_CRYPT_HEADER_LEN (OBJ_HEADER_LEN + OBJ_KEY_ID_LEN + OBJ_NONCE_LEN + OBJ_TAG_LEN)

/*
 * The keys of an encrypted repository, as the object layer needs them: the
 * data key new objects are written with, the name key of keyed checksums,
 * and a way to get the data key an object's key_id names. NULL wherever an
 * ObjKeys * is taken means "not encrypted".
 */
typedef struct {
    bool have_write; /* write_id/write_key are set */
    uint8_t write_id[OBJ_KEY_ID_LEN];
    uint8_t write_key[OBJ_KEY_LEN];
    uint8_t name_key[OBJ_KEY_LEN];
    /* The data key of id into key; false with an error when it cannot be had. */
    bool (*lookup)(void *ctx, const uint8_t id[OBJ_KEY_ID_LEN], uint8_t key[OBJ_KEY_LEN]);
    void *ctx;
} ObjKeys;

/* The content id of raw: SHA-256, or with keys HMAC-SHA256(name key, raw). */
void obj_content_id(const ObjKeys *keys, const void *raw, size_t len, uint8_t out[SHA256_LEN]);

typedef struct {
    Codec codec;
    uint16_t flags;
    uint64_t raw_len;
    uint64_t stored_len;
    uint8_t sha256[SHA256_LEN];
    size_t header_len; /* OBJ_HEADER_LEN, or OBJ_CRYPT_HEADER_LEN when encrypted */
    uint8_t key_id[OBJ_KEY_ID_LEN], nonce[OBJ_NONCE_LEN], tag[OBJ_TAG_LEN];
} ObjHeader;

/*
 * Append header + compressed payload of raw to out. If sha is not NULL it is
 * the caller's SHA-256 of raw (saves hashing twice); if sha_out is not NULL
 * the hash is returned there. Content of 4 MiB and more (a WAL segment) is
 * hashed on a second thread, and with zstd compressed as two frames (two
 * halves, on two threads), as obj_encode_named does.
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

/*
 * As obj_encode_named, encrypted with keys (invariant 5) when keys is not
 * NULL: with zstd, payload-summed with the keyed checksum of the payload
 * (invariant 5), so that the content is never hashed whole.
 */
DD_MUST_CHECK bool obj_encode_named_keyed(Codec codec, int level, const void *raw, size_t len,
                                          const ObjKeys *keys, Buf *out);

/*
 * As obj_encode, encrypted with keys (invariant 5) when keys is not NULL: then
 * sha, when given, is the keyed content id (obj_content_id), and keys must
 * have a write key.
 */
DD_MUST_CHECK bool obj_encode_keyed(Codec codec, int level, const void *raw, size_t len,
                                    const uint8_t *sha, uint8_t *sha_out, const ObjKeys *keys,
                                    Buf *out);

/* As obj_decode, for an object that may be encrypted (keys may be NULL: then it must not be). */
DD_MUST_CHECK bool obj_decode_keyed(const void *data, size_t len, const ObjKeys *keys, Buf *raw,
                                    ObjHeader *hdr_out);

/*
 * As obj_decode_keyed, but the content's checksum is not recomputed when the
 * payload vouches for itself (invariant 7: zstd frames with their checksum,
 * or an encrypted payload, whose tag was checked); else as obj_decode_keyed.
 */
DD_MUST_CHECK bool obj_decode_light(const void *data, size_t len, const ObjKeys *keys, Buf *raw,
                                    ObjHeader *hdr_out);

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
 * obj_check_payload, then for an encrypted object its payload decrypted into
 * plain (empty on entry; the caller frees it) and checked: the GCM tag, the
 * keyed checksum of the payload with OBJ_FLAG_PAYLOAD_SUM, that it can hold
 * raw_len bytes. *payload is then the checked payload (in data or in plain),
 * for a reader that decompresses by itself. keys may be NULL for an object
 * that is not encrypted.
 */
DD_MUST_CHECK bool obj_payload_keyed(const void *data, size_t len, const ObjKeys *keys,
                                     ObjHeader *h, Buf *plain, const uint8_t **payload);

/*
 * Verify an object (invariant 1) and append its raw content to raw. Errors
 * are DD_EXIT_CORRUPT and say what is wrong; the caller names the object.
 */
DD_MUST_CHECK bool obj_decode(const void *data, size_t len, Buf *raw, ObjHeader *hdr_out);

#endif
