/*
 * log.h - messages to stderr, one line each, prefixed "drydock <command>:".
 *
 * Levels: error and warning always; info unless --quiet; debug with
 * --verbose. log_failure() prints the current error slot (error.h) as
 * "drydock cmd: ERROR: message HINT: hint" on one line.
 *
 * When stderr is not a terminal (a service, cron, PostgreSQL's archiver),
 * each line starts with an ISO-8601 time with its zone and the pid, and
 * every line names its level (LOG for info):
 *   2026-11-30T09:40:01.123+00:00 [4242] drydock backup: LOG: backup ...
 * With the syslog destination ([global] log-destination = syslog) every
 * line goes to syslog (facility daemon, ident "drydock", the pid added by
 * syslog), and errors also to stderr so that the caller still sees why a
 * command failed.
 */
#ifndef DD_COMMON_LOG_H
#define DD_COMMON_LOG_H

#include "common/error.h"

typedef enum { LOG_QUIET = 0, LOG_INFO = 1, LOG_DEBUG = 2 } LogLevel;
typedef enum { LOG_DEST_STDERR = 0, LOG_DEST_SYSLOG = 1 } LogDestination;

void log_set_command(const char *command);
void log_set_level(LogLevel level);
LogLevel log_level(void);
void log_set_destination(LogDestination dest);
/* Force (1) or suppress (0) the time and pid prefix; -1: when stderr is not a tty. */
void log_set_stamp(int stamp);

void log_info(const char *fmt, ...) DD_PRINTF(1, 2);
void log_warn(const char *fmt, ...) DD_PRINTF(1, 2);
void log_debug(const char *fmt, ...) DD_PRINTF(1, 2);
void log_error(const char *fmt, ...) DD_PRINTF(1, 2);

/* Print the current error (message and hint) as one line. */
void log_failure(void);

#endif
