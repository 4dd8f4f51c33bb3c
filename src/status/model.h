/*
 * model.h - what the status page shows, as plain structs: components,
 * events (maintenances and incidents) with their updates, and the snapshot
 * of all of it that the renderers (page.h, api.h, feed.h, ical.h) turn into
 * text. The store (store.h) fills them; renderers never touch SQLite.
 *
 * Times are seconds since 1970-01-01 UTC (int64_t); 0 means "not set".
 * Statuses are Statuspage's words (lifecycle.h has the lists and the rules).
 */
#ifndef DD_STATUS_MODEL_H
#define DD_STATUS_MODEL_H

#include <stddef.h>
#include <stdint.h>

typedef enum { STATUS_MAINTENANCE = 0, STATUS_INCIDENT = 1 } StatusKind;

typedef struct {
    int64_t id;
    char *name;
    char *status; /* operational | under_maintenance | degraded_performance | ... */
    int position;
    int64_t created_at, updated_at;
} StatusComponent;

typedef struct {
    int64_t id;
    char *status; /* the event's status when it was posted */
    char *body;
    int64_t at;
} StatusUpdate;

typedef struct {
    int64_t id;
    StatusKind kind;
    char *title;
    char *status;
    char *impact;                           /* none | minor | major | critical | maintenance */
    int64_t scheduled_for, scheduled_until; /* the announced window (maintenances) */
    int64_t eta;                            /* the latest expected end, when an update gave one */
    double predicted_s, low_s, high_s;      /* predicted duration and its range; 0 = unknown */
    int64_t created_at, updated_at, started_at, monitoring_at, resolved_at;
    char *postmortem; /* Markdown, published; NULL when none */
    int64_t postmortem_at;
    StatusUpdate *updates; /* newest first */
    size_t nupdates;
    char **components; /* names of the affected components */
    size_t ncomponents;
} StatusEvent;

typedef struct {
    char *title;     /* the page's title ([status] title) */
    char *time_zone; /* IANA zone the page shows times in */
    char *url;       /* the page's own URL (for feeds and links); may be "" */
    int64_t now;     /* when the snapshot was taken */
    int64_t updated_at;
    StatusComponent *components; /* by position */
    size_t ncomponents;
    StatusEvent *events; /* newest first (by created_at, then id) */
    size_t nevents;
} StatusSnapshot;

void status_event_free(StatusEvent *e);
void status_snapshot_free(StatusSnapshot *s);

/* A maintenance is "active" while in_progress or verifying; "upcoming" while scheduled. */
const StatusEvent *status_event_find(const StatusSnapshot *s, int64_t id);

#endif
