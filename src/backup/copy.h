/*
 * copy.h - the parallel copy of a data directory into the chunk store.
 *
 * Regular files are cut into chunks of chunk_size bytes (a power-of-two
 * multiple of the 8 KiB page, so chunks are page-aligned), each hashed
 * (SHA-256), and only chunks the store lacks are compressed and written
 * (chunkstore_put). The work is split into units of up to 16 MiB of one file,
 * taken in order by `jobs` threads from a shared cursor; a worker holds one
 * chunk buffer, so memory is jobs x (chunk + its encoding), whatever the size
 * of the cluster.
 *
 * Files change while a backup runs (WAL replay repairs them): a file that
 * vanished is left out, a file that shrank ends at its first short chunk,
 * bytes a file gained after the walk are not read.
 *
 * A new chunk whose file had a chunk at the same place in the previous backup
 * is offered to the store with that chunk as a delta base
 * (chunkstore_put_delta): when few of its pages changed, only they are stored.
 *
 * With a guide (guide.h), a chunk of a relation file that the WAL summaries
 * prove unchanged since the previous backup is taken from its manifest
 * without being read; the result counts the files read whole, by reason. A
 * chunk with a changed page, when at most half of its pages changed, is
 * rebuilt instead of read: the previous backup's chunk (read from the store,
 * verified) with only the changed pages read from the file put in place,
 * then named and stored as a delta against it as any new chunk. So a guided
 * backup reads about the changed pages, not their chunks.
 *
 * global/pg_control is copied last, after the workers finished (see
 * backup_copy()).
 *
 * With data checksums, every full page of a relation file is checked
 * (pagecheck.h) unless it is new or its LSN is at or past the backup start; a
 * mismatch is read again once (a write may have been in progress) before it
 * is reported by file and block.
 */
#ifndef DD_BACKUP_COPY_H
#define DD_BACKUP_COPY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "backup/guide.h"
#include "common/progress.h"
#include "pg/datadir.h"
#include "repo/chunkstore.h"
#include "repo/manifest.h"

/*
 * A new repository's chunk size; later backups keep the previous backup's
 * unless --chunk-size says otherwise. 32 KiB (4 pages): a guided backup
 * rebuilds every chunk with a changed page (hash, base, delta), and at 1 %
 * of pages changed 128 KiB chunks made it 0.31 s against 0.19 s at scale
 * 100, for a full backup 11 % slower (bench/backup_guided.sh, CHUNK_KIB).
 */
#define BACKUP_CHUNK_SIZE_DEFAULT (32u * 1024)
#define BACKUP_BAD_PAGES_KEPT     100

typedef struct {
    int jobs;
    uint32_t chunk_size;
    bool check_pages;
    uint64_t start_lsn;
    Progress *progress;       /* may be NULL */
    const Manifest *prev;     /* the previous backup (same chunk size) or NULL: delta bases */
    const BackupGuide *guide; /* NULL: read everything; else unchanged chunks come from prev */
} BackupCopyOpts;

typedef struct {
    char *path;
    uint32_t blkno;
} BackupBadPage;

typedef struct {
    ManifestFile *files; /* sorted by path; owned (freed by backup_copy_result_free) */
    size_t nfiles;
    uint64_t bytes_logical; /* sum of the sizes of the files listed */
    uint64_t bytes_read;
    uint64_t chunks, chunks_new;
    uint64_t bytes_new, bytes_stored; /* raw and stored bytes of the chunks written */
    uint64_t pages_checked, bad_pages;
    uint64_t files_guided;                   /* relation files read only where changed */
    uint64_t files_whole[GUIDE_WHOLE_COUNT]; /* relation files read whole, by reason */
    uint64_t chunks_reused, bytes_reused;    /* taken from prev without reading */
    uint64_t chunks_rebuilt;                 /* prev's chunk with the changed pages read */
    BackupBadPage *bad;                      /* the first BACKUP_BAD_PAGES_KEPT */
    size_t nbad;
} BackupCopyResult;

/* Copy every file of dl into cs. On failure the first worker error is reported. */
DD_MUST_CHECK bool backup_copy(const DatadirList *dl, ChunkStore *cs, BackupCopyOpts opts,
                               BackupCopyResult *out);

/* Frees the bad-page list; the files array is freed unless taken (set to NULL). */
void backup_copy_result_free(BackupCopyResult *r);

#endif
