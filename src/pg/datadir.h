/*
 * datadir.h - walking a PostgreSQL 15 data directory for a base backup.
 *
 * What is left out follows PostgreSQL's documentation on base backups
 * (continuous archiving, "Making a Base Backup Using the Low Level API", and
 * the replication protocol's BASE_BACKUP):
 *   - files: postmaster.pid, postmaster.opts, postgresql.auto.conf.tmp,
 *     current_logfiles.tmp, pg_internal.init (any directory), backup_label,
 *     tablespace_map, backup_manifest, backup_label.old, standby.signal,
 *     recovery.signal (restore writes its own), anything named pgsql_tmp*,
 *     temporary relations (t<digits>_<digits>...) in database directories,
 *     and every fork but the init fork of unlogged relations (a relation
 *     whose "<relfilenode>_init" exists in the same directory);
 *   - directory contents (the directory itself is kept, empty): pg_wal
 *     (except the directory pg_wal/archive_status, kept empty), pg_replslot,
 *     pg_dynshmem, pg_notify, pg_serial, pg_snapshots, pg_stat_tmp,
 *     pg_subtrans.
 * Tablespaces: pg_tblspc/<oid> symlinks are followed; their files are listed
 * under "pg_tblspc/<oid>/..." and the link target is reported separately.
 * Only regular files and directories are listed; other symlinks, sockets
 * and devices are skipped.
 */
#ifndef DD_PG_DATADIR_H
#define DD_PG_DATADIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define PG_BLCKSZ        8192
#define PG_RELSEG_BLOCKS 131072 /* blocks per relation segment file (1 GiB) */

typedef enum {
    DATADIR_KEEP = 0,      /* back it up (a directory: with its contents) */
    DATADIR_SKIP,          /* leave it out entirely */
    DATADIR_KEEP_EMPTY_DIR /* a directory: keep it, leave its contents out */
} DatadirRule;

/*
 * The rule for a path relative to the data directory ("pg_wal",
 * "base/5/pg_internal.init", "pg_tblspc/16384/PG_15_202209061/5/t3_16385"):
 * a pure function of the path. Unlogged relations need the directory's
 * contents and are handled by the walk.
 */
DatadirRule datadir_rule(const char *relpath, bool is_dir);

/*
 * For a relation data file ("base/5/16384", "global/1262.2",
 * "pg_tblspc/16384/PG_15_x/5/16390_fsm"), true with the segment number
 * (the ".N" suffix, 0 without); false for any other file, including those
 * PostgreSQL does not checksum (pg_control, pg_filenode.map, PG_VERSION).
 */
bool datadir_relation_segment(const char *relpath, uint32_t *segno);

typedef struct {
    char *path;     /* relative, '/'-separated, as seen through the data directory */
    char *fullpath; /* where to read it */
    uint32_t mode;  /* st_mode: S_IFREG or S_IFDIR with permission bits */
    uint64_t size;
    double mtime;
    bool relation; /* a relation segment: its pages have checksums */
    uint32_t segno;
} DatadirEntry;

typedef struct {
    uint32_t oid;
    char *location;
} DatadirTablespace;

typedef struct {
    DatadirEntry *entries; /* sorted by path */
    size_t n, cap;
    DatadirTablespace *tablespaces;
    size_t ntablespaces;
    uint64_t total_bytes; /* sum of regular file sizes */
} DatadirList;

/* Walk the data directory; files that vanish while walking are skipped. */
DD_MUST_CHECK bool datadir_walk(const char *datadir, DatadirList *out);
void datadir_list_free(DatadirList *l);

#endif
