/*
 * objcrypt_test.c - the per-thread contexts give what a fresh context gives
 * (objcrypt.h invariant 1): HMAC-SHA256 for keys and lengths in any order;
 * AES-256-GCM ciphertext and tag for a key used again after another, and a
 * decryption that succeeds after one whose tag failed; on several threads at
 * once (invariant 2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <string.h>

#include "repo/objcrypt.h"

static uint8_t data[40000];

static void fill(void)
{
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 131 + i / 7);
}

/*
 * The helpers return false on a mismatch instead of asserting, so that they
 * can run on threads other than cmocka's.
 */
static bool hmac_ref(const uint8_t *key, size_t len, uint8_t out[32])
{
    unsigned int n = 32;
    return HMAC(EVP_sha256(), key, 32, data, len, out, &n) != NULL;
}

/* Every length against every key, the keys taking turns: no state leaks from one to the next. */
static bool hmac_rounds(uint8_t seed)
{
    bool ok = true;
    uint8_t keys[3][32];
    for (int k = 0; k < 3; k++)
        memset(keys[k], seed + k, 32);
    const size_t lens[] = {0, 1, 55, 64, 65, 4096, 32768, sizeof(data)};
    for (int round = 0; round < 3; round++)
        for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
            for (int k = 0; k < 3; k++) {
                const uint8_t *key = keys[(k + round) % 3];
                uint8_t want[32], got[32];
                ok = ok && hmac_ref(key, lens[l], want);
                objcrypt_hmac(key, data, lens[l], got);
                ok = ok && memcmp(got, want, 32) == 0;
                objcrypt_hmac(key, data, lens[l], got); /* the same key again: reset only */
                ok = ok && memcmp(got, want, 32) == 0;
            }
    return ok;
}

static void test_hmac_matches_one_shot(void **state)
{
    (void)state;
    fill();
    assert_true(hmac_rounds(1));
}

/* Encrypt len bytes of data under key and nonce, with 64 bytes of additional data, in a fresh
 * context. */
static bool gcm_ref(const uint8_t *key, const uint8_t *nonce, size_t len, uint8_t *out,
                    uint8_t tag[16])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n;
    bool ok = c && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce) &&
              EVP_EncryptUpdate(c, NULL, &n, data, 64) &&
              EVP_EncryptUpdate(c, out, &n, data + 64, (int)len) &&
              EVP_EncryptFinal_ex(c, out + len, &n) &&
              EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag);
    EVP_CIPHER_CTX_free(c);
    return ok;
}

/* Through objcrypt_gcm; decrypting, *tag_ok says whether the tag held. */
static bool gcm_own(bool enc, const uint8_t *key, const uint8_t *nonce, const uint8_t *in,
                    size_t len, uint8_t *out, uint8_t tag[16], bool *tag_ok)
{
    EVP_CIPHER_CTX *c = objcrypt_gcm(enc, key, nonce);
    int n;
    if (!c)
        return false;
    if (enc)
        return EVP_EncryptUpdate(c, NULL, &n, data, 64) &&
               EVP_EncryptUpdate(c, out, &n, in, (int)len) &&
               EVP_EncryptFinal_ex(c, out + len, &n) &&
               EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag);
    bool ok = EVP_DecryptUpdate(c, NULL, &n, data, 64) &&
              EVP_DecryptUpdate(c, out, &n, in, (int)len) &&
              EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag);
    *tag_ok = ok && EVP_DecryptFinal_ex(c, out + len, &n) > 0;
    return ok;
}

static bool gcm_rounds(uint8_t seed)
{
    bool ok = true;
    uint8_t keys[2][32], nonce[12];
    memset(keys[0], seed, 32);
    memset(keys[1], seed + 1, 32);
    static __thread uint8_t want[4096], got[4096], back[4096];
    /* A, B, A: the key again after another; each time a new nonce. */
    for (int i = 0; i < 6; i++) {
        const uint8_t *key = keys[i % 2 == 0 || i == 5 ? 0 : 1];
        memset(nonce, seed + i, sizeof(nonce));
        size_t len = (size_t)1000 + (size_t)i * 500;
        uint8_t tag_want[16], tag_got[16];
        bool held = true;
        ok = ok && gcm_ref(key, nonce, len, want, tag_want) &&
             gcm_own(true, key, nonce, data + 64, len, got, tag_got, &held) &&
             memcmp(got, want, len) == 0 && memcmp(tag_got, tag_want, 16) == 0;
        /* A wrong tag fails; the next decryption, with the right one, succeeds. */
        tag_got[3] ^= 1;
        ok = ok && gcm_own(false, key, nonce, got, len, back, tag_got, &held) && !held;
        tag_got[3] ^= 1;
        ok = ok && gcm_own(false, key, nonce, got, len, back, tag_got, &held) && held &&
             memcmp(back, data + 64, len) == 0;
    }
    return ok;
}

static void test_gcm_matches_fresh_context(void **state)
{
    (void)state;
    fill();
    assert_true(gcm_rounds(7));
}

static void *thread_run(void *arg)
{
    uint8_t seed = (uint8_t)(uintptr_t)arg;
    bool ok = hmac_rounds(seed) && gcm_rounds(seed);
    return ok ? arg : NULL;
}

static void test_threads(void **state)
{
    (void)state;
    fill();
    pthread_t th[4];
    for (uintptr_t i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, thread_run, (void *)(i * 16 + 3)), 0);
    for (int i = 0; i < 4; i++) {
        void *res = NULL;
        pthread_join(th[i], &res);
        assert_non_null(res); /* every thread's results matched */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac_matches_one_shot),
        cmocka_unit_test(test_gcm_matches_fresh_context),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
