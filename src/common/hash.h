/*
 * hash.h - SHA-256 through OpenSSL (which uses the CPU's SHA extensions).
 */
#ifndef DD_COMMON_HASH_H
#define DD_COMMON_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN     32
#define SHA256_HEX_LEN 64

void sha256(const void *data, size_t len, uint8_t out[SHA256_LEN]);
/* out must hold SHA256_HEX_LEN + 1 bytes. */
void sha256_hex(const uint8_t digest[SHA256_LEN], char *out);
/* Parse 64 hex digits; false if s is not exactly that. */
bool sha256_from_hex(const char *s, uint8_t out[SHA256_LEN]);

typedef struct Sha256Ctx Sha256Ctx;
Sha256Ctx *sha256_begin(void);
void sha256_update(Sha256Ctx *ctx, const void *data, size_t len);
void sha256_end(Sha256Ctx *ctx, uint8_t out[SHA256_LEN]); /* frees ctx */

#endif
