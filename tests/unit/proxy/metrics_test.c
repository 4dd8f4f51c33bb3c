/*
 * metrics_test.c - the /metrics text: the hold histogram's buckets (each
 * observation in the first bucket whose bound is not below it, cumulative
 * in the text, +Inf = count), and the lines a scraper reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/internal.h"

static bool has_line(const Buf *b, const char *line)
{
    char *text = strndup((const char *)b->data, b->len);
    size_t n = strlen(line);
    bool found = false;
    for (char *p = text; p && *p && !found; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        found = strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0');
    free(text);
    return found;
}

static void test_histogram(void **state)
{
    (void)state;
    ProxyHistogram h = {0};
    const struct {
        double v;
        int bucket;
    } cases[] = {
        {0.0005, 0}, {0.001, 0}, {0.0011, 1}, {0.04, 4}, {0.9, 8}, {10, 11}, {11, 12},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ProxyHistogram one = {0};
        proxy_histogram_observe(&one, cases[i].v);
        if (one.counts[cases[i].bucket] != 1)
            fail_msg("%g: not in bucket %d", cases[i].v, cases[i].bucket);
        proxy_histogram_observe(&h, cases[i].v);
    }
    assert_int_equal(h.count, 7);
}

static void test_render(void **state)
{
    (void)state;
    Proxy *p = calloc(1, sizeof(Proxy));
    p->phase = PROXY_PAUSED;
    p->role = PROXY_ROLE_PRIMARY;
    p->nclients = 3;
    p->nstate[SESSION_HELD] = 3;
    p->counters.bytes_in = 42;
    p->counters.switches = 2;
    proxy_histogram_observe(&p->holds, 0.02);
    proxy_histogram_observe(&p->holds, 0.3);
    Buf b = {0};
    proxy_metrics_render(p, &b);
    const char *want[] = {
        "# TYPE drydock_proxy_pause_hold_seconds histogram",
        "drydock_proxy_pause_hold_seconds_bucket{le=\"0.01\"} 0",
        "drydock_proxy_pause_hold_seconds_bucket{le=\"0.025\"} 1",
        "drydock_proxy_pause_hold_seconds_bucket{le=\"0.25\"} 1",
        "drydock_proxy_pause_hold_seconds_bucket{le=\"0.5\"} 2",
        "drydock_proxy_pause_hold_seconds_bucket{le=\"+Inf\"} 2",
        "drydock_proxy_pause_hold_seconds_count 2",
        "drydock_proxy_pause_hold_seconds_sum 0.320000",
        "drydock_proxy_phase{phase=\"paused\"} 1",
        "drydock_proxy_phase{phase=\"running\"} 0",
        "drydock_proxy_server_role{role=\"primary\"} 1",
        "drydock_proxy_sessions{state=\"held\"} 3",
        "drydock_proxy_clients 3",
        "drydock_proxy_bytes_total{direction=\"in\"} 42",
        "drydock_proxy_switches_total 2",
        "# TYPE drydock_proxy_switches_total counter",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!has_line(&b, want[i]))
            fail_msg("no line \"%s\" in:\n%.*s", want[i], (int)b.len, (const char *)b.data);
    assert_false(has_line(&b, "drydock_proxy_sessions{state=\"closed\"} 0"));
    buf_free(&b);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
