/*
 * walrecv.h - drydock wal-receive: WAL streamed from the primary over the
 * replication protocol (pg/replconn.h) with a physical slot, spooled,
 * and pushed into the archive segment by segment exactly as wal-push does
 * (walarchive_push: same object, same WAL summary).
 *
 * The spool directory (default <state directory>/wal-receive, walrecvstat.h):
 *   TTTTTTTTXXXXXXXXYYYYYYYY.partial  the segment being received, from its
 *                                     first byte; its size is what arrived
 *   TTTTTTTTXXXXXXXXYYYYYYYY          a complete segment the archive does not hold yet
 *   TTTTTTTT.history                  a timeline history file on its way to the archive
 *   lock                              flock(2)ed by the receiver that owns the spool
 *   status                            position and lag, for info and metrics
 *   flush/                            --flush-partial's zero-filled copy while it is pushed
 *
 * Invariants:
 *  1. The flush position sent to the server, and so the slot's restart_lsn,
 *     never passes what is fsynced in the spool: the server keeps every
 *     byte the spool could still lose.
 *  2. A .partial holds its segment from byte 0: every session starts
 *     streaming at a segment's first byte and writes that segment's
 *     .partial again from there: after a crash the server may have replaced
 *     a torn record the spool holds, and receiving the segment again keeps
 *     the pushed segment identical to the one archive_command pushes. (At
 *     most one segment is sent again per reconnect.)
 *  3. A complete segment is fsynced, renamed from .partial (directory
 *     fsynced), then pushed at once on the pusher's thread
 *     (walrecvpush.h), so that receiving never waits for a push; it leaves
 *     the spool only once the archive holds it (stored now, or already
 *     there with the same bytes, e.g. pushed by archive_command).
 *  4. Where it resumes: the start of the spool's newest .partial, or the
 *     segment after its newest complete segment;
 *     else the segment after the archive's newest one on the server's
 *     timeline, but not before the slot's restart_lsn (the server may have
 *     removed what is older) nor past the server's current segment.
 */
#ifndef DD_REPO_WALRECV_H
#define DD_REPO_WALRECV_H

#include <signal.h>
#include <stdbool.h>

#include "common/error.h"
#include "repo/repo.h"

typedef struct {
    const char *conninfo;   /* the server to stream from */
    const char *slot;       /* physical slot, created when missing */
    const char *app_name;   /* application_name: what synchronous_standby_names names */
    const char *spool;      /* spool directory, created when missing */
    bool synchronous;       /* fsync and report after every batch of WAL */
    double status_interval; /* otherwise: fsync and report this often (seconds) */
} WalRecvOpts;

/*
 * Stream until *stop is set (SIGTERM): reconnects after errors with
 * exponential backoff (1 s doubling to 60 s), follows timeline switches.
 * On stop: fsyncs, sends a last status, writes the status file "stopped".
 * false only for what retrying cannot mend: the spool cannot be locked or
 * written, or the server belongs to another cluster.
 */
DD_MUST_CHECK bool walrecv_run(Repo *repo, const WalRecvOpts *opts, volatile sig_atomic_t *stop);

/*
 * The primary is lost: push the spool's .partial, zero-filled to a whole
 * segment, as SEGMENT.partial into the archive (where wal-fetch --partial
 * finds it); the .partial stays in the spool. Refused (DD_EXIT_LOCKED)
 * while a receiver runs on the spool. *pushed gets the archived name ("" when
 * the spool holds no .partial).
 */
DD_MUST_CHECK bool walrecv_flush_partial(Repo *repo, const char *spool, char *pushed,
                                         size_t pushed_len);

#endif
