/*
 * log.c - see log.h. Each line is formatted whole and written with one
 * write(2) so that lines from worker threads and concurrent processes
 * (archive_command) do not interleave.
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char log_command[64] = "";
static LogLevel log_current = LOG_INFO;

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

static void log_line(const char *severity, const char *fmt, va_list ap)
{
    char line[2048];
    int n = snprintf(line, sizeof(line), "drydock%s%s: %s", log_command[0] ? " " : "", log_command,
                     severity);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(line))
        vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    size_t len = strnlen(line, sizeof(line) - 2);
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
    log_line("", fmt, ap);
    va_end(ap);
}

void log_debug(const char *fmt, ...)
{
    if (log_current < LOG_DEBUG)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_line("DEBUG: ", fmt, ap);
    va_end(ap);
}

void log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line("WARNING: ", fmt, ap);
    va_end(ap);
}

void log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line("ERROR: ", fmt, ap);
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
