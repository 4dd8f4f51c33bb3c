/*
 * metacache.h - drydock.repo as last read from a bucket, kept on this host
 * for wal-push (repo_open_for_push in repo.h).
 *
 * A push to a bucket is a handful of requests; reading drydock.repo is one
 * of them, for bytes that change only at repo-create and repo-rekey. The
 * decoded JSON is kept in STATE-DIR/repo-meta/<first 16 hex of the SHA-256
 * of the repository's root>, 0600 in a 0700 directory, and used without a
 * request while younger than its max age (METACACHE_MAX_AGE).
 *
 * Invariants:
 *  1. What the copy can miss for at most its max age: a repository deleted
 *     and created again under the same root for another cluster, whose
 *     segments the push would then not refuse by system identifier; and a
 *     key rotation, in that a push whose WAL period's data key is in the
 *     key cache goes on with it (it is among the keys rotated, so nothing
 *     is lost) for up to that minute after repo-rekey ends, instead of
 *     failing at once on the rotated-out passphrase. A push that needs the
 *     key-encryption key reads keys/current first (keyring.h) and fails
 *     closed as before.
 *  2. The copy is the metadata's bytes as read, parsed and checked again by
 *     each use; a copy that cannot be read or parsed is read from the
 *     bucket again, and a failure to write it only costs that request.
 */
#ifndef DD_REPO_METACACHE_H
#define DD_REPO_METACACHE_H

#include <stdbool.h>

#include "common/mem.h"
#include "config/config.h"

/* Seconds a copy is used for. */
#define METACACHE_MAX_AGE 60.0

/* The copy for root into out, if there is one younger than max_age: true then. */
bool metacache_get(const Config *cfg, const char *root, double max_age, Buf *out);
/* Keep raw as the copy for root (failures are logged at debug level only). */
void metacache_put(const Config *cfg, const char *root, const Buf *raw);

#endif
