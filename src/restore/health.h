/*
 * health.h - what an alert needs to know about a repository, in one place:
 * the age of the newest backup, how far the archive is behind the primary,
 * the archiver's failures, the last verify's result and the repository's
 * size. "drydock info --json" shows it as "health"; "drydock metrics" prints
 * it in Prometheus' text format for node_exporter's textfile collector.
 *
 * The last verify's result is an object the verify command writes at the
 * end of every run (status/verify.json in the repository: {"time", "ok",
 * "problems", "backups_damaged"}); it is the only thing here that is stored,
 * everything else is measured when asked.
 */
#ifndef DD_RESTORE_HEALTH_H
#define DD_RESTORE_HEALTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "common/mem.h"
#include "repo/repo.h"
#include "restore/catalog.h"

#define HEALTH_VERIFY_OBJECT "status/verify.json"

typedef struct {
    double now;
    size_t backups;
    size_t backups_damaged; /* manifests that do not load */
    bool have_backup;
    char last_backup_id[32];
    double last_backup_time;          /* stop time of the newest backup */
    bool last_backup_guided;          /* read guided by the WAL (backup/guide.h) */
    uint64_t last_backup_files_whole; /* guided: relation files read whole anyway */
    double last_full_read_time;       /* stop time of the newest backup read whole; 0: none */

    bool have_segment;        /* at least one WAL segment is archived */
    char last_segment[32];    /* the newest, by timeline then number */
    double last_segment_time; /* when it was archived (object time) */
    uint64_t archive_end_lsn; /* the end of that segment */
    size_t wal_gaps;          /* holes in the archive */

    bool primary_reached;      /* the fields below come from the primary */
    uint64_t current_lsn;      /* pg_current_wal_lsn() */
    int64_t archive_lag_bytes; /* current_lsn - archive_end_lsn, at least 0 */
    int64_t archiver_failed_count;
    double archiver_last_failed_time; /* 0: never */
    char archiver_last_failed_wal[64];

    bool have_verify;
    double verify_time;
    bool verify_ok;
    uint64_t verify_problems;

    uint64_t repository_bytes;
} Health;

/* Record a verify's result with the repository (verify calls it at its end). */
DD_MUST_CHECK bool health_record_verify(Repo *repo, bool ok, uint64_t problems, uint64_t damaged);

/*
 * Fill h from the catalog, the repository and, when primary is not NULL and
 * answers, the primary. An unreachable primary is not a failure: its fields
 * stay unset (primary_reached false).
 */
DD_MUST_CHECK bool health_collect(Repo *repo, const Catalog *c, const char *primary, Health *h);

json_t *health_to_json(const Health *h);
/* Prometheus text exposition format 0.0.4 (HELP, TYPE, samples). */
void health_render_prometheus(const Health *h, Buf *out);

#endif
