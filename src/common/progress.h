/*
 * progress.h - progress of a long operation: bytes done of a total, rate, ETA.
 *
 * Three outputs, chosen once at progress_new():
 *   - JSON (the command's --json): one line per update on stdout,
 *       {"type":"progress","phase":"copy","done":123,"total":456,"rate":7.8e7,"eta":3.2}
 *     rate in bytes/s, eta in seconds (null while unknown);
 *   - terminal (stderr is a tty, not --json, not --quiet): one line on stderr
 *     redrawn in place, "copy  1.2 GiB / 3.4 GiB  35%  120 MiB/s  ETA 0:19";
 *   - silent otherwise (cron, pipes, tests).
 *
 * Updates are rate-limited (PROGRESS_INTERVAL apart) so that workers can call
 * progress_add() for every chunk; the counters are atomics and the emitter
 * takes a lock with trylock, so a worker never waits for the terminal.
 */
#ifndef DD_COMMON_PROGRESS_H
#define DD_COMMON_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROGRESS_INTERVAL 0.25 /* seconds between updates: 4 a second */

typedef enum { PROGRESS_SILENT = 0, PROGRESS_TTY, PROGRESS_JSON } ProgressMode;

typedef struct Progress Progress;

/* JSON when json, else a terminal line when stderr is a tty and logging is on, else silent. */
Progress *progress_new(bool json);
/* The same with the output forced (tests). */
Progress *progress_new_mode(ProgressMode mode);
ProgressMode progress_mode(const Progress *p);

/* Start a phase ("copy", "wal-wait", "verify"...) with its total (0: unknown). Resets done. */
void progress_phase(Progress *p, const char *phase, uint64_t total);
/* Raise the current phase's total (thread-safe). */
void progress_add_total(Progress *p, uint64_t n);
/* Count n more bytes done (thread-safe; emits at most every PROGRESS_INTERVAL). */
void progress_add(Progress *p, uint64_t n);
uint64_t progress_done(const Progress *p);
uint64_t progress_total(const Progress *p);
/* Seconds since the phase began. */
double progress_elapsed(const Progress *p);

/* Emit a final update for the phase (and end the terminal line). */
void progress_end_phase(Progress *p);

/*
 * Write one whole line (a JSON summary, say) to stdout under the emitter's
 * lock, so that it never interleaves with a progress line; the terminal line
 * is cleared first.
 */
void progress_print_line(Progress *p, const char *line);

void progress_free(Progress *p);

/* "1.2 GiB", "512 B" into out (>= 16 bytes). */
void progress_format_bytes(double bytes, char *out, size_t len);

#endif
