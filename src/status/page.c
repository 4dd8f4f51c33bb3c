/*
 * page.c - the HTML status page (page.h).
 */
#include "status/page.h"

#include <string.h>

#include "status/escape.h"
#include "status/lifecycle.h"
#include "status/tz.h"

#define PAGE_HISTORY 20

static const char page_css[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;"
    "background:#f6f7f9;color:#1d2330;line-height:1.45}"
    "main{max-width:46rem;margin:0 auto;padding:1rem}"
    "h1{font-size:1.6rem;margin:.5rem 0 1rem}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}"
    ".banner{padding:1rem;border-radius:.5rem;color:#fff;font-weight:600;font-size:1.1rem}"
    ".ind-none{background:#2f9e5b}.ind-maintenance{background:#3868d8}"
    ".ind-minor{background:#d9a21b}.ind-major{background:#e06b1f}.ind-critical{background:#c93131}"
    "ul{list-style:none;padding:0;margin:0}"
    ".components li{display:flex;justify-content:space-between;flex-wrap:wrap;gap:.5rem;"
    "background:#fff;padding:.6rem .8rem;border-bottom:1px solid #e3e6eb}"
    ".components li:first-child{border-radius:.5rem .5rem 0 0}"
    ".components li:last-child{border-radius:0 0 .5rem .5rem;border-bottom:0}"
    "[data-status=operational] .st{color:#2f9e5b}[data-status=under_maintenance] .st{color:#3868d8}"
    "[data-status=degraded_performance] .st{color:#b5830f}"
    "[data-status=partial_outage] .st,[data-status=major_outage] .st{color:#c93131}"
    ".event{background:#fff;border-radius:.5rem;padding:.8rem 1rem;margin:.6rem 0;"
    "border-left:.3rem solid #3868d8}.event.incident{border-left-color:#d9a21b}"
    ".event.status-completed,.event.status-resolved{border-left-color:#9aa3b2}"
    ".event h3{margin:0 0 .3rem;font-size:1.05rem;overflow-wrap:anywhere}"
    ".meta{color:#5b6475;font-size:.9rem;margin:.2rem 0}"
    ".label{display:inline-block;font-size:.8rem;font-weight:600;padding:.05rem .45rem;"
    "border-radius:.3rem;background:#e8edfb;color:#2b4fa8}"
    ".update{padding:.45rem 0;border-top:1px solid #eef0f3}"
    ".update p{margin:.15rem 0;white-space:pre-wrap;overflow-wrap:anywhere}"
    ".postmortem pre{white-space:pre-wrap;overflow-wrap:anywhere;font-family:inherit;margin:0}"
    "footer{color:#5b6475;font-size:.85rem;margin:2rem 0 1rem}a{color:#2b4fa8}";

static void when(Buf *b, const StatusSnapshot *s, int64_t t, TzStyle style)
{
    char text[96], iso[32];
    tz_format(t, s->time_zone, style, text, sizeof(text));
    tz_iso_utc(t, iso, sizeof(iso));
    buf_printf(b, "<time datetime=\"%s\">", iso);
    esc_xml(b, text);
    buf_append_str(b, "</time>");
}

static void render_head(const StatusSnapshot *s, Buf *b)
{
    buf_append_str(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                      "<title>");
    esc_xml(b, s->title);
    buf_printf(b, "</title><style>%s</style>", page_css);
    buf_append_str(b, "<link rel=\"alternate\" type=\"application/atom+xml\" "
                      "href=\"history.atom\" title=\"History (Atom)\">"
                      "<link rel=\"alternate\" type=\"application/rss+xml\" href=\"history.rss\" "
                      "title=\"History (RSS)\"></head>\n<body><main>\n<h1>");
    esc_xml(b, s->title);
    const char *indicator, *description;
    lifecycle_indicator(s, &indicator, &description);
    buf_printf(b, "</h1>\n<p class=\"banner ind-%s\" id=\"overall\">%s</p>\n", indicator,
               description);
}

static void render_components(const StatusSnapshot *s, Buf *b)
{
    buf_append_str(b, "<h2>Components</h2>\n<ul class=\"components\">\n");
    for (size_t i = 0; i < s->ncomponents; i++) {
        const StatusComponent *c = &s->components[i];
        buf_append_str(b, "<li class=\"component\" data-status=\"");
        esc_xml(b, c->status);
        buf_append_str(b, "\"><span class=\"name\">");
        esc_xml(b, c->name);
        buf_append_str(b, "</span><span class=\"st\">");
        esc_xml(b, lifecycle_status_label(c->status));
        buf_append_str(b, "</span></li>\n");
    }
    buf_append_str(b, "</ul>\n");
}

static void render_window(const StatusSnapshot *s, const StatusEvent *e, Buf *b)
{
    if (e->kind != STATUS_MAINTENANCE)
        return;
    buf_append_str(b, "<p class=\"meta window\">Window: ");
    when(b, s, e->scheduled_for, TZ_DATE_TIME);
    buf_append_str(b, " to ");
    when(b, s, e->scheduled_until, TZ_DATE_TIME);
    buf_append_str(b, "</p>\n");
    if (e->predicted_s > 0) {
        char d[48], lo[48], hi[48];
        tz_duration(e->predicted_s, d, sizeof(d));
        buf_printf(b, "<p class=\"meta predicted\">Expected to take about %s", d);
        if (e->low_s > 0 && e->high_s > e->low_s) {
            tz_duration(e->low_s, lo, sizeof(lo));
            tz_duration(e->high_s, hi, sizeof(hi));
            buf_printf(b, " (between %s and %s)", lo, hi);
        }
        buf_append_str(b, ".</p>\n");
    }
    if (e->eta && !lifecycle_is_final(e->kind, e->status)) {
        buf_append_str(b, "<p class=\"meta eta\">Now expected to end by ");
        when(b, s, e->eta, TZ_DATE_TIME);
        buf_append_str(b, ".</p>\n");
    }
}

static void render_event(const StatusSnapshot *s, const StatusEvent *e, Buf *b)
{
    buf_printf(b, "<article id=\"event-%lld\" class=\"event %s status-%s\">\n<h3>",
               (long long)e->id, e->kind == STATUS_MAINTENANCE ? "maintenance" : "incident",
               e->status);
    esc_xml(b, e->title);
    buf_printf(b, " <span class=\"label\">%s</span></h3>\n", lifecycle_status_label(e->status));
    render_window(s, e, b);
    if (e->ncomponents > 0) {
        buf_append_str(b, "<p class=\"meta affected\">Affects: ");
        for (size_t i = 0; i < e->ncomponents; i++) {
            if (i)
                buf_append_str(b, ", ");
            esc_xml(b, e->components[i]);
        }
        buf_append_str(b, "</p>\n");
    }
    buf_append_str(b, "<ul class=\"updates\">\n");
    for (size_t i = 0; i < e->nupdates; i++) {
        const StatusUpdate *u = &e->updates[i];
        buf_printf(b, "<li class=\"update status-%s\"><strong>%s</strong> &middot; ", u->status,
                   lifecycle_update_label(e, i));
        when(b, s, u->at, TZ_DATE_TIME);
        buf_append_str(b, "<p>");
        esc_xml(b, u->body);
        buf_append_str(b, "</p></li>\n");
    }
    buf_append_str(b, "</ul>\n");
    if (e->postmortem) {
        buf_append_str(b, "<section class=\"postmortem\"><h4>Postmortem</h4><p class=\"meta\">");
        when(b, s, e->postmortem_at, TZ_DATE_TIME);
        buf_append_str(b, "</p><pre>");
        esc_xml(b, e->postmortem);
        buf_append_str(b, "</pre></section>\n");
    }
    buf_append_str(b, "</article>\n");
}

typedef enum { SEC_NOW, SEC_UPCOMING, SEC_HISTORY } Section;

static bool in_section(const StatusEvent *e, Section sec)
{
    bool final = lifecycle_is_final(e->kind, e->status);
    bool upcoming = e->kind == STATUS_MAINTENANCE && strcmp(e->status, "scheduled") == 0;
    switch (sec) {
    case SEC_NOW:
        return !final && !upcoming;
    case SEC_UPCOMING:
        return upcoming;
    default:
        return final;
    }
}

static void render_section(const StatusSnapshot *s, Buf *b, Section sec, const char *heading,
                           const char *id, const char *none)
{
    buf_printf(b, "<section id=\"%s\"><h2>%s</h2>\n", id, heading);
    size_t shown = 0;
    /* Upcoming ones read best soonest first; the others newest first. */
    for (size_t k = 0; k < s->nevents; k++) {
        size_t i = sec == SEC_UPCOMING ? s->nevents - 1 - k : k;
        if (!in_section(&s->events[i], sec) || (sec == SEC_HISTORY && shown >= PAGE_HISTORY))
            continue;
        render_event(s, &s->events[i], b);
        shown++;
    }
    if (shown == 0)
        buf_printf(b, "<p class=\"meta\">%s</p>\n", none);
    buf_append_str(b, "</section>\n");
}

void page_render(const StatusSnapshot *s, Buf *b)
{
    render_head(s, b);
    render_components(s, b);
    render_section(s, b, SEC_NOW, "Happening now", "now", "Nothing is going on right now.");
    render_section(s, b, SEC_UPCOMING, "Scheduled maintenance", "upcoming",
                   "No maintenance is scheduled.");
    render_section(s, b, SEC_HISTORY, "History", "history", "Nothing has happened yet.");
    char zone_now[96];
    tz_format(s->now, s->time_zone, TZ_TIME, zone_now, sizeof(zone_now));
    buf_append_str(b, "<footer><p>Times are shown in ");
    esc_xml(b, s->time_zone);
    buf_append_str(b, " (now ");
    esc_xml(b, zone_now);
    buf_append_str(b, ").</p><p>Follow: <a href=\"history.atom\">Atom</a> &middot; "
                      "<a href=\"history.rss\">RSS</a> &middot; "
                      "<a href=\"maintenances.ics\">calendar of maintenances</a> &middot; "
                      "<a href=\"api/v2/summary.json\">JSON</a></p></footer>\n"
                      "</main></body></html>\n");
}
