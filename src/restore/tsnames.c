/*
 * tsnames.c - see tsnames.h.
 */
#include "restore/tsnames.h"

#include <string.h>

#include "common/endian.h"
#include "common/mem.h"
#include "pg/datadir.h"

#define PAGE_HEADER         24
#define LP_NORMAL           1
#define HEAP_XMIN_INVALID   0x0200
#define HEAP_XMAX_INVALID   0x0800
#define HEAP_XMAX_LOCK_ONLY 0x0080
#define TUPLE_HEADER_MIN    23

static bool tuple_live(const uint8_t *t)
{
    uint16_t mask = le_get16(t + 20);
    if (mask & HEAP_XMIN_INVALID)
        return false;
    return le_get32(t + 4) == 0 || (mask & (HEAP_XMAX_INVALID | HEAP_XMAX_LOCK_ONLY)) != 0;
}

/* Append the live tuples of one page. */
static void parse_page(const uint8_t *page, TsName **out, size_t *n, size_t *cap)
{
    uint16_t lower = le_get16(page + 12);
    if (lower < PAGE_HEADER || lower > PG_BLCKSZ)
        return;
    for (size_t lp = PAGE_HEADER; lp + 4 <= lower; lp += 4) {
        uint32_t v = le_get32(page + lp);
        uint32_t off = v & 0x7fff, flags = (v >> 15) & 3, len = v >> 17;
        if (flags != LP_NORMAL || len < TUPLE_HEADER_MIN || off + len > PG_BLCKSZ)
            continue;
        const uint8_t *t = page + off;
        uint8_t hoff = t[22];
        if (hoff < TUPLE_HEADER_MIN || (size_t)hoff + 4 + TSNAMES_NAMELEN > len || !tuple_live(t))
            continue;
        const char *name = (const char *)t + hoff + 4;
        size_t nl = strnlen(name, TSNAMES_NAMELEN);
        if (nl == 0 || nl == TSNAMES_NAMELEN)
            continue;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 8;
            *out = xrealloc(*out, *cap * sizeof(**out));
        }
        TsName *e = &(*out)[(*n)++];
        e->oid = le_get32(t + hoff);
        memcpy(e->name, name, nl);
        e->name[nl] = '\0';
    }
}

size_t tsnames_parse(const uint8_t *data, size_t len, TsName **out)
{
    size_t n = 0, cap = 0;
    *out = NULL;
    for (size_t p = 0; p + PG_BLCKSZ <= len; p += PG_BLCKSZ)
        parse_page(data + p, out, &n, &cap);
    return n;
}
