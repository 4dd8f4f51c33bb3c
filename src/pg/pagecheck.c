/*
 * pagecheck.c - see pagecheck.h. Written from the algorithm's description;
 * the layout of the loops lets the compiler vectorise the 32 columns.
 */
#include "pg/pagecheck.h"

#include <string.h>

#include "pg/datadir.h"

#define PC_COLUMNS 32
#define PC_ROWS    (PG_BLCKSZ / (4 * PC_COLUMNS))
#define PC_PRIME   16777619u

static const uint32_t pc_seeds[PC_COLUMNS] = {
    0x5B1F36E9, 0xB8525960, 0x02AB50AA, 0x1DE66D2A, 0x79FF467A, 0x9BB9F8A3, 0x217E7CD2, 0x83E13D2C,
    0xF8D4474F, 0xE39EB970, 0x42C6AE16, 0x993216FA, 0x7B093B5D, 0x98DAFF3C, 0xF718902A, 0x0B1C9CDB,
    0xE58F764B, 0x187636BC, 0x5D7B3BB1, 0xE73DE7DE, 0x92BEC979, 0xCCA6C0B2, 0x304A0979, 0x85AA43D4,
    0x783125BB, 0x6CA8EAA2, 0xE407EAC6, 0x4B5CFC3E, 0x9FBF8C76, 0x15CA20BE, 0xF2CA9FD3, 0x959BD756,
};

static inline uint32_t pc_mix(uint32_t h, uint32_t v)
{
    uint32_t t = h ^ v;
    return t * PC_PRIME ^ (t >> 17);
}

uint16_t pg_page_checksum(const uint8_t *page, uint32_t blkno)
{
    uint32_t words[PC_ROWS][PC_COLUMNS];
    memcpy(words, page, sizeof(words)); /* aligned copy; also drops the checksum below */
    words[0][2] &= 0xFFFF0000u;         /* pd_checksum: the low half of word 2 (x86) */
    uint32_t sums[PC_COLUMNS];
    memcpy(sums, pc_seeds, sizeof(sums));
    for (int r = 0; r < PC_ROWS; r++)
        for (int c = 0; c < PC_COLUMNS; c++)
            sums[c] = pc_mix(sums[c], words[r][c]);
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < PC_COLUMNS; c++)
            sums[c] = pc_mix(sums[c], 0);
    uint32_t x = 0;
    for (int c = 0; c < PC_COLUMNS; c++)
        x ^= sums[c];
    x ^= blkno;
    return (uint16_t)((x % 65535) + 1); /* PostgreSQL 15: modulo 65535, not 65536 */
}

uint64_t pg_page_lsn(const uint8_t *page)
{
    uint32_t hi, lo;
    memcpy(&hi, page, 4);
    memcpy(&lo, page + 4, 4);
    return ((uint64_t)hi << 32) | lo;
}

PageCheck pg_page_check(const uint8_t *page, uint32_t blkno, uint64_t start_lsn, uint16_t *stored,
                        uint16_t *computed)
{
    uint16_t upper;
    memcpy(&upper, page + 14, 2);
    if (upper == 0)
        return PAGE_CHECK_NEW;
    if (pg_page_lsn(page) >= start_lsn)
        return PAGE_CHECK_TOO_NEW;
    memcpy(stored, page + 8, 2);
    *computed = pg_page_checksum(page, blkno);
    return *stored == *computed ? PAGE_CHECK_OK : PAGE_CHECK_MISMATCH;
}
