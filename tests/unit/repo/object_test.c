/*
 * object_test.c - the DDO1 object envelope: round trips for every codec,
 * and every kind of damage detected, for objects checksummed by content and
 * by payload.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "repo/object.h"

static void fill(uint8_t *p, size_t len, unsigned seed)
{
    /* Half compressible text, half noise. */
    for (size_t i = 0; i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = i % 2 ? (uint8_t)(seed >> 16) : (uint8_t)('a' + i % 7);
    }
}

static void round_trip(Codec codec, int level, size_t len)
{
    uint8_t *raw = malloc(len ? len : 1);
    fill(raw, len, (unsigned)len);
    Buf obj = {0}, out = {0};
    uint8_t sha[SHA256_LEN];
    assert_true(obj_encode(codec, level, raw, len, NULL, sha, &obj));
    ObjHeader h;
    assert_true(obj_decode(obj.data, obj.len, &out, &h));
    assert_int_equal(out.len, len);
    assert_memory_equal(out.data, raw, len);
    assert_memory_equal(h.sha256, sha, SHA256_LEN);
    assert_int_equal(h.raw_len, len);
    buf_free(&obj);
    buf_free(&out);
    free(raw);
}

static void test_round_trip_every_codec(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 100, 8192, 131072, 16u << 20};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        round_trip(CODEC_NONE, 0, sizes[i]);
        round_trip(CODEC_ZSTD, 3, sizes[i]);
        round_trip(CODEC_LZ4, 1, sizes[i]);
        round_trip(CODEC_LZ4, 9, sizes[i]);
    }
}

static void test_incompressible_stored_raw(void **state)
{
    (void)state;
    uint8_t raw[4096];
    unsigned s = 7;
    for (size_t i = 0; i < sizeof(raw); i++) {
        s = s * 1103515245u + 12345u;
        raw[i] = (uint8_t)(s >> 16);
    }
    Buf obj = {0};
    assert_true(obj_encode(CODEC_ZSTD, 3, raw, sizeof(raw), NULL, NULL, &obj));
    ObjHeader h;
    assert_true(obj_header_parse(obj.data, obj.len, &h));
    assert_int_equal(h.codec, CODEC_NONE);
    assert_int_equal(obj.len, OBJ_HEADER_LEN + sizeof(raw));
    buf_free(&obj);
}

typedef struct {
    const char *title;
    size_t offset; /* byte to damage; SIZE_MAX: truncate instead */
    size_t truncate_to;
    DdExit code;
    const char *message;
} Damage;

static void test_damage_detected(void **state)
{
    (void)state;
    const Damage cases[] = {
        {"bad magic", 0, 0, DD_EXIT_CORRUPT, "object has no drydock header (bad magic)"},
        {"future version", 4, 0, DD_EXIT_REPO,
         "object has format version 2, this drydock reads version 1"},
        {"unknown codec", 5, 0, DD_EXIT_CORRUPT, "object has unknown codec 3"},
        {"unknown flag", 6, 0, DD_EXIT_CORRUPT, "object has unknown flags 0x0004"},
        {"raw length changed", 8, 0, DD_EXIT_CORRUPT, NULL},
        {"checksum changed", 30, 0, DD_EXIT_CORRUPT,
         "object checksum mismatch: content does not hash to the SHA-256 in its header"},
        {"payload bit flip", 100, 0, DD_EXIT_CORRUPT, NULL},
        {"truncated header", SIZE_MAX, 20, DD_EXIT_CORRUPT,
         "object is truncated: 20 bytes, shorter than its header"},
        {"truncated payload", SIZE_MAX, 200, DD_EXIT_CORRUPT, NULL},
    };
    uint8_t raw[65536];
    fill(raw, sizeof(raw), 3);
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        for (Codec codec = CODEC_NONE; codec <= CODEC_LZ4; codec++) {
            Buf obj = {0}, out = {0};
            assert_true(obj_encode(codec, 1, raw, sizeof(raw), NULL, NULL, &obj));
            size_t len = obj.len;
            if (cases[c].offset == SIZE_MAX)
                len = cases[c].truncate_to;
            else if (cases[c].offset == 4)
                obj.data[4] = 2;
            else if (cases[c].offset == 5)
                obj.data[5] = 3;
            else if (cases[c].offset == 6)
                obj.data[6] = 4; /* bit 0 is OBJ_FLAG_ENCRYPTED, bit 1 the payload sum */
            else
                obj.data[cases[c].offset] ^= 0x40;
            err_clear();
            bool ok = obj_decode(obj.data, len, &out, NULL);
            if (ok)
                fail_msg("case \"%s\" (codec %s): damage not detected", cases[c].title,
                         codec_name(codec));
            assert_int_equal(err_code(), cases[c].code);
            if (cases[c].message)
                assert_string_equal(err_message(), cases[c].message);
            buf_free(&obj);
            buf_free(&out);
        }
    }
}

static void test_known_sha_is_used(void **state)
{
    (void)state;
    uint8_t raw[100] = {1, 2, 3};
    uint8_t wrong[SHA256_LEN] = {0};
    Buf obj = {0}, out = {0};
    /* A caller that passes a wrong hash produces an object that fails to verify. */
    assert_true(obj_encode(CODEC_ZSTD, 1, raw, sizeof(raw), wrong, NULL, &obj));
    assert_false(obj_decode(obj.data, obj.len, &out, NULL));
    assert_int_equal(err_code(), DD_EXIT_CORRUPT);
    buf_free(&obj);
    buf_free(&out);
}

/* A content of len bytes that compresses, as WAL does. */
static uint8_t *wal_like(size_t len)
{
    uint8_t *raw = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++)
        raw[i] = (uint8_t)(i % 8192 < 64 ? i * 7 : 'w' + i % 13);
    return raw;
}

static void named_round_trip(Codec codec, size_t len, uint16_t want_flags, size_t frames)
{
    uint8_t *raw = wal_like(len);
    Buf obj = {0}, out = {0};
    assert_true(obj_encode_named(codec, 3, raw, len, &obj));
    ObjHeader h;
    assert_true(obj_decode(obj.data, obj.len, &out, &h));
    assert_int_equal(out.len, len);
    assert_memory_equal(out.data, raw, len);
    assert_int_equal(h.flags, want_flags);
    uint8_t sha[SHA256_LEN];
    if (want_flags & OBJ_FLAG_PAYLOAD_SUM)
        sha256(obj.data + OBJ_HEADER_LEN, h.stored_len, sha);
    else
        sha256(raw, len, sha);
    assert_memory_equal(h.sha256, sha, SHA256_LEN);
    if (frames) { /* count the zstd frames of the payload */
        size_t n = 0, at = OBJ_HEADER_LEN;
        while (at < obj.len) {
            size_t f = ZSTD_findFrameCompressedSize(obj.data + at, obj.len - at);
            assert_false(ZSTD_isError(f));
            at += f;
            n++;
        }
        assert_int_equal(n, frames);
    }
    buf_free(&obj);
    buf_free(&out);
    free(raw);
}

static void test_named_round_trip(void **state)
{
    (void)state;
    named_round_trip(CODEC_ZSTD, 16u << 20, OBJ_FLAG_PAYLOAD_SUM, 2); /* a WAL segment */
    named_round_trip(CODEC_ZSTD, 4u << 20, OBJ_FLAG_PAYLOAD_SUM, 2);
    named_round_trip(CODEC_ZSTD, (4u << 20) - 1, OBJ_FLAG_PAYLOAD_SUM, 1);
    named_round_trip(CODEC_ZSTD, 8192, OBJ_FLAG_PAYLOAD_SUM, 1);
    named_round_trip(CODEC_ZSTD, 0, 0, 0); /* nothing to shrink: stored as is */
    named_round_trip(CODEC_LZ4, 16u << 20, 0, 0);
    named_round_trip(CODEC_NONE, 16u << 20, 0, 0);
}

/* Set the header's SHA-256 to the payload's, as a forger (or a bug) would. */
static void reseal(Buf *obj)
{
    sha256(obj->data + OBJ_HEADER_LEN, obj->len - OBJ_HEADER_LEN, obj->data + 24);
}

static void test_named_damage_detected(void **state)
{
    (void)state;
    size_t len = 16u << 20;
    uint8_t *raw = wal_like(len);
    Buf good = {0};
    assert_true(obj_encode_named(CODEC_ZSTD, 3, raw, len, &good));
    size_t first =
        ZSTD_findFrameCompressedSize(good.data + OBJ_HEADER_LEN, good.len - OBJ_HEADER_LEN);
    enum { FLIP_FIRST, FLIP_SECOND, SUM, CONTENT_SUM_1, CONTENT_SUM_2, NO_FLAG, TRUNCATE };
    for (int c = FLIP_FIRST; c <= TRUNCATE; c++) {
        Buf obj = {0}, out = {0};
        buf_append(&obj, good.data, good.len);
        uint8_t *payload = obj.data + OBJ_HEADER_LEN;
        const char *want = NULL, *want_part = NULL;
        if (c == FLIP_FIRST || c == FLIP_SECOND) {
            payload[c == FLIP_FIRST ? first / 2 : first + (obj.len - OBJ_HEADER_LEN - first) / 2] ^=
                1;
            want = "object checksum mismatch: payload does not hash to the SHA-256 in its header";
        } else if (c == SUM) {
            obj.data[40] ^= 0x80;
            want = "object checksum mismatch: payload does not hash to the SHA-256 in its header";
        } else if (c == CONTENT_SUM_1 || c == CONTENT_SUM_2) {
            /* The payload hashes right, but a frame's content checksum is wrong. */
            payload[c == CONTENT_SUM_1 ? first - 1 : obj.len - OBJ_HEADER_LEN - 1] ^= 1;
            reseal(&obj);
            want_part = "doesn't match checksum";
        } else if (c == NO_FLAG) {
            obj.data[6] = 0; /* then the SHA-256 would have to be the content's */
            want = "object checksum mismatch: content does not hash to the SHA-256 in its header";
        } else {
            obj.len -= 1000;
            reseal(&obj);
            obj.data[16] = (uint8_t)(obj.len - OBJ_HEADER_LEN);
            obj.data[17] = (uint8_t)((obj.len - OBJ_HEADER_LEN) >> 8);
            obj.data[18] = (uint8_t)((obj.len - OBJ_HEADER_LEN) >> 16);
        }
        err_clear();
        if (obj_decode(obj.data, obj.len, &out, NULL))
            fail_msg("case %d: damage not detected", c);
        assert_int_equal(err_code(), DD_EXIT_CORRUPT);
        if (want)
            assert_string_equal(err_message(), want);
        if (want_part && !strstr(err_message(), want_part))
            fail_msg("case %d: \"%s\" does not say \"%s\"", c, err_message(), want_part);
        buf_free(&obj);
        buf_free(&out);
    }
    buf_free(&good);
    free(raw);
}

static void test_payload_sum_needs_zstd(void **state)
{
    (void)state;
    uint8_t *raw = wal_like(8192);
    Buf obj = {0}, out = {0};
    assert_true(obj_encode(CODEC_LZ4, 1, raw, 8192, NULL, NULL, &obj));
    assert_int_equal(obj.data[5], CODEC_LZ4);
    obj.data[6] = OBJ_FLAG_PAYLOAD_SUM;
    assert_false(obj_decode(obj.data, obj.len, &out, NULL));
    assert_int_equal(err_code(), DD_EXIT_CORRUPT);
    assert_string_equal(
        err_message(),
        "object is marked checksummed by its payload but its codec is lz4, not zstd");
    buf_free(&obj);
    buf_free(&out);
    free(raw);
}

/*
 * A zstd frame may claim any content size; a payload cannot expand more than
 * 32768 times (an RLE block: 4 bytes for 128 KiB). The fuzzer's input
 * (tests/fuzz/corpus/object/regressions/zstd-claims-2gib) claimed 2 GiB in
 * 17 bytes and made the decoder allocate it; content that compresses as well
 * as it can (zeros) still decodes.
 */
static void test_zstd_claimed_size_bounded(void **state)
{
    (void)state;
    static const uint8_t frame[] = {0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0x00, 0x00, 0xf0, 0x7f,
                                    0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00};
    uint8_t obj[OBJ_HEADER_LEN + sizeof(frame)] = {'D', 'D', 'O', '1', OBJ_VERSION, CODEC_ZSTD};
    uint64_t claimed = 0x7ff00000, stored = sizeof(frame);
    memcpy(obj + 8, &claimed, 8);
    memcpy(obj + 16, &stored, 8);
    memcpy(obj + OBJ_HEADER_LEN, frame, sizeof(frame));
    Buf raw = {0};
    ObjHeader h;
    assert_false(obj_decode(obj, sizeof(obj), &raw, &h));
    assert_int_equal(err_code(), DD_EXIT_CORRUPT);
    assert_string_equal(err_message(), "object payload: zstd payload of 17 bytes cannot hold the "
                                       "2146435072 bytes its header claims");
    assert_null(raw.data); /* nothing was allocated for it */

    size_t len = 16u << 20; /* a WAL segment of zeros */
    uint8_t *zeros = calloc(1, len);
    Buf enc = {0};
    for (int level = 1; level <= 19; level += 18) {
        buf_reset(&enc);
        assert_true(obj_encode(CODEC_ZSTD, level, zeros, len, NULL, NULL, &enc));
        buf_reset(&raw);
        assert_true(obj_decode(enc.data, enc.len, &raw, &h));
        assert_int_equal(raw.len, len);
        buf_reset(&enc);
        assert_true(obj_encode_named(CODEC_ZSTD, level, zeros, len, &enc));
        buf_reset(&raw);
        assert_true(obj_decode(enc.data, enc.len, &raw, &h));
        assert_int_equal(raw.len, len);
    }
    free(zeros);
    buf_free(&enc);
    buf_free(&raw);
}

/*
 * Invariant 7: a zstd object carries its frame checksum, so a light decode
 * (a delta's base) finds damage to the payload without the SHA-256; a
 * header whose SHA-256 alone is wrong passes it but not a full decode;
 * without a frame checksum (lz4) the light decode still hashes.
 */
static void test_light_decode(void **state)
{
    (void)state;
    enum { LEN = 131072 };
    uint8_t *raw = malloc(LEN);
    for (size_t i = 0; i < LEN; i++) /* compressible by both codecs */
        raw[i] = (uint8_t)("drydock pages "[i % 14] + (i / 4096) % 3);
    const struct {
        Codec codec;
        bool light_trusts_codec;
    } cases[] = {{CODEC_ZSTD, true}, {CODEC_LZ4, false}};
    for (size_t i = 0; i < 2; i++) {
        Buf obj = {0}, out = {0};
        assert_true(obj_encode(cases[i].codec, 1, raw, LEN, NULL, NULL, &obj));
        assert_true(obj.data[5] == cases[i].codec); /* compressible: not stored as is */
        assert_true(obj_decode_light(obj.data, obj.len, NULL, &out, NULL));
        assert_memory_equal(out.data, raw, LEN);
        obj.data[24] ^= 1; /* the header's SHA-256 */
        out.len = 0;
        assert_false(obj_decode_keyed(obj.data, obj.len, NULL, &out, NULL));
        out.len = 0;
        assert_int_equal(obj_decode_light(obj.data, obj.len, NULL, &out, NULL),
                         cases[i].light_trusts_codec);
        obj.data[24] ^= 1;
        obj.data[obj.len - 20] ^= 0x10; /* the payload */
        out.len = 0;
        assert_false(obj_decode_light(obj.data, obj.len, NULL, &out, NULL));
        buf_free(&obj);
        buf_free(&out);
    }
    free(raw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_codec),
        cmocka_unit_test(test_incompressible_stored_raw),
        cmocka_unit_test(test_damage_detected),
        cmocka_unit_test(test_known_sha_is_used),
        cmocka_unit_test(test_named_round_trip),
        cmocka_unit_test(test_named_damage_detected),
        cmocka_unit_test(test_payload_sum_needs_zstd),
        cmocka_unit_test(test_zstd_claimed_size_bounded),
        cmocka_unit_test(test_light_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
