/*
 * progress.c - see progress.h.
 *
 * done/total are atomics that workers bump; whoever finds PROGRESS_INTERVAL
 * elapsed since the last emission and wins the trylock writes the update.
 * The rate is bytes done over the phase's elapsed time (stable, and what the
 * user compares with other runs); the ETA is what remains at that rate.
 */
#include "common/progress.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/timeutil.h"

struct Progress {
    ProgressMode mode;
    pthread_mutex_t lock; /* serialises emission and phase changes */
    char phase[32];
    _Atomic uint64_t done;
    _Atomic uint64_t total;
    double phase_start;       /* time_mono() */
    _Atomic double last_emit; /* time_mono() of the last update */
    bool tty_line_open;       /* a terminal line is drawn and not ended */
};

Progress *progress_new_mode(ProgressMode mode)
{
    Progress *p = xcalloc(1, sizeof(*p));
    p->mode = mode;
    pthread_mutex_init(&p->lock, NULL);
    snprintf(p->phase, sizeof(p->phase), "%s", "");
    p->phase_start = time_mono();
    atomic_store(&p->last_emit, 0.0);
    return p;
}

Progress *progress_new(bool json)
{
    if (json)
        return progress_new_mode(PROGRESS_JSON);
    if (isatty(STDERR_FILENO) && log_level() >= LOG_INFO)
        return progress_new_mode(PROGRESS_TTY);
    return progress_new_mode(PROGRESS_SILENT);
}

ProgressMode progress_mode(const Progress *p)
{
    return p->mode;
}

void progress_format_bytes(double bytes, char *out, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;
    while (bytes >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
        bytes /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, len, "%.0f %s", bytes, units[u]);
    else
        snprintf(out, len, "%.1f %s", bytes, units[u]);
}

/* Write one update; the caller holds the lock. */
static void progress_emit_locked(Progress *p, bool final)
{
    uint64_t done = atomic_load(&p->done);
    uint64_t total = atomic_load(&p->total);
    double elapsed = time_mono() - p->phase_start;
    double rate = elapsed > 0.001 ? (double)done / elapsed : 0;
    double eta = -1;
    if (total > 0 && done >= total)
        eta = 0;
    else if (total > 0 && rate > 0)
        eta = (double)(total - done) / rate;
    if (p->mode == PROGRESS_JSON) {
        char etabuf[32] = "null";
        if (eta >= 0)
            snprintf(etabuf, sizeof(etabuf), "%.1f", eta);
        printf("{\"type\":\"progress\",\"phase\":\"%s\",\"done\":%llu,\"total\":%llu,"
               "\"rate\":%.0f,\"eta\":%s%s}\n",
               p->phase, (unsigned long long)done, (unsigned long long)total, rate, etabuf,
               final ? ",\"final\":true" : "");
        fflush(stdout);
    } else if (p->mode == PROGRESS_TTY) {
        char d[16], t[16], r[16], line[160];
        progress_format_bytes((double)done, d, sizeof(d));
        progress_format_bytes((double)total, t, sizeof(t));
        progress_format_bytes(rate, r, sizeof(r));
        int n;
        if (total > 0) {
            int pct = (int)fmin(100.0, 100.0 * (double)done / (double)total);
            int e = eta >= 0 ? (int)(eta + 0.5) : 0;
            n = snprintf(line, sizeof(line), "\r%-9s %s / %s  %3d%%  %s/s  ETA %d:%02d:%02d\033[K",
                         p->phase, d, t, pct, r, e / 3600, e / 60 % 60, e % 60);
        } else {
            n = snprintf(line, sizeof(line), "\r%-9s %s  %s/s  %.0f s\033[K", p->phase, d, r,
                         elapsed);
        }
        if (n > 0) {
            ssize_t w = write(STDERR_FILENO, line, strnlen(line, sizeof(line)));
            (void)w;
        }
        p->tty_line_open = true;
        if (final) {
            ssize_t w = write(STDERR_FILENO, "\n", 1);
            (void)w;
            p->tty_line_open = false;
        }
    }
    atomic_store(&p->last_emit, time_mono());
}

void progress_phase(Progress *p, const char *phase, uint64_t total)
{
    pthread_mutex_lock(&p->lock);
    snprintf(p->phase, sizeof(p->phase), "%s", phase);
    atomic_store(&p->done, 0);
    atomic_store(&p->total, total);
    p->phase_start = time_mono();
    atomic_store(&p->last_emit, 0.0);
    pthread_mutex_unlock(&p->lock);
}

static void progress_maybe_emit(Progress *p)
{
    if (p->mode == PROGRESS_SILENT)
        return;
    double now = time_mono();
    if (now - atomic_load(&p->last_emit) < PROGRESS_INTERVAL)
        return;
    if (pthread_mutex_trylock(&p->lock) != 0)
        return;
    if (now - atomic_load(&p->last_emit) >= PROGRESS_INTERVAL)
        progress_emit_locked(p, false);
    pthread_mutex_unlock(&p->lock);
}

void progress_add_total(Progress *p, uint64_t n)
{
    atomic_fetch_add(&p->total, n);
}

void progress_add(Progress *p, uint64_t n)
{
    atomic_fetch_add(&p->done, n);
    progress_maybe_emit(p);
}

uint64_t progress_done(const Progress *p)
{
    return atomic_load(&((Progress *)p)->done);
}

uint64_t progress_total(const Progress *p)
{
    return atomic_load(&((Progress *)p)->total);
}

double progress_elapsed(const Progress *p)
{
    return time_mono() - p->phase_start;
}

void progress_end_phase(Progress *p)
{
    if (p->mode == PROGRESS_SILENT)
        return;
    pthread_mutex_lock(&p->lock);
    progress_emit_locked(p, true);
    pthread_mutex_unlock(&p->lock);
}

void progress_print_line(Progress *p, const char *line)
{
    pthread_mutex_lock(&p->lock);
    if (p->tty_line_open) {
        ssize_t w = write(STDERR_FILENO, "\n", 1);
        (void)w;
        p->tty_line_open = false;
    }
    fputs(line, stdout);
    if (line[0] && line[strlen(line) - 1] != '\n')
        fputc('\n', stdout);
    fflush(stdout);
    pthread_mutex_unlock(&p->lock);
}

void progress_free(Progress *p)
{
    if (!p)
        return;
    if (p->tty_line_open) {
        ssize_t w = write(STDERR_FILENO, "\n", 1);
        (void)w;
    }
    pthread_mutex_destroy(&p->lock);
    free(p);
}
