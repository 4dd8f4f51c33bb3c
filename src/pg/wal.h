/*
 * wal.h - WAL file names and segment headers (PostgreSQL 15).
 *
 * Names PostgreSQL archives:
 *   TTTTTTTTXXXXXXXXYYYYYYYY             a segment (timeline, log, seg)
 *   TTTTTTTTXXXXXXXXYYYYYYYY.partial     the last segment of an old timeline
 *   TTTTTTTTXXXXXXXXYYYYYYYY.OOOOOOOO.backup   a backup history file
 *   TTTTTTTT.history                     a timeline history file
 * all hex, upper case. Segment number = X * (2^32 / segment size) + Y.
 *
 * Every segment starts with a long page header (XLogLongPageHeaderData):
 *   0  uint16 xlp_magic        (0xD110 in PostgreSQL 15)
 *   2  uint16 xlp_info         (XLP_LONG_HEADER = 0x0002 on the first page)
 *   4  uint32 xlp_tli
 *   8  uint64 xlp_pageaddr     (LSN of the segment's first byte)
 *  16  uint32 xlp_rem_len, 4 bytes padding
 *  24  uint64 xlp_sysid        (the cluster's system identifier)
 *  32  uint32 xlp_seg_size
 *  36  uint32 xlp_xlog_blcksz
 */
#ifndef DD_PG_WAL_H
#define DD_PG_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define WAL_PAGE_MAGIC_PG15  0xD110
#define WAL_LONG_HEADER_LEN  40
#define WAL_DEFAULT_SEG_SIZE (16u * 1024 * 1024)
#define WAL_NAME_LEN         24 /* a segment's name: TTTTTTTTXXXXXXXXYYYYYYYY */

typedef enum { WAL_FILE_SEGMENT, WAL_FILE_PARTIAL, WAL_FILE_BACKUP, WAL_FILE_HISTORY } WalFileKind;

typedef struct {
    WalFileKind kind;
    uint32_t tli;
    uint32_t log; /* XXXXXXXX (segments only) */
    uint32_t seg; /* YYYYYYYY */
} WalFileName;

typedef struct {
    uint16_t magic;
    uint16_t info;
    uint32_t tli;
    uint64_t pageaddr;
    uint64_t sysid;
    uint32_t seg_size;
    uint32_t block_size;
} WalSegmentHeader;

/* Parse a WAL file name (no directory); false + error (DD_EXIT_USAGE) if it is not one. */
DD_MUST_CHECK bool wal_name_parse(const char *name, WalFileName *out);

/* The segment number a segment name stands for, given the segment size. */
uint64_t wal_segno(const WalFileName *n, uint32_t seg_size);
/* Format the segment name of (tli, segno) into out (>= 25 bytes). */
void wal_segment_name(uint32_t tli, uint64_t segno, uint32_t seg_size, char *out);
/* The segment holding lsn (for an end LSN exactly on a boundary, the one before). */
uint64_t wal_segno_of_lsn(uint64_t lsn, uint32_t seg_size, bool is_end);

/* Read the long page header at the start of a segment. */
DD_MUST_CHECK bool wal_segment_header(const void *data, size_t len, WalSegmentHeader *out);

/* True for a power of two from 1 MiB to 1 GiB: the sizes initdb allows. */
bool wal_seg_size_valid(uint64_t size);

#endif
