/*
 * server.h - "drydock status serve": the status page over HTTP (common/httpd)
 * and its write API, with webhook delivery in a background thread, in the
 * foreground until SIGTERM or SIGINT.
 *
 * Public (no token):   GET /, /index.html and every document of site.h.
 * Write API (Authorization: Bearer <[status] token-file>, Content-Type:
 * application/json, body at most 64 KiB):
 *
 *   POST /api/admin/maintenances   {"title", "body"?, "scheduled_for", "scheduled_until",
 *                                   "predicted_s"?, "low_s"?, "high_s"?, "components"?: [..]}
 *                                  -> 201 the maintenance (Statuspage shape)
 *   POST /api/admin/incidents      {"title", "body"?, "impact"?, "component_status"?,
 *                                   "components"?: [..]} -> 201 the incident
 *   POST /api/admin/events/ID/updates  {"status"?, "body", "eta"?} -> 200 the event
 *   POST /api/admin/events/ID/complete {"body"?} -> 200 (completed / resolved)
 *   GET  /api/admin/webhooks       -> 200 {"deliveries": [newest 100 outbox rows]}
 *
 * Times in bodies: ISO 8601 with a zone ("2026-11-30T22:00:00Z"), "now" or
 * "+30m" (tz.h). Answers: 400 bad body, 401 no or wrong token (nothing
 * changed), 403 no token file configured, 404 unknown id, 409 against the
 * lifecycle, 413 body too large, 415 not JSON.
 */
#ifndef DD_STATUS_SERVER_H
#define DD_STATUS_SERVER_H

#include <stdbool.h>

#include "common/error.h"
#include "config/config.h"

/* Serve until SIGTERM/SIGINT; false when it could not start. */
DD_MUST_CHECK bool status_server_run(const Config *cfg);

#endif
