/*
 * keyring.h - the keys of an encrypted repository ([repository] cipher =
 * aes-256-gcm): envelope encryption, so that the outer key can be rotated
 * without rewriting data.
 *
 * Hierarchy:
 *   passphrase (cipher-pass-file, 0600, or the first line cipher-pass-command
 *   prints: a KMS or a vault)
 *     -> KEK = scrypt(passphrase, salt, N=2^15, r=8, p=1), 32 bytes, never stored
 *       -> wraps (AES-256-GCM) each data key, and the name key
 *         -> a data key per backup ("backup-<start>"), per WAL period
 *            ("wal-<timeline and segment high word>", 256 segments of 16 MiB),
 *            per expire run, encrypts objects (object.h invariant 5)
 *         -> the name key keys the checksums that name chunks (HMAC-SHA256)
 *
 * Layout under the repository, generation G being the current one:
 *   keys/current          {"generation":G, "id":hex, "rotations":[{"generation":g,"at":T},...]}
 *                         id: 16 random bytes, new with each generation, so that
 *                         the text changes with every rotation (keycache.h)
 *   keys/g<G>/kdf         {"kdf":"scrypt","n":..,"r":..,"p":..,"salt":hex,"check":hex}
 *                         check = a wrap of 32 zero bytes: proves the passphrase
 *   keys/g<G>/name        the name key, wrapped
 *   keys/g<G>/<16 hex>    a data key, wrapped; its id (the object header's
 *                         key_id) is the first 8 bytes of SHA-256("drydock key " name)
 *   A wrap is hex(nonce 12 | ciphertext 32 | tag 16), AES-256-GCM under the
 *   KEK with the key's file name as additional data (a wrap moved to another
 *   name fails).
 *
 * Invariants:
 *  1. Data keys come from getrandom and never leave memory unwrapped.
 *  2. keys/current is written last by a rotation: until then the old
 *     generation is whole and in use; after it, the new one is; the old one
 *     is then removed, and the old passphrase unlocks nothing.
 *  3. A rotation holds the archive and backup locks, so that no new data key
 *     is created while keys are rewrapped.
 *  4. A wrong passphrase is told apart from damage: it fails the check, and
 *     the error names the key source.
 *  5. A data key is created with an exclusive put: two processes starting
 *     the same WAL period agree on one key (the loser reads the winner's).
 */
#ifndef DD_REPO_KEYRING_H
#define DD_REPO_KEYRING_H

#include <stdbool.h>

#include "common/error.h"
#include "repo/object.h"
#include "storage/storage.h"

#define KEYRING_SCRYPT_N 32768
#define KEYRING_SCRYPT_R 8
#define KEYRING_SCRYPT_P 1
#define KEYRING_ID_LEN   32 /* hex digits of keys/current's id */

/* Where the passphrase comes from: exactly one of the two. */
typedef struct {
    const char *pass_file;
    const char *pass_command;
} KeySource;

typedef struct Keyring Keyring;

/* "cipher-pass-file \"PATH\"" or "cipher-pass-command \"CMD\"", for messages. */
void keysource_describe(const KeySource *src, char *out, size_t len);

/* Create generation 1 with a new name key (repo-create); id (KEYRING_ID_LEN + 1) gets its id. */
DD_MUST_CHECK bool keyring_create(Storage *s, const KeySource *src, char *id);
/* Derive the KEK and check it (invariant 4). */
DD_MUST_CHECK bool keyring_open(Storage *s, const KeySource *src, Keyring **out);
/*
 * As keyring_open, with the host-side cache at cache_path (keycache.h; NULL:
 * none). hint is the id of keys/current as the repository's metadata names
 * it (repo.h), or NULL. With a hint and a cache of that id and source, no
 * key object is read and no scrypt runs; keys/current is read (and the keys
 * derived again if it changed) only before the KEK is next needed: a data
 * key not in the cache, a rotation. Without, keys/current is read first,
 * then the cache or scrypt. Data keys unwrapped or created are added to the
 * cache.
 */
DD_MUST_CHECK bool keyring_open_cached(Storage *s, const KeySource *src, const char *cache_path,
                                       const char *hint, Keyring **out);
/* The id of keys/current as kr knows it ("" for a repository made before ids). */
const char *keyring_id(const Keyring *kr);
void keyring_close(Keyring *kr);

/* Make the data key called name the one new objects are written with, creating it if new. */
DD_MUST_CHECK bool keyring_use(Keyring *kr, const char *name);
/* Is the data key called name in the key cache, so that keyring_use reads and writes nothing? */
bool keyring_has(Keyring *kr, const char *name);
/* The keys as the object layer takes them; a write key is chosen ("default-<YYYYMM>") if none was.
 */
DD_MUST_CHECK bool keyring_obj_keys(Keyring *kr, bool for_write, const ObjKeys **out);

/*
 * Rewrap every key under the KEK of new_src (a new salt), write the new
 * generation, switch keys/current, remove the old one (invariant 2). The
 * caller holds the archive and backup locks (invariant 3). *rewrapped
 * counts the keys.
 */
DD_MUST_CHECK bool keyring_rekey(Keyring *kr, const KeySource *new_src, size_t *rewrapped,
                                 int *generation);

#endif
