/*
 * page.h - the status page as one HTML document: no JavaScript, readable
 * on a phone (one column, a viewport, system fonts), every text escaped.
 *
 * What it shows, top to bottom: the overall status; the components and
 * their statuses; what is happening now (maintenances in progress or
 * verifying, open incidents) with every update; upcoming maintenances with
 * their window and predicted duration; the history (newest 20 finished
 * events) with their updates and postmortems; links to the feeds. Every
 * time is shown in the page's zone, and the zone is named.
 *
 * Hooks for tests and styles: each event is <article id="event-N"
 * class="event KIND status-STATUS">, each update <li class="update
 * status-STATUS">, each component <li class="component"
 * data-status="STATUS">.
 */
#ifndef DD_STATUS_PAGE_H
#define DD_STATUS_PAGE_H

#include "common/mem.h"
#include "status/model.h"

/* Append the page for s to out. */
void page_render(const StatusSnapshot *s, Buf *out);

#endif
