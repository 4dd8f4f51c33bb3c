/*
 * walrec.h - what PostgreSQL 15 WAL records change, decoded from a segment.
 *
 * drydock's own decoder of the record format (access/xlogrecord.h): for each
 * record that starts in a segment it reports every block reference (the
 * relation file node, fork and block a record changes) and the records that
 * change relation files outside block references:
 *
 *   RM_SMGR_ID    XLOG_SMGR_CREATE, XLOG_SMGR_TRUNCATE
 *   RM_DBASE_ID   XLOG_DBASE_CREATE_FILE_COPY (a whole directory copied),
 *                 XLOG_DBASE_CREATE_WAL_LOG, XLOG_DBASE_DROP
 *   RM_TBLSPC_ID  XLOG_TBLSPC_CREATE, XLOG_TBLSPC_DROP
 *   RM_XACT_ID    the relations a commit or abort drops (xl_xact_relfilenodes)
 *   RM_RELMAP_ID  XLOG_RELMAP_UPDATE
 *
 * A record it cannot decode, a resource manager it does not know (custom
 * ones, ids >= 22) or a record it cannot see whole enough to be sure of is
 * reported as WALREC_EV_UNKNOWN: "cannot vouch", whoever uses the result
 * must then assume anything may have changed.
 *
 * Segment layout (access/xlog_internal.h): pages of XLOG_BLCKSZ (8192)
 * bytes, each with a header (24 bytes; 40 for the segment's first page, the
 * long header of pg/wal.h). A page whose xlp_info has XLP_FIRST_IS_CONTRECORD
 * begins with xlp_rem_len bytes continuing a record from the pages before.
 * Records start 8-byte aligned; a record (even its header) may cross pages
 * and segments. A record that starts in this segment and ends in the next one
 * is decoded from what this segment holds (its block headers come first),
 * or whole by walrec_decode_across given the next segment too; the
 * continuation at the start of a segment belongs to the segment before.
 */
#ifndef DD_PG_WALREC_H
#define DD_PG_WALREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define WALREC_PAGE_SIZE 8192

/* PostgreSQL's RelFileNode: tablespace, database and relation file node oids. */
typedef struct {
    uint32_t spc;
    uint32_t db;
    uint32_t rel;
} WalRelNode;

enum { WALREC_FORK_MAIN = 0, WALREC_FORK_FSM = 1, WALREC_FORK_VM = 2, WALREC_FORK_INIT = 3 };

typedef struct {
    WalRelNode node;
    uint8_t fork;
    uint32_t block;
} WalBlockRef;

typedef enum {
    WALREC_EV_CREATE = 1,    /* node, fork: file created (smgr create) */
    WALREC_EV_TRUNCATE,      /* node, block = new length in blocks, extra = SMGR_TRUNCATE_* flags */
    WALREC_EV_DROP,          /* node, all forks: dropped by a commit or an abort */
    WALREC_EV_DB_COPY,       /* node.spc/db: database directory copied from extra (src db) */
    WALREC_EV_DB_CREATE,     /* node.spc/db: database directory created (WAL_LOG strategy) */
    WALREC_EV_DB_DROP,       /* node.spc/db: database directory removed */
    WALREC_EV_TBLSPC_CREATE, /* node.spc */
    WALREC_EV_TBLSPC_DROP,   /* node.spc */
    WALREC_EV_RELMAP,        /* node.spc/db: pg_filenode.map rewritten */
    WALREC_EV_UNKNOWN        /* cannot vouch; extra = rmid << 8 | info */
} WalEventKind;

typedef struct {
    WalEventKind kind;
    uint64_t lsn; /* of the record */
    WalRelNode node;
    uint8_t fork;
    uint32_t block;
    uint32_t extra;
} WalEvent;

/* Where decoded references go; either callback may be NULL. */
typedef struct {
    void (*on_block)(void *arg, const WalBlockRef *ref);
    void (*on_event)(void *arg, const WalEvent *ev);
    void *arg;
} WalRecSink;

typedef struct {
    uint64_t start_lsn; /* the segment's first byte */
    uint64_t end_lsn;   /* every record starting before this was decoded */
    uint64_t records;
    uint64_t blocks; /* block references reported (not deduplicated) */
    bool complete;   /* reached the segment's end or an XLOG_SWITCH */
    char stop[128];  /* why decoding stopped early; "" when complete */
} WalRecResult;

/*
 * Decode every record that starts in the segment in data[0..len). len may be
 * short of seg_size (a .partial segment): decoding then stops at its end.
 * Fails (DD_EXIT_CORRUPT) only when the first page header is not a
 * PostgreSQL 15 long header of this segment size; WAL that ends early
 * (zeroes, a recycled page, a bad CRC) is a result with complete=false.
 */
DD_MUST_CHECK bool walrec_decode_segment(const uint8_t *data, size_t len, uint32_t seg_size,
                                         const WalRecSink *sink, WalRecResult *out);

/*
 * Decode one record whose first avail bytes are rec (avail may be short of
 * its xl_tot_len when it crosses the end of the segment; then it is decoded
 * if its headers are there, else reported as unknown). Returns false when
 * the bytes are not a well-formed record. Exposed for tests and fuzzing.
 */
bool walrec_decode_record(const uint8_t *rec, size_t avail, uint64_t lsn, const WalRecSink *sink,
                          uint64_t *blocks);

/*
 * Decode, whole, the record at lsn that starts in segment a[0..alen) and
 * ends in b[0..blen), the segment after a: its part in b must be what b's
 * page headers say continues it (XLP_FIRST_IS_CONTRECORD, xlp_rem_len), and
 * its CRC must match. For the record that walrec_decode_segment could only
 * report as unknown because it is cut at a's end. Returns false, emitting
 * nothing, when the record does not cross into b or is not whole and intact
 * there; else emits its blocks and events (unknown ones included) to sink.
 */
bool walrec_decode_across(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                          uint32_t seg_size, uint64_t lsn, const WalRecSink *sink);

#endif
