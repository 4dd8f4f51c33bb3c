/*
 * window_test.c - the recoverable window and the choice of a backup.
 *
 * Segments are written as "TLI:FIRST-LAST ..." (segment numbers); segment n
 * was archived at time 1000 + 10 n. Backups give their start and stop as a
 * segment number and an offset into it; a backup's stop time is the time its
 * stop segment was archived, minus 5 s.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/mem.h"
#include "restore/window.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define SEG   0x1000000ull
#define AT(n) (1000.0 + 10.0 * (double)(n))

typedef struct {
    const char *id;
    uint32_t tli;
    uint64_t start_seg, stop_seg;
} B;

static size_t parse_segments(const char *spec, WindowSegment *out, size_t max)
{
    size_t n = 0;
    const char *p = spec;
    while (*p) {
        unsigned tli, a, b;
        int used = 0;
        if (sscanf(p, "%u:%u-%u%n", &tli, &a, &b, &used) != 3)
            fail_msg("bad segment spec %s", p);
        for (unsigned s = a; s <= b && n < max; s++)
            out[n++] = (WindowSegment){tli, s, AT(s)};
        p += used;
        while (*p == ' ')
            p++;
    }
    return n;
}

static size_t make_backups(const B *in, WindowBackup *out)
{
    size_t n = 0;
    for (; in[n].id; n++)
        out[n] = (WindowBackup){in[n].id,
                                in[n].tli,
                                in[n].start_seg * SEG + 0x28,
                                in[n].stop_seg * SEG + 0x100,
                                AT(in[n].start_seg) - 5,
                                AT(in[n].stop_seg) - 5};
    return n;
}

static void build(const char *segs, const B *bk, Window *w, WindowBackup *wb, size_t *nb)
{
    WindowSegment s[256];
    size_t ns = parse_segments(segs, s, 256);
    memset(w, 0, sizeof(*w));
    window_runs(s, ns, w);
    *nb = make_backups(bk, wb);
    window_compute(w, wb, *nb, (uint32_t)SEG);
}

/* ---- the window ---------------------------------------------------------- */

typedef struct {
    const char *title;
    const char *segs;
    B backups[4];
    const char *runs; /* "tli:first-last ..." */
    const char *gaps;
    bool any;
    uint64_t earliest_lsn, latest_lsn;
    double earliest_time, latest_time;
    uint32_t latest_tli;
    const char *restorable; /* one 'y'/'n' per backup */
} WCase;

static const WCase wcases[] = {
    {"one backup, contiguous WAL",
     "1:1-6",
     {{"b1", 1, 2, 3}, {0}},
     "1:1-6",
     "",
     true,
     3 * SEG + 0x100,
     7 * SEG,
     AT(3) - 5,
     AT(6),
     1,
     "y"},
    {"a gap after the backup ends its reach",
     "1:1-3 1:5-6",
     {{"b1", 1, 2, 3}, {0}},
     "1:1-3 1:5-6",
     "1:4-4",
     true,
     3 * SEG + 0x100,
     4 * SEG,
     AT(3) - 5,
     AT(3),
     1,
     "y"},
    {"a gap inside the backup: not restorable",
     "1:1-3 1:5-6",
     {{"b1", 1, 2, 4}, {0}},
     "1:1-3 1:5-6",
     "1:4-4",
     false,
     0,
     0,
     0,
     0,
     0,
     "n"},
    {"timeline switch is followed",
     "1:1-4 2:5-8 3:20-21",
     {{"b1", 1, 2, 3}, {0}},
     "1:1-4 2:5-8 3:20-21",
     "",
     true,
     3 * SEG + 0x100,
     9 * SEG,
     AT(3) - 5,
     AT(8),
     2,
     "y"},
    {"two backups across a gap, unsorted duplicates",
     "1:6-9 1:1-4 1:3-3",
     {{"b1", 1, 2, 3}, {"b2", 1, 6, 7}, {0}},
     "1:1-4 1:6-9",
     "1:5-5",
     true,
     3 * SEG + 0x100,
     10 * SEG,
     AT(3) - 5,
     AT(9),
     1,
     "yy"},
    {"no segments at all", "", {{"b1", 1, 2, 3}, {0}}, "", "", false, 0, 0, 0, 0, 0, "n"},
};

static void format_ranges(const Window *w, bool gaps, char *out, size_t len)
{
    size_t n = gaps ? w->ngaps : w->nruns, used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        uint32_t tli = gaps ? w->gaps[i].tli : w->runs[i].tli;
        uint64_t a = gaps ? w->gaps[i].first : w->runs[i].first;
        uint64_t b = gaps ? w->gaps[i].last : w->runs[i].last;
        used += (size_t)snprintf(out + used, len - used, "%s%u:%llu-%llu", i ? " " : "", tli,
                                 (unsigned long long)a, (unsigned long long)b);
    }
}

static void test_window(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(wcases) / sizeof(wcases[0]); i++) {
        const WCase *c = &wcases[i];
        Window w;
        WindowBackup wb[4];
        size_t nb;
        char got[256];
        build(c->segs, c->backups, &w, wb, &nb);
        format_ranges(&w, false, got, sizeof(got));
        if (strcmp(got, c->runs) != 0)
            fail_msg("%s: runs %s, expected %s", c->title, got, c->runs);
        format_ranges(&w, true, got, sizeof(got));
        if (strcmp(got, c->gaps) != 0)
            fail_msg("%s: gaps %s, expected %s", c->title, got, c->gaps);
        for (size_t j = 0; j < nb; j++)
            got[j] = w.reach[j].restorable ? 'y' : 'n';
        got[nb] = '\0';
        if (strcmp(got, c->restorable) != 0)
            fail_msg("%s: restorable %s, expected %s", c->title, got, c->restorable);
        if (w.any != c->any)
            fail_msg("%s: any %d", c->title, w.any);
        if (c->any && (w.earliest_lsn != c->earliest_lsn || w.latest_lsn != c->latest_lsn ||
                       w.earliest_time != c->earliest_time || w.latest_time != c->latest_time ||
                       w.latest_tli != c->latest_tli))
            fail_msg("%s: window %llx..%llx %.0f..%.0f tli %u", c->title,
                     (unsigned long long)w.earliest_lsn, (unsigned long long)w.latest_lsn,
                     w.earliest_time, w.latest_time, w.latest_tli);
        window_free(&w);
    }
}

/* ---- choosing a backup ----------------------------------------------------- */

typedef struct {
    const char *title;
    const char *segs;
    B backups[4];
    const char *opts[3]; /* target options "name=value" */
    const char *forced;
    const char *chosen; /* expected backup id, or NULL for an error */
    int timeline;
    const char *error;
    int code;
} SCase;

/* Backups b1 (segments 2..3) and b2 (6..7); WAL 1-4 and 6-9 on timeline 1, 10-12 on 2. */
#define SEGS2 "1:1-4 1:6-9 2:10-12"
#define BK2                                                                                        \
    {                                                                                              \
        {"b1", 1, 2, 3}, {"b2", 1, 6, 7},                                                          \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }

static const SCase scases[] = {
    {"end of the archive: the newest backup",
     SEGS2,
     BK2,
     {NULL},
     NULL,
     "b2",
     TARGET_TIMELINE_LATEST},
    {"immediate: the newest backup, current timeline",
     SEGS2,
     BK2,
     {"target=immediate"},
     NULL,
     "b2",
     TARGET_TIMELINE_CURRENT},
    {"time inside the first backup's reach",
     SEGS2,
     BK2,
     {"target-time=1970-01-01 00:17:17+00"},
     NULL,
     "b1",
     TARGET_TIMELINE_CURRENT},
    {"time after the switch to timeline 2",
     SEGS2,
     BK2,
     {"target-time=1970-01-01 00:18:30+00"},
     NULL,
     "b2",
     TARGET_TIMELINE_LATEST},
    {"time exactly at the second backup's stop",
     SEGS2,
     BK2,
     {"target-time=1970-01-01 00:17:45+00"},
     NULL,
     "b2",
     TARGET_TIMELINE_CURRENT},
    {"lsn inside the second backup's reach",
     SEGS2,
     BK2,
     {"target-lsn=0/8000000"},
     NULL,
     "b2",
     TARGET_TIMELINE_CURRENT},
    {"xid: the newest backup", SEGS2, BK2, {"target-xid=1234"}, NULL, "b2", TARGET_TIMELINE_LATEST},
    {"forced older backup, end of the archive",
     SEGS2,
     BK2,
     {NULL},
     "b1",
     "b1",
     TARGET_TIMELINE_LATEST},
    {"time in the gap",
     SEGS2,
     BK2,
     {"target-time=1970-01-01 00:17:25+00"},
     NULL,
     NULL,
     0,
     "recovery target time 1970-01-01 00:17:25.000+00 falls in a gap of the archived WAL: no "
     "backup reaches it",
     DD_EXIT_REPO},
    {"time before the window",
     SEGS2,
     BK2,
     {"target-time=1970-01-01 00:16:00+00"},
     NULL,
     NULL,
     0,
     "recovery target time 1970-01-01 00:16:00.000+00 is before the recoverable window, which "
     "starts at 1970-01-01 00:17:05.000+00",
     DD_EXIT_REPO},
    {"time after the window",
     SEGS2,
     BK2,
     {"target-time=2026-11-25 06:00:00+00"},
     NULL,
     NULL,
     0,
     "recovery target time 2026-11-25 06:00:00.000+00 is after the recoverable window, which "
     "ends at 1970-01-01 00:18:40.000+00",
     DD_EXIT_REPO},
    {"lsn after the window",
     SEGS2,
     BK2,
     {"target-lsn=1/0"},
     NULL,
     NULL,
     0,
     "recovery target LSN 1/0 is after the recoverable window, which ends at 0/D000000",
     DD_EXIT_REPO},
    {"forced backup that does not exist",
     SEGS2,
     BK2,
     {NULL},
     "b9",
     NULL,
     0,
     "backup \"b9\" does not exist",
     DD_EXIT_USAGE},
    {"forced backup that cannot reach the time",
     SEGS2,
     BK2,
     {"target-time=1970-01-01 00:17:55+00"},
     "b1",
     NULL,
     0,
     "backup \"b1\" cannot reach recovery target time 1970-01-01 00:17:55.000+00: it reaches "
     "from 1970-01-01 00:17:05.000+00 to 1970-01-01 00:17:20.000+00",
     DD_EXIT_REPO},
    {"forced backup whose WAL is missing",
     "1:1-2 1:6-9",
     BK2,
     {NULL},
     "b1",
     NULL,
     0,
     "backup \"b1\" cannot be restored: WAL segment 000000010000000000000003 is missing from the "
     "archive",
     DD_EXIT_REPO},
    {"no restorable backup",
     "1:1-2",
     BK2,
     {NULL},
     NULL,
     NULL,
     0,
     "no backup can be restored: the WAL from the start to the stop of each is missing from the "
     "archive",
     DD_EXIT_REPO},
    {"no backup",
     SEGS2,
     {{0}},
     {NULL},
     NULL,
     NULL,
     0,
     "the repository holds no backup",
     DD_EXIT_REPO},
};

static void test_select(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(scases) / sizeof(scases[0]); i++) {
        const SCase *c = &scases[i];
        Window w;
        WindowBackup wb[4];
        size_t nb;
        build(c->segs, c->backups, &w, wb, &nb);
        RecoveryTarget t = {0};
        for (size_t j = 0; c->opts[j]; j++) {
            char name[32];
            const char *eq = strchr(c->opts[j], '=');
            snprintf(name, sizeof(name), "%.*s", (int)(eq - c->opts[j]), c->opts[j]);
            assert_true(target_option(&t, name, eq + 1));
        }
        WindowChoice ch = {0};
        err_clear();
        bool ok = window_select(&w, wb, nb, &t, c->forced, &ch);
        if (c->chosen) {
            if (!ok)
                fail_msg("%s: unexpected error %s", c->title, err_message());
            if (strcmp(wb[ch.backup].id, c->chosen) != 0 || (int)ch.timeline != c->timeline)
                fail_msg("%s: chose %s timeline %d", c->title, wb[ch.backup].id, ch.timeline);
        } else {
            if (ok)
                fail_msg("%s: expected an error, chose %s", c->title, wb[ch.backup].id);
            if (strcmp(err_message(), c->error) != 0 || (int)err_code() != c->code)
                fail_msg("%s:\n got      %s (%d)\n expected %s", c->title, err_message(),
                         err_code(), c->error);
        }
        window_free(&w);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_select),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
