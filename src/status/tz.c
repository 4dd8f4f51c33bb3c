/*
 * tz.c - time zones and time formats (tz.h).
 */
#include "status/tz.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/mem.h"
#include "common/timeutil.h"

#define ZONEINFO "/usr/share/zoneinfo/"

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

bool tz_check(const char *zone)
{
    struct stat st;
    char path[512];
    snprintf(path, sizeof(path), ZONEINFO "%s", zone ? zone : "");
    if (zone && zone[0] && zone[0] != '/' && !strstr(zone, "..") && stat(path, &st) == 0 &&
        S_ISREG(st.st_mode))
        return true;
    err_set(DD_EXIT_CONFIG,
            "unknown time zone \"%s\": expected an IANA name such as "
            "\"Europe/Paris\" or \"UTC\"",
            zone ? zone : "");
    err_hint("the names are the files under " ZONEINFO);
    return false;
}

/* localtime_r of t in zone; the caller holds tz_lock. */
static void local_in(int64_t t, const char *zone, struct tm *tm)
{
    const char *old = getenv("TZ");
    char *saved = old ? xstrdup(old) : NULL;
    setenv("TZ", zone && zone[0] ? zone : "UTC", 1);
    tzset();
    time_t tt = (time_t)t;
    localtime_r(&tt, tm);
    if (saved) {
        setenv("TZ", saved, 1);
        free(saved);
    } else {
        unsetenv("TZ");
    }
    tzset();
}

void tz_format(int64_t t, const char *zone, TzStyle style, char *out, size_t len)
{
    struct tm tm;
    pthread_mutex_lock(&tz_lock);
    local_in(t, zone, &tm);
    /* %Z reads tm_zone, which points into the zone data loaded by tzset: format under the lock. */
    char tmp[96];
    size_t n = style == TZ_TIME   ? strftime(tmp, sizeof(tmp), "%H:%M %Z", &tm)
               : style == TZ_DATE ? strftime(tmp, sizeof(tmp), "%a %d %b %Y", &tm)
                                  : strftime(tmp, sizeof(tmp), "%a %d %b %Y, %H:%M %Z", &tm);
    tmp[n < sizeof(tmp) ? n : 0] = '\0';
    pthread_mutex_unlock(&tz_lock);
    snprintf(out, len, "%s", tmp);
}

void tz_iso_utc(int64_t t, char *out, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void tz_rfc822(int64_t t, char *out, size_t len)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    snprintf(out, len, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

bool tz_parse(const char *s, int64_t now, int64_t *out)
{
    if (!s || !s[0])
        return false;
    if (strcmp(s, "now") == 0) {
        *out = now;
        return true;
    }
    if (s[0] == '+') {
        char *end = NULL;
        long n = strtol(s + 1, &end, 10);
        long unit = end && strcmp(end, "m") == 0   ? 60
                    : end && strcmp(end, "h") == 0 ? 3600
                    : end && strcmp(end, "d") == 0 ? 86400
                                                   : 0;
        if (end == s + 1 || unit == 0 || n < 0 || n > 3650L * 24 * 60)
            return false;
        *out = now + n * unit;
        return true;
    }
    double epoch;
    if (!time_parse(s, &epoch))
        return false;
    *out = (int64_t)epoch;
    return true;
}

void tz_duration(double seconds, char *out, size_t len)
{
    long s = (long)(seconds + 0.5);
    if (s < 60)
        snprintf(out, len, "%ld s", s);
    else if (s < 3600)
        snprintf(out, len, "%ld min", (s + 30) / 60);
    else if ((s + 30) / 60 % 60 == 0)
        snprintf(out, len, "%ld h", (s + 30) / 3600);
    else
        snprintf(out, len, "%ld h %ld min", (s + 30) / 3600, (s + 30) / 60 % 60);
}
