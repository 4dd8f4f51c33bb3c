/*
 * manifest.h - a backup's manifest: the one object that makes a backup exist.
 *
 * Stored as an object (object.h envelope; format 2 binary, format 1 JSON
 * still read: manifest.c) at backups/<id>.manifest,
 * written last, after every chunk it references is in a committed pack and
 * the WAL from its start to its stop LSN is archived. Its id is the UTC start
 * time, "YYYYMMDDTHHMMSSZ", so ids sort in time order.
 *
 * A backup is logically full: restoring it needs this manifest and the chunks
 * it names (chunkstore.h), nothing else. Every file of the data directory that
 * PostgreSQL's base-backup rules keep is listed, directories too (so empty
 * ones are recreated), each regular file with its chunk list: the file's bytes
 * are the concatenation of its chunks' raw contents, in order.
 *
 * Tablespaces: files under a tablespace are listed as seen through the data
 * directory, "pg_tblspc/<oid>/PG_15_.../...", and the tablespace itself (oid
 * and the directory it lived in) in `tablespaces`; restore recreates the
 * pg_tblspc/<oid> symlink to that directory or to a mapped one.
 *
 * Invariants:
 *  1. A manifest references only chunks present in committed packs.
 *  2. sum(chunks[i].len) == size for every regular file.
 *  3. Manifests are never modified; expire removes them whole.
 */
#ifndef DD_REPO_MANIFEST_H
#define DD_REPO_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/hash.h"
#include "common/mem.h"
#include "repo/repo.h"

#define MANIFEST_DIR "backups"

typedef struct {
    uint8_t sha256[SHA256_LEN]; /* of the raw bytes: the chunk's name */
    uint32_t len;               /* raw length */
} ManifestChunk;

typedef struct {
    char *path;    /* relative to the data directory, '/'-separated */
    uint32_t mode; /* st_mode: S_IFREG or S_IFDIR, and permission bits */
    uint64_t size; /* regular files: length in bytes */
    double mtime;  /* seconds since the epoch */
    ManifestChunk *chunks;
    size_t nchunks;
} ManifestFile;

typedef struct {
    uint32_t oid;
    char *location; /* the directory the pg_tblspc/<oid> symlink pointed to */
} ManifestTablespace;

/* A named count (the files a guided backup read whole, by reason). */
typedef struct {
    char *name;
    uint64_t n;
} ManifestCount;

typedef struct {
    char *id;          /* "YYYYMMDDTHHMMSSZ" */
    char *source_node; /* "standby" or "primary" */
    uint64_t system_id;
    uint32_t pg_version; /* server_version_num */
    uint32_t tli;        /* timeline of the start LSN */
    uint64_t start_lsn, stop_lsn;
    double start_time, stop_time; /* seconds since the epoch */
    char *backup_label;           /* as returned by pg_backup_stop() */
    char *tablespace_map;         /* likewise; "" when there is none */
    uint32_t chunk_size;          /* bytes; a power of two multiple of 8192 */
    uint64_t bytes_logical;       /* sum of file sizes */
    uint64_t bytes_new;           /* raw bytes of chunks this backup added */
    uint64_t bytes_stored;        /* bytes written to packs by this backup */
    double duration;              /* seconds, start to manifest */
    /* How relation files were read (optional keys, backup/guide.h); older
     * manifests load as a full read with data_checksums -1 (unknown). */
    bool guided;                /* "read": "guided" | "full" */
    uint32_t guided_since_full; /* "guided-since-full": guided backups since the last full read */
    double full_read_time;      /* "full-read-time": start time of the last full read */
    int data_checksums;         /* "data-checksums": 0, 1; -1 unknown */
    char *full_read_reason;    /* "full-read-reason": why not guided; NULL when guided or unknown */
    uint64_t files_guided;     /* "files-guided": relation files read only where changed */
    ManifestCount *read_whole; /* "read-whole": {"<reason>": files}, files a guided backup */
    size_t nread_whole;        /*   read whole anyway (guide.h's reasons) */
    ManifestTablespace *tablespaces;
    size_t ntablespaces;
    ManifestFile *files; /* sorted by path */
    size_t nfiles;
} Manifest;

/* The ids of all backups in the repository, oldest first. */
DD_MUST_CHECK bool manifest_list(Repo *repo, StrList *ids);

/*
 * Load and check a manifest (structure, invariant 2). A missing one is
 * DD_EXIT_USAGE naming the id; a damaged one DD_EXIT_CORRUPT.
 */
DD_MUST_CHECK bool manifest_load(Repo *repo, const char *id, Manifest **out);

/* Store a manifest (atomically, never overwriting one). */
DD_MUST_CHECK bool manifest_save(Repo *repo, const Manifest *m);

/* Remove a manifest (expire). */
DD_MUST_CHECK bool manifest_remove(Repo *repo, const char *id);

/*
 * Parse a manifest object's raw content, either format (manifest.c), and
 * check it (every invariant the loader checks but the id's match with the
 * object's name); system_id 0 skips the cluster check. For the loader, the
 * fuzzer and "debug manifest".
 */
DD_MUST_CHECK bool manifest_parse(const char *data, size_t len, uint64_t system_id, Manifest **out);

/* m as a format 1 JSON document (caller frees; NULL and an error when it fails). */
char *manifest_json(const Manifest *m);

void manifest_free(Manifest *m);

#endif
