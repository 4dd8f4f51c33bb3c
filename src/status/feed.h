/*
 * feed.h - the history as feeds: Atom 1.0 (RFC 4287, /history.atom) and
 * RSS 2.0 (/history.rss). One entry per maintenance or incident (newest 50),
 * updated whenever it gets an update; its content lists every update with
 * its time in the page's zone. Ids are stable URNs
 * ("urn:drydock:status:event:N"), so readers show a changed entry again
 * instead of a new one.
 */
#ifndef DD_STATUS_FEED_H
#define DD_STATUS_FEED_H

#include "common/mem.h"
#include "status/model.h"

void feed_atom(const StatusSnapshot *s, Buf *out);
void feed_rss(const StatusSnapshot *s, Buf *out);

#endif
