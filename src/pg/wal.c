/*
 * wal.c - see wal.h.
 */
#include "pg/wal.h"

#include <stdio.h>
#include <string.h>

#include "common/endian.h"

static bool hex_upper(const char *s, size_t n, uint32_t *out)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = (uint32_t)(c - '0');
        else if (c >= 'A' && c <= 'F')
            d = (uint32_t)(c - 'A' + 10);
        else
            return false;
        v = v << 4 | d;
    }
    *out = v;
    return true;
}

bool wal_name_parse(const char *name, WalFileName *out)
{
    size_t len = strlen(name);
    memset(out, 0, sizeof(*out));
    if (len == 16 && strcmp(name + 8, ".history") == 0 && hex_upper(name, 8, &out->tli)) {
        out->kind = WAL_FILE_HISTORY;
        return out->tli > 0 ? true
                            : err_set(DD_EXIT_USAGE,
                                      "\"%s\" names timeline 0, which does not "
                                      "exist",
                                      name);
    }
    if (len >= WAL_NAME_LEN && hex_upper(name, 8, &out->tli) && hex_upper(name + 8, 8, &out->log) &&
        hex_upper(name + 16, 8, &out->seg) && out->tli > 0) {
        const char *rest = name + WAL_NAME_LEN;
        uint32_t offset;
        if (*rest == '\0') {
            out->kind = WAL_FILE_SEGMENT;
            return true;
        }
        if (strcmp(rest, ".partial") == 0) {
            out->kind = WAL_FILE_PARTIAL;
            return true;
        }
        if (len == 40 && rest[0] == '.' && hex_upper(rest + 1, 8, &offset) &&
            strcmp(rest + 9, ".backup") == 0) {
            out->kind = WAL_FILE_BACKUP;
            return true;
        }
    }
    err_set(DD_EXIT_USAGE, "\"%s\" is not a WAL file name", name);
    err_hint("expected a segment like 000000010000000000000001, a .partial or .backup file, or "
             "00000002.history");
    return false;
}

uint64_t wal_segno(const WalFileName *n, uint32_t seg_size)
{
    uint64_t per_log = 0x100000000ull / seg_size;
    return (uint64_t)n->log * per_log + n->seg;
}

void wal_segment_name(uint32_t tli, uint64_t segno, uint32_t seg_size, char *out)
{
    uint64_t per_log = 0x100000000ull / seg_size;
    snprintf(out, 25, "%08X%08X%08X", tli, (uint32_t)(segno / per_log),
             (uint32_t)(segno % per_log));
}

uint64_t wal_segno_of_lsn(uint64_t lsn, uint32_t seg_size, bool is_end)
{
    if (is_end && lsn > 0)
        return (lsn - 1) / seg_size;
    return lsn / seg_size;
}

bool wal_segment_header(const void *data, size_t len, WalSegmentHeader *out)
{
    const uint8_t *p = data;
    if (len < WAL_LONG_HEADER_LEN)
        return err_set(DD_EXIT_CORRUPT, "too short for a WAL segment (%zu bytes)", len);
    out->magic = le_get16(p);
    out->info = le_get16(p + 2);
    out->tli = le_get32(p + 4);
    out->pageaddr = le_get64(p + 8);
    out->sysid = le_get64(p + 24);
    out->seg_size = le_get32(p + 32);
    out->block_size = le_get32(p + 36);
    if (!(out->info & 0x0002))
        return err_set(DD_EXIT_CORRUPT, "the first page has no long header");
    if (out->magic != WAL_PAGE_MAGIC_PG15) {
        err_set(DD_EXIT_CONFLICT, "WAL page magic is 0x%04X, expected 0x%04X (PostgreSQL 15)",
                out->magic, WAL_PAGE_MAGIC_PG15);
        err_hint("drydock supports PostgreSQL 15; archive WAL of other versions elsewhere");
        return false;
    }
    if (!wal_seg_size_valid(out->seg_size) || out->block_size == 0)
        return err_set(DD_EXIT_CORRUPT,
                       "the long page header holds segment size %u and block "
                       "size %u",
                       out->seg_size, out->block_size);
    return true;
}

bool wal_seg_size_valid(uint64_t size)
{
    return size >= (1u << 20) && size <= (1u << 30) && (size & (size - 1)) == 0;
}
