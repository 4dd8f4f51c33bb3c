/*
 * runpost.h - what the maintenance commands post to the status page
 * (status/notify.h), in one place: "maint plan" posts Scheduled, "maint
 * run" adopts it (or posts it then) and goes on to In progress; the
 * rollback posts its start and its end.
 *
 * Every function here is best effort: a status page that is not configured
 * does nothing, and one that fails is a warning in the log, never the
 * maintenance's failure.
 *
 * The window posted is the file's window-start/window-length; without one,
 * from now for the plan's high bound plus a minute. The texts are the file's
 * text-* overrides, else notify.c's defaults.
 */
#ifndef DD_MAINT_RUNPOST_H
#define DD_MAINT_RUNPOST_H

#include <stdint.h>

#include "config/config.h"
#include "maint/mfile.h"
#include "maint/plan.h"
#include "status/notify.h"

/* The notifier's plan for mf and p; texts is filled and pointed at (it must outlive out). */
void runpost_plan(const MaintFile *mf, const Plan *p, StatusTexts *texts, StatusNotifyPlan *out);

/*
 * Scheduled for mf (maint plan): the open maintenance of the same title is
 * kept as it is (planning twice posts once). Returns its id, 0 when the
 * status page is not configured or the post failed (logged).
 */
int64_t runpost_scheduled(const Config *cfg, const MaintFile *mf, const Plan *p);

/*
 * A rollback of the run whose status-page maintenance is status_id
 * (JournalRun.status_id; 0 does nothing) and whose title is title
 * (JournalRun.title). runpost_rollback_start when it begins posts an
 * Update ("switching back to the previous setup") and returns the id to
 * give runpost_rollback_end; when that maintenance is already Completed
 * (a rollback after the run ended), a new one, "Switching back: TITLE",
 * is posted In progress and its id returned. runpost_rollback_end when the
 * rollback is over: ok posts Completed ("we switched back"), !ok an Update
 * saying that the work goes on.
 */
int64_t runpost_rollback_start(const Config *cfg, int64_t status_id, const char *title);
void runpost_rollback_end(const Config *cfg, int64_t status_id, bool ok);

#endif
