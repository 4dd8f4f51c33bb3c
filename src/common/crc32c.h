/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of PostgreSQL's WAL records.
 *
 * Uses the SSE 4.2 crc32 instruction when the CPU has it, a table otherwise;
 * both give the same value. Start with crc32c_init(), feed with
 * crc32c_update(), end with crc32c_final() (PostgreSQL's INIT/COMP/FIN_CRC32C).
 */
#ifndef DD_COMMON_CRC32C_H
#define DD_COMMON_CRC32C_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t crc32c_init(void)
{
    return 0xFFFFFFFFu;
}

uint32_t crc32c_update(uint32_t crc, const void *data, size_t len);

static inline uint32_t crc32c_final(uint32_t crc)
{
    return crc ^ 0xFFFFFFFFu;
}

#endif
