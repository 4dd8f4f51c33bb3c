/*
 * lint.h - a plan checked against the live clusters and the repository.
 *
 * Each check adds findings (plan.h: severity, stable code, a one-line
 * message naming the thing, a hint). An error stops "maint plan" (exit 12)
 * and "maint run". The codes, stable for scripts (README.md has the table):
 *
 *   backup-from-primary   error    no standby: the backup would read the primary
 *   green-is-live         error    [green] names a live node's directory or port
 *   green-port-in-use     error    something else listens on a [green] port
 *   green-missing         error    a new cluster is needed and [green] has no data/port
 *   no-backup             warning  no backup yet: the plan's backup reads and stores it all
 *   full-backup           warning  the next backup stores (about) the whole cluster
 *   standby-down          error    the standby does not answer
 *   standby-not-streaming error    it is not in recovery, or not streaming
 *   standby-lag           error    its replay lags more than standby-lag-limit
 *   archive-failing       error    the primary is not archiving here (drydock check's checks)
 *   wal-gap               error    the archive misses WAL after the newest backup
 *                        warning   ... or before it (older points in time are unreachable)
 *   green-not-empty       error    a [green] directory exists and is not empty
 *   green-no-room         error    its filesystem lacks room for the cluster + 25 %
 *   long-transaction      warning  a transaction is open longer than the pause timeout
 *   prepared-transactions warning  prepared transactions on the primary
 *   logical-slots         error    logical slots on the primary: lost at the switch
 *   unlogged-tables       warning  unlogged tables: empty on the new cluster
 *   checksums-no-rewind   warning  data checksums change: rollback rebuilds the old primary
 *   rollback-keeps-minimum warning a hot-standby minimum rises: after a rollback the old
 *                                  primary keeps the new value until restarted
 *   window-too-short      error    the window is shorter than the predicted total's high end
 *   window-past           warning  the window has already ended
 * and from classify.c: unknown-setting, internal-setting, invalid-value,
 * hot-standby-minimum (errors), change-no-op, pending-restart (warnings).
 */
#ifndef DD_MAINT_LINT_H
#define DD_MAINT_LINT_H

#include <stdint.h>

#include "config/config.h"
#include "maint/plan.h"
#include "pg/libpq.h"
#include "repo/repo.h"
#include "restore/catalog.h"

typedef struct {
    const Config *cfg;
    const MaintFile *mf;
    PGconn *primary;           /* connected */
    PGconn *standby;           /* NULL when not configured or unreachable */
    const char *standby_error; /* why it is unreachable, or NULL */
    Repo *repo;
    const Catalog *catalog;
} LintCtx;

/* Run every check of the table; findings go to p (sizes and estimates already set). */
void lint_run(const LintCtx *ctx, Plan *p);

#endif
