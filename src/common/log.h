/*
 * log.h - messages to stderr, one line each, prefixed "drydock <command>:".
 *
 * Levels: error and warning always; info unless --quiet; debug with
 * --verbose. log_failure() prints the current error slot (error.h) as
 * "drydock cmd: ERROR: message HINT: hint" on one line.
 */
#ifndef DD_COMMON_LOG_H
#define DD_COMMON_LOG_H

#include "common/error.h"

typedef enum { LOG_QUIET = 0, LOG_INFO = 1, LOG_DEBUG = 2 } LogLevel;

void log_set_command(const char *command);
void log_set_level(LogLevel level);
LogLevel log_level(void);

void log_info(const char *fmt, ...) DD_PRINTF(1, 2);
void log_warn(const char *fmt, ...) DD_PRINTF(1, 2);
void log_debug(const char *fmt, ...) DD_PRINTF(1, 2);
void log_error(const char *fmt, ...) DD_PRINTF(1, 2);

/* Print the current error (message and hint) as one line. */
void log_failure(void);

#endif
