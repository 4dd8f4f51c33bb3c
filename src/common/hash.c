/*
 * hash.c - see hash.h.
 */
#include "common/hash.h"

#include <openssl/evp.h>
#include <stdlib.h>

struct Sha256Ctx {
    EVP_MD_CTX *md;
};

void sha256(const void *data, size_t len, uint8_t out[SHA256_LEN])
{
    unsigned int n = SHA256_LEN;
    if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL))
        abort();
}

void sha256_hex(const uint8_t digest[SHA256_LEN], char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < SHA256_LEN; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[SHA256_HEX_LEN] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

bool sha256_from_hex(const char *s, uint8_t out[SHA256_LEN])
{
    for (int i = 0; i < SHA256_LEN; i++) {
        int hi = hex_value(s[2 * i]);
        int lo = hi < 0 ? -1 : hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return s[SHA256_HEX_LEN] == '\0';
}

Sha256Ctx *sha256_begin(void)
{
    Sha256Ctx *ctx = malloc(sizeof(*ctx));
    if (!ctx || !(ctx->md = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(ctx->md, EVP_sha256(), NULL))
        abort();
    return ctx;
}

void sha256_update(Sha256Ctx *ctx, const void *data, size_t len)
{
    if (!EVP_DigestUpdate(ctx->md, data, len))
        abort();
}

void sha256_end(Sha256Ctx *ctx, uint8_t out[SHA256_LEN])
{
    unsigned int n = SHA256_LEN;
    if (!EVP_DigestFinal_ex(ctx->md, out, &n))
        abort();
    EVP_MD_CTX_free(ctx->md);
    free(ctx);
}
