/*
 * exec.h - the one way drydock runs another program (pg_ctl, pg_rewind,
 * pg_checksums, initdb, pg_basebackup, psql, later ssh).
 *
 * What a run promises:
 *   - argv[0] is a path, or a name looked up in PATH (by the parent, before
 *     the fork); the program gets exactly argv, no shell.
 *   - The child's environment is ours plus env ("NAME=value", replacing a
 *     variable of the same name). Secrets (PGPASSWORD) go there, never on
 *     the command line: a command line is visible to every user in ps.
 *   - stdin is /dev/null; stdout and stderr are one stream, appended to
 *     log_path (0600) and/or to *output (both bounded by EXEC_MAX_OUTPUT),
 *     and its last meaningful line (the last one that is not blank) is kept
 *     in ExecResult.tail for an error message, whether or not it is kept
 *     elsewhere.
 *   - When we are root and user is set, the child runs as that user (its
 *     uid, gid and groups; HOME, USER, LOGNAME set to it). When we are not
 *     root, user is ignored: the child runs as we do.
 *   - With a timeout the child leads its own process group; on expiry the
 *     group is killed (SIGKILL) and the run fails with DD_EXIT_TIMEOUT.
 *   - An attached child (not detach) is killed (SIGKILL) when we die, even
 *     by kill -9: no step is ever redone while its first try still runs.
 *   - No descriptor of ours (libpq, curl or proxy sockets, the repository
 *     lock) lives on in the child: everything above stderr is closed.
 *   - detach starts a long-lived process and returns at once: it is moved
 *     out of our session (double fork + setsid), its output goes to
 *     log_path (or /dev/null), and ExecResult.pid is its process id. Such a
 *     process is not ours to wait for; a program that could not be executed
 *     is still reported as an error.
 *
 * exec_run() fails only when the program could not be run at all (or timed
 * out); a non-zero exit is a status for the caller to judge. exec_check()
 * also fails on a non-zero exit, with the error
 *   "<doing> failed (<program> exited with status N): <last line>".
 *
 * Example:
 *
 *   const char *argv[] = {"/usr/lib/postgresql/15/bin/pg_rewind", "--target-pgdata=/d",
 *                         "--source-server=host=db user=postgres", NULL};
 *   const char *env[] = {"PGPASSWORD=s3cret", NULL};
 *   ExecResult r;
 *   if (!exec_check(&(ExecOpts){.argv = argv, .env = env, .user = "postgres",
 *                               .timeout_ms = 600000, .log_path = "/var/log/rewind.log"},
 *                   DD_EXIT_PG, "rewinding the old primary", &r))
 *       return false;   // "rewinding the old primary failed (pg_rewind exited with status 1): ..."
 */
#ifndef DD_COMMON_EXEC_H
#define DD_COMMON_EXEC_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "common/mem.h"

/* Past this much output, the rest is read and counted in the tail but not kept. */
#define EXEC_MAX_OUTPUT (256 * 1024)

/* The length of ExecResult.tail, with its terminator. */
#define EXEC_TAIL_MAX 512

typedef struct {
    const char *const *argv; /* NULL-terminated; argv[0] a path or a name in PATH */
    const char *const *env;  /* NULL-terminated "NAME=value" added to ours; NULL: none */
    const char *cwd;         /* working directory; NULL: ours */
    const char *user;        /* run as this user when we are root; NULL: as we are */
    int timeout_ms;          /* kill the process group after this; 0: no limit */
    const char *log_path;    /* append the output here (created 0600); NULL: not kept */
    Buf *output;             /* append the output here too; NULL: not kept */
    bool detach;             /* start a long-lived process and return at once */
} ExecOpts;

typedef struct {
    int status;               /* exit status; 128 + signal when killed by one */
    pid_t pid;                /* the process (for detach: the one left running) */
    char tail[EXEC_TAIL_MAX]; /* the last line that is not blank; "" when none */
} ExecResult;

/* Run o->argv as described above; false when it could not run or timed out. */
DD_MUST_CHECK bool exec_run(const ExecOpts *o, ExecResult *r);

/*
 * As exec_run(), and a non-zero exit is an error with code fail (e.g.
 * DD_EXIT_PG for PostgreSQL's tools) naming what was being done, the
 * program and its last line ("no output" when it printed nothing).
 */
DD_MUST_CHECK bool exec_check(const ExecOpts *o, DdExit fail, const char *doing, ExecResult *r);

#endif
