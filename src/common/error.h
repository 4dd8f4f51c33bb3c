/*
 * error.h - the one error convention of drydock.
 *
 * A fallible function returns a must-check bool (or a small status) and, on
 * failure, leaves a message, a hint and an exit code in this thread's error
 * slot. The caller either handles it, adds context with err_context(), or
 * passes the false up. The command line prints the slot once, on one line,
 * and exits with its code.
 *
 * Messages follow PostgreSQL's style: lower case, the object quoted, the
 * system error last ("could not open file \"%s\": %s"); the hint says what
 * to do. Secrets never go into a message: see pg_conninfo_redact().
 */
#ifndef DD_COMMON_ERROR_H
#define DD_COMMON_ERROR_H

#include <stdbool.h>

#define DD_MUST_CHECK   __attribute__((warn_unused_result))
#define DD_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Exit codes; documented in README.md ("Exit codes"). Never renumber. */
typedef enum {
    DD_EXIT_OK = 0,
    DD_EXIT_FAIL = 1,      /* generic failure; wal-fetch: segment not in the archive */
    DD_EXIT_USAGE = 2,     /* bad command line */
    DD_EXIT_CONFIG = 3,    /* bad or missing configuration */
    DD_EXIT_REPO = 4,      /* repository missing, of another format, or in the wrong state */
    DD_EXIT_LOCKED = 5,    /* another drydock process holds the lock */
    DD_EXIT_PG = 6,        /* PostgreSQL refused, failed or is unreachable */
    DD_EXIT_IO = 7,        /* read/write/fsync failed: permissions, full disk, ... */
    DD_EXIT_TIMEOUT = 8,   /* waited past a deadline */
    DD_EXIT_CONFLICT = 9,  /* archived content differs, or belongs to another cluster */
    DD_EXIT_CORRUPT = 10,  /* a checksum or structure check failed */
    DD_EXIT_PROTOCOL = 11, /* a peer spoke the protocol wrongly */
    DD_EXIT_PLAN = 12      /* a maintenance plan has an error finding: refused */
} DdExit;

/* Record a failure; always returns false so that `return err_set(...)` reads well. */
bool err_set(DdExit code, const char *fmt, ...) DD_PRINTF(2, 3);

/* Record a failure caused by errno (appends ": strerror(errno)"); picks DD_EXIT_IO. */
bool err_errno(const char *fmt, ...) DD_PRINTF(1, 2);

/* Attach a hint (what the user should do) to the current failure. */
void err_hint(const char *fmt, ...) DD_PRINTF(1, 2);

/* Prefix the current message with context: "restoring \"x\": <old message>". */
bool err_context(const char *fmt, ...) DD_PRINTF(1, 2);

const char *err_message(void);
const char *err_hint_text(void); /* "" when there is none */
DdExit err_code(void);
void err_clear(void);

/*
 * The slot is per thread: a failure on a worker thread is carried to the
 * thread that reports it as a value. err_save() copies this thread's slot;
 * err_restore() puts a copy into this thread's slot and returns false, so
 * that `return err_restore(&saved);` reads well. (common/workers.h does this
 * for a pool of workers.)
 */
#define ERR_MSG_MAX  1024
#define ERR_HINT_MAX 512

typedef struct {
    DdExit code;
    char message[ERR_MSG_MAX];
    char hint[ERR_HINT_MAX];
} ErrSaved;

ErrSaved err_save(void);
bool err_restore(const ErrSaved *saved);

#endif
