/*
 * runpost.c - the maintenance commands' posts to the status page (runpost.h).
 */
#include "maint/runpost.h"

#include <stdio.h>

#include "common/log.h"
#include "common/timeutil.h"

/* Said when a rollback did not get back: the people affected learn it goes on. */
static const char runpost_rollback_failed[] =
    "Switching back is taking longer than expected. We are working on it and will post "
    "here again as soon as we know more.";

void runpost_plan(const MaintFile *mf, const Plan *p, StatusTexts *texts, StatusNotifyPlan *out)
{
    *texts = (StatusTexts){.scheduled = mf->text_scheduled,
                           .in_progress = mf->text_in_progress,
                           .verifying = mf->text_verifying,
                           .completed = mf->text_completed};
    int64_t start = mf->window_start > 0 ? (int64_t)mf->window_start : (int64_t)time_wall();
    int64_t len = mf->window_length > 0 ? (int64_t)mf->window_length : (int64_t)(p->high_s + 60);
    *out = (StatusNotifyPlan){.title = mf->title ? mf->title : "Database maintenance",
                              .description = mf->description,
                              .window_start = start,
                              .window_end = start + len,
                              .predicted_s = p->predicted_s,
                              .low_s = p->low_s,
                              .high_s = p->high_s,
                              .texts = texts};
}

static void runpost_warn(void)
{
    log_warn("status page: %s", err_message());
    err_clear();
}

int64_t runpost_scheduled(const Config *cfg, const MaintFile *mf, const Plan *p)
{
    StatusNotifier *n = NULL;
    StatusTexts texts;
    StatusNotifyPlan sp;
    int64_t id = 0;
    runpost_plan(mf, p, &texts, &sp);
    if (!status_notify_open(cfg, &(StatusNotifyOptions){0}, &n) ||
        !status_notify_adopt(n, &sp, &id)) {
        runpost_warn();
        id = 0;
    }
    status_notify_close(n);
    return id;
}

/* Post one moment to status_id with a notifier of its own. */
static void runpost_one(const Config *cfg, int64_t status_id, bool (*fn)(StatusNotifier *, int64_t))
{
    if (!status_id)
        return;
    StatusNotifier *n = NULL;
    if (!status_notify_open(cfg, &(StatusNotifyOptions){0}, &n) || !fn(n, status_id))
        runpost_warn();
    status_notify_close(n);
}

static bool runpost_failed(StatusNotifier *n, int64_t id)
{
    return status_notify_update(n, id, runpost_rollback_failed, 0);
}

/* The run's maintenance is over: a new one for the rollback, In progress at once. */
static int64_t runpost_rollback_new(StatusNotifier *n, const char *title)
{
    char t[256];
    snprintf(t, sizeof(t), "Switching back: %s", title ? title : "Database maintenance");
    StatusTexts texts = {.in_progress = status_default_texts.rolling_back};
    int64_t now = (int64_t)time_wall(), id = 0;
    StatusNotifyPlan sp = {.title = t,
                           .description = status_default_texts.rolling_back,
                           .window_start = now,
                           .window_end = now + 3600,
                           .texts = &texts};
    if (!status_notify_scheduled(n, &sp, &id) || !status_notify_in_progress(n, id))
        return 0;
    return id;
}

int64_t runpost_rollback_start(const Config *cfg, int64_t status_id, const char *title)
{
    if (!status_id)
        return 0;
    StatusNotifier *n = NULL;
    int64_t id = status_id;
    if (!status_notify_open(cfg, &(StatusNotifyOptions){0}, &n)) {
        runpost_warn();
        return status_id;
    }
    if (!status_notify_rolling_back(n, status_id)) {
        if (err_code() == DD_EXIT_CONFLICT) { /* Completed already: final */
            err_clear();
            id = runpost_rollback_new(n, title);
            if (!id) {
                runpost_warn();
                id = status_id;
            }
        } else
            runpost_warn();
    }
    status_notify_close(n);
    return id;
}

void runpost_rollback_end(const Config *cfg, int64_t status_id, bool ok)
{
    runpost_one(cfg, status_id, ok ? status_notify_rolled_back : runpost_failed);
}
