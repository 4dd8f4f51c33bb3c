/*
 * objcrypt.h - the OpenSSL contexts that encrypt, decrypt and key-hash
 * objects (object.h invariant 5), kept per thread so that a small object
 * does not pay their setup.
 *
 * Why: a restore decodes one object per 32 KiB chunk, whose payload is
 * often 1-2 KiB. Set up per object, AES-256-GCM (a context, the cipher
 * looked up by name, the key schedule and GHASH table) and HMAC-SHA256 (the
 * MAC and digest looked up by name, the key's two pads hashed) cost about as
 * much as decrypting and hashing the chunk itself. Here each thread keeps
 * one HMAC context and one GCM context per direction, with the key they were
 * last set up for: the same key again only resets them (a new nonce for
 * GCM, the pads' saved state for HMAC).
 *
 * Invariants:
 *  1. The result is the same as the one-shot computation: a context set up
 *     for another key is set up again for this one (compared whole).
 *  2. Nothing is shared between threads, so no lock is taken.
 *  3. A thread's contexts are freed (OpenSSL cleanses their keys) when the
 *     thread ends; the main thread's when the process does.
 *  4. A failure to set a context up is never hidden: HMAC falls back to the
 *     one-shot HMAC(); GCM returns NULL and the caller fails the object.
 */
#ifndef DD_REPO_OBJCRYPT_H
#define DD_REPO_OBJCRYPT_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OBJCRYPT_KEY_LEN   32
#define OBJCRYPT_NONCE_LEN 12

/* HMAC-SHA256(key, data) into out (32 bytes). */
void objcrypt_hmac(const uint8_t key[OBJCRYPT_KEY_LEN], const void *data, size_t len,
                   uint8_t out[32]);

/*
 * This thread's AES-256-GCM context for enc (or decryption), initialised
 * with key and nonce, ready for the additional data; NULL when OpenSSL
 * fails. It stays this thread's: use it before the next call, never free it.
 */
EVP_CIPHER_CTX *objcrypt_gcm(bool enc, const uint8_t key[OBJCRYPT_KEY_LEN],
                             const uint8_t nonce[OBJCRYPT_NONCE_LEN]);

#endif
