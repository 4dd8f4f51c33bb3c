/*
 * pagecheck.h - PostgreSQL's data page checksum, and the check a backup makes.
 *
 * The algorithm (documented in PostgreSQL's storage/checksum_impl.h): the
 * 8 KiB page, with pd_checksum taken as zero, is read as 64 rows of 32
 * native-endian uint32 columns; each column folds its values into its own
 * hash seeded with a fixed offset, h = (h ^ v) * 16777619 ^ ((h ^ v) >> 17),
 * then two more rounds with v = 0; the 32 hashes are xor-ed together, xor-ed
 * with the block number (within the relation fork, across 1 GiB segments),
 * and reduced to (x % 65535) + 1 (PostgreSQL 15; later releases use 65536,
 * which would change every checksum: checked against the server in tests).
 *
 * Page header fields used: pd_lsn (offset 0: uint32 xlogid, uint32 xrecoff),
 * pd_checksum (offset 8, uint16), pd_upper (offset 14, uint16; 0 on a new page).
 */
#ifndef DD_PG_PAGECHECK_H
#define DD_PG_PAGECHECK_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    PAGE_CHECK_OK = 0,
    PAGE_CHECK_NEW,      /* never initialised (pd_upper 0): no checksum yet */
    PAGE_CHECK_TOO_NEW,  /* pd_lsn at or past the backup start: WAL replay rewrites it */
    PAGE_CHECK_MISMATCH, /* the stored checksum is wrong */
} PageCheck;

/* The checksum PostgreSQL would store in page (8192 bytes) at block blkno. */
uint16_t pg_page_checksum(const uint8_t *page, uint32_t blkno);

/* The page's pd_lsn. */
uint64_t pg_page_lsn(const uint8_t *page);

/*
 * Check one page read during a backup that started at start_lsn; on a
 * mismatch *stored and *computed say what differs.
 */
PageCheck pg_page_check(const uint8_t *page, uint32_t blkno, uint64_t start_lsn, uint16_t *stored,
                        uint16_t *computed);

#endif
