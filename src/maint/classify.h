/*
 * classify.h - what each change of a maintenance needs, decided from the
 * live primary's own pg_settings, never from a table of guesses.
 *
 *   set, context sighup/superuser/user/backend   reload   (ALTER SYSTEM + reload)
 *   set, context postmaster                      restart  (on the new cluster)
 *   set, a hot-standby minimum set lower          impossible (the new cluster is a
 *        than the primary's                                  hot standby first)
 *   set, context internal                        impossible
 *   set, a name the server does not know          impossible (custom "x.y" names:
 *                                                            reload, as placeholders)
 *   set, a value the server would refuse          the kind, plus an error finding
 *   file pg_hba.conf, pg_ident.conf, *.crt/.key   reload (ride along on a new cluster)
 *   file, anything else                           restart
 *   data-checksums                               offline  (pg_checksums, stopped)
 *   sql-after                                    post-switch
 *
 * Values are checked as the server would: booleans, integers and reals with
 * their unit converted to the setting's own (8kB, ms, ...) and held to
 * min_val/max_val, enums against enumvals.
 */
#ifndef DD_MAINT_CLASSIFY_H
#define DD_MAINT_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "maint/mfile.h"
#include "maint/plan.h"
#include "pg/libpq.h"

/* One row of pg_settings; strings may be NULL where the column is. */
typedef struct {
    const char *name, *setting, *unit, *context, *vartype, *min_val, *max_val;
    const char *enumvals; /* PostgreSQL array text: "{off,on,remote_apply}" */
    bool pending_restart;
} PgSettingRow;

/* The hot-standby minimums (PostgreSQL 15): a standby's must be >= its primary's. */
bool classify_is_standby_minimum(const char *name);

/*
 * Classify every change of mf (fills kind, reason, current) from the primary's
 * rows, adding findings to p (unknown setting, refused value, impossible
 * change, no-op, a restart pending on the primary). Pure: no server needed.
 */
void classify_changes(MaintFile *mf, const PgSettingRow *rows, size_t nrows, Plan *p);

/* True when every change can be done on the live primary (reload or post-switch). */
bool classify_reload_only(const MaintFile *mf);

/* Read pg_settings from conn: the result (caller PQclear()s) and rows pointing into it. */
DD_MUST_CHECK bool classify_read_settings(PGconn *conn, PGresult **res, PgSettingRow **rows,
                                          size_t *nrows);

#endif
