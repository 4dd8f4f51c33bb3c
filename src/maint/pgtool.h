/*
 * pgtool.h - running PostgreSQL's own programs (pg_ctl, pg_checksums,
 * pg_basebackup) for the maintenance steps, with their output captured.
 *
 * A thin layer on common/exec.h, which runs every program: PostgreSQL
 * refuses to run as root, so when drydock runs as root the child runs as
 * the owner of owner_of (a data directory, or the directory that will hold
 * it). A password goes to the child through PGPASSWORD, never on its
 * command line.
 */
#ifndef DD_MAINT_PGTOOL_H
#define DD_MAINT_PGTOOL_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "common/mem.h"

typedef struct {
    const char *password; /* PGPASSWORD, or NULL */
    const char *owner_of; /* when root: run as this path's owner; NULL: as we are */
} PgToolOpts;

/* Run argv (argv[0] a path); *status is its exit status (128 + signal). false: not run at all. */
DD_MUST_CHECK bool pgtool_run(char *const argv[], const PgToolOpts *o, Buf *out, int *status);

/*
 * Run a tool that must succeed; its failure is DD_EXIT_PG "<doing> failed
 * (<tool> exited with status N): <its last line>".
 */
DD_MUST_CHECK bool pgtool_must(char *const argv[], const PgToolOpts *o, const char *doing,
                               Buf *out);

/*
 * Start the server in datadir with "pg_ctl -w -t timeout_s start", its log
 * in datadir/log/drydock-start.log (*logfile, set even on failure; the
 * caller frees it). The log directory is created first, as the data
 * directory's owner like pg_ctl itself. A failure of pg_ctl is pgtool_must's
 * "<doing> failed (...)"; the caller adds the hint it wants.
 */
DD_MUST_CHECK bool pgtool_server_start(const char *pg_ctl, const char *datadir,
                                       const char *timeout_s, const char *doing, char **logfile);

/* The owner of path, or of its parent when path does not exist yet; false when neither does. */
bool pgtool_owner(const char *path, uid_t *uid, gid_t *gid);

#endif
