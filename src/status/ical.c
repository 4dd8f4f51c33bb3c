/*
 * ical.c - the maintenance calendar (ical.h).
 */
#include "status/ical.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "status/escape.h"
#include "status/lifecycle.h"
#include "status/tz.h"

/* "20261130T220000Z" */
static void ics_time(int64_t t, char *out, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, len, "%Y%m%dT%H%M%SZ", &tm);
}

static void text_line(Buf *b, const char *name, const char *text)
{
    Buf v = {0};
    esc_ics_text(&v, text);
    buf_append(&v, "", 1);
    esc_ics_line(b, name, (const char *)v.data);
    buf_free(&v);
}

static void time_line(Buf *b, const char *name, int64_t t)
{
    char v[32];
    ics_time(t, v, sizeof(v));
    esc_ics_line(b, name, v);
}

static const char *ics_status(const StatusEvent *e)
{
    if (strcmp(e->status, "scheduled") == 0)
        return "TENTATIVE";
    if (strcmp(e->status, "completed") == 0 && !e->started_at)
        return "CANCELLED";
    return "CONFIRMED";
}

static void description(Buf *d, const StatusEvent *e)
{
    buf_printf(d, "Status: %s.", lifecycle_status_label(e->status));
    if (e->predicted_s > 0) {
        char p[48], lo[48], hi[48];
        tz_duration(e->predicted_s, p, sizeof(p));
        buf_printf(d, " Expected to take about %s", p);
        if (e->low_s > 0 && e->high_s > e->low_s) {
            tz_duration(e->low_s, lo, sizeof(lo));
            tz_duration(e->high_s, hi, sizeof(hi));
            buf_printf(d, " (between %s and %s)", lo, hi);
        }
        buf_append_str(d, ".");
    }
    if (e->nupdates > 0) {
        buf_append_str(d, "\n\n");
        buf_append_str(d, e->updates[0].body);
    }
    buf_append(d, "", 1);
}

static void render_event(const StatusSnapshot *s, const StatusEvent *e, Buf *b)
{
    esc_ics_line(b, "BEGIN", "VEVENT");
    char uid[96];
    snprintf(uid, sizeof(uid), "drydock-maintenance-%lld@drydock", (long long)e->id);
    text_line(b, "UID", uid);
    time_line(b, "DTSTAMP", e->updated_at);
    time_line(b, "LAST-MODIFIED", e->updated_at);
    time_line(b, "CREATED", e->created_at);
    time_line(b, "DTSTART", e->scheduled_for);
    time_line(b, "DTEND",
              e->scheduled_until > e->scheduled_for ? e->scheduled_until : e->scheduled_for + 3600);
    char seq[32];
    snprintf(seq, sizeof(seq), "%zu", e->nupdates);
    esc_ics_line(b, "SEQUENCE", seq);
    esc_ics_line(b, "STATUS", ics_status(e));
    esc_ics_line(b, "TRANSP", "OPAQUE");
    text_line(b, "SUMMARY", e->title);
    Buf d = {0};
    description(&d, e);
    text_line(b, "DESCRIPTION", (const char *)d.data);
    buf_free(&d);
    if (s->url && s->url[0]) {
        Buf u = {0};
        buf_printf(&u, "%s#event-%lld", s->url, (long long)e->id);
        buf_append(&u, "", 1);
        esc_ics_line(b, "URL", (const char *)u.data); /* a URI value: not TEXT-escaped */
        buf_free(&u);
    }
    esc_ics_line(b, "END", "VEVENT");
}

void ical_render(const StatusSnapshot *s, Buf *b)
{
    esc_ics_line(b, "BEGIN", "VCALENDAR");
    esc_ics_line(b, "VERSION", "2.0");
    esc_ics_line(b, "PRODID", "-//drydock//status page//EN");
    esc_ics_line(b, "CALSCALE", "GREGORIAN");
    esc_ics_line(b, "METHOD", "PUBLISH");
    Buf name = {0};
    buf_printf(&name, "%s - maintenances", s->title ? s->title : "drydock");
    buf_append(&name, "", 1);
    text_line(b, "X-WR-CALNAME", (const char *)name.data);
    buf_free(&name);
    text_line(b, "X-WR-TIMEZONE", s->time_zone ? s->time_zone : "UTC");
    for (size_t i = 0; i < s->nevents; i++)
        if (s->events[i].kind == STATUS_MAINTENANCE && s->events[i].scheduled_for)
            render_event(s, &s->events[i], b);
    esc_ics_line(b, "END", "VCALENDAR");
}
