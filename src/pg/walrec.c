/*
 * walrec.c - decode PostgreSQL 15 WAL records: block references and the
 * records that change relation files outside them (walrec.h).
 *
 * Record layout (access/xlogrecord.h), all little endian, unaligned:
 *
 *   XLogRecord (24 bytes)
 *     0 uint32 xl_tot_len   whole record, header included
 *     4 uint32 xl_xid
 *     8 uint64 xl_prev      LSN of the previous record
 *    16 uint8  xl_info      high nibble: rmgr's; 0x01 XLR_SPECIAL_REL_UPDATE
 *    17 uint8  xl_rmid
 *    20 uint32 xl_crc       CRC-32C of bytes 24..tot_len, then of bytes 0..20
 *   headers, each starting with a one-byte id:
 *     0..32  block: uint8 fork_flags, uint16 data_length,
 *            [image: uint16 length, uint16 hole_offset, uint8 bimg_info,
 *                    [uint16 hole_length if compressed with a hole]],
 *            [RelFileNode (12 bytes) unless BKPBLOCK_SAME_REL], uint32 block
 *     252    uint32 top-level xid       253  uint16 replication origin
 *     254    uint32 main data length    255  uint8 main data length (last)
 *   the block images and data, in header order, then the main data.
 *
 * Invariants the decoder relies on (PostgreSQL's DecodeXLogRecord checks the
 * same): block ids strictly increase; data_length is 0 exactly when
 * BKPBLOCK_HAS_DATA is clear; SAME_REL needs an earlier block with a node;
 * headers plus all data lengths add up to xl_tot_len.
 */
#include "pg/walrec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crc32c.h"
#include "common/endian.h"
#include "common/mem.h"

#define REC_HDR                 24
#define PAGE_HDR_SHORT          24
#define PAGE_HDR_LONG           40
#define XLP_FIRST_IS_CONTRECORD 0x0001
#define XLP_LONG_HEADER         0x0002
#define XLR_MAX_BLOCK_ID        32
#define BLOCK_ID_TOPXID         252
#define BLOCK_ID_ORIGIN         253
#define BLOCK_ID_LONG           254
#define BLOCK_ID_SHORT          255
#define BKP_FORK_MASK           0x0F
#define BKP_HAS_IMAGE           0x10
#define BKP_HAS_DATA            0x20
#define BKP_SAME_REL            0x80
#define BIMG_HAS_HOLE           0x01
#define BIMG_COMPRESSED         (0x04 | 0x08 | 0x10) /* pglz, lz4, zstd */
#define XLR_SPECIAL_REL_UPDATE  0x01

enum {
    RM_XLOG = 0,
    RM_XACT = 1,
    RM_SMGR = 2,
    RM_DBASE = 4,
    RM_TBLSPC = 5,
    RM_RELMAP = 7,
    RM_LAST_BUILTIN = 21
};

/* ---- one record ------------------------------------------------------- */

typedef struct {
    const uint8_t *p;
    size_t len;
    size_t pos;
    bool ok;
} Rd;

static uint32_t rd_u(Rd *r, size_t n)
{
    if (!r->ok || r->len - r->pos < n) {
        r->ok = false;
        return 0;
    }
    const uint8_t *q = r->p + r->pos;
    r->pos += n;
    return n == 1 ? q[0] : n == 2 ? le_get16(q) : le_get32(q);
}

static WalRelNode rd_node(Rd *r)
{
    WalRelNode n;
    n.spc = rd_u(r, 4);
    n.db = rd_u(r, 4);
    n.rel = rd_u(r, 4);
    return n;
}

static void emit(const WalRecSink *sink, WalEventKind kind, uint64_t lsn, WalRelNode node,
                 uint8_t fork, uint32_t block, uint32_t extra)
{
    if (sink && sink->on_event) {
        WalEvent ev = {kind, lsn, node, fork, block, extra};
        sink->on_event(sink->arg, &ev);
    }
}

static void emit_unknown(const WalRecSink *sink, uint64_t lsn, uint8_t rmid, uint8_t info)
{
    emit(sink, WALREC_EV_UNKNOWN, lsn, (WalRelNode){0, 0, 0}, 0, 0, (uint32_t)rmid << 8 | info);
}

/* A commit's or abort's dropped relations (xact.h, ParseCommitRecord's order). */
static bool decode_xact(Rd *r, uint8_t info, uint64_t lsn, const WalRecSink *sink)
{
    uint8_t op = info & 0x70;
    if (op != 0x00 && op != 0x20 && op != 0x30 && op != 0x40)
        return true; /* prepare, assignment, invalidations: no file changes */
    rd_u(r, 4);      /* xact_time (8 bytes) */
    rd_u(r, 4);
    uint32_t xinfo = (info & 0x80) ? rd_u(r, 4) : 0;
    if (xinfo & 0x01) { /* XACT_XINFO_HAS_DBINFO */
        rd_u(r, 4);
        rd_u(r, 4);
    }
    if (xinfo & 0x02) { /* XACT_XINFO_HAS_SUBXACTS */
        uint32_t n = rd_u(r, 4);
        if (!r->ok || n > (r->len - r->pos) / 4)
            return false;
        r->pos += (size_t)n * 4;
    }
    if (xinfo & 0x04) { /* XACT_XINFO_HAS_RELFILENODES */
        uint32_t n = rd_u(r, 4);
        if (!r->ok || n > (r->len - r->pos) / 12)
            return false;
        for (uint32_t i = 0; i < n; i++)
            emit(sink, WALREC_EV_DROP, lsn, rd_node(r), 0, 0, 0);
    }
    return r->ok;
}

static bool decode_smgr(Rd *r, uint8_t info, uint64_t lsn, const WalRecSink *sink)
{
    if ((info & 0xF0) == 0x10) { /* XLOG_SMGR_CREATE: node, fork */
        WalRelNode n = rd_node(r);
        uint32_t fork = rd_u(r, 4);
        if (r->ok)
            emit(sink, WALREC_EV_CREATE, lsn, n, (uint8_t)fork, 0, 0);
    } else if ((info & 0xF0) == 0x20) { /* XLOG_SMGR_TRUNCATE: blkno, node, flags */
        uint32_t blk = rd_u(r, 4);
        WalRelNode n = rd_node(r);
        uint32_t flags = rd_u(r, 4);
        if (r->ok)
            emit(sink, WALREC_EV_TRUNCATE, lsn, n, 0, blk, flags);
    } else
        return false;
    return r->ok;
}

static bool decode_dbase(Rd *r, uint8_t info, uint64_t lsn, const WalRecSink *sink)
{
    uint8_t op = info & 0xF0;
    uint32_t db = rd_u(r, 4);
    if (op == 0x00 || op == 0x10) { /* CREATE_FILE_COPY, CREATE_WAL_LOG */
        uint32_t spc = rd_u(r, 4);
        uint32_t src_db = op == 0x00 ? rd_u(r, 4) : 0;
        if (r->ok)
            emit(sink, op == 0x00 ? WALREC_EV_DB_COPY : WALREC_EV_DB_CREATE, lsn,
                 (WalRelNode){spc, db, 0}, 0, 0, src_db);
        return r->ok;
    }
    if (op != 0x20) /* XLOG_DBASE_DROP: db, ntablespaces, tablespace oids */
        return false;
    uint32_t n = rd_u(r, 4);
    if (!r->ok || n > (r->len - r->pos) / 4)
        return false;
    for (uint32_t i = 0; i < n; i++)
        emit(sink, WALREC_EV_DB_DROP, lsn, (WalRelNode){rd_u(r, 4), db, 0}, 0, 0, 0);
    return r->ok;
}

/* The rmgr-specific main data; false when it cannot vouch for the record. */
static bool decode_main(Rd *r, uint8_t rmid, uint8_t info, uint64_t lsn, const WalRecSink *sink)
{
    switch (rmid) {
    case RM_XACT:
        return decode_xact(r, info, lsn, sink);
    case RM_SMGR:
        return decode_smgr(r, info, lsn, sink);
    case RM_DBASE:
        return decode_dbase(r, info, lsn, sink);
    case RM_TBLSPC: {
        uint32_t spc = rd_u(r, 4);
        if (r->ok && ((info & 0xF0) == 0x00 || (info & 0xF0) == 0x10))
            emit(sink, (info & 0xF0) == 0x00 ? WALREC_EV_TBLSPC_CREATE : WALREC_EV_TBLSPC_DROP, lsn,
                 (WalRelNode){spc, 0, 0}, 0, 0, 0);
        return r->ok && (info & 0xF0) <= 0x10;
    }
    case RM_RELMAP: {
        uint32_t db = rd_u(r, 4), spc = rd_u(r, 4);
        if (r->ok)
            emit(sink, WALREC_EV_RELMAP, lsn, (WalRelNode){spc, db, 0}, 0, 0, 0);
        return r->ok;
    }
    default:
        /* Other built-in rmgrs change relation files only through block
         * references; one that says otherwise is not understood. */
        return rmid <= RM_LAST_BUILTIN && !(info & XLR_SPECIAL_REL_UPDATE);
    }
}

/* One block header; *node carries the previous block's node for SAME_REL. */
static bool decode_block_header(Rd *r, uint8_t id, WalBlockRef *ref, bool *have_node,
                                uint64_t *datatotal)
{
    uint8_t flags = (uint8_t)rd_u(r, 1);
    uint32_t dlen = rd_u(r, 2);
    if (!r->ok || ((flags & BKP_HAS_DATA) != 0) != (dlen != 0) || id > XLR_MAX_BLOCK_ID)
        return false;
    *datatotal += dlen;
    if (flags & BKP_HAS_IMAGE) {
        uint32_t ilen = rd_u(r, 2);
        rd_u(r, 2); /* hole offset */
        uint8_t binfo = (uint8_t)rd_u(r, 1);
        if ((binfo & BIMG_COMPRESSED) && (binfo & BIMG_HAS_HOLE))
            rd_u(r, 2); /* hole length */
        if (ilen == 0 || ilen > WALREC_PAGE_SIZE)
            return false;
        *datatotal += ilen;
    }
    if (!(flags & BKP_SAME_REL)) {
        ref->node = rd_node(r);
        *have_node = true;
    } else if (!*have_node)
        return false;
    ref->fork = flags & BKP_FORK_MASK;
    ref->block = rd_u(r, 4);
    return r->ok && ref->fork <= WALREC_FORK_INIT;
}

bool walrec_decode_record(const uint8_t *rec, size_t avail, uint64_t lsn, const WalRecSink *sink,
                          uint64_t *blocks)
{
    if (avail < REC_HDR)
        return false;
    uint32_t tot = le_get32(rec);
    uint8_t info = rec[16], rmid = rec[17];
    if (tot < REC_HDR)
        return false;
    size_t have = avail < tot ? avail : tot;
    Rd r = {rec, have, REC_HDR, true};
    WalBlockRef refs[XLR_MAX_BLOCK_ID + 1];
    int nrefs = 0, max_id = -1;
    bool have_node = false;
    uint64_t datatotal = 0, main_len = 0;
    while (tot - r.pos > datatotal) {
        uint32_t id = rd_u(&r, 1);
        if (!r.ok)
            break;
        if (id == BLOCK_ID_SHORT || id == BLOCK_ID_LONG) {
            main_len = rd_u(&r, id == BLOCK_ID_SHORT ? 1 : 4);
            datatotal += main_len;
            break; /* the main data header is always last */
        }
        if (id == BLOCK_ID_ORIGIN || id == BLOCK_ID_TOPXID) {
            rd_u(&r, id == BLOCK_ID_ORIGIN ? 2 : 4);
            continue;
        }
        if ((int)id <= max_id)
            return false;
        max_id = (int)id;
        if (nrefs > 0)
            refs[nrefs] = refs[nrefs - 1]; /* SAME_REL keeps the node */
        if (!decode_block_header(&r, (uint8_t)id, &refs[nrefs], &have_node, &datatotal))
            return r.ok ? false
                        : (have < tot ? (emit_unknown(sink, lsn, rmid, info), true) : false);
        nrefs++;
    }
    if (!r.ok) { /* headers cut off by the end of the segment */
        if (have == tot)
            return false;
        emit_unknown(sink, lsn, rmid, info);
        return true;
    }
    if (r.pos + datatotal != tot)
        return false;
    for (int i = 0; i < nrefs; i++)
        if (sink && sink->on_block)
            sink->on_block(sink->arg, &refs[i]);
    if (blocks)
        *blocks += (uint64_t)nrefs;
    size_t main_off = tot - main_len;
    Rd m = {rec + main_off, main_off + main_len <= have ? main_len : 0, 0, true};
    bool needs_main = rmid == RM_XACT || rmid == RM_SMGR || rmid == RM_DBASE || rmid == RM_TBLSPC ||
                      rmid == RM_RELMAP;
    if (needs_main && main_off + main_len > have)
        emit_unknown(sink, lsn, rmid, info); /* main data in the next segment */
    else if (!decode_main(&m, rmid, info, lsn, sink))
        emit_unknown(sink, lsn, rmid, info);
    return true;
}

/* ---- pages of a segment ----------------------------------------------- */

/*
 * The segment's bytes without page headers form one stream in which records
 * lie contiguous. Page headers are multiples of 8 bytes, so a record's 8-byte
 * alignment in LSN terms is the same in the stream. The stream is not copied:
 * a record within one page is decoded where it lies, one that crosses pages
 * is gathered into a scratch buffer.
 */
typedef struct {
    const uint8_t *data; /* the segment */
    Buf scratch;
    size_t len;        /* stream bytes (up to the first page that is not valid WAL) */
    uint32_t npages;   /* valid pages */
    uint16_t *info;    /* xlp_info of each valid page */
    uint32_t *rem_len; /* xlp_rem_len of each valid page */
    uint64_t seg_lsn;
} Stream;

static size_t page_stream_start(uint32_t i)
{
    return i == 0 ? 0
                  : (WALREC_PAGE_SIZE - PAGE_HDR_LONG) +
                        (size_t)(i - 1) * (WALREC_PAGE_SIZE - PAGE_HDR_SHORT);
}

static uint32_t page_of(size_t pos)
{
    if (pos < WALREC_PAGE_SIZE - PAGE_HDR_LONG)
        return 0;
    return 1 + (uint32_t)((pos - (WALREC_PAGE_SIZE - PAGE_HDR_LONG)) /
                          (WALREC_PAGE_SIZE - PAGE_HDR_SHORT));
}

static uint64_t stream_lsn(const Stream *st, size_t pos)
{
    uint32_t i = page_of(pos);
    size_t hdr = i == 0 ? PAGE_HDR_LONG : PAGE_HDR_SHORT;
    return st->seg_lsn + (uint64_t)i * WALREC_PAGE_SIZE + hdr + (pos - page_stream_start(i));
}

/* The segment offset of stream position pos. */
static size_t data_off(size_t pos)
{
    uint32_t i = page_of(pos);
    return (size_t)i * WALREC_PAGE_SIZE + (i == 0 ? PAGE_HDR_LONG : PAGE_HDR_SHORT) +
           (pos - page_stream_start(i));
}

/* n contiguous stream bytes from pos (pos + n <= st->len): in place or gathered. */
static const uint8_t *stream_at(Stream *st, size_t pos, size_t n)
{
    size_t off = data_off(pos);
    size_t page_end = (off / WALREC_PAGE_SIZE + 1) * WALREC_PAGE_SIZE;
    if (off + n <= page_end)
        return st->data + off;
    buf_reset(&st->scratch);
    while (n > 0) {
        off = data_off(pos);
        page_end = (off / WALREC_PAGE_SIZE + 1) * WALREC_PAGE_SIZE;
        size_t k = page_end - off < n ? page_end - off : n;
        buf_append(&st->scratch, st->data + off, k);
        pos += k;
        n -= k;
    }
    return st->scratch.data;
}

/* Check the header of every page; the stream stops at the first bad one. */
static void stream_build(Stream *st, const uint8_t *data, size_t len)
{
    uint32_t max = (uint32_t)((len + WALREC_PAGE_SIZE - 1) / WALREC_PAGE_SIZE);
    st->data = data;
    st->info = xcalloc(max ? max : 1, sizeof(uint16_t));
    st->rem_len = xcalloc(max ? max : 1, sizeof(uint32_t));
    for (uint32_t i = 0; i < max; i++) {
        size_t off = (size_t)i * WALREC_PAGE_SIZE;
        size_t hdr = i == 0 ? PAGE_HDR_LONG : PAGE_HDR_SHORT;
        const uint8_t *p = data + off;
        if (off + hdr > len || le_get16(p) != 0xD110 || le_get64(p + 8) != st->seg_lsn + off)
            break; /* zeroes or a recycled page of older WAL: the WAL ends */
        size_t end = off + WALREC_PAGE_SIZE < len ? off + WALREC_PAGE_SIZE : len;
        st->len += end - off - hdr;
        st->info[i] = le_get16(p + 2);
        st->rem_len[i] = le_get32(p + 16);
        st->npages = i + 1;
    }
}

static void stream_free(Stream *st)
{
    buf_free(&st->scratch);
    free(st->info);
    free(st->rem_len);
}

/*
 * Whether the record at [pos, pos+tot) is continued by every page it
 * crosses; *resume is set to the first page that does not continue it (an
 * aborted record, followed by XLOG_OVERWRITE_CONTRECORD), else 0.
 */
static bool record_pages_ok(const Stream *st, size_t pos, uint64_t tot, size_t *resume)
{
    *resume = 0;
    for (uint32_t i = page_of(pos) + 1; i < st->npages; i++) {
        size_t ps = page_stream_start(i);
        if (ps >= pos + tot)
            break;
        if (!(st->info[i] & XLP_FIRST_IS_CONTRECORD)) {
            *resume = ps;
            return false;
        }
        if (st->rem_len[i] != pos + tot - ps)
            return false;
    }
    return true;
}

static void set_stop(WalRecResult *out, const char *why, uint64_t lsn)
{
    snprintf(out->stop, sizeof(out->stop), "%s at %X/%X", why, (unsigned)(lsn >> 32),
             (unsigned)lsn);
}

static bool record_crc_ok(const uint8_t *rec, uint32_t tot)
{
    uint32_t crc = crc32c_update(crc32c_init(), rec + REC_HDR, tot - REC_HDR);
    crc = crc32c_final(crc32c_update(crc, rec, 20));
    return crc == le_get32(rec + 20);
}

/* Where the first record starts: after a continuation from the segment before. */
static bool first_record(const Stream *st, size_t seg_stream_len, WalRecResult *out, size_t *pos)
{
    *pos = 0;
    if (!(st->info[0] & XLP_FIRST_IS_CONTRECORD))
        return true;
    uint32_t rem = st->rem_len[0];
    for (uint32_t i = 1; i < st->npages && page_stream_start(i) < rem; i++)
        if (!(st->info[i] & XLP_FIRST_IS_CONTRECORD) ||
            st->rem_len[i] != rem - page_stream_start(i)) {
            set_stop(out, "continuation record does not continue", stream_lsn(st, 0));
            return false;
        }
    if (rem >= seg_stream_len) { /* a record covering this whole segment */
        out->complete = st->len == seg_stream_len;
        if (!out->complete)
            set_stop(out, "end of WAL", out->start_lsn);
        return false;
    }
    *pos = (rem + 7) & ~(size_t)7;
    return true;
}

/* Decode records from pos on; sets out->end_lsn, complete and stop. */
static void decode_stream(Stream *st, size_t seg_stream_len, size_t pos, const WalRecSink *sink,
                          WalRecResult *out)
{
    uint64_t prev = 0;
    for (;;) {
        pos = (pos + 7) & ~(size_t)7;
        if (pos >= seg_stream_len) {
            out->complete = true;
            return;
        }
        uint64_t lsn = stream_lsn(st, pos);
        out->end_lsn = lsn;
        size_t avail = st->len > pos ? st->len - pos : 0;
        if (avail < 4 || le_get32(stream_at(st, pos, 4)) == 0) {
            set_stop(out, "end of WAL", lsn);
            return;
        }
        uint32_t tot = le_get32(stream_at(st, pos, 4));
        bool cut = pos + tot > seg_stream_len; /* continues in the next segment */
        if (!cut && pos + tot > st->len) {
            set_stop(out, "end of WAL inside a record", lsn);
            return;
        }
        if (tot < REC_HDR && !(cut && avail < REC_HDR)) {
            set_stop(out, "invalid record length", lsn);
            return;
        }
        const uint8_t *rec = stream_at(st, pos, cut ? avail : tot);
        if (avail >= REC_HDR && prev != 0 && le_get64(rec + 8) != prev) {
            set_stop(out, "end of WAL (record does not follow the previous one)", lsn);
            return;
        }
        size_t resume;
        if (!record_pages_ok(st, pos, tot, &resume)) {
            if (resume == 0) {
                set_stop(out, "continuation record does not continue", lsn);
                return;
            }
            pos = resume; /* an aborted record: the WAL goes on at that page */
            prev = 0;
            continue;
        }
        if (cut) {
            if (st->len < seg_stream_len) {
                set_stop(out, "end of WAL inside a record", lsn);
                return;
            }
            if (avail < REC_HDR || !walrec_decode_record(rec, avail, lsn, sink, &out->blocks))
                emit_unknown(sink, lsn, avail >= REC_HDR ? rec[17] : 0xFF, 0);
            out->records++;
            out->complete = true;
            return;
        }
        if (!record_crc_ok(rec, tot)) {
            set_stop(out, "incorrect record checksum", lsn);
            return;
        }
        if (!walrec_decode_record(rec, tot, lsn, sink, &out->blocks)) {
            set_stop(out, "malformed record", lsn);
            return;
        }
        out->records++;
        if (rec[17] == RM_XLOG && (rec[16] & 0xF0) == 0x40) { /* XLOG_SWITCH */
            out->complete = true;
            return;
        }
        prev = lsn;
        pos += tot;
    }
}

static bool segment_header_ok(const uint8_t *data, size_t len, uint32_t seg_size)
{
    return len >= PAGE_HDR_LONG && len <= seg_size && le_get16(data) == 0xD110 &&
           (le_get16(data + 2) & XLP_LONG_HEADER) && le_get32(data + 32) == seg_size &&
           le_get32(data + 36) == WALREC_PAGE_SIZE && le_get64(data + 8) % seg_size == 0;
}

bool walrec_decode_segment(const uint8_t *data, size_t len, uint32_t seg_size,
                           const WalRecSink *sink, WalRecResult *out)
{
    memset(out, 0, sizeof(*out));
    if (!segment_header_ok(data, len, seg_size))
        return err_set(DD_EXIT_CORRUPT,
                       "WAL segment does not start with a PostgreSQL 15 long page header of "
                       "a %u-byte segment",
                       seg_size);
    Stream st = {.seg_lsn = le_get64(data + 8)};
    out->start_lsn = st.seg_lsn;
    out->end_lsn = st.seg_lsn;
    stream_build(&st, data, len);
    uint32_t pages = seg_size / WALREC_PAGE_SIZE;
    size_t seg_stream_len = page_stream_start(pages);
    size_t pos;
    if (first_record(&st, seg_stream_len, out, &pos))
        decode_stream(&st, seg_stream_len, pos, sink, out);
    if (out->complete) {
        out->end_lsn = st.seg_lsn + seg_size;
        out->stop[0] = '\0';
    }
    stream_free(&st);
    return true;
}

/* ---- one record across two segments ------------------------------------ */

/* The stream position of lsn in st's segment; false inside a page header or past the WAL. */
static bool stream_pos_of(const Stream *st, uint64_t lsn, size_t *pos)
{
    if (lsn < st->seg_lsn)
        return false;
    uint64_t off = lsn - st->seg_lsn;
    uint32_t i = (uint32_t)(off / WALREC_PAGE_SIZE);
    size_t in = (size_t)(off % WALREC_PAGE_SIZE), hdr = i == 0 ? PAGE_HDR_LONG : PAGE_HDR_SHORT;
    if (i >= st->npages || in < hdr)
        return false;
    *pos = page_stream_start(i) + (in - hdr);
    return *pos < st->len;
}

/* Whether the pages of next continue a record with rem bytes left, as first_record checks. */
static bool continuation_ok(const Stream *next, uint32_t rem)
{
    if (rem == 0 || rem > next->len || !(next->info[0] & XLP_FIRST_IS_CONTRECORD))
        return false;
    for (uint32_t i = 1; i < next->npages && page_stream_start(i) < rem; i++)
        if (!(next->info[i] & XLP_FIRST_IS_CONTRECORD) ||
            next->rem_len[i] != rem - page_stream_start(i))
            return false;
    return true;
}

/* The record at pos of a, whole, into rec; false when it does not end in b as its pages say. */
static bool gather_across(Stream *a, Stream *b, size_t pos, size_t seg_stream_len, Buf *rec)
{
    size_t head = seg_stream_len - pos, resume;
    uint32_t rem = b->rem_len[0];
    if (a->len != seg_stream_len || !continuation_ok(b, rem) ||
        !record_pages_ok(a, pos, (uint64_t)head + rem, &resume))
        return false;
    buf_append(rec, stream_at(a, pos, head), head);
    buf_append(rec, stream_at(b, 0, rem), rem);
    return rec->len >= REC_HDR && le_get32(rec->data) == rec->len &&
           record_crc_ok(rec->data, (uint32_t)rec->len);
}

bool walrec_decode_across(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                          uint32_t seg_size, uint64_t lsn, const WalRecSink *sink)
{
    if (!segment_header_ok(a, alen, seg_size) || !segment_header_ok(b, blen, seg_size) ||
        le_get64(b + 8) != le_get64(a + 8) + seg_size)
        return false;
    Stream sa = {.seg_lsn = le_get64(a + 8)}, sb = {.seg_lsn = le_get64(b + 8)};
    stream_build(&sa, a, alen);
    stream_build(&sb, b, blen);
    Buf rec = {0};
    size_t pos;
    bool ok = stream_pos_of(&sa, lsn, &pos) &&
              gather_across(&sa, &sb, pos, page_stream_start(seg_size / WALREC_PAGE_SIZE), &rec) &&
              walrec_decode_record(rec.data, rec.len, lsn, sink, NULL);
    buf_free(&rec);
    stream_free(&sa);
    stream_free(&sb);
    return ok;
}
