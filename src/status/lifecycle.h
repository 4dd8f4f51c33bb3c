/*
 * lifecycle.h - the rules of the status page, in one place: which statuses
 * an event may take and in which order, what a component's status is, and
 * the page's overall indicator. The store (store.c) calls these and nothing
 * else decides.
 *
 *   maintenance:
 *
 *     scheduled ──► in_progress ──► verifying ──► completed ··► (postmortem)
 *         │            ▲  │             │  ▲          ▲
 *         │            │  └─────────────┘  │          │
 *         │            └───────────────────┘          │
 *         └───────────────────────────────────────────┘  (cancelled before it began)
 *     in_progress ──► completed (ended without verifying: an abort or a rollback)
 *
 *   incident:
 *
 *     investigating ◄─► identified ◄─► monitoring ──► resolved ··► (postmortem)
 *     (any open status may go to any other open status or to resolved)
 *
 * Rules:
 *  1. Posting the same status again is an Update (text, and a new ETA).
 *  2. completed and resolved are final: no status change, no update; only a
 *     postmortem may be attached, and only to a final event.
 *  3. A component is under_maintenance while a maintenance that names it is
 *     in_progress or verifying; it carries an open incident's component
 *     status (default degraded_performance) while that incident is open;
 *     the worse of the two wins (order below); otherwise operational. A
 *     component is recomputed from these facts after every write, never set
 *     by hand: that is how it goes back to operational by itself.
 */
#ifndef DD_STATUS_LIFECYCLE_H
#define DD_STATUS_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "status/model.h"

/* "maintenance" / "incident". */
const char *lifecycle_kind_name(StatusKind kind);

/* The status a new event starts in: scheduled / investigating. */
const char *lifecycle_initial(StatusKind kind);

/* Is status one of kind's statuses? */
bool lifecycle_status_valid(StatusKind kind, const char *status);

/* completed / resolved. */
bool lifecycle_is_final(StatusKind kind, const char *status);

/* Does an event in this status hold its components (rule 3)? */
bool lifecycle_holds_components(StatusKind kind, const char *status);

/*
 * May event id (kind, now in from) take status to? false with a one-line
 * error (DD_EXIT_CONFLICT) naming both and the allowed next statuses.
 */
DD_MUST_CHECK bool lifecycle_check(StatusKind kind, long long id, const char *from, const char *to);

/* May a postmortem be attached (rule 2)? false with an error (DD_EXIT_CONFLICT). */
DD_MUST_CHECK bool lifecycle_check_postmortem(StatusKind kind, long long id, const char *status);

/* Component statuses, from best to worst; valid names only. */
bool lifecycle_component_status_valid(const char *status);
/* The worse of two component statuses. */
const char *lifecycle_component_worse(const char *a, const char *b);

/* The page's indicator (none, minor, major, critical, maintenance) and its description. */
void lifecycle_indicator(const StatusSnapshot *s, const char **indicator, const char **description);

/*
 * The label of e's update i (updates newest first): "Update" when it kept
 * the status of the update before it (rule 1), else its status's label.
 */
const char *lifecycle_update_label(const StatusEvent *e, size_t i);

/* Human words for a status ("In progress", "Under maintenance"). */
const char *lifecycle_status_label(const char *status);

#endif
