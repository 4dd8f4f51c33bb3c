/*
 * catalog.h - what a repository holds, as restore and info see it: a
 * summary of every backup (from its manifest) and the recoverable window
 * (window.h) computed from those and the archived segments.
 *
 * The archived-at time of a segment is its object's modification time
 * (storage_info); see window.h for what that approximation means.
 *
 * Manifests are loaded one at a time and only their summary kept, so the
 * catalog's size does not grow with the clusters' file counts.
 */
#ifndef DD_RESTORE_CATALOG_H
#define DD_RESTORE_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/mem.h"
#include "repo/manifest.h"
#include "repo/repo.h"
#include "restore/window.h"

typedef struct {
    char *id;
    char *source_node;
    uint32_t tli;
    uint64_t start_lsn, stop_lsn;
    double start_time, stop_time;
    uint64_t bytes_logical, bytes_new, bytes_stored;
    double duration;
    size_t nfiles;
    size_t ntablespaces;
    /* how relation files were read (manifest.h, backup/guide.h) */
    bool guided;
    char *full_read_reason;    /* a full read: why ("" when the manifest does not say) */
    uint64_t files_guided;     /* guided: relation files read only where changed */
    uint64_t files_read_whole; /* guided: relation files read whole, the sum of read_whole */
    ManifestCount *read_whole; /* by reason */
    size_t nread_whole;
} CatalogBackup;

typedef struct {
    CatalogBackup *backups; /* oldest first */
    WindowBackup *wb;       /* the same backups, as window.h wants them */
    size_t nbackups;
    size_t nsegments; /* archived segments seen */
    StrList damaged;  /* ids of manifests that failed to load (left out, with a warning) */
    Window window;    /* computed over backups and segments */
} Catalog;

/*
 * Read every manifest and the archived segment list; compute the window. A
 * damaged manifest (DD_EXIT_CORRUPT) is left out with a warning and listed
 * in damaged, so that one bad backup does not stop a restore of the others.
 */
DD_MUST_CHECK bool catalog_load(Repo *repo, Catalog *out);

/*
 * Fill the window of a catalog whose backups are set, from segments
 * (pure: for tests and for catalog_load).
 */
void catalog_compute(Catalog *c, const WindowSegment *segs, size_t nsegs, uint32_t seg_size);

void catalog_free(Catalog *c);

#endif
