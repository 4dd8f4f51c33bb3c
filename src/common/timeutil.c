/*
 * timeutil.c - see timeutil.h.
 */
#include "common/timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double time_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double time_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void time_sleep(double seconds)
{
    if (seconds <= 0)
        return;
    struct timespec ts = {.tv_sec = (time_t)seconds,
                          .tv_nsec = (long)((seconds - floor(seconds)) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void time_format(double epoch, char *out, size_t len)
{
    time_t secs = (time_t)floor(epoch);
    int ms = (int)((epoch - floor(epoch)) * 1000.0);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char head[32];
    strftime(head, sizeof(head), "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out, len, "%s.%03d+00", head, ms);
}

static bool parse_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

bool time_parse(const char *s, double *epoch)
{
    const char *p = s;
    int y, mo, d, h, mi, sec;
    if (!parse_digits(&p, 4, &y) || *p++ != '-' || !parse_digits(&p, 2, &mo) || *p++ != '-' ||
        !parse_digits(&p, 2, &d))
        return false;
    if (*p != ' ' && *p != 'T')
        return false;
    p++;
    if (!parse_digits(&p, 2, &h) || *p++ != ':' || !parse_digits(&p, 2, &mi) || *p++ != ':' ||
        !parse_digits(&p, 2, &sec))
        return false;
    double frac = 0;
    if (*p == '.') {
        p++;
        double scale = 0.1;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p)) {
            frac += (*p - '0') * scale;
            scale /= 10;
            p++;
        }
    }
    int offset = 0;
    if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        p++;
        int oh, om = 0;
        if (!parse_digits(&p, 2, &oh))
            return false;
        if (*p == ':')
            p++;
        if (isdigit((unsigned char)*p) && !parse_digits(&p, 2, &om))
            return false;
        offset = sign * (oh * 3600 + om * 60);
    } else if (*p == 'Z') {
        p++;
    }
    if (*p != '\0')
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec};
    time_t t = timegm(&tm);
    *epoch = (double)t + frac - offset;
    return true;
}
