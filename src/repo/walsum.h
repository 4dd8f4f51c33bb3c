/*
 * walsum.h - WAL summaries: what one archived segment changes, compactly.
 *
 * wal-push stores, after each segment, a summary beside it:
 *   wal/<TTTTTTTTXXXXXXXX>/<segment name>.sum
 * holding the sorted, deduplicated (relation file node, fork, block) that
 * the segment's records reference, plus the records that change files
 * outside block references (pg/walrec.h). The byte format and its
 * invariants are at the top of walsum.c. A missing summary is a gap: whoever
 * needs it reads the files it would have vouched for whole.
 */
#ifndef DD_REPO_WALSUM_H
#define DD_REPO_WALSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/mem.h"
#include "pg/walrec.h"
#include "repo/repo.h"

#define WALSUM_FORMAT 1
#define WALSUM_SUFFIX ".sum"

/* The changed blocks of one relation fork, strictly increasing. */
typedef struct {
    WalRelNode node;
    uint8_t fork;
    uint32_t nblocks;
    uint32_t *blocks;
} WalSumFork;

typedef struct {
    uint64_t start_lsn; /* the segment's first byte */
    uint64_t end_lsn;   /* records starting in [start_lsn, end_lsn) are summarised */
    uint32_t tli;
    bool complete; /* end_lsn is the segment's end */
    bool unknown;  /* a record it cannot vouch for (a WALREC_EV_UNKNOWN event) */
    uint64_t records;
    size_t nforks;
    WalSumFork *forks; /* sorted by (spc, db, rel, fork), no two alike */
    size_t nevents;
    WalEvent *events; /* in LSN order */
} WalSum;

/* Summarise a segment's bytes (pg/walrec.h decodes them). */
DD_MUST_CHECK bool walsum_from_segment(const uint8_t *seg, size_t len, uint32_t seg_size,
                                       uint32_t tli, WalSum *out);

/* The bytes of a summary (walsum.c's format) and back; decode checks every invariant. */
void walsum_encode(const WalSum *s, Buf *out);
DD_MUST_CHECK bool walsum_decode(const uint8_t *data, size_t len, WalSum *out);
void walsum_free(WalSum *s);

/* The repository path of a segment's summary (caller frees). */
char *walsum_path(const char *segment_name);

/*
 * Summarise and store a segment just archived. Never replaces a summary
 * already there (same segment, same summary). Callers treat a failure as a
 * gap: they log it and go on.
 */
DD_MUST_CHECK bool walsum_store(Repo *repo, const char *segment_name, const uint8_t *seg,
                                size_t len);

/*
 * The same in two steps, the decoding on a thread of its own: begin while the
 * segment is being stored, finish (store=true) after it is; store=false only
 * waits and frees. seg must stay mapped until finish. finish fails like
 * walsum_store.
 */
typedef struct WalSumJob WalSumJob;
WalSumJob *walsum_begin(Repo *repo, const char *segment_name, const uint8_t *seg, size_t len);
DD_MUST_CHECK bool walsum_finish(WalSumJob *job, bool store);

/* Read a segment's summary; *found=false when there is none (a gap). */
DD_MUST_CHECK bool walsum_load(Repo *repo, const char *segment_name, WalSum *out, bool *found);

#endif
