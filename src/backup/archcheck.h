/*
 * archcheck.h - is the primary archiving into this repository? What
 * "drydock check" checks before it forces a WAL switch, and what
 * "maint plan" checks without forcing one.
 */
#ifndef DD_BACKUP_ARCHCHECK_H
#define DD_BACKUP_ARCHCHECK_H

#include <stdbool.h>

#include "common/error.h"
#include "pg/libpq.h"
#include "repo/repo.h"

/*
 * The server at conn is the repository's cluster (system identifier), is a
 * primary, and has archive_mode on. A warning when archive_command does not
 * mention drydock. false + error (DD_EXIT_CONFLICT, DD_EXIT_PG) otherwise.
 */
DD_MUST_CHECK bool archcheck_cluster(PGconn *conn, Repo *repo);

/*
 * The archiver's last attempt failed (pg_stat_archiver: a failure newer
 * than the last success): false + error (DD_EXIT_PG) naming the segment.
 */
DD_MUST_CHECK bool archcheck_archiver(PGconn *conn);

#endif
