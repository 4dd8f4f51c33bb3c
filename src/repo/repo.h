/*
 * repo.h - a drydock repository: its metadata, storage and locks.
 *
 * Layout under the repository path:
 *
 *   drydock.repo            object (object.h) holding JSON metadata:
 *                           {"format":1, "system-identifier":"<u64>",
 *                            "wal-segment-size":16777216, "pg-version":150000,
 *                            "created":"<timestamp>", "cipher":"aes-256-gcm",
 *                            "keys":"<32 hex>"}
 *                           (cipher absent: not encrypted; keys: the id of
 *                           keys/current, keyring.h); never encrypted
 *   keys/                   an encrypted repository's keys (keyring.h)
 *   locks/...               the storage's locks (lock.h, storage.h); not objects
 *   wal/<TTTTTTTTXXXXXXXX>/<segment name>   one object per archived segment,
 *                           .partial or .backup file (walarchive.h)
 *   wal/history/<TTTTTTTT>.history
 *   packs/, backups/        chunk packs and manifests (backup layer)
 *
 * Invariants:
 *  1. drydock.repo is written by repo-create; afterwards only its "keys"
 *     changes, when repo-rekey has switched keys/current (the object is
 *     replaced whole). "keys" is a hint, for the key cache (keycache.h):
 *     a stale one (a rotation interrupted before it) costs a derivation,
 *     never a wrong key, since keys/current is read before the KEK is used.
 *  2. Only drydock writes here, always through storage/ (atomic, durable).
 *  3. Every object verifies on read (object.h); a failure names the object.
 *  4. In an encrypted repository every object but drydock.repo and keys/ is
 *     encrypted (object.h invariant 5); the cipher is chosen at repo-create.
 */
#ifndef DD_REPO_REPO_H
#define DD_REPO_REPO_H

#include <stdbool.h>
#include <stdint.h>

#include "common/compress.h"
#include "common/error.h"
#include "config/config.h"
#include "repo/keyring.h"
#include "repo/object.h"
#include "storage/storage.h"

#define REPO_FORMAT    1
#define REPO_META_FILE "drydock.repo"

typedef struct Repo Repo;

typedef struct {
    uint64_t system_id;
    uint32_t wal_seg_size;
    uint32_t pg_version; /* server_version_num */
} RepoCreateOpts;

/*
 * Where the configuration puts the repository (its [repository] keys): the
 * one translation from Config to storage. Fails (DD_EXIT_CONFIG) when a key
 * that kind of repository needs is missing. Strings point into cfg.
 */
DD_MUST_CHECK bool repo_storage_config(const Config *cfg, StorageConfig *out);

/* Create the repository the configuration names; refuses a non-empty one (DD_EXIT_REPO). */
DD_MUST_CHECK bool repo_create(const Config *cfg, RepoCreateOpts opts);

/*
 * Open the repository the configuration names and read its metadata. The
 * command opens it, once, and hands the Repo to the modules it calls.
 */
DD_MUST_CHECK bool repo_open(const Config *cfg, Repo **out);
/*
 * As repo_open, for wal-push (one process per segment): in a bucket, the metadata
 * comes from this host's copy while it is younger than METACACHE_MAX_AGE
 * (metacache.h says what that can miss), saving a request per push.
 */
DD_MUST_CHECK bool repo_open_for_push(const Config *cfg, Repo **out);
void repo_close(Repo *repo);

Storage *repo_storage(Repo *repo);

/*
 * The keys objects are encoded and decoded with: *out NULL for a repository
 * that is not encrypted. for_write chooses a data key if none was
 * (keyring.h). repo_use_key makes the data key called name the write key
 * (a backup's, a WAL period's); a no-op when not encrypted.
 */
DD_MUST_CHECK bool repo_obj_keys(Repo *repo, bool for_write, const ObjKeys **out);
DD_MUST_CHECK bool repo_use_key(Repo *repo, const char *name);
/* Would repo_use_key(name) touch the storage? false when not encrypted or the key is cached. */
bool repo_key_needs_storage(Repo *repo, const char *name);
/* The keyring of an encrypted repository, or NULL. */
Keyring *repo_keyring(Repo *repo);
/*
 * Rotate the key-encryption key (keyring_rekey), then record the new
 * keys/current id in drydock.repo (invariant 1). The caller holds the
 * archive and backup locks.
 */
DD_MUST_CHECK bool repo_rekey(Repo *repo, const KeySource *src, size_t *rewrapped, int *generation);
/* Where the configuration says the passphrase comes from. */
KeySource repo_key_source(const Config *cfg);
const char *repo_path(const Repo *repo);
uint64_t repo_system_id(const Repo *repo);
uint32_t repo_wal_seg_size(const Repo *repo);
Codec repo_codec(const Repo *repo);
int repo_compress_level(const Repo *repo);

/* Read a whole object and verify it (object.h); *found=false if missing. */
DD_MUST_CHECK bool repo_object_get(Repo *repo, const char *path, Buf *raw, bool *found);
/* Encode with the repository's codec and store atomically. */
DD_MUST_CHECK bool repo_object_put(Repo *repo, const char *path, const void *raw, size_t len,
                                   StoragePutOpts opts);

#endif
