/*
 * feed.c - Atom and RSS (feed.h).
 */
#include "status/feed.h"

#include "status/escape.h"
#include "status/lifecycle.h"
#include "status/tz.h"

#define FEED_SIZE 50

/* "Maintenance: TITLE (In progress)" */
static void entry_title(Buf *b, const StatusEvent *e)
{
    esc_xml(b, e->kind == STATUS_MAINTENANCE ? "Maintenance: " : "Incident: ");
    esc_xml(b, e->title);
    buf_append_str(b, " (");
    esc_xml(b, lifecycle_status_label(e->status));
    buf_append_str(b, ")");
}

/* The entry's content as HTML, then escaped once more for the XML around it. */
static void entry_content(Buf *b, const StatusSnapshot *s, const StatusEvent *e)
{
    Buf html = {0};
    char t[96];
    if (e->kind == STATUS_MAINTENANCE) {
        char a[96];
        tz_format(e->scheduled_for, s->time_zone, TZ_DATE_TIME, a, sizeof(a));
        tz_format(e->scheduled_until, s->time_zone, TZ_DATE_TIME, t, sizeof(t));
        buf_append_str(&html, "<p>Window: ");
        esc_xml(&html, a);
        buf_append_str(&html, " to ");
        esc_xml(&html, t);
        buf_append_str(&html, "</p>");
    }
    for (size_t i = 0; i < e->nupdates; i++) {
        tz_format(e->updates[i].at, s->time_zone, TZ_DATE_TIME, t, sizeof(t));
        buf_printf(&html, "<p><strong>%s</strong> (", lifecycle_update_label(e, i));
        esc_xml(&html, t);
        buf_append_str(&html, "): ");
        esc_xml(&html, e->updates[i].body);
        buf_append_str(&html, "</p>");
    }
    buf_append(&html, "", 1);
    esc_xml(b, (const char *)html.data);
    buf_free(&html);
}

static void link_to(Buf *b, const StatusSnapshot *s, const StatusEvent *e)
{
    esc_xml(b, s->url);
    buf_printf(b, "#event-%lld", (long long)e->id);
}

void feed_atom(const StatusSnapshot *s, Buf *b)
{
    char iso[32];
    tz_iso_utc(s->updated_at ? s->updated_at : s->now, iso, sizeof(iso));
    buf_append_str(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                      "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">\n"
                      "<id>urn:drydock:status:history</id>\n<title>");
    esc_xml(b, s->title);
    buf_printf(b, " - history</title>\n<updated>%s</updated>\n<author><name>", iso);
    esc_xml(b, s->title);
    buf_append_str(b, "</name></author>\n");
    if (s->url && s->url[0]) {
        buf_append_str(b, "<link rel=\"alternate\" type=\"text/html\" href=\"");
        esc_xml(b, s->url);
        buf_append_str(b, "\"/>\n<link rel=\"self\" type=\"application/atom+xml\" href=\"");
        esc_xml(b, s->url);
        buf_append_str(b, "history.atom\"/>\n");
    }
    for (size_t i = 0; i < s->nevents && i < FEED_SIZE; i++) {
        const StatusEvent *e = &s->events[i];
        buf_printf(b, "<entry>\n<id>urn:drydock:status:event:%lld</id>\n<title>", (long long)e->id);
        entry_title(b, e);
        tz_iso_utc(e->updated_at, iso, sizeof(iso));
        buf_printf(b, "</title>\n<updated>%s</updated>\n", iso);
        tz_iso_utc(e->created_at, iso, sizeof(iso));
        buf_printf(b, "<published>%s</published>\n", iso);
        if (s->url && s->url[0]) {
            buf_append_str(b, "<link rel=\"alternate\" type=\"text/html\" href=\"");
            link_to(b, s, e);
            buf_append_str(b, "\"/>\n");
        }
        buf_append_str(b, "<content type=\"html\">");
        entry_content(b, s, e);
        buf_append_str(b, "</content>\n</entry>\n");
    }
    buf_append_str(b, "</feed>\n");
}

void feed_rss(const StatusSnapshot *s, Buf *b)
{
    char date[48];
    tz_rfc822(s->updated_at ? s->updated_at : s->now, date, sizeof(date));
    buf_append_str(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\">\n"
                      "<channel>\n<title>");
    esc_xml(b, s->title);
    buf_append_str(b, " - history</title>\n<link>");
    esc_xml(b, s->url && s->url[0] ? s->url : "http://localhost/");
    buf_append_str(b, "</link>\n<description>Maintenances and incidents of ");
    esc_xml(b, s->title);
    buf_printf(b, "</description>\n<lastBuildDate>%s</lastBuildDate>\n", date);
    for (size_t i = 0; i < s->nevents && i < FEED_SIZE; i++) {
        const StatusEvent *e = &s->events[i];
        buf_append_str(b, "<item>\n<title>");
        entry_title(b, e);
        buf_printf(b,
                   "</title>\n<guid isPermaLink=\"false\">urn:drydock:status:event:%lld</guid>\n",
                   (long long)e->id);
        if (s->url && s->url[0]) {
            buf_append_str(b, "<link>");
            link_to(b, s, e);
            buf_append_str(b, "</link>\n");
        }
        tz_rfc822(e->updated_at, date, sizeof(date));
        buf_printf(b, "<pubDate>%s</pubDate>\n<description>", date);
        entry_content(b, s, e);
        buf_append_str(b, "</description>\n</item>\n");
    }
    buf_append_str(b, "</channel>\n</rss>\n");
}
