/*
 * keyring_test.c - the key hierarchy of an encrypted repository and the
 * encrypted object envelope: objects round-trip under a data key; every
 * flipped bit of an encrypted object is detected; a wrong passphrase is told
 * apart from damage and names its source; a rotation rewraps the keys so
 * that old objects still read with the new passphrase and not with the old;
 * chunk ids are keyed (equal content, equal id; not its SHA-256); a WAL
 * segment is encrypted payload-summed (object.h invariant 5), and every kind
 * of damage to one is detected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zstd.h>

#include "repo/keyring.h"
#include "repo/object.h"
#include "unit/testdir.h"

static char root[64];
static char pass1[128], pass2[128];
static char kid[KEYRING_ID_LEN + 1];

static void write_pass(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
    (void)state;
    if (testdir_make(root, sizeof(root), "keyring") != 0)
        return -1;
    snprintf(pass1, sizeof(pass1), "%s/pass1", root);
    snprintf(pass2, sizeof(pass2), "%s/pass2", root);
    write_pass(pass1, "correct horse battery staple\n", 0600);
    write_pass(pass2, "another passphrase entirely\n", 0600);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return testdir_remove(root);
}

static Storage *open_dir(const char *name)
{
    return testdir_storage(root, name);
}

static void test_objects_round_trip(void **state)
{
    (void)state;
    Storage *s = open_dir("r1");
    KeySource src = {.pass_file = pass1};
    assert_true(keyring_create(s, &src, kid));
    Keyring *kr = NULL;
    assert_true(keyring_open(s, &src, &kr));
    assert_true(keyring_use(kr, "backup-1"));
    const ObjKeys *keys = NULL;
    assert_true(keyring_obj_keys(kr, true, &keys));
    char raw[20000];
    for (size_t i = 0; i < sizeof(raw); i++)
        raw[i] = (char)("known plaintext page "[i % 21]);
    for (Codec codec = CODEC_NONE; codec <= CODEC_LZ4; codec++) {
        Buf obj = {0}, out = {0};
        ObjHeader h;
        assert_true(obj_encode_keyed(codec, 1, raw, sizeof(raw), NULL, NULL, keys, &obj));
        assert_null(memmem(obj.data, obj.len, "known plaintext", 15)); /* encrypted */
        assert_true(obj_decode_keyed(obj.data, obj.len, keys, &out, &h));
        assert_int_equal(out.len, sizeof(raw));
        assert_memory_equal(out.data, raw, sizeof(raw));
        assert_int_equal(h.header_len, OBJ_CRYPT_HEADER_LEN);
        /* Without keys it is refused as encrypted, not as damaged. */
        buf_reset(&out);
        assert_false(obj_decode(obj.data, obj.len, &out, NULL));
        assert_int_equal(err_code(), DD_EXIT_CONFIG);
        err_clear();
        buf_free(&obj);
        buf_free(&out);
    }
    /* Keyed ids: equal content, equal id; not the plain SHA-256. */
    uint8_t a[SHA256_LEN], b[SHA256_LEN], plain[SHA256_LEN];
    obj_content_id(keys, raw, sizeof(raw), a);
    obj_content_id(keys, raw, sizeof(raw), b);
    obj_content_id(NULL, raw, sizeof(raw), plain);
    assert_memory_equal(a, b, SHA256_LEN);
    assert_memory_not_equal(a, plain, SHA256_LEN);
    keyring_close(kr);
    storage_free(s);
}

static void test_every_flipped_bit(void **state)
{
    (void)state;
    Storage *s = open_dir("r2");
    KeySource src = {.pass_file = pass1};
    Keyring *kr = NULL;
    const ObjKeys *keys = NULL;
    assert_true(keyring_create(s, &src, kid) && keyring_open(s, &src, &kr));
    assert_true(keyring_obj_keys(kr, true, &keys));
    const char raw[] = "a WAL record or a page of a table: 0123456789abcdef";
    Buf obj = {0};
    assert_true(obj_encode_keyed(CODEC_ZSTD, 3, raw, sizeof(raw), NULL, NULL, keys, &obj));
    for (size_t i = 0; i < obj.len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            obj.data[i] ^= (uint8_t)(1 << bit);
            Buf out = {0};
            if (obj_decode_keyed(obj.data, obj.len, keys, &out, NULL))
                fail_msg("a flipped bit %d of byte %zu went unnoticed", bit, i);
            err_clear();
            buf_free(&out);
            obj.data[i] ^= (uint8_t)(1 << bit);
        }
    }
    buf_free(&obj);
    keyring_close(kr);
    storage_free(s);
}

/* WAL-like content: a short record per 8 KiB page, the rest repeating. */
static uint8_t *wal_like(size_t len)
{
    uint8_t *raw = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++)
        raw[i] = (uint8_t)(i % 8192 < 64 ? i * 7 : 'w' + i % 13);
    memcpy(raw + len / 2, "known plaintext", 15);
    return raw;
}

/* A keyring on a new repository dir (*s) with a data key in use; its keys into *keys. */
static Keyring *keyed(const char *dir, Storage **s, const ObjKeys **keys)
{
    *s = open_dir(dir);
    KeySource src = {.pass_file = pass1};
    Keyring *kr = NULL;
    assert_true(keyring_create(*s, &src, kid) && keyring_open(*s, &src, &kr));
    assert_true(keyring_use(kr, "wal-0000000100000000"));
    assert_true(keyring_obj_keys(kr, true, keys));
    return kr;
}

static void test_named_encrypted(void **state)
{
    (void)state;
    const ObjKeys *keys = NULL;
    Storage *s = NULL;
    Keyring *kr = keyed("r5", &s, &keys);
    size_t len = 16u << 20; /* a WAL segment */
    uint8_t *raw = wal_like(len);
    Buf obj = {0}, out = {0}, plain = {0};
    ObjHeader h;
    assert_true(obj_encode_named_keyed(CODEC_ZSTD, 3, raw, len, keys, &obj));
    assert_null(memmem(obj.data, obj.len, "known plaintext", 15));
    assert_true(obj_header_parse(obj.data, obj.len, &h));
    assert_int_equal(h.flags, OBJ_FLAG_ENCRYPTED | OBJ_FLAG_PAYLOAD_SUM);
    assert_int_equal(h.header_len, OBJ_CRYPT_HEADER_LEN);
    /* Both decoders give the segment back. */
    assert_true(obj_decode_keyed(obj.data, obj.len, keys, &out, NULL));
    assert_int_equal(out.len, len);
    assert_memory_equal(out.data, raw, len);
    buf_reset(&out);
    assert_true(obj_decode_light(obj.data, obj.len, keys, &out, NULL));
    assert_memory_equal(out.data, raw, len);
    /* The checked payload is two zstd frames of the segment; the checksum is of it, keyed. */
    const uint8_t *payload = NULL;
    assert_true(obj_payload_keyed(obj.data, obj.len, keys, &h, &plain, &payload));
    assert_ptr_equal(payload, plain.data);
    assert_int_equal(plain.len, h.stored_len);
    uint8_t id[SHA256_LEN];
    obj_content_id(keys, plain.data, plain.len, id);
    assert_memory_equal(id, h.sha256, SHA256_LEN);
    size_t first = ZSTD_findFrameCompressedSize(plain.data, plain.len);
    assert_false(ZSTD_isError(first));
    assert_true(first < plain.len);
    buf_reset(&out);
    buf_reserve(&out, len);
    assert_int_equal(ZSTD_decompress(out.data, len, plain.data, plain.len), len);
    assert_memory_equal(out.data, raw, len);
    /* Without the keys: refused as encrypted, not as damaged. */
    buf_reset(&out);
    assert_false(obj_decode(obj.data, obj.len, &out, NULL));
    assert_int_equal(err_code(), DD_EXIT_CONFIG);
    err_clear();
    /* Without keys it is the plain named object; other codecs are keyed by content. */
    buf_reset(&obj);
    assert_true(obj_encode_named_keyed(CODEC_ZSTD, 3, raw, len, NULL, &obj));
    assert_true(obj_header_parse(obj.data, obj.len, &h));
    assert_int_equal(h.flags, OBJ_FLAG_PAYLOAD_SUM);
    buf_reset(&obj);
    assert_true(obj_encode_named_keyed(CODEC_LZ4, 1, raw, len, keys, &obj));
    assert_true(obj_header_parse(obj.data, obj.len, &h));
    assert_int_equal(h.flags, OBJ_FLAG_ENCRYPTED);
    obj_content_id(keys, raw, len, id);
    assert_memory_equal(id, h.sha256, SHA256_LEN);
    buf_free(&obj);
    buf_free(&out);
    buf_free(&plain);
    free(raw);
    keyring_close(kr);
    storage_free(s);
}

/*
 * Seal obj's payload again under its key and nonce after its header was
 * changed, as a writer with the key (or a bug) would: the tag then holds,
 * and only the checks behind it can find what is wrong.
 */
static void reseal(Buf *obj, const ObjKeys *keys)
{
    uint8_t *h = obj->data, *nonce = h + OBJ_HEADER_LEN + OBJ_KEY_ID_LEN;
    uint8_t *payload = h + OBJ_CRYPT_HEADER_LEN;
    int plen = (int)(obj->len - OBJ_CRYPT_HEADER_LEN), n;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    assert_true(EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, keys->write_key, nonce));
    assert_true(EVP_EncryptUpdate(c, payload, &n, payload, plen)); /* CTR: decrypts */
    EVP_CIPHER_CTX_free(c);
    c = EVP_CIPHER_CTX_new();
    assert_true(EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, keys->write_key, nonce));
    assert_true(EVP_EncryptUpdate(c, NULL, &n, h, OBJ_HEADER_LEN + OBJ_KEY_ID_LEN));
    assert_true(EVP_EncryptUpdate(c, payload, &n, payload, plen));
    assert_true(EVP_EncryptFinal_ex(c, payload + plen, &n));
    assert_true(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, OBJ_TAG_LEN, nonce + OBJ_NONCE_LEN));
    EVP_CIPHER_CTX_free(c);
}

static void test_named_encrypted_damage(void **state)
{
    (void)state;
    const ObjKeys *keys = NULL;
    Storage *s = NULL;
    Keyring *kr = keyed("r6", &s, &keys);
    size_t len = 3 * 8192;
    uint8_t *raw = wal_like(len);
    Buf obj = {0}, out = {0};
    assert_true(obj_encode_named_keyed(CODEC_ZSTD, 3, raw, len, keys, &obj));
    for (size_t i = 0; i < obj.len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            obj.data[i] ^= (uint8_t)(1 << bit);
            if (obj_decode_keyed(obj.data, obj.len, keys, &out, NULL))
                fail_msg("a flipped bit %d of byte %zu went unnoticed", bit, i);
            err_clear();
            buf_reset(&out);
            obj.data[i] ^= (uint8_t)(1 << bit);
        }
    }
    /* Behind a good tag: a wrong keyed checksum, a flag dropped. */
    for (int c = 0; c < 2; c++) {
        Buf bad = {0};
        buf_append(&bad, obj.data, obj.len);
        if (c == 0)
            bad.data[24] ^= 1;
        else
            bad.data[6] &= (uint8_t)~OBJ_FLAG_PAYLOAD_SUM;
        reseal(&bad, keys);
        assert_false(obj_decode_keyed(bad.data, bad.len, keys, &out, NULL));
        assert_int_equal(err_code(), DD_EXIT_CORRUPT);
        assert_string_equal(err_message(),
                            c == 0 ? "object checksum mismatch: payload does not hash to the "
                                     "keyed checksum in its header"
                                   : "object checksum mismatch: content does not hash to the "
                                     "keyed checksum in its header");
        err_clear();
        buf_reset(&out);
        buf_free(&bad);
    }
    buf_free(&obj);
    buf_free(&out);
    free(raw);
    keyring_close(kr);
    storage_free(s);
}

static void test_wrong_pass_and_rotation(void **state)
{
    (void)state;
    Storage *s = open_dir("r3");
    KeySource one = {.pass_file = pass1}, two = {.pass_file = pass2};
    Keyring *kr = NULL;
    const ObjKeys *keys = NULL;
    assert_true(keyring_create(s, &one, kid));
    assert_false(keyring_open(s, &two, &kr));
    assert_int_equal(err_code(), DD_EXIT_CONFIG);
    char want[256];
    snprintf(want, sizeof(want), "the passphrase from cipher-pass-file \"%s\" does not unlock",
             pass2);
    assert_non_null(strstr(err_message(), want));
    err_clear();

    /* An object written under generation 1 reads after a rotation, with the new passphrase only. */
    assert_true(keyring_open(s, &one, &kr));
    assert_true(keyring_use(kr, "wal-0000000100000000"));
    assert_true(keyring_obj_keys(kr, true, &keys));
    Buf obj = {0}, out = {0};
    assert_true(obj_encode_keyed(CODEC_ZSTD, 3, "segment", 7, NULL, NULL, keys, &obj));
    size_t n = 0;
    int gen = 0;
    assert_true(keyring_rekey(kr, &two, &n, &gen));
    assert_int_equal(n, 2); /* the name key and the WAL period's */
    assert_int_equal(gen, 2);
    keyring_close(kr);
    assert_false(keyring_open(s, &one, &kr));
    assert_int_equal(err_code(), DD_EXIT_CONFIG);
    err_clear();
    assert_true(keyring_open(s, &two, &kr));
    assert_true(keyring_obj_keys(kr, false, &keys));
    assert_true(obj_decode_keyed(obj.data, obj.len, keys, &out, NULL));
    assert_int_equal(out.len, 7);
    bool found = true;
    Buf cur = {0};
    assert_true(storage_get(s, "keys/current", &cur, &found) && found);
    buf_append(&cur, "", 1);
    assert_non_null(strstr((char *)cur.data, "\"generation\": 2"));
    assert_true(storage_exists(s, "keys/g1/kdf", &found));
    assert_false(found); /* the old generation is gone */
    buf_free(&cur);
    buf_free(&obj);
    buf_free(&out);
    keyring_close(kr);
    storage_free(s);
}

static void test_pass_sources(void **state)
{
    (void)state;
    Storage *s = open_dir("r4");
    char loose[160];
    snprintf(loose, sizeof(loose), "%s/loose", root);
    write_pass(loose, "pw\n", 0644);
    KeySource bad = {.pass_file = loose};
    assert_false(keyring_create(s, &bad, kid));
    assert_int_equal(err_code(), DD_EXIT_CONFIG);
    assert_non_null(strstr(err_message(), "has mode 0644, expected 0600"));
    err_clear();
    KeySource cmd = {.pass_command = "echo from-a-vault"};
    Keyring *kr = NULL;
    assert_true(keyring_create(s, &cmd, kid));
    assert_true(keyring_open(s, &cmd, &kr));
    keyring_close(kr);
    KeySource failing = {.pass_command = "exit 3"};
    assert_false(keyring_open(s, &failing, &kr));
    assert_int_equal(err_code(), DD_EXIT_CONFIG);
    err_clear();
    storage_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_objects_round_trip),
        cmocka_unit_test(test_every_flipped_bit),
        cmocka_unit_test(test_named_encrypted),
        cmocka_unit_test(test_named_encrypted_damage),
        cmocka_unit_test(test_wrong_pass_and_rotation),
        cmocka_unit_test(test_pass_sources),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
