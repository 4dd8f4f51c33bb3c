/*
 * walarchive.h - the WAL archive inside a repository.
 *
 * One object per archived file, at
 *   wal/<TTTTTTTTXXXXXXXX>/<name>   segments, .partial and .backup files
 *   wal/history/<TTTTTTTT>.history  timeline history files
 *
 * Invariants:
 *  1. An archived file is never replaced. Pushing the same content again
 *     succeeds (PostgreSQL retries after a crash); other content under the
 *     same name fails with DD_EXIT_CONFLICT and changes nothing.
 *  2. Segments of a cluster with another system identifier, another
 *     segment size or whose header contradicts their name are refused.
 *  3. Fetch writes the file only after the object verified.
 */
#ifndef DD_REPO_WALARCHIVE_H
#define DD_REPO_WALARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "pg/wal.h"
#include "repo/repo.h"

typedef enum { WAL_PUSH_STORED, WAL_PUSH_ALREADY } WalPushResult;

/* Archive the file at src_path (its base name must be a WAL file name). */
DD_MUST_CHECK bool walarchive_push(Repo *repo, const char *src_path, WalPushResult *result);

/*
 * Fetch name into dest_path. *found=false (and true returned) when the
 * archive does not hold it; false on a broken object or an I/O failure.
 */
DD_MUST_CHECK bool walarchive_fetch(Repo *repo, const char *name, const char *dest_path,
                                    bool *found);

/*
 * Check a history or backup history file's content (pg/walside.h); other
 * kinds pass. wal-push refuses a file that fails; verify reports it.
 */
DD_MUST_CHECK bool walarchive_check_side(Repo *repo, const WalFileName *wn, const char *name,
                                         const void *data, size_t len);

/* The data key a WAL file is encrypted with: one per WAL period (256 segments); out >= 32. */
void walarchive_key_name(const char *name, char *out, size_t len);

/* The repository path of a WAL file name (caller frees). */
char *walarchive_path(const WalFileName *n, const char *name);

/* Whether the archive holds name (no verification). */
DD_MUST_CHECK bool walarchive_exists(Repo *repo, const char *name, bool *exists);

/*
 * All archived segment names (plain segments only) of all timelines, sorted;
 * for the recoverable window, gaps and expire.
 */
DD_MUST_CHECK bool walarchive_list_segments(Repo *repo, StrList *out);

/*
 * Every archived file under the segment directories (segments, .partial and
 * .backup files) of all timelines, sorted; for expire, which removes them all
 * below the oldest kept backup's start.
 */
DD_MUST_CHECK bool walarchive_list_files(Repo *repo, StrList *out);

#endif
