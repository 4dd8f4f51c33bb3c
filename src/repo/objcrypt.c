/*
 * objcrypt.c - see objcrypt.h.
 */
#include "repo/objcrypt.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

typedef struct {
    EVP_MAC_CTX *mac;
    bool mac_keyed;
    uint8_t mac_key[OBJCRYPT_KEY_LEN];
    EVP_CIPHER_CTX *gcm[2]; /* [0] decrypts, [1] encrypts */
    bool gcm_keyed[2];
    uint8_t gcm_key[2][OBJCRYPT_KEY_LEN];
} ThreadCtx;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t tls;
static bool tls_ok;
static EVP_MAC *hmac_alg;   /* NULL: HMAC() one-shot each time */
static EVP_CIPHER *gcm_alg; /* NULL: EVP_aes_256_gcm(), looked up at each setup */

/* Invariant 3. */
static void thread_ctx_free(void *p)
{
    ThreadCtx *t = p;
    EVP_MAC_CTX_free(t->mac);
    EVP_CIPHER_CTX_free(t->gcm[0]);
    EVP_CIPHER_CTX_free(t->gcm[1]);
    OPENSSL_cleanse(t, sizeof(*t));
    free(t);
}

static void init_once(void)
{
    tls_ok = pthread_key_create(&tls, thread_ctx_free) == 0;
    hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
    gcm_alg = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
}

/* This thread's contexts, made on first use; NULL if the key for them could not be made. */
static ThreadCtx *thread_ctx(void)
{
    pthread_once(&once, init_once);
    if (!tls_ok)
        return NULL;
    ThreadCtx *t = pthread_getspecific(tls);
    if (!t) {
        t = xcalloc(1, sizeof(*t));
        if (pthread_setspecific(tls, t) != 0) {
            free(t);
            return NULL;
        }
    }
    return t;
}

/* t's HMAC context reset for key: set up again only for another key (invariant 1). */
static bool mac_ready(ThreadCtx *t, const uint8_t key[OBJCRYPT_KEY_LEN])
{
    if (!t->mac && hmac_alg)
        t->mac = EVP_MAC_CTX_new(hmac_alg);
    if (!t->mac)
        return false;
    if (t->mac_keyed && CRYPTO_memcmp(t->mac_key, key, OBJCRYPT_KEY_LEN) == 0)
        return EVP_MAC_init(t->mac, NULL, 0, NULL) == 1;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    t->mac_keyed = EVP_MAC_init(t->mac, key, OBJCRYPT_KEY_LEN, params) == 1;
    if (t->mac_keyed)
        memcpy(t->mac_key, key, OBJCRYPT_KEY_LEN);
    return t->mac_keyed;
}

void objcrypt_hmac(const uint8_t key[OBJCRYPT_KEY_LEN], const void *data, size_t len,
                   uint8_t out[32])
{
    ThreadCtx *t = thread_ctx();
    size_t n = 0;
    if (t && mac_ready(t, key) && EVP_MAC_update(t->mac, data, len) == 1 &&
        EVP_MAC_final(t->mac, out, &n, 32) == 1 && n == 32)
        return;
    if (t)
        t->mac_keyed = false; /* set up afresh next time */
    unsigned int m = 32;      /* invariant 4 */
    if (!HMAC(EVP_sha256(), key, OBJCRYPT_KEY_LEN, data, len, out, &m))
        abort();
}

EVP_CIPHER_CTX *objcrypt_gcm(bool enc, const uint8_t key[OBJCRYPT_KEY_LEN],
                             const uint8_t nonce[OBJCRYPT_NONCE_LEN])
{
    ThreadCtx *t = thread_ctx();
    if (!t)
        return NULL;
    int i = enc ? 1 : 0;
    if (!t->gcm[i] && !(t->gcm[i] = EVP_CIPHER_CTX_new()))
        return NULL;
    bool same = t->gcm_keyed[i] && CRYPTO_memcmp(t->gcm_key[i], key, OBJCRYPT_KEY_LEN) == 0;
    /* The same key: only the nonce is new, the key schedule and GHASH table stay. */
    bool ok = same ? EVP_CipherInit_ex(t->gcm[i], NULL, NULL, NULL, nonce, i) == 1
                   : EVP_CipherInit_ex(t->gcm[i], gcm_alg ? gcm_alg : EVP_aes_256_gcm(), NULL, key,
                                       nonce, i) == 1;
    t->gcm_keyed[i] = ok;
    if (ok && !same)
        memcpy(t->gcm_key[i], key, OBJCRYPT_KEY_LEN);
    return ok ? t->gcm[i] : NULL;
}
