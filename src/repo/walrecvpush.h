/*
 * walrecvpush.h - wal-receive's pusher: completed files go from the spool
 * into the archive on a thread of the pusher's own, so that the stream
 * loop, and with it a --synchronous primary's commits, never wait for a
 * push (a segment's compression, its fsync or its S3 requests).
 *
 * Invariants:
 *  1. One push at a time: the thread and a caller (a history file at a
 *     timeline switch, the last push at a stop, --flush-partial) take
 *     turns under one mutex; history files go before segments, segments
 *     in order, stopping at the first that must wait.
 *  2. A file leaves the spool only once the archive holds it (walrecv.h
 *     invariant 3): pushed as wal-push does (walpush.h), then removed.
 *  3. The thread pushes when kicked (a segment completed) and, while
 *     something waits (a busy lock, an unreachable repository), again
 *     every second; a failure is logged and tried again, never fatal.
 */
#ifndef DD_REPO_WALRECVPUSH_H
#define DD_REPO_WALRECVPUSH_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "pg/wal.h"
#include "repo/repo.h"

/*
 * PUSH_TRY: where a push takes the archive lock, try it once (busy: the
 * file waits, and archive_command's wal-push waits for us); PUSH_WAIT:
 * wait for it (history files, --flush-partial).
 */
typedef enum { PUSH_TRY, PUSH_WAIT } WalRecvPushMode;

typedef struct WalRecvPusher WalRecvPusher;

/* A pusher from spool into repo (both outlive it); no thread yet. */
WalRecvPusher *walrecvpush_new(Repo *repo, const char *spool);
void walrecvpush_free(WalRecvPusher *p); /* stops the thread first */

/* Start the thread (invariant 3); false with an error if it cannot be made. */
DD_MUST_CHECK bool walrecvpush_start(WalRecvPusher *p);
/* Something completed: push now. */
void walrecvpush_kick(WalRecvPusher *p);
/* Stop the thread after its current push. */
void walrecvpush_stop(WalRecvPusher *p);

/* Push what waits, in the caller's thread; *left when something stays. */
DD_MUST_CHECK bool walrecvpush_pending(WalRecvPusher *p, WalRecvPushMode mode, bool *left);
/* Push the spool file name, in the caller's thread. */
DD_MUST_CHECK bool walrecvpush_file(WalRecvPusher *p, const char *name, WalRecvPushMode mode,
                                    bool *left);

/* The last segment archived from the spool ("" if none yet). */
void walrecvpush_archived(WalRecvPusher *p, char *out, size_t len);

/* Names in spool of one kind, sorted (segments sort by timeline, then position). */
DD_MUST_CHECK bool walrecvpush_list(const char *spool, WalFileKind kind, StrList *out);

#endif
