/*
 * render_test.c - the renderers as pure functions of a hand-built snapshot:
 * HTML escaping, Atom and RSS escaping, iCalendar escaping and folding at 75
 * octets without splitting UTF-8, time zones named and right across a
 * daylight-saving change, the Statuspage JSON shape.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "status/api.h"
#include "status/escape.h"
#include "status/feed.h"
#include "status/ical.h"
#include "status/page.h"
#include "status/tz.h"

#define EVIL "<script>alert(\"x\")</script> & 'q'"

static int64_t utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return (int64_t)timegm(&tm);
}

/* One maintenance in progress with two updates, one finished incident; a hostile title. */
static StatusComponent comps[2];
static StatusUpdate updates[2];
static char *affected[1] = {"Database"};
static StatusEvent events[2];
static StatusSnapshot snap;

static void build(void)
{
    comps[0] = (StatusComponent){1, "Database", "under_maintenance", 1, 0, 0};
    comps[1] = (StatusComponent){2, "Application", "operational", 2, 0, 0};
    updates[0] = (StatusUpdate){2, "in_progress", "Started; " EVIL, utc(2026, 11, 30, 22, 5)};
    updates[1] = (StatusUpdate){1, "scheduled", "Planned, with commas, and; semicolons",
                                utc(2026, 11, 29, 9, 0)};
    events[0] = (StatusEvent){.id = 2,
                              .kind = STATUS_MAINTENANCE,
                              .title = "Upgrade " EVIL,
                              .status = "in_progress",
                              .impact = "maintenance",
                              .scheduled_for = utc(2026, 11, 30, 22, 0),
                              .scheduled_until = utc(2026, 11, 30, 23, 0),
                              .predicted_s = 3600,
                              .low_s = 2400,
                              .high_s = 5400,
                              .created_at = utc(2026, 11, 29, 9, 0),
                              .updated_at = utc(2026, 11, 30, 22, 5),
                              .started_at = utc(2026, 11, 30, 22, 5),
                              .updates = updates,
                              .nupdates = 2,
                              .components = affected,
                              .ncomponents = 1};
    events[1] = (StatusEvent){.id = 1,
                              .kind = STATUS_INCIDENT,
                              .title = "Slow queries",
                              .status = "resolved",
                              .impact = "minor",
                              .created_at = utc(2026, 11, 1, 8, 0),
                              .updated_at = utc(2026, 11, 1, 9, 0)};
    snap = (StatusSnapshot){.title = "Acme & <Co>",
                            .time_zone = "Europe/Paris",
                            .url = "https://status.example/",
                            .now = utc(2026, 11, 30, 22, 10),
                            .components = comps,
                            .ncomponents = 2,
                            .events = events,
                            .nevents = 2};
}

static char *render(void (*fn)(const StatusSnapshot *, Buf *))
{
    Buf b = {0};
    fn(&snap, &b);
    buf_append(&b, "", 1);
    return (char *)b.data;
}

static void test_html_escapes_everything(void **state)
{
    (void)state;
    build();
    char *html = render(page_render);
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "Acme & <Co>"));
    assert_non_null(strstr(html, "<title>Acme &amp; &lt;Co&gt;</title>"));
    assert_non_null(strstr(html, "Upgrade &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; "
                                 "&amp; &#39;q&#39;"));
    assert_non_null(strstr(html, "<article id=\"event-2\" class=\"event maintenance "
                                 "status-in_progress\">"));
    assert_non_null(strstr(html, "data-status=\"under_maintenance\"><span class=\"name\">"
                                 "Database</span><span class=\"st\">Under maintenance"));
    assert_non_null(strstr(html, "name=\"viewport\""));
    /* Times in the page's zone, the zone named: 22:00 UTC is 23:00 CET. */
    assert_non_null(strstr(html, "Mon 30 Nov 2026, 23:00 CET"));
    assert_non_null(strstr(html, "Times are shown in Europe/Paris"));
    assert_non_null(strstr(html, "Expected to take about 1 h (between 40 min and 1 h 30 min)"));
    free(html);
}

static void test_atom_and_rss_escape(void **state)
{
    (void)state;
    build();
    char *atom = render(feed_atom);
    assert_non_null(strstr(atom, "<feed xmlns=\"http://www.w3.org/2005/Atom\""));
    assert_non_null(strstr(atom, "<id>urn:drydock:status:event:2</id>"));
    assert_null(strstr(atom, "<script"));
    /* Content is HTML escaped once for HTML, once more for XML. */
    assert_non_null(strstr(atom, "&amp;lt;script&amp;gt;"));
    assert_non_null(strstr(atom, "<title>Maintenance: Upgrade &lt;script&gt;"));
    assert_non_null(strstr(atom, "<updated>2026-11-30T22:05:00Z</updated>"));
    assert_non_null(strstr(atom, "href=\"https://status.example/#event-2\""));
    char *rss = render(feed_rss);
    assert_non_null(strstr(rss, "<pubDate>Mon, 30 Nov 2026 22:05:00 +0000</pubDate>"));
    assert_null(strstr(rss, "<script"));
    free(atom);
    free(rss);
}

static void test_ics_text_escaping(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } rows[] = {
        {"plain", "plain"},
        {"a,b;c", "a\\,b\\;c"},
        {"back\\slash", "back\\\\slash"},
        {"two\nlines", "two\\nlines"},
        {"cr\r\nlf", "cr\\nlf"},
        {"tab\tbell\a", "tabbell"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        Buf b = {0};
        esc_ics_text(&b, rows[i].in);
        buf_append(&b, "", 1);
        if (strcmp((char *)b.data, rows[i].out) != 0)
            fail_msg("\"%s\" gave \"%s\"", rows[i].in, (char *)b.data);
        buf_free(&b);
    }
}

/* Every physical line <= 75 octets; continuations start with one space and
 * never with a UTF-8 continuation byte; unfolding gives the line back. */
static void check_folding(const char *ics, const char *want_unfolded)
{
    Buf unfolded = {0};
    const char *p = ics;
    while (*p) {
        const char *eol = strstr(p, "\r\n");
        assert_non_null(eol);
        size_t n = (size_t)(eol - p);
        assert_true(n <= 75);
        if (p != ics && *p == ' ') {
            assert_false((((unsigned char)p[1]) & 0xC0) == 0x80);
            buf_append(&unfolded, p + 1, n - 1);
        } else {
            if (unfolded.len)
                buf_append(&unfolded, "\n", 1);
            buf_append(&unfolded, p, n);
        }
        p = eol + 2;
    }
    buf_append(&unfolded, "", 1);
    assert_non_null(strstr((char *)unfolded.data, want_unfolded));
    buf_free(&unfolded);
}

static void test_ics_folds_at_75_octets(void **state)
{
    (void)state;
    Buf b = {0};
    /* 3-octet characters so that a naive fold at 75 would split one. */
    const char *title = "Mise à jour — €€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€ du serveur, "
                        "et encore une fois — €€€€€€€€€€€€€€€€€€€€€€€€€€€€€€";
    Buf v = {0};
    esc_ics_text(&v, title);
    buf_append(&v, "", 1);
    esc_ics_line(&b, "SUMMARY", (const char *)v.data);
    buf_append(&b, "", 1);
    check_folding((char *)b.data, "SUMMARY:Mise à jour");
    char *want = NULL;
    assert_true(asprintf(&want, "SUMMARY:%s", (char *)v.data) > 0);
    check_folding((char *)b.data, want);
    free(want);
    buf_free(&v);
    buf_free(&b);
}

static void test_ics_calendar(void **state)
{
    (void)state;
    build();
    char *ics = render(ical_render);
    assert_int_equal(strncmp(ics, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", 30), 0);
    assert_non_null(strstr(ics, "DTSTART:20261130T220000Z\r\n"));
    assert_non_null(strstr(ics, "DTEND:20261130T230000Z\r\n"));
    assert_non_null(strstr(ics, "UID:drydock-maintenance-2@drydock\r\n"));
    assert_non_null(strstr(ics, "STATUS:CONFIRMED\r\n"));
    assert_null(strstr(ics, "Slow queries")); /* incidents are not in the calendar */
    assert_non_null(strstr(ics, "END:VCALENDAR\r\n"));
    check_folding(ics, "SUMMARY:Upgrade <script>alert(\"x\")</script> & 'q'");
    /* A bare LF never appears: every line ends in CRLF. */
    for (const char *p = ics; (p = strchr(p, '\n')) != NULL; p++)
        assert_int_equal(p[-1], '\r');
    free(ics);
}

static void test_time_zones_across_dst(void **state)
{
    (void)state;
    static const struct {
        const char *zone;
        int64_t t;
        const char *want;
    } rows[] = {
        /* Paris springs forward at 01:00 UTC on 29 March 2026. */
        {"Europe/Paris", 0, "Sun 29 Mar 2026, 01:59 CET"},
        {"Europe/Paris", 60, "Sun 29 Mar 2026, 03:00 CEST"},
        /* New York falls back at 06:00 UTC on 1 November 2026: 01:xx happens twice. */
        {"America/New_York", 1, "Sun 01 Nov 2026, 01:59 EDT"},
        {"America/New_York", 2, "Sun 01 Nov 2026, 01:00 EST"},
        {"UTC", 3, "Mon 30 Nov 2026, 22:00 UTC"},
    };
    int64_t base[] = {utc(2026, 3, 29, 0, 59), utc(2026, 11, 1, 5, 59), utc(2026, 11, 1, 6, 0),
                      utc(2026, 11, 30, 22, 0)};
    setenv("TZ", "Asia/Tokyo", 1);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int64_t t = rows[i].t == 0 ? base[0] : rows[i].t == 60 ? base[0] + 60 : base[rows[i].t];
        char out[96];
        tz_format(t, rows[i].zone, TZ_DATE_TIME, out, sizeof(out));
        if (strcmp(out, rows[i].want) != 0)
            fail_msg("%s: got \"%s\", want \"%s\"", rows[i].zone, out, rows[i].want);
    }
    assert_string_equal(getenv("TZ"), "Asia/Tokyo"); /* the process keeps its own zone */
    unsetenv("TZ");
    assert_true(tz_check("Europe/Paris"));
    assert_false(tz_check("Mars/Olympus_Mons"));
    assert_false(tz_check("../../etc/passwd"));
}

static void test_tz_parse(void **state)
{
    (void)state;
    int64_t t;
    assert_true(tz_parse("2026-11-30T22:00:00Z", 0, &t));
    assert_int_equal(t, utc(2026, 11, 30, 22, 0));
    assert_true(tz_parse("2026-11-30T23:00:00+01:00", 0, &t));
    assert_int_equal(t, utc(2026, 11, 30, 22, 0));
    assert_true(tz_parse("+30m", 1000, &t));
    assert_int_equal(t, 1000 + 1800);
    assert_true(tz_parse("now", 5, &t));
    assert_int_equal(t, 5);
    assert_false(tz_parse("tomorrow", 0, &t));
    assert_false(tz_parse("+5x", 0, &t));
}

static void test_json_shape(void **state)
{
    (void)state;
    build();
    json_t *o = api_doc(&snap, API_SUMMARY);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(o, "status"), "indicator")),
        "maintenance");
    json_t *m = json_array_get(json_object_get(o, "scheduled_maintenances"), 0);
    assert_string_equal(json_string_value(json_object_get(m, "id")), "2");
    assert_string_equal(json_string_value(json_object_get(m, "status")), "in_progress");
    assert_string_equal(json_string_value(json_object_get(m, "scheduled_for")),
                        "2026-11-30T22:00:00Z");
    assert_int_equal(json_array_size(json_object_get(m, "incident_updates")), 2);
    assert_int_equal(json_array_size(json_object_get(o, "incidents")), 0); /* resolved */
    json_decref(o);
    o = api_doc(&snap, API_MAINTENANCES_UPCOMING);
    assert_int_equal(json_array_size(json_object_get(o, "scheduled_maintenances")), 0);
    json_decref(o);
    o = api_doc(&snap, API_MAINTENANCES_ACTIVE);
    assert_int_equal(json_array_size(json_object_get(o, "scheduled_maintenances")), 1);
    json_decref(o);
    o = api_doc(&snap, API_INCIDENTS);
    assert_int_equal(json_array_size(json_object_get(o, "incidents")), 1);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_escapes_everything),
        cmocka_unit_test(test_atom_and_rss_escape),
        cmocka_unit_test(test_ics_text_escaping),
        cmocka_unit_test(test_ics_folds_at_75_octets),
        cmocka_unit_test(test_ics_calendar),
        cmocka_unit_test(test_time_zones_across_dst),
        cmocka_unit_test(test_tz_parse),
        cmocka_unit_test(test_json_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
