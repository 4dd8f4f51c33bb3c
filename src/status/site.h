/*
 * site.h - the documents of the public status page, in one table that both
 * the server (server.h) and the static export use, so that the two never
 * differ:
 *
 *   index.html                                    page.h
 *   api/v2/summary.json ... (every ApiDoc)        api.h
 *   history.atom, history.rss                     feed.h
 *   maintenances.ics                              ical.h
 *
 * "drydock status export DIR" writes each document under DIR (directories
 * made as needed, each file replaced atomically), so that any web server
 * can host a copy; "/" is index.html there.
 */
#ifndef DD_STATUS_SITE_H
#define DD_STATUS_SITE_H

#include <stddef.h>

#include "common/error.h"
#include "common/mem.h"
#include "status/model.h"
#include "status/store.h"

typedef struct {
    const char *path; /* relative, no leading slash */
    const char *content_type;
    void (*render)(const StatusSnapshot *s, Buf *out, int arg);
    int arg;
} SiteDoc;

extern const SiteDoc site_docs[];
extern const size_t site_ndocs;

/* Write every document of a fresh snapshot under dir. */
DD_MUST_CHECK bool site_export(StatusStore *st, const char *dir, size_t *written);

#endif
