/*
 * timeutil.h - clocks and timestamps.
 */
#ifndef DD_COMMON_TIMEUTIL_H
#define DD_COMMON_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Monotonic seconds, for durations and deadlines. */
double time_mono(void);
/* Wall-clock seconds since the epoch, with sub-second precision. */
double time_wall(void);
/* Sleep for the given seconds (fractions allowed). */
void time_sleep(double seconds);
/* "2026-11-25 06:05:00.123+00" (UTC, PostgreSQL's text form). out: >= 40 bytes. */
void time_format(double epoch, char *out, size_t len);
/*
 * Parse a timestamp as PostgreSQL prints it: "YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]]"
 * (a 'T' may replace the space; no zone means UTC). false when malformed.
 */
bool time_parse(const char *s, double *epoch);

#endif
