/*
 * walbacklog.h - the bounded WAL backlog ([repository] archive-queue-max,
 * pgBackRest's archive-push-queue-max).
 *
 * When the repository is unreachable, wal-push fails and PostgreSQL keeps
 * every segment in pg_wal until one succeeds: a long outage fills the disk
 * and stops the primary. With archive-queue-max = N (MiB, 0 = no bound), a
 * wal-push that fails while more than N MiB wait in pg_wal (the .ready files
 * of pg_wal/archive_status) reports success instead, so that PostgreSQL can
 * recycle the segment: the primary keeps running, and point-in-time
 * recovery cannot cross the dropped segment (a new backup after the outage
 * restores recoverability). Every drop is logged as a warning and appended
 * to pg_wal/drydock-dropped ("<time> <segment>\n"), which "drydock check"
 * reports loudly until it is removed.
 */
#ifndef DD_REPO_WALBACKLOG_H
#define DD_REPO_WALBACKLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/mem.h"

#define WALBACKLOG_DROPPED "drydock-dropped"

/* Segments (and their bytes, seg_size each) waiting in wal_dir/archive_status. */
DD_MUST_CHECK bool walbacklog_waiting(const char *wal_dir, uint64_t seg_size, size_t *count,
                                      uint64_t *bytes);
/* Append name to wal_dir/drydock-dropped. */
DD_MUST_CHECK bool walbacklog_record_drop(const char *wal_dir, const char *name);
/* The lines of wal_dir/drydock-dropped (none if it does not exist). */
DD_MUST_CHECK bool walbacklog_dropped(const char *wal_dir, StrList *out);

#endif
