/*
 * site.c - the table of public documents and the static export (site.h).
 */
#include "status/site.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fsutil.h"
#include "status/api.h"
#include "status/feed.h"
#include "status/ical.h"
#include "status/page.h"

static void render_html(const StatusSnapshot *s, Buf *b, int arg)
{
    (void)arg;
    page_render(s, b);
}

static void render_api(const StatusSnapshot *s, Buf *b, int arg)
{
    json_t *o = api_doc(s, (ApiDoc)arg);
    char *text = json_dumps(o, JSON_INDENT(2));
    json_decref(o);
    buf_append_str(b, text);
    buf_append_str(b, "\n");
    free(text);
}

static void render_atom(const StatusSnapshot *s, Buf *b, int arg)
{
    (void)arg;
    feed_atom(s, b);
}

static void render_rss(const StatusSnapshot *s, Buf *b, int arg)
{
    (void)arg;
    feed_rss(s, b);
}

static void render_ics(const StatusSnapshot *s, Buf *b, int arg)
{
    (void)arg;
    ical_render(s, b);
}

#define JSON_DOC(doc)                                                                              \
    {                                                                                              \
        NULL, "application/json", render_api, doc                                                  \
    }

const SiteDoc site_docs[] = {
    {"index.html", "text/html; charset=utf-8", render_html, 0},
    JSON_DOC(API_SUMMARY),
    JSON_DOC(API_STATUS),
    JSON_DOC(API_COMPONENTS),
    JSON_DOC(API_INCIDENTS),
    JSON_DOC(API_INCIDENTS_UNRESOLVED),
    JSON_DOC(API_MAINTENANCES),
    JSON_DOC(API_MAINTENANCES_UPCOMING),
    JSON_DOC(API_MAINTENANCES_ACTIVE),
    {"history.atom", "application/atom+xml; charset=utf-8", render_atom, 0},
    {"history.rss", "application/rss+xml; charset=utf-8", render_rss, 0},
    {"maintenances.ics", "text/calendar; charset=utf-8", render_ics, 0},
};
const size_t site_ndocs = sizeof(site_docs) / sizeof(site_docs[0]);

/* mkdir -p of path's directory part. */
static bool make_parents(const char *path)
{
    char *dir = xstrdup(path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            err_errno("could not create directory \"%s\"", dir);
            free(dir);
            return false;
        }
        *p = '/';
    }
    free(dir);
    return true;
}

bool site_export(StatusStore *st, const char *dir, size_t *written)
{
    *written = 0;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return err_errno("could not create directory \"%s\"", dir);
    StatusSnapshot snap;
    if (!status_store_snapshot(st, 0, &snap))
        return false;
    bool ok = true;
    for (size_t i = 0; ok && i < site_ndocs; i++) {
        const SiteDoc *d = &site_docs[i];
        char *path = xasprintf("%s/%s", dir, d->path ? d->path : api_doc_path((ApiDoc)d->arg));
        Buf b = {0};
        d->render(&snap, &b, d->arg);
        ok = make_parents(path) && fs_write_file(path, b.data, b.len, 0644);
        buf_free(&b);
        free(path);
        *written += ok;
    }
    status_snapshot_free(&snap);
    return ok;
}
