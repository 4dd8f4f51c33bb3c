/*
 * estimate_test.c - rates kept with the repository and the predictions made
 * from them: no history, a rate weighted from history, a size grown since
 * the rate was measured, fixed costs, the kept window, a damaged object.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "maint/estimate.h"
#include "unit/testrepo.h"

static Repo *repo;

static int setup(void **state)
{
    if (testrepo_setup(state) != 0 || !repo_open(&cfg, &repo))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    repo_close(repo);
    repo = NULL;
    return testrepo_teardown(state);
}

static void record(RateKind kind, double size, double seconds, double age_days, const char *src)
{
    RateSample s = {
        .kind = kind, .size = size, .seconds = seconds, .when = time_wall() - age_days * 86400};
    snprintf(s.source, sizeof(s.source), "%s", src);
    assert_true(rates_record(repo, &s));
}

static void test_no_history(void **state)
{
    (void)state;
    Estimate e;
    assert_true(estimate_step(repo, RATE_CHECKSUM, 4e9, "pg_checksums", &e));
    assert_true(e.low_confidence);
    assert_true(e.predicted_s > 99.9 && e.predicted_s < 100.1); /* 4 GB at the default 40 MB/s */
    assert_true(e.low_s < e.predicted_s && e.high_s >= 3 * e.predicted_s - 0.01);
    assert_non_null(strstr(e.basis, "low confidence"));
    assert_non_null(strstr(e.basis, "rehearse"));
    assert_string_equal(e.basis, "pg_checksums: 4.00 GB at 40.0 MB/s, a default rate (none "
                                 "measured on this repository yet: low confidence; rehearse to "
                                 "measure it) → 100 s");
    /* Without a repository at all: the same default. */
    Estimate d;
    assert_true(estimate_step(NULL, RATE_CHECKSUM, 4e9, "pg_checksums", &d));
    assert_true(d.low_confidence && d.predicted_s == e.predicted_s);
    /* Nothing to do. */
    assert_true(estimate_step(repo, RATE_RESTORE_WRITE, 0, "restore", &d));
    assert_true(d.predicted_s == 0 && !d.low_confidence);
}

/* A recent measurement outweighs an old one; both count. */
static void test_weighted_by_recency(void **state)
{
    (void)state;
    record(RATE_RESTORE_WRITE, 1e9, 10, 30, "restore of backup A"); /* 100 MB/s, a month ago */
    record(RATE_RESTORE_WRITE, 1e9, 5, 0, "restore of backup B");   /* 200 MB/s, now */
    Estimate e;
    assert_true(estimate_step(repo, RATE_RESTORE_WRITE, 1e9, "restore", &e));
    assert_false(e.low_confidence);
    /* weights: 0.5^(30/14) × 0.8 ≈ 0.18 and 1: (0.18 × 10 + 5) / 1.18 ≈ 5.8 s */
    assert_true(e.predicted_s > 5.6 && e.predicted_s < 6.0);
    assert_true(e.low_s < e.predicted_s && e.high_s > e.predicted_s);
    assert_non_null(strstr(e.basis, "rate measured by the restore of backup B on "));
    assert_non_null(strstr(e.basis, "weighted with 1 more"));
}

/* A measurement made near the size predicted outweighs one made far from it. */
static void test_weighted_by_size(void **state)
{
    (void)state;
    /* Same sizes spread: a fixed overhead of 1 s and 100 MB/s fit a line exactly. */
    record(RATE_WAL_REPLAY, 1e8, 2, 0, "rehearsal");
    record(RATE_WAL_REPLAY, 1e9, 11, 0, "rehearsal");
    Estimate e;
    assert_true(estimate_step(repo, RATE_WAL_REPLAY, 2e9, "catch-up", &e));
    assert_true(e.predicted_s > 20.9 && e.predicted_s < 21.1);
    /* Samples of one size only: seconds per byte, the nearer one counting more. */
    record(RATE_BASEBACKUP, 1e9, 10, 0, "maint run"); /* 100 MB/s at 1 GB */
    record(RATE_BASEBACKUP, 1e9, 10, 0, "maint run");
    Estimate f;
    assert_true(estimate_step(repo, RATE_BASEBACKUP, 1.1e9, "pg_basebackup", &f));
    assert_true(f.predicted_s > 10.9 && f.predicted_s < 11.1);
}

/* A size grown since the rate was measured scales the duration by size. */
static void test_size_grown(void **state)
{
    (void)state;
    RateSample s = {.kind = RATE_CHECKSUM, .size = 1e9, .seconds = 8, .when = 1795990920};
    snprintf(s.source, sizeof(s.source), "rehearsal");
    assert_true(rates_record(repo, &s));
    Estimate e;
    assert_true(estimate_step(repo, RATE_CHECKSUM, 3e9, "pg_checksums", &e));
    assert_true(e.predicted_s > 23.99 && e.predicted_s < 24.01); /* not the 8 s measured */
    /* ±15 %, and 10 % more: 3 GB is more than twice the size measured */
    assert_true(e.low_s > 17.99 && e.low_s < 18.01);
    assert_true(e.high_s > 29.99 && e.high_s < 30.01);
    assert_string_equal(e.basis, "pg_checksums: 3.00 GB at 125 MB/s, rate measured by the "
                                 "rehearsal on 2026-11-29 22:22 → 24 s, range 18 s–30 s");
}

static void test_fixed(void **state)
{
    (void)state;
    record(RATE_STARTUP, 1, 2, 0, "rehearsal");
    record(RATE_STARTUP, 1, 4, 0, "rehearsal");
    Estimate e;
    assert_true(estimate_step(repo, RATE_STARTUP, 5e9, "start-up", &e)); /* size ignored */
    /* weights 0.8 and 1: (1.6 + 4) / 1.8 */
    assert_true(e.predicted_s > 3.1 && e.predicted_s < 3.12);
    assert_non_null(strstr(e.basis, "start-up: measured by the rehearsal on "));
    /* A third, slow one: from three on, the weighted median (4 s), not the mean (10 s). */
    record(RATE_STARTUP, 1, 20, 0, "rehearsal");
    assert_true(estimate_step(repo, RATE_STARTUP, 1, "start-up", &e));
    assert_true(e.predicted_s > 3.99 && e.predicted_s < 4.01);
}

static void test_keep_and_refuse(void **state)
{
    (void)state;
    for (int i = 0; i < 30; i++)
        record(RATE_PROMOTE, 1, 100 + i, 0, "rehearsal");
    Buf raw = {0};
    bool found = false;
    assert_true(repo_object_get(repo, "rates.json", &raw, &found));
    assert_true(found);
    buf_append(&raw, "", 1);
    /* The last 20 only: 110 .. 129 s. */
    assert_non_null(strstr((char *)raw.data, "\"promote\""));
    json_error_t jerr;
    json_t *root = json_loads((char *)raw.data, 0, &jerr);
    json_t *list = json_object_get(json_object_get(root, "rates"), "promote");
    assert_int_equal(json_array_size(list), 20);
    assert_true(json_number_value(json_object_get(json_array_get(list, 0), "seconds")) == 110);
    json_decref(root);
    buf_free(&raw);

    RateSample bad = {.kind = RATE_RESTORE_WRITE, .size = 1e9, .seconds = 0};
    assert_false(rates_record(repo, &bad));
    assert_string_equal(err_message(), "refusing a restore-write measurement of 1e+09 in 0 s");
    err_clear();
}

static void test_damaged(void **state)
{
    (void)state;
    const char *junk = "{\"format\":7}";
    assert_true(repo_object_put(repo, "rates.json", junk, strlen(junk), (StoragePutOpts){0}));
    Estimate e;
    assert_false(estimate_step(repo, RATE_STARTUP, 1, "start-up", &e));
    assert_int_equal(err_code(), DD_EXIT_CORRUPT);
    assert_non_null(strstr(err_message(), "is not a format 1 rates object"));
    err_clear();
    RateSample s = {.kind = RATE_STARTUP, .size = 1, .seconds = 1};
    assert_false(rates_record(repo, &s)); /* never silently replaced (invariant 4) */
    err_clear();
}

/* The plan's formulas: catch-up while the primary writes, totals, hold. */
static void test_plan(void **state)
{
    (void)state;
    record(RATE_WAL_REPLAY, 1e9, 10, 0, "rehearsal"); /* 100 MB/s */
    record(RATE_RESTORE_WRITE, 1e9, 10, 0, "restore of backup X");
    record(RATE_STARTUP, 1, 1, 0, "rehearsal");
    record(RATE_PROMOTE, 1, 0.5, 0, "rehearsal");
    MaintFile mf = {0};
    Plan p = {.mf = &mf};
    p.sizes.data_bytes = 2000000000;
    p.sizes.wal_since_backup = 500000000;
    p.sizes.wal_rate = 50e6; /* half the replay rate: catch-up takes twice as long */
    p.sizes.primary_rewindable = true;
    p.steps[PSTEP_RESTORE].enabled = true;
    p.steps[PSTEP_START].enabled = true;
    p.steps[PSTEP_SWITCHOVER].enabled = true;
    assert_true(estimate_plan(repo, &p));
    assert_true(p.steps[PSTEP_RESTORE].est.predicted_s > 19.99 &&
                p.steps[PSTEP_RESTORE].est.predicted_s < 20.01);
    /* 1 s start-up + (0.5 GB + 20 s × 50 MB/s) / (100 − 50 MB/s) = 1 + 30 */
    double start = p.steps[PSTEP_START].est.predicted_s;
    assert_true(start > 30.9 && start < 31.1);
    assert_true(p.predicted_hold_ms > 499 && p.predicted_hold_ms < 501); /* from promotions */
    double sw = p.steps[PSTEP_SWITCHOVER].est.predicted_s;
    assert_true(p.predicted_s > 20 + start + sw - 0.01 && p.predicted_s < 20 + start + sw + 0.01);
    assert_false(p.steps[PSTEP_BACKUP].est.predicted_s > 0); /* disabled: not estimated */
    assert_non_null(strstr(p.rollback_mechanism, "rewound"));
}

/* With an offline step, it catches up first; the start step replays what came meanwhile. */
static void test_plan_offline(void **state)
{
    (void)state;
    record(RATE_WAL_REPLAY, 1e9, 10, 0, "rehearsal"); /* 100 MB/s */
    record(RATE_RESTORE_WRITE, 1e9, 10, 0, "rehearsal");
    record(RATE_CHECKSUM, 1e9, 10, 0, "rehearsal");
    record(RATE_STARTUP, 1, 1, 0, "rehearsal");
    record(RATE_SHUTDOWN, 1, 1, 0, "rehearsal");
    MaintChange ch = {.type = MCHANGE_CHECKSUMS, .name = "data_checksums", .value = "enable"};
    MaintFile mf = {.changes = &ch, .nchanges = 1};
    Plan p = {.mf = &mf};
    p.sizes.data_bytes = 1000000000;
    p.sizes.wal_since_backup = 500000000;
    p.sizes.wal_rate = 20e6;
    p.steps[PSTEP_RESTORE].enabled = true;
    p.steps[PSTEP_OFFLINE].enabled = true;
    p.steps[PSTEP_START].enabled = true;
    assert_true(estimate_plan(repo, &p));
    /* 1 s up + (0.5 GB + 10 s × 20 MB/s) / 80 MB/s + 1 s down + 10 s pg_checksums */
    double off = p.steps[PSTEP_OFFLINE].est.predicted_s;
    assert_true(off > 20.74 && off < 20.76);
    /* 1 s up + 20.75 s × 20 MB/s / 80 MB/s */
    double start = p.steps[PSTEP_START].est.predicted_s;
    assert_true(start > 6.18 && start < 6.20);
    assert_non_null(strstr(p.rollback_mechanism, "rebuilt"));
    /* The weighted rate is 100 MB/s give or take a rounding: 100 or 100.0 (or 99.9...) MB/s. */
    const char *basis = p.steps[PSTEP_OFFLINE].est.basis;
    const char *at = strstr(basis, "pg_checksums: 1.00 GB at ");
    if (!at)
        fail_msg("basis \"%s\" does not name the checksum rewrite", basis);
    double rate = strtod(at + strlen("pg_checksums: 1.00 GB at "), NULL);
    if (!(rate > 99.8 && rate < 100.2))
        fail_msg("basis \"%s\": the rate is not 100 MB/s", basis);
}

/* The rollback: one rule, the steps it enables, and a total that is their sum. */
static void test_rollback_steps(void **state)
{
    (void)state;
    record(RATE_RESTORE_WRITE, 1e9, 10, 0, "rehearsal");
    record(RATE_STARTUP, 1, 1, 0, "rehearsal");
    record(RATE_SHUTDOWN, 1, 2, 0, "rehearsal");
    static const struct {
        bool checksums, rewindable, rebuild;
        const char *steps, *words;
    } cases[] = {
        {false, true, false, "follow switch settings green", "rewound"},
        {false, false, true, "backup restore start switch settings green", "wal_log_hints"},
        {true, true, true, "backup restore offline start switch settings green", "checksums"},
        {true, false, true, "backup restore offline start switch settings green", "checksums"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(rollback_rebuild(cases[i].checksums, cases[i].rewindable),
                         cases[i].rebuild);
        MaintChange ch = {.type = MCHANGE_CHECKSUMS, .name = "data_checksums", .value = "enable"};
        MaintFile mf = {.changes = &ch, .nchanges = cases[i].checksums ? 1 : 0};
        Plan p = {.mf = &mf};
        p.sizes.data_bytes = 1000000000;
        p.sizes.primary_rewindable = cases[i].rewindable;
        assert_true(estimate_plan(repo, &p));
        assert_int_equal(p.rollback_rebuild, cases[i].rebuild);
        assert_non_null(strstr(p.rollback_mechanism, cases[i].words));
        char names[256] = "";
        double sum = 0;
        for (int k = 0; k < RSTEP__COUNT; k++) {
            if (!p.rollback_steps[k].enabled)
                continue;
            const char *n = rollback_step_name((RollbackStepId)k) + strlen("rollback-");
            snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
                     names[0] ? " " : "", n);
            sum += p.rollback_steps[k].est.predicted_s;
        }
        assert_string_equal(names, cases[i].steps);
        assert_true(sum > p.rollback.predicted_s - 1e-9 && sum < p.rollback.predicted_s + 1e-9);
    }
    /* The rebuild restores the whole directory: 1 GB at 100 MB/s. */
    MaintFile mf = {0};
    Plan p = {.mf = &mf};
    p.sizes.data_bytes = 1000000000;
    assert_true(estimate_plan(repo, &p));
    double restore = p.rollback_steps[RSTEP_RESTORE].est.predicted_s;
    assert_true(restore > 9.99 && restore < 10.01);
}

/*
 * The model: fixed + bytes ÷ rate, the fixed part measured or fitted, and
 * for the kinds that write, the bytes past the dirty-page budget at the
 * disk's rate when the disk is the slower.
 */
typedef struct {
    double size, seconds, fixed, budget;
} Rec;

static void test_model(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        RateKind kind;
        Rec recs[4];   /* size 0 ends */
        Rec disk;      /* a disk-write measurement; size 0: none */
        double budget; /* the host's now; 0: unknown */
        double size, predicted, fixed;
        const char *words; /* in the basis; NULL: no "budget" (a fixed part is always shown) */
    } cases[] = {
        {"measured fixed part, not multiplied",
         RATE_RESTORE_WRITE,
         {{1e9, 11, 1, 0}},
         {0, 0, 0, 0},
         0,
         3e9,
         31,
         1,
         "restore: 1.0 s fixed (measured) + 3.00 GB at 100 MB/s, rate measured by the "},
        {"no fixed part measured: bytes × seconds per byte",
         RATE_RESTORE_WRITE,
         {{1e9, 10, 0, 0}},
         {0, 0, 0, 0},
         0,
         3e9,
         30,
         0,
         NULL},
        {"two sizes: the line through them",
         RATE_BASEBACKUP,
         {{1e9, 11, 0, 0}, {3e9, 31, 0, 0}},
         {0, 0, 0, 0},
         0,
         6e9,
         61,
         1,
         "1.0 s fixed (fitted over 2 sizes) + 6.00 GB at 100 MB/s"},
        {"the fitted line wins over a measured fixed part",
         RATE_BASEBACKUP,
         {{1e9, 12, 0.1, 0}, {3e9, 32, 0.1, 0}},
         {0, 0, 0, 0},
         0,
         2e9,
         22,
         2,
         "2.0 s fixed (fitted over 2 sizes)"},
        {"past the budget at the disk's rate",
         RATE_RESTORE_WRITE,
         {{1e9, 11, 1, 4e9}},
         {1e9, 20, 0, 0},
         2e9,
         3e9,
         41,
         1,
         "restore: 1.0 s fixed (measured) + 2.00 GB at 100 MB/s within the dirty-page budget + "
         "1.00 GB at 50.0 MB/s of the disk (its rate while busy)"},
        {"the pace past the budget learned from a write past it, over the disk's counters",
         RATE_RESTORE_WRITE,
         {{1e9, 11, 1, 4e9}, {3e9, 41, 1, 2e9}},
         {1e9, 1, 0, 0},
         2e9,
         4e9,
         61,
         1,
         "+ 2.00 GB at 50.0 MB/s past it (learned from 1 write past it)"},
        {"a write past its budget alone teaches nothing: no knee",
         RATE_RESTORE_WRITE,
         {{3e9, 31, 1, 2e9}},
         {0, 0, 0, 0},
         2e9,
         6e9,
         61,
         1,
         NULL},
        {"within the budget: the disk does not matter",
         RATE_CHECKSUM,
         {{1e9, 10, 0, 4e9}},
         {1e9, 20, 0, 0},
         4e9,
         3e9,
         30,
         0,
         NULL},
        {"a disk faster than the writes: no knee",
         RATE_RESTORE_WRITE,
         {{1e9, 11, 1, 4e9}},
         {1e9, 1, 0, 0},
         2e9,
         3e9,
         31,
         1,
         "1.0 s fixed (measured) + 3.00 GB at 100 MB/s, rate"},
        {"a sample past its budget: its bytes within it went free",
         RATE_RESTORE_WRITE,
         {{3e9, 41, 1, 2e9}},
         {1e9, 20, 0, 0},
         2e9,
         1e9,
         11,
         1,
         "1.0 s fixed (measured) + 1.00 GB at 100 MB/s, rate"},
        {"no budget known: no knee",
         RATE_RESTORE_WRITE,
         {{1e9, 11, 1, 0}},
         {1e9, 20, 0, 0},
         0,
         3e9,
         31,
         1,
         "1.0 s fixed (measured) + 3.00 GB at 100 MB/s, rate"},
        {"a kind that does not write ignores the budget",
         RATE_WAL_REPLAY,
         {{1e9, 10, 0, 0}},
         {1e9, 20, 0, 0},
         1e8,
         3e9,
         30,
         0,
         NULL},
        {"a fixed part of the whole keeps a tenth for the rate",
         RATE_RESTORE_WRITE,
         {{1e9, 10, 50, 0}},
         {0, 0, 0, 0},
         0,
         2e9,
         11,
         9,
         "9.0 s fixed (measured) + 2.00 GB at 1.00 GB/s"},
        /* weights 0.64, 0.8, 1 (oldest first): the median is 11 s, the mean 17 s */
        {"three of one size: the weighted median, one slow sample left out",
         RATE_RESTORE_WRITE,
         {{1e9, 10, 0, 0}, {1e9, 30, 0, 0}, {1e9, 11, 0, 0}},
         {0, 0, 0, 0},
         0,
         3e9,
         33,
         0,
         NULL},
        {"three of one size: the median fixed part too",
         RATE_BASEBACKUP,
         {{1e9, 11, 1, 0}, {1e9, 13, 3, 0}, {1e9, 11.5, 1.5, 0}},
         {0, 0, 0, 0},
         0,
         2e9,
         21.5,
         1.5,
         "1.5 s fixed (measured) + 2.00 GB at 100 MB/s"},
        {"three sizes: the line through them, not the median",
         RATE_BASEBACKUP,
         {{1e9, 11, 0, 0}, {2e9, 21, 0, 0}, {3e9, 31, 0, 0}},
         {0, 0, 0, 0},
         0,
         6e9,
         61,
         1,
         "1.0 s fixed (fitted over 3 sizes)"},
    };
    const char *empty = "{\"format\":1,\"rates\":{}}";
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_true(repo_object_put(repo, "rates.json", empty, strlen(empty), (StoragePutOpts){0}));
        for (const Rec *r = cases[i].recs; r->size > 0; r++) {
            RateSample s = {.kind = cases[i].kind,
                            .size = r->size,
                            .seconds = r->seconds,
                            .fixed = r->fixed,
                            .budget = r->budget,
                            .when = time_wall()};
            snprintf(s.source, sizeof(s.source), "rehearsal");
            assert_true(rates_record(repo, &s));
        }
        if (cases[i].disk.size > 0)
            record(RATE_DISK_WRITE, cases[i].disk.size, cases[i].disk.seconds, 0, "rehearsal");
        estimate_set_budget(cases[i].budget);
        Estimate e;
        assert_true(estimate_step(repo, cases[i].kind, cases[i].size, "restore", &e));
        estimate_set_budget(-1);
        if (!(fabs(e.predicted_s - cases[i].predicted) < 0.01) ||
            !(fabs(e.fixed_s - cases[i].fixed) < 0.01))
            fail_msg("%s: predicted %.3f s (fixed %.3f), expected %.3f (fixed %.3f); basis \"%s\"",
                     cases[i].name, e.predicted_s, e.fixed_s, cases[i].predicted, cases[i].fixed,
                     e.basis);
        if (cases[i].words ? !strstr(e.basis, cases[i].words) : strstr(e.basis, "budget") != NULL)
            fail_msg("%s: basis \"%s\"", cases[i].name, e.basis);
        if ((cases[i].fixed > 0) != (strstr(e.basis, " s fixed (") != NULL))
            fail_msg("%s: basis \"%s\" and the fixed part", cases[i].name, e.basis);
        assert_true(e.low_s < e.predicted_s && e.high_s > e.predicted_s);
    }
}

/* What a restore's write records: its fixed part and budget; the disk's rate apart. */
static void test_record_write(void **state)
{
    (void)state;
    WriteWatch w = {.t0 = time_mono() - 2, .budget = 3e9, .path = "/proc/self/status"};
    rates_record_write(repo, "rehearsal", RATE_RESTORE_WRITE, &w, 1e9, 0.5);
    rates_record_restore(repo, "restore of backup X", 1000000000, 3, 0.25);
    Buf raw = {0};
    bool found = false;
    assert_true(repo_object_get(repo, "rates.json", &raw, &found));
    buf_append(&raw, "", 1);
    json_error_t jerr;
    json_t *root = json_loads((char *)raw.data, 0, &jerr);
    buf_free(&raw);
    json_t *list = json_object_get(json_object_get(root, "rates"), "restore-write");
    assert_int_equal(json_array_size(list), 2);
    json_t *a = json_array_get(list, 0), *b = json_array_get(list, 1);
    assert_true(json_number_value(json_object_get(a, "seconds")) >= 2);
    assert_true(json_number_value(json_object_get(a, "fixed")) == 0.5);
    assert_true(json_number_value(json_object_get(a, "budget")) == 3e9);
    assert_true(json_number_value(json_object_get(b, "fixed")) == 0.25);
    assert_null(json_object_get(b, "budget")); /* not known: not written */
    /* No device under /proc: no disk measurement. */
    assert_null(json_object_get(json_object_get(root, "rates"), "disk-write"));
    json_decref(root);
}

/* The samples of kind in rates.json (0 when none). */
static size_t kind_samples(const char *kind)
{
    Buf raw = {0};
    bool found = false;
    assert_true(repo_object_get(repo, "rates.json", &raw, &found));
    if (!found) {
        buf_free(&raw);
        return 0;
    }
    buf_append(&raw, "", 1);
    json_error_t jerr;
    json_t *root = json_loads((char *)raw.data, 0, &jerr);
    buf_free(&raw);
    assert_non_null(root);
    size_t n = json_array_size(json_object_get(json_object_get(root, "rates"), kind));
    json_decref(root);
    return n;
}

/* A full read records backup-read (and -store); a guided one only backup-guided, by its span. */
static void test_record_backup(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        bool guided, lookup; /* lookup: rates_record_backup (no manifests: span unknown) */
        double read, new_, span, seconds;
        size_t full_read, store, guided_n; /* samples of each kind after the row */
    } rows[] = {
        {"full read, all new", false, false, 1.5e9, 1.5e9, 0, 25, 1, 1, 0},
        {"guided: its span only", true, false, 31e6, 31e6, 100e6, 0.5, 1, 1, 1},
        {"guided, span unknown: nothing", true, false, 31e6, 31e6, 0, 0.5, 1, 1, 1},
        {"guided, no previous manifest: nothing", true, true, 31e6, 31e6, 0, 0.5, 1, 1, 1},
        {"full read, little new: no store", false, true, 1.5e9, 1e6, 0, 20, 2, 1, 1},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        BackupSummary sum = {.guided = rows[i].guided,
                             .bytes_read = (uint64_t)rows[i].read,
                             .bytes_new = (uint64_t)rows[i].new_,
                             .duration = rows[i].seconds,
                             .start_lsn = 0x5000000};
        snprintf(sum.id, sizeof(sum.id), "20261130T10%04zuZ", i);
        if (rows[i].lookup)
            rates_record_backup(repo, "backup", &sum);
        else
            rates_record_backup_span(repo, "backup", &sum, (uint64_t)rows[i].span);
        print_message("%s\n", rows[i].name);
        assert_int_equal(kind_samples("backup-read"), rows[i].full_read);
        assert_int_equal(kind_samples("backup-store"), rows[i].store);
        assert_int_equal(kind_samples("backup-guided"), rows[i].guided_n);
    }
}

/* The backup step: guided from the WAL since the last backup, else a full read from full reads. */
static void test_plan_backup(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int history; /* 0: none, 1: a full read and a guided one, 2: a full read only */
        bool guided;
        double wal, data;
        double lo, hi; /* predicted seconds */
        bool low_confidence;
        const char *basis;
    } rows[] = {
        {"guided, 200 MB of WAL at 200 MB/s", 1, true, 200e6, 1.5e9, 0.99, 1.01, false,
         "guided: 200 MB of WAL since the last backup at 200 MB/s, rate measured by the backup "
         "20261130T100100Z"},
        {"full read at the full reads' 60 MB/s", 1, false, 200e6, 1.5e9, 24.9, 25.1, false,
         "read: 1.50 GB at 60.0 MB/s, rate measured by the backup 20261130T100000Z"},
        {"guided, no history: the default", 0, true, 400e6, 1.5e9, 9.9, 10.1, true,
         "guided: 400 MB of WAL since the last backup at 40.0 MB/s, a default rate"},
        {"guided, only full reads: the changed pages at the full-read rate", 2, true, 300e6, 1.5e9,
         4.99, 5.01, true,
         "guided (no guided backup measured yet): the changed pages, at most: 300 MB at 60.0 MB/s"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        print_message("%s\n", rows[i].name);
        const char *empty = "{\"format\":1,\"rates\":{}}";
        assert_true(repo_object_put(repo, "rates.json", empty, strlen(empty), (StoragePutOpts){0}));
        if (rows[i].history) {
            BackupSummary full = {.id = "20261130T100000Z",
                                  .bytes_read = 1500000000,
                                  .bytes_new = 1500000000,
                                  .duration = 25};
            BackupSummary guided = {.id = "20261130T100100Z",
                                    .guided = true,
                                    .bytes_read = 31000000,
                                    .bytes_new = 31000000,
                                    .duration = 0.5};
            rates_record_backup_span(repo, "backup", &full, 0);
            if (rows[i].history == 1)
                rates_record_backup_span(repo, "backup", &guided, 100000000);
        }
        MaintFile mf = {0};
        Plan p = {.mf = &mf};
        p.sizes.data_bytes = (uint64_t)rows[i].data;
        p.sizes.wal_since_backup = (uint64_t)rows[i].wal;
        p.sizes.backup_store = (uint64_t)rows[i].wal;
        p.sizes.backup_read = rows[i].guided ? p.sizes.backup_store : p.sizes.data_bytes;
        p.sizes.backup_guided = rows[i].guided;
        p.sizes.have_backup = true;
        p.steps[PSTEP_BACKUP].enabled = true;
        assert_true(estimate_plan(repo, &p));
        const Estimate *e = &p.steps[PSTEP_BACKUP].est;
        print_message("  %.2f s: %s\n", e->predicted_s, e->basis);
        assert_true(e->predicted_s > rows[i].lo && e->predicted_s < rows[i].hi);
        assert_int_equal(e->low_confidence, rows[i].low_confidence);
        assert_non_null(strstr(e->basis, rows[i].basis));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_weighted_by_recency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_weighted_by_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_grown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fixed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_and_refuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plan_offline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_steps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_backup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plan_backup, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
