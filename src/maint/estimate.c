/*
 * estimate.c - rates kept with the repository, and predictions from them.
 *
 * The rates object, "rates.json" at the repository's root (an object in the
 * repository's codec, object.h), holds the last RATES_KEEP measurements of
 * each kind:
 *
 *   {"format":1,
 *    "rates":{"restore-write":[{"size":1.52e9,"seconds":3.71,"when":1795990920.0,
 *                               "source":"restore of backup 20261130T100200Z"}, ...],
 *             "startup":[{"size":1,"seconds":1.2,"when":...,"source":"rehearsal"}], ...}}
 *
 * size is in bytes (or 1 for the fixed kinds: a number of seconds per
 * operation); when is seconds since the epoch (UTC). Optional members:
 * "fixed", the seconds of the measurement that do not grow with size (the
 * set-up measured inside the step; absent: none measured), and "budget", the
 * host's dirty-page budget in bytes when a write ran (estimate_host.h).
 * Kind "disk-write" holds the bytes the disk under the clusters wrote and
 * the seconds it was busy while a write step ran. Kind "backup-guided"
 * (optional, newer: older readers keep it untouched, invariant 4) holds
 * WAL-guided backups: size the WAL from the previous backup's start LSN to
 * theirs, seconds the whole backup; "backup-read" and "backup-store" hold
 * full reads only (a guided backup reads the changed pages alone).
 *
 * Invariants:
 *  1. Each kind's list is oldest first and holds at most RATES_KEEP samples.
 *  2. Every sample has size > 0 and seconds > 0 (rates_record refuses others).
 *  3. The object is only replaced whole (repo_object_put: atomic, durable),
 *     by a read-modify-write under the repository lock "rates" (lock.h);
 *     a writer that finds the lock taken retries for RATES_LOCK_WAIT seconds.
 *  4. Kinds this version does not know are kept as they are (a newer drydock
 *     may share the repository); a damaged object is reported, never
 *     silently replaced.
 *
 * Prediction (estimate_step), for a size S of a kind:
 *  - each sample i gets a weight w_i = recency × closeness, where recency
 *    halves every RATES_HALF_LIFE days and with each newer sample of the kind
 *    (×0.8 per rank), and closeness = 1 / (1 + ln(S/size_i)²): a rate
 *    measured at a size near S counts more than one measured far from it;
 *  - bytes kinds: the duration is F + S × (the weighted mean of seconds per
 *    byte of the part that grows), F the weighted mean of the measured
 *    fixed parts: a size grown since the rate was measured scales only the
 *    part that grows; when the samples span sizes (the largest ≥ 1.5 × the
 *    smallest) and none ran past its budget, a weighted line seconds =
 *    a + b × size is fitted instead (F = a);
 *  - from 3 samples of a kind on, each weighted mean (seconds per byte,
 *    fixed part, a fixed kind's seconds) is a weighted median instead: one
 *    measurement slowed (or sped) by other work on a shared host is not
 *    carried into every prediction;
 *  - kinds that write, with a known budget B now and a slower pace past it:
 *    F + min(S, B) × (seconds per byte within) + (S − B) × (seconds per byte
 *    past), the pace past learned from the kind's samples past their own
 *    budget (learned_disk_spb), else the disk's rate while busy;
 *  - fixed kinds: the weighted mean (median, from 3) of the seconds;
 *  - the range is the prediction ± the weighted spread of the samples, at
 *    least ±15 %, wider by 10 % when S is more than twice any sample's size;
 *  - no sample: a conservative default rate, low_confidence, a range of
 *    ×0.5 to ×3, and a basis that says to rehearse.
 */
#include "maint/estimate.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "repo/lock.h"
#include "repo/manifest.h"

#define RATES_FILE      "rates.json"
#define RATES_FORMAT    1
#define RATES_KEEP      20
#define RATES_LOCK_WAIT 10.0
#define RATES_HALF_LIFE 14.0 /* days */

static const struct {
    const char *name;
    bool fixed;
    bool writes;     /* its bytes are written to the clusters' disk (the dirty-page budget) */
    double fallback; /* bytes per second, or seconds for a fixed kind */
    const char *what;
    const char *of; /* said after the size in a basis ("" or NULL: nothing) */
} rate_kinds[RATE__COUNT] = {
    [RATE_BACKUP_READ] = {"backup-read", false, false, 40e6, "read by a backup"},
    [RATE_BACKUP_STORE] = {"backup-store", false, false, 20e6, "stored by a backup"},
    [RATE_RESTORE_WRITE] = {"restore-write", false, true, 40e6, "written by a restore"},
    [RATE_WAL_REPLAY] = {"wal-replay", false, false, 10e6, "of WAL replayed"},
    [RATE_CHECKSUM] = {"checksum", false, true, 40e6, "rewritten by pg_checksums"},
    [RATE_STARTUP] = {"startup", true, false, 10.0, "start-up"},
    [RATE_PROMOTE] = {"promote", true, false, 5.0, "promotion"},
    [RATE_HOLD] = {"hold", true, false, 2.0, "client hold"},
    [RATE_BASEBACKUP] = {"basebackup", false, true, 40e6, "copied by pg_basebackup"},
    [RATE_PREFLIGHT] = {"preflight", true, false, 2.0, "preflight"},
    [RATE_VERIFY] = {"verify", true, false, 2.0, "verification"},
    [RATE_SHUTDOWN] = {"shutdown", true, false, 10.0, "clean shutdown"},
    [RATE_DISK_WRITE] = {"disk-write", false, false, 100e6, "written by the disk"},
    [RATE_STREAMING] = {"streaming", true, false, 1.0, "wait for streaming"},
    [RATE_BACKUP_GUIDED] = {"backup-guided", false, false, 40e6, "followed by a guided backup",
                            " of WAL since the last backup"},
};

const char *rate_kind_name(RateKind k)
{
    return k < RATE__COUNT ? rate_kinds[k].name : "unknown";
}

bool rate_kind_fixed(RateKind k)
{
    return k < RATE__COUNT && rate_kinds[k].fixed;
}

/* --- the rates object --------------------------------------------------- */

/* The rates object as JSON (an empty one when missing); NULL + error when damaged. */
static json_t *rates_load(Repo *repo)
{
    Buf raw = {0};
    bool found = false;
    if (!repo_object_get(repo, RATES_FILE, &raw, &found)) {
        buf_free(&raw);
        return NULL;
    }
    if (!found) {
        buf_free(&raw);
        return json_pack("{s:i, s:{}}", "format", RATES_FORMAT, "rates");
    }
    json_error_t jerr;
    json_t *root = json_loadb((const char *)raw.data, raw.len, 0, &jerr);
    buf_free(&raw);
    if (!root || !json_is_object(json_object_get(root, "rates")) ||
        json_integer_value(json_object_get(root, "format")) != RATES_FORMAT) {
        json_decref(root);
        err_set(DD_EXIT_CORRUPT, "rates object \"%s/%s\" is not a format %d rates object",
                repo_path(repo), RATES_FILE, RATES_FORMAT);
        err_hint("remove it: the next backups, restores and rehearsals measure the rates again");
        return NULL;
    }
    return root;
}

/* The repository lock "rates", waiting for another writer for a while (invariant 3). */
static bool rates_lock(Repo *repo, RepoLock **lock)
{
    double deadline = time_mono() + RATES_LOCK_WAIT;
    for (;;) {
        if (repo_lock(repo, REPO_LOCK_RATES, "rates", lock))
            return true;
        if (err_code() != DD_EXIT_LOCKED || time_mono() > deadline)
            return false;
        time_sleep(0.05);
    }
}

/* As root, the replaced object goes back to the repository's owner, who writes it next. */
static void rates_keep_owner(Repo *repo)
{
    struct stat st;
    if (geteuid() != 0 || stat(repo_path(repo), &st) != 0 || st.st_uid == 0)
        return;
    /* The lock file too, when root made it (lock.h: locks/<kind>.lock). */
    const char *names[] = {RATES_FILE, "locks/rates.lock"};
    for (size_t i = 0; i < 2; i++) {
        char *path = xasprintf("%s/%s", repo_path(repo), names[i]);
        if (chown(path, st.st_uid, st.st_gid) != 0 && errno != ENOENT)
            log_warn("could not give \"%s\" to the repository's owner: %s", path, strerror(errno));
        free(path);
    }
}

/* Append one sample to its kind's list in root (invariant 1). */
static void rates_append(json_t *root, const RateSample *s)
{
    json_t *rates = json_object_get(root, "rates");
    json_t *list = json_object_get(rates, rate_kinds[s->kind].name);
    if (!json_is_array(list)) {
        list = json_array();
        json_object_set_new(rates, rate_kinds[s->kind].name, list);
    }
    json_t *e = json_pack("{s:f, s:f, s:f, s:s}", "size", s->size, "seconds", s->seconds, "when",
                          s->when > 0 ? s->when : time_wall(), "source", s->source);
    if (s->fixed > 0)
        json_object_set_new(e, "fixed", json_real(fmin(s->fixed, s->seconds)));
    if (s->budget > 0)
        json_object_set_new(e, "budget", json_real(s->budget));
    json_array_append_new(list, e);
    while (json_array_size(list) > RATES_KEEP)
        json_array_remove(list, 0);
}

/* Record n samples in one read-modify-write of the object: one write, one fsync. */
static bool rates_record_n(Repo *repo, const RateSample *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i].kind >= RATE__COUNT || !(s[i].size > 0) || !(s[i].seconds > 0) ||
            !isfinite(s[i].seconds))
            return err_set(DD_EXIT_FAIL, "refusing a %s measurement of %g in %g s",
                           rate_kind_name(s[i].kind), s[i].size, s[i].seconds);
    RepoLock *lock = NULL;
    if (!rates_lock(repo, &lock))
        return err_context("recording the %s rate", rate_kind_name(s[0].kind));
    json_t *root = rates_load(repo);
    bool ok = root != NULL;
    if (ok) {
        for (size_t i = 0; i < n; i++)
            rates_append(root, &s[i]);
        char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
        ok = repo_object_put(repo, RATES_FILE, text, strlen(text), (StoragePutOpts){0});
        free(text);
        if (ok)
            rates_keep_owner(repo);
    }
    json_decref(root);
    repo_lock_release(lock);
    return ok;
}

bool rates_record(Repo *repo, const RateSample *s)
{
    return rates_record_n(repo, s, 1);
}

/* A sample of kind, or false when there is nothing to record (size or seconds not > 0). */
static bool rates_sample(RateSample *s, RateKind kind, double size, double seconds,
                         const char *source, double fixed, double budget)
{
    if (!(size > 0) || !(seconds > 0))
        return false;
    *s = (RateSample){.kind = kind,
                      .size = size,
                      .seconds = seconds,
                      .fixed = fixed,
                      .budget = budget,
                      .when = time_wall()};
    snprintf(s->source, sizeof(s->source), "%s", source);
    return true;
}

/* Record n samples; a failure is a warning (the operation itself succeeded). */
static void rates_record_quiet_n(Repo *repo, const RateSample *s, size_t n)
{
    if (!repo || n == 0)
        return;
    if (!rates_record_n(repo, s, n)) {
        log_warn("could not record the %s rate: %s", rate_kind_name(s[0].kind), err_message());
        err_clear();
    }
}

static void rates_record_quiet(Repo *repo, RateKind kind, double size, double seconds,
                               const char *source, double fixed, double budget)
{
    RateSample s;
    if (rates_sample(&s, kind, size, seconds, source, fixed, budget))
        rates_record_quiet_n(repo, &s, 1);
}

void rates_record_backup_span(Repo *repo, const char *source, const BackupSummary *sum,
                              uint64_t wal_span)
{
    char src[48];
    snprintf(src, sizeof(src), "%s %s", source, sum->id);
    if (sum->guided) {
        if (wal_span > 0)
            rates_record_quiet(repo, RATE_BACKUP_GUIDED, (double)wal_span, sum->duration, src, 0,
                               0);
        else
            log_debug("backup %s: the WAL it followed is unknown; no guided rate recorded",
                      sum->id);
        return;
    }
    /* Both samples in one write of rates.json (one fsync, not one per kind). */
    RateSample s[2];
    size_t n =
        rates_sample(&s[0], RATE_BACKUP_READ, (double)sum->bytes_read, sum->duration, src, 0, 0);
    /* A backup that found little new says nothing of the store rate: its time was reading. */
    if (sum->bytes_new >= sum->bytes_read / 2)
        n += rates_sample(&s[n], RATE_BACKUP_STORE, (double)sum->bytes_new, sum->duration, src, 0,
                          0);
    rates_record_quiet_n(repo, s, n);
}

/* The WAL from the start of the backup before id to start (0: unknown). */
static uint64_t backup_wal_span(Repo *repo, const char *id, uint64_t start)
{
    StrList ids = {0};
    uint64_t span = 0;
    if (manifest_list(repo, &ids)) {
        for (size_t i = 1; i < ids.len; i++) {
            Manifest *m = NULL;
            if (strcmp(ids.items[i], id) != 0 || !manifest_load(repo, ids.items[i - 1], &m))
                continue;
            span = start > m->start_lsn ? start - m->start_lsn : 0;
            manifest_free(m);
        }
    }
    err_clear();
    strlist_free(&ids);
    return span;
}

void rates_record_backup(Repo *repo, const char *source, const BackupSummary *sum)
{
    if (!repo)
        return;
    uint64_t span = sum->guided ? backup_wal_span(repo, sum->id, sum->start_lsn) : 0;
    rates_record_backup_span(repo, source, sum, span);
}

void rates_record_restore(Repo *repo, const char *source, uint64_t bytes, double seconds,
                          double fixed)
{
    rates_record_quiet(repo, RATE_RESTORE_WRITE, (double)bytes, seconds, source, fixed, 0);
}

/* Below this, a disk's counters say more about other writers than about this one. */
#define DISK_MIN_BYTES (64.0 * 1024 * 1024)

void rates_record_write(Repo *repo, const char *source, RateKind kind, const WriteWatch *w,
                        double bytes, double fixed)
{
    double secs = time_mono() - w->t0;
    rates_record_quiet(repo, kind, bytes, secs, source, fixed, w->budget);
    DiskStat d1;
    host_diskstat_read(w->path, &d1);
    if (!w->disk0.ok || !d1.ok)
        return;
    double written = d1.written - w->disk0.written, busy = d1.busy_s - w->disk0.busy_s;
    log_debug("%s: %.0f bytes in %.3f s; the disk wrote %.0f bytes in %.3f s busy (budget %.0f)",
              rate_kind_name(kind), bytes, secs, written, busy, w->budget);
    if (written >= DISK_MIN_BYTES && busy > 0)
        rates_record_quiet(repo, RATE_DISK_WRITE, written, busy, source, 0, 0);
}

/* --- prediction ----------------------------------------------------------- */

typedef struct {
    double size, seconds, fixed, budget, when, w;
    const char *source;
} Sample;

/* "1.52 GB", "410 MB" (decimal units, as the plan prints them). */
static void fmt_bytes(double b, char *out, size_t len)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    int u = 0;
    while (b >= 999.5 && u < 5) {
        b /= 1000;
        u++;
    }
    snprintf(out, len,
             u == 0      ? "%.0f %s"
             : b < 9.995 ? "%.2f %s"
             : b < 99.95 ? "%.1f %s"
                         : "%.0f %s",
             b, units[u]);
}

/* "3.7 s", "12 s", "4 min 10 s", "2 h 5 min". */
void estimate_format_seconds(double s, char *out, size_t len)
{
    if (s < 10)
        snprintf(out, len, "%.1f s", s);
    else if (s < 120)
        snprintf(out, len, "%.0f s", s);
    else if (s < 7200)
        snprintf(out, len, "%d min %d s", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(out, len, "%d h %d min", (int)(s / 3600), (int)fmod(s / 60, 60));
}

/* "2026-11-30 10:02" (UTC). */
static void fmt_when(double when, char *out, size_t len)
{
    char full[48];
    time_format(when, full, sizeof(full));
    snprintf(out, len, "%.16s", full);
}

/* The samples of kind from the rates object, weighted for size (see the top). */
static size_t samples_weigh(json_t *list, bool fixed, double size, double now, Sample *out)
{
    size_t n = 0, total = json_array_size(list);
    for (size_t i = 0; i < total && n < RATES_KEEP; i++) {
        json_t *e = json_array_get(list, i);
        Sample s = {.size = json_number_value(json_object_get(e, "size")),
                    .seconds = json_number_value(json_object_get(e, "seconds")),
                    .fixed = json_number_value(json_object_get(e, "fixed")),
                    .budget = json_number_value(json_object_get(e, "budget")),
                    .when = json_number_value(json_object_get(e, "when")),
                    .source = json_string_value(json_object_get(e, "source"))};
        if (!(s.size > 0) || !(s.seconds > 0))
            continue; /* invariant 2; a hand-edited object */
        /* A fixed part of (nearly) the whole says nothing of the rate: keep a tenth for it. */
        s.fixed = fmin(fmax(s.fixed, 0), 0.9 * s.seconds);
        double age_days = fmax(0, now - s.when) / 86400;
        double rank = (double)(total - 1 - i); /* 0 for the newest */
        s.w = pow(0.5, age_days / RATES_HALF_LIFE) * pow(0.8, rank);
        if (!fixed && size > 0) {
            double d = log(size / s.size);
            s.w /= 1 + d * d;
        }
        if (!s.source)
            s.source = "an earlier operation";
        out[n++] = s;
    }
    return n;
}

/* Weighted least squares seconds = a + b × size; false when it does not fit sensibly. */
static bool samples_fit_line(const Sample *s, size_t n, double *a, double *b)
{
    double lo = INFINITY, hi = 0, sw = 0, sx = 0, sy = 0;
    for (size_t i = 0; i < n; i++) {
        lo = fmin(lo, s[i].size);
        hi = fmax(hi, s[i].size);
        sw += s[i].w;
        sx += s[i].w * s[i].size;
        sy += s[i].w * s[i].seconds;
    }
    if (n < 2 || hi < 1.5 * lo || !(sw > 0))
        return false;
    double mx = sx / sw, my = sy / sw, sxx = 0, sxy = 0;
    for (size_t i = 0; i < n; i++) {
        sxx += s[i].w * (s[i].size - mx) * (s[i].size - mx);
        sxy += s[i].w * (s[i].size - mx) * (s[i].seconds - my);
    }
    if (!(sxx > 0))
        return false;
    *b = sxy / sxx;
    *a = my - *b * mx;
    return *b > 0 && *a >= 0;
}

/* The weighted relative spread of the samples' rates around their mean. */
static double samples_spread(const Sample *s, size_t n, bool fixed)
{
    double sw = 0, mean = 0, var = 0;
    for (size_t i = 0; i < n; i++) {
        double per = fixed ? s[i].seconds : s[i].seconds / s[i].size;
        sw += s[i].w;
        mean += s[i].w * per;
    }
    mean /= sw;
    for (size_t i = 0; i < n; i++) {
        double per = fixed ? s[i].seconds : s[i].seconds / s[i].size;
        var += s[i].w * (per - mean) * (per - mean);
    }
    return mean > 0 ? sqrt(var / sw) / mean : 0;
}

/* What the size of kind is of, after it in a basis ("" for most). */
static const char *kind_of(RateKind kind)
{
    return rate_kinds[kind].of ? rate_kinds[kind].of : "";
}

static void estimate_default(RateKind kind, double size, const char *what, Estimate *e)
{
    char b[24], r[24], t[24];
    double rate = rate_kinds[kind].fallback;
    e->predicted_s = rate_kind_fixed(kind) ? rate : size / rate;
    e->fixed_s = rate_kind_fixed(kind) ? e->predicted_s : 0;
    e->low_s = e->predicted_s * 0.5;
    e->high_s = e->predicted_s * 3;
    e->low_confidence = true;
    estimate_format_seconds(e->predicted_s, t, sizeof(t));
    if (rate_kind_fixed(kind)) {
        snprintf(e->basis, sizeof(e->basis),
                 "%s: %s, a default (no %s measured on this repository yet: low confidence; "
                 "rehearse to measure it)",
                 what, t, rate_kinds[kind].what);
        return;
    }
    fmt_bytes(size, b, sizeof(b));
    fmt_bytes(rate, r, sizeof(r));
    snprintf(e->basis, sizeof(e->basis),
             "%s: %s%s at %s/s, a default rate (none measured on this repository yet: low "
             "confidence; rehearse to measure it) → %s",
             what, b, kind_of(kind), r, t);
}

/*
 * The model of a kind that moves bytes: fixed + the bytes within the budget
 * at spb seconds a byte + the bytes past it at disk_spb (when the disk is
 * the slower of the two).
 */
typedef struct {
    double fixed;    /* seconds */
    double spb;      /* seconds per byte (within the budget) */
    double disk_spb; /* seconds per byte past the budget; 0: unknown */
    double budget;   /* bytes; 0: no budget model */
    size_t fitted;   /* samples the line was fitted over; 0: the fixed part as measured */
    size_t learned;  /* writes past their budget disk_spb was learned from; 0: measured */
} Model;

static double model_within(const Model *m, double size)
{
    return m->budget > 0 && m->disk_spb > m->spb ? fmin(size, m->budget) : size;
}

static double model_predict(const Model *m, double size)
{
    double in = model_within(m, size);
    return m->fixed + in * m->spb + (size - in) * m->disk_spb;
}

/* A sample's seconds per byte within its budget: its bytes past the budget
 * took disk_spb each (when the disk was the slower), the rest went free. */
static double sample_spb(const Sample *s, double disk_spb)
{
    double var = s->seconds - s->fixed, all = var / s->size;
    if (!(disk_spb > all) || !(s->budget > 0) || s->size <= s->budget)
        return all;
    double in = var - (s->size - s->budget) * disk_spb;
    return in > 0 ? in / s->budget : all;
}

/*
 * The disk's seconds per byte as the kind's own history shows it: its writes
 * past their budget, less their bytes within it at the rate of its writes
 * that stayed within theirs. This is the pace the kernel held the writer
 * to, which the disk's counters do not show on a host whose disk is a
 * cache (a virtual machine's). 0 when the history does not hold both.
 */
static double learned_disk_spb(const Sample *s, size_t n, size_t *count)
{
    double sw_in = 0, spb_in = 0, sw = 0, spb = 0;
    *count = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i].budget > 0 && s[i].size <= s[i].budget) {
            sw_in += s[i].w;
            spb_in += s[i].w * (s[i].seconds - s[i].fixed) / s[i].size;
        }
    if (!(sw_in > 0))
        return 0;
    spb_in /= sw_in;
    for (size_t i = 0; i < n; i++) {
        if (!(s[i].budget > 0) || s[i].size <= s[i].budget)
            continue;
        double past = s[i].seconds - s[i].fixed - s[i].budget * spb_in;
        if (past > 0) {
            sw += s[i].w;
            spb += s[i].w * past / (s[i].size - s[i].budget);
            (*count)++;
        }
    }
    return sw > 0 ? spb / sw : 0;
}

typedef struct {
    double v, w;
} Weighed;

static int weighed_cmp(const void *a, const void *b)
{
    double x = ((const Weighed *)a)->v, y = ((const Weighed *)b)->v;
    return x < y ? -1 : x > y;
}

/*
 * The weighted mean of v, or from MEDIAN_FROM values on their weighted
 * median: on a shared host one slow (or quick) measurement among several
 * of a kind is noise, and a mean would carry a share of it into every
 * prediction. v is reordered.
 */
#define MEDIAN_FROM 3
static double weighed_center(Weighed *v, size_t n)
{
    double sw = 0, sum = 0;
    for (size_t i = 0; i < n; i++) {
        sw += v[i].w;
        sum += v[i].w * v[i].v;
    }
    if (n < MEDIAN_FROM || !(sw > 0))
        return sw > 0 ? sum / sw : 0;
    qsort(v, n, sizeof(*v), weighed_cmp);
    double cum = 0;
    for (size_t i = 0; i < n; i++) {
        cum += v[i].w;
        if (cum >= sw / 2)
            return v[i].v;
    }
    return v[n - 1].v;
}

static Model model_build(bool writes, const Sample *s, size_t n, double size, double disk_spb,
                         double budget)
{
    Model m = {0};
    double learned = writes ? learned_disk_spb(s, n, &m.learned) : 0;
    m.disk_spb = learned > 0 ? learned : writes ? disk_spb : 0;
    m.budget = m.disk_spb > 0 ? budget : 0;
    double a = 0, b = 0;
    bool past = false; /* a sample, or the size predicted, past its budget */
    Weighed fx[RATES_KEEP], spb[RATES_KEEP];
    for (size_t i = 0; i < n; i++) {
        fx[i] = (Weighed){s[i].fixed, s[i].w};
        spb[i] = (Weighed){sample_spb(&s[i], m.disk_spb), s[i].w};
        past |= m.budget > 0 && s[i].budget > 0 && s[i].size > s[i].budget;
    }
    m.fixed = weighed_center(fx, n);
    m.spb = weighed_center(spb, n);
    past |= m.budget > 0 && size > m.budget;
    /* Two sizes or more in one regime: the line through them says the fixed part. */
    if (!past && samples_fit_line(s, n, &a, &b)) {
        m.fixed = a;
        m.spb = b;
        m.fitted = n;
    }
    return m;
}

/* The basis in words, from the sample that weighs most. */
static void estimate_basis(RateKind kind, double size, const char *what, const Sample *top,
                           size_t n, const Model *m, Estimate *e)
{
    char b[24], r[24], t[24], lo[24], hi[24], when[24], more[32] = "", fx[64] = "", past[160] = "";
    estimate_format_seconds(e->predicted_s, t, sizeof(t));
    estimate_format_seconds(e->low_s, lo, sizeof(lo));
    estimate_format_seconds(e->high_s, hi, sizeof(hi));
    fmt_when(top->when, when, sizeof(when));
    if (n > 1)
        snprintf(more, sizeof(more), ", weighted with %zu more", n - 1);
    if (rate_kind_fixed(kind)) {
        snprintf(e->basis, sizeof(e->basis), "%s: measured by the %s on %s%s → %s, range %s–%s",
                 what, top->source, when, more, t, lo, hi);
        return;
    }
    if (m->fitted)
        snprintf(fx, sizeof(fx), "%.1f s fixed (fitted over %zu sizes) + ", m->fixed, m->fitted);
    else if (m->fixed > 0)
        snprintf(fx, sizeof(fx), "%.1f s fixed (measured) + ", m->fixed);
    double in = model_within(m, size);
    fmt_bytes(in, b, sizeof(b));
    fmt_bytes(m->spb > 0 ? 1 / m->spb : 0, r, sizeof(r));
    if (in < size) {
        char pb[24], pr[24];
        fmt_bytes(size - in, pb, sizeof(pb));
        fmt_bytes(1 / m->disk_spb, pr, sizeof(pr));
        if (m->learned)
            snprintf(past, sizeof(past),
                     " within the dirty-page budget + %s at %s/s past it (learned from %zu "
                     "write%s past it)",
                     pb, pr, m->learned, m->learned > 1 ? "s" : "");
        else
            snprintf(past, sizeof(past),
                     " within the dirty-page budget + %s at %s/s of the disk (its rate while busy)",
                     pb, pr);
    }
    snprintf(e->basis, sizeof(e->basis),
             "%s: %s%s%s at %s/s%s, rate measured by the %s on %s%s → %s, range %s–%s", what, fx, b,
             kind_of(kind), r, past, top->source, when, more, t, lo, hi);
}

/* The prediction from weighted samples (n > 0). */
static void estimate_from(RateKind kind, double size, const char *what, Sample *s, size_t n,
                          double disk_spb, double budget, Estimate *e)
{
    bool fixed = rate_kind_fixed(kind);
    double nearest = INFINITY;
    const Sample *top = &s[0];
    Weighed per[RATES_KEEP];
    for (size_t i = 0; i < n; i++) {
        per[i] = (Weighed){s[i].seconds, s[i].w};
        nearest = fmin(nearest, fabs(log(size / s[i].size)));
        if (s[i].w > top->w)
            top = &s[i];
    }
    Model m = {0};
    if (fixed) {
        e->predicted_s = e->fixed_s = weighed_center(per, n);
    } else {
        m = model_build(rate_kinds[kind].writes, s, n, size, disk_spb, budget);
        e->predicted_s = model_predict(&m, size);
        e->fixed_s = m.fixed;
    }
    double spread = fmax(0.15, samples_spread(s, n, fixed));
    if (!fixed && nearest > log(2.0))
        spread += 0.10;
    e->low_s = e->predicted_s * fmax(0.1, 1 - spread);
    e->high_s = e->predicted_s * (1 + spread);
    e->low_confidence = false;
    estimate_basis(kind, size, what, top, n, &m, e);
}

/* --- the host ------------------------------------------------------------- */

static double budget_override = -1;

void estimate_set_budget(double budget)
{
    budget_override = budget;
}

static double budget_now(void)
{
    HostVm vm;
    if (budget_override >= 0)
        return budget_override;
    return host_vm_read(&vm) ? host_dirty_budget(&vm) : 0;
}

/* The disk's seconds per byte, weighted by recency only; 0 without a measurement. */
static double disk_spb_of(json_t *root, double now)
{
    json_t *list = json_object_get(json_object_get(root, "rates"), "disk-write");
    Sample s[RATES_KEEP];
    size_t n = json_is_array(list) ? samples_weigh(list, true, 0, now, s) : 0;
    double sw = 0, spb = 0;
    for (size_t i = 0; i < n; i++) {
        sw += s[i].w;
        spb += s[i].w * s[i].seconds / s[i].size;
    }
    return sw > 0 ? spb / sw : 0;
}

bool estimate_step(Repo *repo, RateKind kind, double size, const char *what, Estimate *e)
{
    memset(e, 0, sizeof(*e));
    if (kind >= RATE__COUNT)
        return err_set(DD_EXIT_FAIL, "unknown rate kind %d", (int)kind);
    if (rate_kind_fixed(kind))
        size = 1;
    if (!(size > 0)) {
        snprintf(e->basis, sizeof(e->basis), "%s: nothing to do", what);
        return true;
    }
    json_t *root = repo ? rates_load(repo) : NULL;
    if (repo && !root)
        return false;
    json_t *list =
        root ? json_object_get(json_object_get(root, "rates"), rate_kinds[kind].name) : NULL;
    Sample s[RATES_KEEP];
    double now = time_wall();
    size_t n = json_is_array(list) ? samples_weigh(list, rate_kind_fixed(kind), size, now, s) : 0;
    if (n == 0)
        estimate_default(kind, size, what, e);
    else if (rate_kinds[kind].writes)
        estimate_from(kind, size, what, s, n, disk_spb_of(root, now), budget_now(), e);
    else
        estimate_from(kind, size, what, s, n, 0, 0, e);
    json_decref(root);
    return true;
}

void estimate_totals(Plan *p)
{
    p->predicted_s = p->low_s = p->high_s = 0;
    for (int i = 0; i < PSTEP__COUNT; i++) {
        if (!p->steps[i].enabled)
            continue;
        p->predicted_s += p->steps[i].est.predicted_s;
        p->low_s += p->steps[i].est.low_s;
        p->high_s += p->steps[i].est.high_s;
    }
}
