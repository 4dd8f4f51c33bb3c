/*
 * log.c - see log.h. Each line is formatted whole and written with one
 * write(2) so that lines from worker threads and concurrent processes
 * (archive_command) do not interleave.
 */
/* syslog.h's LOG_INFO and LOG_DEBUG are macros that would shadow LogLevel's: take its
 * priorities under names of our own, then drop the two. */
#include <syslog.h>
enum { SYS_ERR = LOG_ERR, SYS_WARNING = LOG_WARNING, SYS_INFO = LOG_INFO, SYS_DEBUG = LOG_DEBUG };
#undef LOG_INFO
#undef LOG_DEBUG

#include "common/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char log_command[64] = "";
static LogLevel log_current = LOG_INFO;
static LogDestination log_dest = LOG_DEST_STDERR;
static int log_stamp = -1; /* -1: decide on the first line */

void log_set_destination(LogDestination dest)
{
    if (dest == LOG_DEST_SYSLOG && log_dest != LOG_DEST_SYSLOG)
        openlog("drydock", LOG_PID, LOG_DAEMON);
    log_dest = dest;
}

void log_set_stamp(int stamp)
{
    log_stamp = stamp;
}

/* "2026-11-30T09:40:01.123+00:00 [4242] " into out; "" on a terminal. */
static void log_prefix(char *out, size_t len)
{
    out[0] = '\0';
    if (log_stamp < 0)
        log_stamp = isatty(STDERR_FILENO) ? 0 : 1;
    if (!log_stamp)
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    time_t t = tv.tv_sec;
    localtime_r(&t, &tm);
    char date[32], zone[8];
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    strftime(zone, sizeof(zone), "%z", &tm); /* +0100: ISO-8601 wants +01:00 */
    snprintf(out, len, "%s.%03d%.3s:%.2s [%d] ", date, (int)(tv.tv_usec / 1000), zone, zone + 3,
             (int)getpid());
}

void log_set_command(const char *command)
{
    snprintf(log_command, sizeof(log_command), "%s", command ? command : "");
}

void log_set_level(LogLevel level)
{
    log_current = level;
}

LogLevel log_level(void)
{
    return log_current;
}

static void log_line(int priority, const char *severity, const char *fmt, va_list ap)
{
    char prefix[64];
    log_prefix(prefix, sizeof(prefix));
    /* On a terminal an info line carries no level word, as before. */
    if (!prefix[0] && priority == SYS_INFO)
        severity = "";
    char line[2048];
    int n = snprintf(line, sizeof(line), "%sdrydock%s%s: %s", prefix, log_command[0] ? " " : "",
                     log_command, severity);
    if (n < 0)
        return;
    size_t skip = strlen(prefix); /* syslog stamps lines itself */
    if ((size_t)n < sizeof(line))
        vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    size_t len = strnlen(line, sizeof(line) - 2);
    if (log_dest == LOG_DEST_SYSLOG) {
        syslog(priority, "%s", line + skip);
        if (priority > SYS_ERR)
            return;
    }
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

void log_info(const char *fmt, ...)
{
    if (log_current < LOG_INFO)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_line(SYS_INFO, "LOG: ", fmt, ap);
    va_end(ap);
}

void log_debug(const char *fmt, ...)
{
    if (log_current < LOG_DEBUG)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_line(SYS_DEBUG, "DEBUG: ", fmt, ap);
    va_end(ap);
}

void log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(SYS_WARNING, "WARNING: ", fmt, ap);
    va_end(ap);
}

void log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(SYS_ERR, "ERROR: ", fmt, ap);
    va_end(ap);
}

void log_failure(void)
{
    const char *hint = err_hint_text();
    if (hint[0])
        log_error("%s. HINT: %s", err_message(), hint);
    else
        log_error("%s", err_message());
}
