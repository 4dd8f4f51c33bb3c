/*
 * ical.h - the scheduled maintenances as a subscribable iCalendar feed
 * (RFC 5545, /maintenances.ics): one VEVENT per maintenance with its window
 * in UTC (DTSTART/DTEND ending in Z, which every calendar converts to its
 * user's zone), its status (TENTATIVE while scheduled, CONFIRMED once it
 * began, CANCELLED when completed without starting), its latest update and
 * predicted duration in DESCRIPTION, and a SEQUENCE that grows with every
 * update so that calendars replace the old copy. Lines end in CRLF and are
 * folded at 75 octets; TEXT values are escaped (escape.h).
 */
#ifndef DD_STATUS_ICAL_H
#define DD_STATUS_ICAL_H

#include "common/mem.h"
#include "status/model.h"

void ical_render(const StatusSnapshot *s, Buf *out);

#endif
