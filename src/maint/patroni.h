/*
 * patroni.h - whether Patroni manages a cluster.
 *
 * Patroni owns promotion: it promotes a standby when it loses its leader
 * lock, and restarts or rewinds a primary it did not promote itself. A
 * drydock switchover that promotes behind its back races it (two primaries,
 * or Patroni demoting drydock's new primary). So drydock detects Patroni
 * and refuses to promote unless told that drydock should (Patroni paused or
 * stopped for the cluster); with Patroni in charge the proxy still pauses,
 * switches and resumes around "patronictl switchover".
 *
 * Signs, any of which is enough (each written by Patroni into the data
 * directory it manages): patroni.dynamic.json; a postgresql.conf whose
 * header says Patroni will overwrite it; postgresql.base.conf next to it.
 * Through SQL, when no data directory is given: pg_stat_file() of
 * patroni.dynamic.json (needs a superuser, as drydock's connections are).
 */
#ifndef DD_MAINT_PATRONI_H
#define DD_MAINT_PATRONI_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/*
 * Look for Patroni's signs in datadir (may be NULL) and, when conninfo is
 * not NULL, on the server. *why names the sign found ("" when none).
 * A server that cannot be asked counts as no sign: the switchover's own
 * checks will report it.
 */
DD_MUST_CHECK bool patroni_detect(const char *datadir, const char *conninfo, bool *managed,
                                  char *why, size_t len);

#endif
