/*
 * api.h - the status page as JSON in the shape of Atlassian Statuspage's
 * public API (v2), so that the tools that read those pages read this one:
 *
 *   /api/v2/summary.json                          page, components, unresolved incidents,
 *                                                 upcoming and active maintenances, status
 *   /api/v2/status.json                           page, status {indicator, description}
 *   /api/v2/components.json                       page, components
 *   /api/v2/incidents.json                        page, incidents (newest 50)
 *   /api/v2/incidents/unresolved.json             page, incidents not resolved
 *   /api/v2/scheduled-maintenances.json           page, scheduled_maintenances (newest 50)
 *   /api/v2/scheduled-maintenances/upcoming.json  ... status scheduled
 *   /api/v2/scheduled-maintenances/active.json    ... status in_progress or verifying
 *
 * Ids are strings; times are ISO 8601 UTC; statuses are Statuspage's words.
 * Maintenances carry scheduled_for/scheduled_until; every event carries
 * incident_updates (newest first), components, postmortem_body and, as a
 * drydock extension, "drydock": {predicted_s, low_s, high_s, eta}.
 * Pure functions of a snapshot: no store, no clock.
 */
#ifndef DD_STATUS_API_H
#define DD_STATUS_API_H

#include <jansson.h>

#include "status/model.h"

typedef enum {
    API_SUMMARY,
    API_STATUS,
    API_COMPONENTS,
    API_INCIDENTS,
    API_INCIDENTS_UNRESOLVED,
    API_MAINTENANCES,
    API_MAINTENANCES_UPCOMING,
    API_MAINTENANCES_ACTIVE,
    API_COUNT
} ApiDoc;

/* The document's path under the page ("api/v2/summary.json"). */
const char *api_doc_path(ApiDoc doc);

/* The document as a new JSON object. */
json_t *api_doc(const StatusSnapshot *s, ApiDoc doc);

json_t *api_page_json(const StatusSnapshot *s);
json_t *api_component_json(const StatusComponent *c);
json_t *api_event_json(const StatusSnapshot *s, const StatusEvent *e);

/*
 * Webhook bodies (Statuspage's shape): {"meta": {"event", "generated_at"},
 * "page", and "scheduled_maintenance" or "incident"}; for a component,
 * {"meta", "page", "component_update": {old_status, new_status, created_at,
 * component_id}, "component"}.
 */
json_t *api_webhook_event(const StatusSnapshot *s, const StatusEvent *e, const char *event,
                          int64_t at);
json_t *api_webhook_component(const StatusSnapshot *s, const StatusComponent *c,
                              const char *old_status, int64_t at);

#endif
