/*
 * finish.h - "maint finish": remove what the journal knows the run kept.
 *
 *   run state    removed
 *   completed    the old primary's data directory (the journal's plan names
 *                it: roles_before.primary_data), kept stopped for rollback
 *   rolled back  every directory the run created and has not removed (the
 *                green ones; the old primary's, kept aside by a rebuild
 *                rollback as DATA.rollback-N), each journalled as removed
 *
 * Nothing is removed that is a current node's data directory (the roles as
 * the topology lays them) or where a server runs: that is refused (exit 9).
 */
#ifndef DD_MAINT_FINISH_H
#define DD_MAINT_FINISH_H

#include <stdbool.h>
#include <stdio.h>

#include "common/error.h"
#include "config/config.h"
#include "maint/journal.h"

/* out: a "removed DIR" line each (NULL: none). */
DD_MUST_CHECK bool maint_finish_remove(const Config *cfg, Journal *j, const JournalRun *jr,
                                       FILE *out);

#endif
