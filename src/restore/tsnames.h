/*
 * tsnames.h - tablespace names, read from the backup's own pg_tablespace.
 *
 * A manifest records tablespaces by oid and directory; their names live in
 * the pg_tablespace catalog, a heap relation whose file is global/1213 in
 * every PostgreSQL 15 data directory. To accept --tablespace-map NAME=DIR by
 * name (as pgBackRest does), restore reads that file from the backup and
 * parses its heap pages:
 *
 *   page (8192 bytes): header of 24 bytes, pd_lower at offset 12 (end of
 *     the line pointers, which start at 24), then 4-byte line pointers
 *     lp_off:15 | lp_flags:2 | lp_len:15 (LP_NORMAL = 1);
 *   tuple: t_xmin at 0, t_xmax at 4, t_infomask at 20, t_hoff at 22;
 *     data at t_hoff: oid (4 bytes), spcname (NameData, 64 bytes).
 *
 * A tuple counts unless its inserter is known aborted (HEAP_XMIN_INVALID)
 * or it was deleted or updated (an xmax that is not invalid and not only a
 * lock): without the commit log, an in-doubt old version may also count, so
 * a tablespace can have two names, both of which then select it. Malformed
 * pages are skipped: this only adds names, it never decides anything alone.
 */
#ifndef DD_RESTORE_TSNAMES_H
#define DD_RESTORE_TSNAMES_H

#include <stddef.h>
#include <stdint.h>

#define TSNAMES_RELPATH "global/1213"
#define TSNAMES_NAMELEN 64

typedef struct {
    uint32_t oid;
    char name[TSNAMES_NAMELEN];
} TsName;

/* The (oid, name) pairs of a pg_tablespace file's live tuples; caller frees *out. */
size_t tsnames_parse(const uint8_t *data, size_t len, TsName **out);

#endif
