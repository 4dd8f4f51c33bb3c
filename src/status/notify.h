/*
 * notify.h - how a maintenance posts its own lifecycle to the status page.
 *
 * For the maintenance runner (maint/): open a notifier once per run, call
 * one function per moment, close it at the end. Each call is one
 * transaction on the status store (the maintenance, its update, the
 * components, the webhook outbox) and nothing else: no network, so a dead
 * webhook receiver never delays a step. The only wait is SQLite's write
 * lock, a few milliseconds, at most 5 s when another writer holds it.
 * Webhooks are sent later by "drydock status serve", or by the notifier's
 * own background thread when it is opened with .deliver.
 *
 * When [status] store is not configured the notifier is disabled: every
 * call succeeds and does nothing, so the runner needs no "if".
 *
 * Texts are written for the people who use the service (no LSNs, no step
 * names). Every default can be replaced by the maintenance file's
 * [maintenance] section through StatusTexts; a text may use {start},
 * {end} (the window), {duration}, {low}, {high} (the prediction) and {eta}
 * (the new expected end), shown in the page's time zone with the zone named.
 *
 * The calls in the order of a run:
 *
 *   status_notify_scheduled     Scheduled, with the window and the prediction  (maint
 * plan/schedule) status_notify_in_progress   In progress                                     (maint
 * run starts) status_notify_late          Update with a new ETA: a step ran past its range
 *   status_notify_update        Update with the operator's own text (and maybe an ETA)
 *   status_notify_verifying     Verifying: after the switch, while the checks run
 *   status_notify_completed     Completed
 *   status_notify_aborting      Update: an abort (before the switch) has begun
 *   status_notify_rolling_back  Update: a rollback (after the switch) has begun
 *   status_notify_aborted       Completed, saying nothing changed
 *   status_notify_rolled_back   Completed, saying the previous setup is back
 *
 * Every call returns false only when the store failed (DD_EXIT_IO) or the
 * call is against the lifecycle (DD_EXIT_CONFLICT, e.g. an update after
 * Completed); the runner should log that and go on with the maintenance.
 */
#ifndef DD_STATUS_NOTIFY_H
#define DD_STATUS_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "config/config.h"

typedef struct StatusNotifier StatusNotifier;

/* Operator texts from the maintenance file's [maintenance] section; NULL = the default. */
typedef struct {
    const char *scheduled;
    const char *in_progress;
    const char *late;
    const char *verifying;
    const char *completed;
    const char *aborting;
    const char *rolling_back;
    const char *aborted;
    const char *rolled_back;
} StatusTexts;

typedef struct {
    bool deliver; /* also send the webhooks from a background thread until close */
} StatusNotifyOptions;

/* Open from [status]; a disabled notifier when no store is configured. DD_EXIT_CONFIG/IO. */
DD_MUST_CHECK bool status_notify_open(const Config *cfg, const StatusNotifyOptions *opt,
                                      StatusNotifier **out);
void status_notify_close(StatusNotifier *n);

/* Is it writing anywhere (a store is configured)? */
bool status_notify_enabled(const StatusNotifier *n);

typedef struct {
    const char *title;                 /* [maintenance] title: what the page shows */
    const char *description;           /* a paragraph after the Scheduled text, when set */
    int64_t window_start, window_end;  /* UTC seconds; end > start */
    double predicted_s, low_s, high_s; /* the plan's prediction and its range */
    const char *const *components;     /* affected; none = every configured component */
    size_t ncomponents;
    const StatusTexts *texts; /* kept by the notifier for the later calls; may be NULL */
} StatusNotifyPlan;

/* Post Scheduled; *id is the maintenance's id for the later calls (0 when disabled). */
DD_MUST_CHECK bool status_notify_scheduled(StatusNotifier *n, const StatusNotifyPlan *p,
                                           int64_t *id);
/*
 * For "maint run", a process other than the one that posted Scheduled: the
 * newest unfinished maintenance titled p->title (its id in *id, and p's
 * window, prediction and texts kept for the later calls), or, when there
 * is none, a new one posted as Scheduled now, as status_notify_scheduled.
 */
DD_MUST_CHECK bool status_notify_adopt(StatusNotifier *n, const StatusNotifyPlan *p, int64_t *id);
DD_MUST_CHECK bool status_notify_in_progress(StatusNotifier *n, int64_t id);
/* A step ran past its predicted range; new_eta is the new expected end (UTC seconds). */
DD_MUST_CHECK bool status_notify_late(StatusNotifier *n, int64_t id, int64_t new_eta);
/* The operator's own update; new_eta 0 = unchanged. */
DD_MUST_CHECK bool status_notify_update(StatusNotifier *n, int64_t id, const char *text,
                                        int64_t new_eta);
DD_MUST_CHECK bool status_notify_verifying(StatusNotifier *n, int64_t id);
DD_MUST_CHECK bool status_notify_completed(StatusNotifier *n, int64_t id);
DD_MUST_CHECK bool status_notify_aborting(StatusNotifier *n, int64_t id);
DD_MUST_CHECK bool status_notify_rolling_back(StatusNotifier *n, int64_t id);
DD_MUST_CHECK bool status_notify_aborted(StatusNotifier *n, int64_t id);
DD_MUST_CHECK bool status_notify_rolled_back(StatusNotifier *n, int64_t id);

/* The default texts, for documentation and tests. */
extern const StatusTexts status_default_texts;

/*
 * Replace {start} {end} {duration} {low} {high} {eta} in text (unknown
 * braces are kept); times in zone. Returns a new string.
 */
char *status_texts_expand(const char *text, const char *zone, int64_t start, int64_t end,
                          double predicted_s, double low_s, double high_s, int64_t eta);

#endif
