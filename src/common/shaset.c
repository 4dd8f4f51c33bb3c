/*
 * shaset.c - see shaset.h.
 */
#include "common/shaset.h"

#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

static int sha_set_cmp(const void *a, const void *b)
{
    return memcmp(a, b, SHA256_LEN);
}

void sha_set_add(ShaSet *s, const uint8_t sha[SHA256_LEN])
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->sha = xrealloc(s->sha, s->cap * SHA256_LEN);
    }
    memcpy(s->sha[s->n++], sha, SHA256_LEN);
}

void sha_set_sort(ShaSet *s)
{
    if (s->n > 0)
        qsort(s->sha, s->n, SHA256_LEN, sha_set_cmp);
    size_t w = 0;
    for (size_t i = 0; i < s->n; i++)
        if (w == 0 || memcmp(s->sha[w - 1], s->sha[i], SHA256_LEN) != 0)
            memmove(s->sha[w++], s->sha[i], SHA256_LEN);
    s->n = w;
}

bool sha_set_has(const ShaSet *s, const uint8_t sha[SHA256_LEN])
{
    return s->n > 0 && bsearch(sha, s->sha, s->n, SHA256_LEN, sha_set_cmp) != NULL;
}

void sha_set_free(ShaSet *s)
{
    free(s->sha);
    memset(s, 0, sizeof(*s));
}
