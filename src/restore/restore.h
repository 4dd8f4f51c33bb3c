/*
 * restore.h - laying a backup down into a new (or, with delta, an existing)
 * data directory, ready to start as a point-in-time recovery or as a
 * streaming standby.
 *
 * Steps, in order (each failure is one line with an exit code):
 *  1. choose the backup: the newest that reaches the target (window.h), or
 *     the one --backup names, if it can;
 *  2. check the destination: empty (or missing) unless delta; with delta no
 *     server may run in it (postmaster.pid); tablespace locations empty,
 *     or with delta already this directory's;
 *  3. delta: remove what the backup does not hold; create directories and
 *     the pg_tblspc/<oid> symlinks (recorded or mapped locations, tsmap.h);
 *  4. write the files' chunks with `jobs` threads (plan.h units); with delta,
 *     only chunks whose bytes on disk differ;
 *  5. write backup_label and tablespace_map (with the final locations, since
 *     PostgreSQL recreates the symlinks from it), then the recovery settings
 *     and signal file (recovery.h), fsync the directories (each file was
 *     fsynced by the worker that finished it), and make the data
 *     directory mode 0700.
 *
 * The destination is left incomplete when a step fails after 2; running the
 * same restore again with delta finishes it.
 *
 * Test point (common/testpoint.h): "restore-write", once the unit halfway
 * through step 4 is written.
 *
 * Exit codes: 2 for a destination or tablespace location refused (not
 * empty, a server running, not a directory) and bad options; 4 for a target
 * no backup reaches or missing WAL; 10 for a damaged chunk (the message
 * names the file being restored); 7 for I/O failures.
 */
#ifndef DD_RESTORE_RESTORE_H
#define DD_RESTORE_RESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/mem.h"
#include "common/progress.h"
#include "repo/repo.h"
#include "restore/target.h"
#include "restore/tsmap.h"

typedef struct {
    const char *dest;
    RecoveryTarget target;
    const char *backup_id; /* --backup, or NULL: choose */
    bool delta;
    TsMap *tsmap;           /* --tablespace-map entries (may be empty) */
    const StrList *sets;    /* --set name=value, checked */
    int port;               /* 0: keep the backup's */
    const char *standby_of; /* conninfo: a streaming standby instead of a PITR */
    int jobs;               /* 0: the number of cores */
    const char *drydock_path;
    const char *config_path;
    Progress *progress; /* may be NULL */
} RestoreOpts;

typedef struct {
    char backup_id[32];
    char target[160];       /* target_describe(), or "streaming standby of ..." */
    const char *timeline;   /* "latest" | "current" */
    size_t files;           /* regular files */
    size_t dirs;            /* directories */
    size_t removed;         /* delta: paths removed that the backup does not hold */
    uint64_t bytes_total;   /* logical size of the backup */
    uint64_t bytes_written; /* bytes written to files */
    double duration;        /* seconds */
    double copy_s;          /* of duration, the seconds copying the files' bytes */
    double small_s;         /* of copy_s, the small files' (per-file work: RESTORE_SMALL_FILE) */
    int jobs;
} RestoreResult;

/*
 * A file of fewer bytes than this costs its restore mostly per-file work (a
 * create, an fsync, a journal commit) that a bigger table does not add to:
 * the workers' time on such files, spread over the workers, is small_s.
 */
#define RESTORE_SMALL_FILE (256u << 10)

/* Of r's duration, the seconds that grow with the bytes: the copy, but its small files.
 * The rest is the fixed part of its rate (maint/estimate.h). */
static inline double restore_grows_s(const RestoreResult *r)
{
    return r->copy_s - r->small_s;
}

/* Restore per o (see the steps above). */
DD_MUST_CHECK bool restore_run(Repo *repo, const RestoreOpts *o, RestoreResult *out);

#endif
