/*
 * dest.h - the destination of a restore: checks, delta cleanup and layout
 * (private to restore/; restore.h drives it).
 *
 * Never follows a symlink while deleting, except the pg_tblspc/<oid> link
 * of a tablespace the backup holds and that already points at its final
 * location: then what is behind it is compared and cleaned as part of the
 * data directory.
 */
#ifndef DD_RESTORE_DEST_H
#define DD_RESTORE_DEST_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "repo/manifest.h"

typedef struct {
    const char *dir;    /* the data directory */
    const Manifest *m;  /* the backup */
    char *const *tsloc; /* final location of each of m->tablespaces */
    bool delta;
} RestoreDest;

/* Step 2: the destination and tablespace locations may be written. */
DD_MUST_CHECK bool dest_check(const RestoreDest *d);

/* Step 3 (delta): remove what the backup does not hold; *removed counts paths. */
DD_MUST_CHECK bool dest_clean(const RestoreDest *d, size_t *removed);

/*
 * Step 3: the directory (0700), pg_tblspc symlinks, every directory of the
 * backup, and the regular files without chunks (empty ones) at their size
 * and mode; the others are created during step 4 (dest_open_file by the
 * workers, ahead of them by restore.c's main thread), while the workers
 * write. *dirs and *files count them all.
 */
DD_MUST_CHECK bool dest_layout(const RestoreDest *d, size_t *dirs, size_t *files);

/*
 * Open (creating it if needed) a regular file of the backup for writing, by
 * a worker: the one writing its first chunk (first) also sets its mode and
 * size, so that a file longer on disk (delta) is cut.
 */
DD_MUST_CHECK bool dest_open_file(const char *path, const ManifestFile *f, bool first, int *fd);

/* Step 5: the directories PostgreSQL needs even if a backup left them out; fsync the directories.
 */
DD_MUST_CHECK bool dest_finish(const RestoreDest *d);

#endif
