/*
 * tz.h - times for people: shown in the page's IANA time zone with the zone
 * named, and ISO 8601 UTC for machines. The zone is applied through TZ,
 * tzset() and localtime_r() under a lock, and TZ is put back afterwards, so
 * the rest of the process keeps its own zone.
 */
#ifndef DD_STATUS_TZ_H
#define DD_STATUS_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Is zone an IANA zone this system knows ("UTC", "Europe/Paris")? false with an error (config). */
DD_MUST_CHECK bool tz_check(const char *zone);

typedef enum {
    TZ_DATE_TIME, /* "Mon 30 Nov 2026, 10:33 CET" */
    TZ_TIME,      /* "10:33 CET" */
    TZ_DATE       /* "Mon 30 Nov 2026" */
} TzStyle;

/* t shown in zone, in style. out: 64 bytes is enough. */
void tz_format(int64_t t, const char *zone, TzStyle style, char *out, size_t len);

/* "2026-11-30T09:33:20Z". out: >= 21 bytes. */
void tz_iso_utc(int64_t t, char *out, size_t len);

/* "Mon, 30 Nov 2026 09:33:20 +0000" (RFC 822, for RSS). */
void tz_rfc822(int64_t t, char *out, size_t len);

/*
 * A time from the command line or the write API: ISO 8601 with seconds and
 * a zone ("2026-11-30T22:00:00Z", "...+01:00"; none means UTC), "now", or
 * "+N" with a unit m, h or d ("+30m") counted from now. false when it is
 * none of these (no error set: the caller names the field).
 */
bool tz_parse(const char *s, int64_t now, int64_t *out);

/* A duration for people: "about 1 h 5 min", "12 min", "40 s". */
void tz_duration(double seconds, char *out, size_t len);

#endif
