/*
 * estimate_watch_test.c - a phase watch that cannot connect measures
 * nothing and stops cleanly (the copy it watches goes on); no watch at all
 * measures nothing. The fixed part of a copy from what its watch saw, and
 * the replay sample of a start and its catch-up, case by case. With a
 * server, maint_rehearse.sh records pg_basebackup's fixed part through it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "common/timeutil.h"
#include "maint/estimate_watch.h"

static void test_unreachable(void **state)
{
    (void)state;
    static const char *const conninfos[] = {
        "host=/nonexistent-dir port=1 connect_timeout=2",
        "this is not a conninfo",
    };
    for (size_t i = 0; i < sizeof(conninfos) / sizeof(conninfos[0]); i++) {
        PhaseWatch *w = phase_watch_start(conninfos[i], i == 0 ? "/tmp" : NULL);
        assert_non_null(w);
        time_sleep(0.05);
        PhaseTimes seen = phase_watch_stop(w);
        assert_true(seen.first == 0 && seen.last == 0 && seen.end == 0 && seen.tail_busy < 0);
    }
    PhaseTimes none = phase_watch_stop(NULL);
    assert_true(none.first == 0 && none.end == 0 && none.tail_busy < 0);
}

/* A copy from t0 = 100 to t1: streaming seen first..last, the server's last sighting at end. */
static void test_phase_fixed(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        PhaseTimes seen;
        double t1, fixed;
    } cases[] = {
        /* 0.3 s before streaming, 1.02 s streaming (a poll more), 0.1 s more of the
         * server's, then the client's sync of 0.59 s (102 - 101.40 - half a poll): 0.39 */
        {"sync after the server", {100.30, 101.30, 101.40, 0, -1}, 102.00, 0.39},
        {"no tail", {100.30, 101.30, 101.40, 0, -1}, 101.41, 0.39},
        {"end before last (a late poll)", {100.30, 101.30, 0, 0, -1}, 101.80, 0.29},
        {"never seen streaming", {0, 0, 101.0, 0, -1}, 102.0, 0},
        {"everything streaming", {100.0, 101.98, 101.98, 0, -1}, 102.0, 0},
        /* the streaming phase's small files took 0.5 s beyond its pace: fixed too */
        {"small files", {100.30, 101.30, 101.40, 0.5, -1}, 102.00, 0.89},
        /* capped at the phase: 0.39 + 0.22 */
        {"slow beyond the phase", {100.30, 100.50, 100.60, 5, -1}, 100.70, 0.61},
        /* the tail of 0.59 s had its disk busy 0.4 s: 0.19 s of it was the copy's own work */
        {"a tail partly idle", {100.30, 101.30, 101.40, 0, 0.4}, 102.00, 0.58},
        {"a tail all busy", {100.30, 101.30, 101.40, 0, 0.59}, 102.00, 0.39},
        /* another writer kept the disk busier than the tail was long: none of it idle */
        {"a disk busier than the tail", {100.30, 101.30, 101.40, 0, 3}, 102.00, 0.39},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double f = phase_fixed(&cases[i].seen, 100.0, cases[i].t1);
        if (fabs(f - cases[i].fixed) > 0.005)
            fail_msg("%s: fixed %.3f, expected %.3f", cases[i].name, f, cases[i].fixed);
    }
}

/* A streaming phase polled every 20 ms: a rate (bytes a second) for each poll's interval. */
static double curve_slow(const double *rates, size_t n)
{
    double t[64], b[64];
    t[0] = b[0] = 0;
    for (size_t i = 1; i <= n; i++) {
        t[i] = t[i - 1] + 0.02;
        b[i] = b[i - 1] + rates[i - 1] * 0.02;
    }
    return stream_slow_s(t, b, n + 1);
}

#define G 1e9
static void test_stream_slow(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        double rates[40];
        size_t n;
        double slow;
    } cases[] = {
        /* 8 polls of a big file at 1.5 GB/s, then 12 of small files at 30 MB/s: each of
         * those 20 ms held 0.6 MB, 0.4 ms of it at the pace */
        {"small files after a big one",
         {1.5 * G, 1.5 * G, 1.5 * G, 1.5 * G, 1.5 * G, 1.5 * G, 1.5 * G, 1.5 * G, 30e6, 30e6,
          30e6,    30e6,    30e6,    30e6,    30e6,    30e6,    30e6,    30e6,    30e6, 30e6},
         20,
         12 * (0.02 - 0.0004)},
        {"one pace", {G, G, G, G, G, G, G, G, G, G}, 10, 0},
        /* the host's writes slowed to a quarter: slower, not slow; it grows with the bytes */
        {"a slower host", {G, G, G, G, G, G, 0.25 * G, 0.25 * G, 0.25 * G, 0.25 * G}, 10, 0},
        /* one quick poll is no pace: the pace is over 0.1 s */
        {"a spike", {0.2 * G, 0.2 * G, 0.2 * G, 0.2 * G, 5 * G, 0.2 * G, 0.2 * G, 0.2 * G}, 8, 0},
        {"too short to have a pace", {G, 1e6, 1e6}, 3, 0},
        {"nothing streamed", {0, 0, 0, 0, 0, 0, 0, 0}, 8, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double slow = curve_slow(cases[i].rates, cases[i].n);
        if (fabs(slow - cases[i].slow) > 0.002)
            fail_msg("%s: slow %.4f s, expected %.4f s", cases[i].name, slow, cases[i].slow);
    }
    assert_true(stream_slow_s(NULL, NULL, 0) == 0);
}

/* A start that took up_s, then its catch-up; the sample recorded, or none. */
static void test_replay_sample(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        ReplayRun run;
        bool recorded;
        double size, seconds;
    } cases[] = {
        /* 10 MB replayed while starting, 2 MB after; no start-up measured before: the
         * whole start counts (0.3 + 0.2 s) */
        {"first start", {0.3, 0.2, 0.1, 1000000, 11000000, 13000000, 0}, true, 12e6, 0.5},
        /* the start-ups before took 0.1 s: 0.2 s of this start was replay */
        {"start-up known", {0.3, 0.2, 0.1, 1000000, 11000000, 13000000, 0.1}, true, 12e6, 0.4},
        /* a start quicker than the usual start-up: none of it was replay */
        {"quick start", {0.05, 0.2, 0.1, 1000000, 11000000, 13000000, 0.1}, true, 12e6, 0.2},
        /* no redo LSN: the catch-up's own WAL and time only */
        {"redo unknown", {0.3, 0.2, 0.1, 0, 11000000, 13000000, 0}, true, 2e6, 0.2},
        {"redo past first", {0.3, 0.2, 0.1, 12000000, 11000000, 13000000, 0}, true, 2e6, 0.2},
        /* a catch-up quicker than a poll counts a poll */
        {"short catch-up", {0.3, 0.01, 0.1, 1000000, 11000000, 13000000, 0.3}, true, 12e6, 0.1},
        {"too little WAL", {0.3, 0.2, 0.1, 1000000, 1100000, 1200000, 0}, false, 0, 0},
        {"nothing replayed", {0.3, 0.2, 0.1, 0, 11000000, 11000000, 0}, false, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        RateSample s;
        bool got = replay_sample(&cases[i].run, 256 << 10, &s);
        if (got != cases[i].recorded)
            fail_msg("%s: recorded %d", cases[i].name, got);
        if (!got)
            continue;
        if (s.kind != RATE_WAL_REPLAY || fabs(s.size - cases[i].size) > 1 ||
            fabs(s.seconds - cases[i].seconds) > 1e-9 || fabs(s.fixed - 0.05) > 1e-9)
            fail_msg("%s: %.0f bytes in %.3f s (fixed %.3f), expected %.0f in %.3f", cases[i].name,
                     s.size, s.seconds, s.fixed, cases[i].size, cases[i].seconds);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_phase_fixed),
        cmocka_unit_test(test_stream_slow),
        cmocka_unit_test(test_replay_sample),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
