/*
 * tsmap.h - where a restore puts each tablespace (--tablespace-map NAME=DIR).
 *
 * A backup records each tablespace as its oid and the directory its
 * pg_tblspc/<oid> symlink pointed to (manifest.h). Without a mapping a
 * tablespace goes back to that directory; "--tablespace-map NAME=DIR" puts
 * it in DIR instead, where NAME is the tablespace's name (as pgBackRest's
 * option), its oid, or its recorded directory (as pg_basebackup's
 * --tablespace-mapping OLDDIR=NEWDIR). Names come from the backup's
 * pg_tablespace catalog (tsnames.h), since the manifest holds none.
 *
 * Rules (each failure DD_EXIT_USAGE, one line naming the argument):
 *  1. DIR is an absolute path; NAME is not empty; no line breaks anywhere.
 *  2. A tablespace is mapped at most once; every mapping names a tablespace
 *     of the backup being restored.
 *  3. Two tablespaces never end up in the same directory.
 *
 * tablespace_map (the file PostgreSQL reads at startup, which makes it
 * recreate the pg_tblspc symlinks) is rendered from the final locations:
 * "<oid> <location>\n" a tablespace, with '\\', '\n' and '\r' escaped by a
 * backslash as pg_backup_stop() writes it.
 */
#ifndef DD_RESTORE_TSMAP_H
#define DD_RESTORE_TSMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "common/mem.h"
#include "repo/manifest.h"
#include "restore/tsnames.h"

typedef struct {
    char *name; /* tablespace name, oid or recorded directory */
    char *dir;  /* the new location */
    bool used;
} TsMapEntry;

typedef struct {
    TsMapEntry *items;
    size_t len;
} TsMap;

/* Add one --tablespace-map argument (rule 1). */
DD_MUST_CHECK bool tsmap_add(TsMap *m, const char *arg);

/*
 * The location of each of the n tablespaces (rules 2 and 3): out[i] is a new
 * string, mapped or recorded. names (nnames of them, may be NULL) give the
 * tablespaces' names. The caller frees out with tsmap_free_locations.
 */
DD_MUST_CHECK bool tsmap_resolve(TsMap *m, const ManifestTablespace *ts, size_t n,
                                 const TsName *names, size_t nnames, const char *backup_id,
                                 char ***out);
void tsmap_free_locations(char **loc, size_t n);

/* Render tablespace_map for these tablespaces at these locations. */
void tsmap_render(const ManifestTablespace *ts, char *const *loc, size_t n, Buf *out);

void tsmap_free(TsMap *m);

#endif
