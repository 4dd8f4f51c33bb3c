/*
 * guide.h - WAL-guided backups: which chunks of which relation files changed
 * since the previous backup, from the WAL summaries (repo/walsum.h).
 *
 * With a previous backup P (same timeline, same chunk size, its data-checksum
 * state known and unchanged) and summaries without a gap for every segment
 * from P's start LSN up to this backup's start LSN, a chunk of a relation
 * file is taken from P's manifest without reading it when no block of it is
 * referenced by a record in that range, the file existed in P at least as
 * long as the chunk, and nothing the summaries report (creation, truncation,
 * drop, database copy/create/drop, tablespace create/drop, an unknown
 * record) touches its relation. Everything else is read as before.
 *
 * Why that is enough: P's copy of such a block was read after P's start and
 * the block did not change from P's start to this backup's start, so it is
 * the block's content at this start; later changes are replayed from the WAL
 * after this start as for any backup (full-page images follow the start
 * checkpoint). With data checksums (or wal_log_hints) even hint-bit changes
 * are in the WAL; without, a reused block may lack hint bits set since P,
 * which PostgreSQL sets again when it needs them.
 *
 * Segments of the current range that are not archived yet are summarised from
 * the data directory's pg_wal (mapped, not read: the decoder stops where the
 * WAL written so far ends, and for this backup's start segment after the
 * start's page). The free space map is not WAL-logged, and heap
 * records clear visibility map bits without referencing the map's block: both
 * forks are always read whole (they are small: a map page covers 256 MiB or
 * more of heap).
 */
#ifndef DD_BACKUP_GUIDE_H
#define DD_BACKUP_GUIDE_H

#include <stdbool.h>
#include <stdint.h>

#include "pg/datadir.h"
#include "repo/manifest.h"
#include "repo/repo.h"
#include "repo/walsum.h"

/* Why a relation file was read whole although a guide was in use. */
typedef enum {
    GUIDE_READ_CHANGED = 0, /* not whole: only changed chunks were read */
    GUIDE_WHOLE_NEW,        /* not in the previous backup */
    GUIDE_WHOLE_SHRANK,     /* shorter than in the previous backup */
    GUIDE_WHOLE_MAPS,       /* free space map (not WAL-logged) or visibility map (bits
                               cleared by heap records without a block reference) */
    GUIDE_WHOLE_CREATED,    /* relation file (re)created in the range */
    GUIDE_WHOLE_TRUNCATED,  /* relation truncated in the range */
    GUIDE_WHOLE_DROPPED,    /* relation dropped in the range (file node reused) */
    GUIDE_WHOLE_DATABASE,   /* its database was copied, created or dropped */
    GUIDE_WHOLE_TABLESPACE, /* its tablespace was created or dropped */
    GUIDE_WHOLE_COUNT
} GuideReason;

const char *guide_reason_name(GuideReason r);

typedef struct BackupGuide BackupGuide;

typedef struct {
    const Manifest *prev; /* NULL: no guide ("no previous backup") */
    uint32_t tli;
    uint64_t start_lsn;
    bool data_checksums;
    const char *datadir; /* for pg_wal/ segments not archived yet */
    bool full;           /* --full */
    uint32_t full_every; /* a full read every N backups (0: never by count) */
    double full_days;    /* ...or when the last full read is older (0: never by age) */
    double now;          /* epoch seconds */
} GuideOpts;

/*
 * A guide for this backup, or NULL with *why saying why every file is read
 * whole ("--full", "no previous backup", "summary of segment X is missing",
 * ...). Never fails: anything that stops a guide is a full read.
 */
BackupGuide *backup_guide_open(Repo *repo, const GuideOpts *opts, char *why, size_t whylen);

/* Why opts->prev cannot guide a backup, judged without the WAL summaries
 * (buf may hold the words); NULL when it can as far as that goes. A plan
 * predicts a backup's read from it (maint/sizes.h). */
const char *backup_guide_refusal(const GuideOpts *opts, char *buf, size_t len);
void backup_guide_free(BackupGuide *g);

/*
 * Whether the relation file e (in prev as pf, or NULL) may be guided; else
 * *reason says why it is read whole. Thread-safe.
 */
bool backup_guide_file(const BackupGuide *g, const DatadirEntry *e, const ManifestFile *pf,
                       GuideReason *reason);

/* Whether the chunk [offset, offset+len) of a guided file e has a changed block. */
bool backup_guide_chunk_changed(const BackupGuide *g, const DatadirEntry *e, uint64_t offset,
                                uint32_t len);

/*
 * The changed pages of the chunk [offset, offset+len) of a guided file e, as
 * bits of pages (bit i of pages[i / 64]: the page at offset + i * 8 KiB; len
 * at most GUIDE_CHUNK_PAGES_MAX pages); returns how many. The copy reads
 * only those pages when few changed (copy.h).
 */
#define GUIDE_CHUNK_PAGES_MAX 512 /* 4 MiB, the largest chunk size */
uint32_t backup_guide_chunk_pages(const BackupGuide *g, const DatadirEntry *e, uint64_t offset,
                                  uint32_t len, uint64_t pages[GUIDE_CHUNK_PAGES_MAX / 64]);

/*
 * The merge itself, for tests: an empty guide, each summary merged in any
 * order, then sealed (sorted, deduplicated) before the lookups above.
 */
BackupGuide *backup_guide_new(void);
void backup_guide_merge(BackupGuide *g, const WalSum *s);
void backup_guide_seal(BackupGuide *g);

/* Segments summarised and blocks known changed (for the backup summary). */
void backup_guide_stats(const BackupGuide *g, uint64_t *segments, uint64_t *blocks);

#endif
