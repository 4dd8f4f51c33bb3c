/*
 * keycache.h - a host-side cache of an encrypted repository's unwrapped
 * keys (keyring.h), so that a short command (one wal-push, one wal-fetch
 * from restore_command) neither runs scrypt on the passphrase nor fetches
 * the key objects again.
 *
 * Where: STATE-DIR/keycache/<16 hex> (config_state_dir(), never in the
 * repository), the name being the first 8 bytes of SHA-256 of the
 * repository's root ("s3://bucket/prefix" or its directory). Directory
 * 0700, file 0600, both owned by the user drydock runs as. [repository]
 * cipher-key-cache = off turns it off.
 *
 * Format (text, one field a line, written whole by a rename):
 *   drydock-keycache 1
 *   current <64 hex>       what they were derived under: SHA-256 of the
 *                          passphrase source's fingerprint and keys/current's id
 *   generation <G>
 *   kek <64 hex>           the key-encryption key of generation G
 *   name <64 hex>          the name key
 *   key <16 hex> <64 hex>  a data key by its id; any number of these
 *   mac <64 hex>           HMAC-SHA256 under kek of every byte before this line
 *
 * Invariants:
 *  1. The cache is used only for the keys/current id it was derived under,
 *     and the same passphrase source: the same command text, or the same
 *     file (path, inode, size, mode, change time). keys/current carries a
 *     random id per generation (keyring.h), which drydock.repo repeats
 *     (repo.h): a push compares it with the metadata it reads anyway, and
 *     reads keys/current itself before the KEK is next used (a new data
 *     key). After repo-rekey, on any host, every cache misses and the keys
 *     are derived again from the passphrase (a stale cache fails closed: an
 *     old passphrase then fails its check). Another, edited or loosened pass
 *     file also misses, and gets the usual checks.
 *  2. A file that is not 0600, not a regular file, or not owned by this user
 *     is refused (its keys may have been read or planted); one that fails its
 *     MAC or does not parse is damaged. Either way it is ignored and
 *     replaced: the caller derives the keys as if there were no cache.
 *  3. A cache never makes a command fail: when it cannot be read or
 *     written, the command goes on without it.
 *
 * Security: the file holds what the passphrase unlocks (the KEK, hence every
 * data key of the generation). With cipher-pass-file, the passphrase sits on
 * the same host in a 0600 file already (as pgBackRest keeps repo-cipher-pass
 * in its configuration), so a 0600 cache of the same user is no weaker. With
 * cipher-pass-command (a KMS, a vault), it puts on disk what the command kept
 * off it: turn it off there if that matters more than speed.
 */
#ifndef DD_REPO_KEYCACHE_H
#define DD_REPO_KEYCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hash.h"
#include "repo/object.h"

typedef struct {
    uint8_t id[OBJ_KEY_ID_LEN];
    uint8_t key[OBJ_KEY_LEN];
} KeyCacheEntry;

typedef struct {
    uint8_t current[SHA256_LEN];
    int generation;
    uint8_t kek[OBJ_KEY_LEN];
    uint8_t name[OBJ_KEY_LEN];
    KeyCacheEntry *keys;
    size_t nkeys, cap; /* cap: entries allocated */
} KeyCache;

typedef enum {
    KEYCACHE_HIT,     /* *out holds the keys */
    KEYCACHE_MISS,    /* no file */
    KEYCACHE_STALE,   /* derived under another keys/current (invariant 1) */
    KEYCACHE_REFUSED, /* wrong mode, type or owner (invariant 2) */
    KEYCACHE_DAMAGED, /* fails its MAC or does not parse (invariant 2) */
} KeyCacheResult;

/* The cache file of the repository at root under state_dir; caller frees. */
char *keycache_path(const char *state_dir, const char *root);

/* Read path and check it against current (the SHA-256 of keys/current). */
KeyCacheResult keycache_load(const char *path, const uint8_t current[SHA256_LEN], KeyCache *out);

/* Replace path with kc (0600), creating its directory (0700) and the one above. */
DD_MUST_CHECK bool keycache_store(const char *path, const KeyCache *kc);

/* Add (or replace) a data key in kc. */
void keycache_add(KeyCache *kc, const uint8_t id[OBJ_KEY_ID_LEN], const uint8_t key[OBJ_KEY_LEN]);

/* Wipe and free what kc holds. */
void keycache_clear(KeyCache *kc);

/* "hit", "miss", ... for messages. */
const char *keycache_result_name(KeyCacheResult r);

#endif
