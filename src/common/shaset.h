/*
 * shaset.h - a set of SHA-256 digests as one sorted array: the live chunks
 * of expire, the kept delta bases of the pack collector.
 *
 * Adding appends; sha_set_sort() sorts and drops duplicates; sha_set_has()
 * is a binary search, so it answers for what was sorted: call sha_set_sort()
 * after adding and before asking. 32 bytes an entry, no per-entry
 * allocation: a repository of ten million chunks costs 320 MB, not a hash
 * table's overhead on top.
 */
#ifndef DD_COMMON_SHASET_H
#define DD_COMMON_SHASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hash.h"

typedef struct {
    uint8_t (*sha)[SHA256_LEN];
    size_t n, cap;
} ShaSet;

void sha_set_add(ShaSet *s, const uint8_t sha[SHA256_LEN]);
void sha_set_sort(ShaSet *s);
bool sha_set_has(const ShaSet *s, const uint8_t sha[SHA256_LEN]);
void sha_set_free(ShaSet *s);

#endif
