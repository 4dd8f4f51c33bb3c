/*
 * sizes.c - see sizes.h.
 */
#include "maint/sizes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup/guide.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "pg/conn.h"
#include "pg/datadir.h"
#include "repo/manifest.h"

bool sizes_newest_backup(Repo *repo, SizesBackup *out)
{
    memset(out, 0, sizeof(*out));
    StrList ids = {0};
    if (!manifest_list(repo, &ids))
        return false;
    bool ok = true;
    if (ids.len > 0) {
        Manifest *m = NULL;
        ok = manifest_load(repo, ids.items[ids.len - 1], &m);
        if (ok) {
            snprintf(out->id, sizeof(out->id), "%s", m->id);
            out->start_lsn = m->start_lsn;
            out->bytes_logical = m->bytes_logical;
            out->ntablespaces = (uint32_t)m->ntablespaces;
            out->tli = m->tli;
            out->chunk_size = m->chunk_size;
            out->guided_since_full = m->guided_since_full;
            out->data_checksums = m->data_checksums;
            out->full_read_time = m->full_read_time;
            manifest_free(m);
        }
    }
    strlist_free(&ids);
    return ok;
}

static bool sizes_lsn(PGconn *c, const char *sql, uint64_t *lsn)
{
    char *v = pg_query_value(c, sql, 0, NULL);
    bool ok = v && pg_lsn_parse(v, lsn);
    if (v && !ok)
        err_set(DD_EXIT_PG, "\"%s\" returned \"%s\", not an LSN", sql, v);
    free(v);
    return ok;
}

/* What a backup of the primary reads: a walk when its directory is readable, else SQL. */
static bool sizes_data(PGconn *c, const char *datadir, uint64_t *bytes)
{
    if (datadir && access(datadir, R_OK | X_OK) == 0) {
        DatadirList l = {0};
        if (datadir_walk(datadir, &l)) {
            *bytes = l.total_bytes;
            datadir_list_free(&l);
            return true;
        }
        datadir_list_free(&l);
        err_clear(); /* fall back to the server's own count */
    }
    char *v =
        pg_query_value(c, "SELECT sum(pg_database_size(oid))::bigint FROM pg_database", 0, NULL);
    if (!v)
        return false;
    *bytes = strtoull(v, NULL, 10);
    free(v);
    return true;
}

static bool sizes_standby_lag(const char *standby, uint64_t primary_lsn, uint64_t *lag)
{
    *lag = 0;
    PGconn *s = pg_connect(standby, "standby");
    if (!s)
        return false;
    uint64_t replay = 0;
    bool ok = sizes_lsn(s, "SELECT coalesce(pg_last_wal_replay_lsn(), '0/0')", &replay);
    if (ok)
        *lag = primary_lsn > replay ? primary_lsn - replay : 0;
    pg_disconnect(s);
    return ok;
}

/*
 * Whether the next backup can follow the WAL since last (it takes last's
 * chunk size, backup.h). A timeline or data-checksum state drydock cannot read is
 * taken as last's (logged): the backup itself decides, this only predicts.
 */
static void sizes_guided(PGconn *c, const SizesOpts *o, const SizesBackup *last, PlanSizes *out)
{
    if (!last->id[0]) { /* nothing to follow: asked nothing */
        out->backup_guided = false;
        snprintf(out->backup_full_reason, sizeof(out->backup_full_reason), "no previous backup");
        return;
    }
    char *tli = pg_query_value(c, "SELECT timeline_id FROM pg_control_checkpoint()", 0, NULL);
    if (!tli) {
        log_debug("the primary's timeline: %s", err_message());
        err_clear();
    }
    char *sums = pg_query_value(c, "SELECT current_setting('data_checksums')", 0, NULL);
    if (!sums) {
        log_debug("the primary's data checksums: %s", err_message());
        err_clear();
    }
    Manifest prev = {.tli = last->tli,
                     .start_lsn = last->start_lsn,
                     .chunk_size = last->chunk_size,
                     .guided_since_full = last->guided_since_full,
                     .full_read_time = last->full_read_time,
                     .data_checksums = last->data_checksums};
    GuideOpts g = {.prev = &prev,
                   .tli = tli ? (uint32_t)strtoul(tli, NULL, 10) : last->tli,
                   .start_lsn = UINT64_MAX, /* the next backup starts later than now */
                   .data_checksums = sums ? strcmp(sums, "on") == 0 : last->data_checksums > 0,
                   .full_every = o->full_every,
                   .full_days = o->full_days,
                   .now = time_wall()};
    char buf[sizeof(out->backup_full_reason)];
    const char *why = backup_guide_refusal(&g, buf, sizeof(buf));
    out->backup_guided = why == NULL;
    snprintf(out->backup_full_reason, sizeof(out->backup_full_reason), "%s", why ? why : "");
    free(tli);
    free(sums);
}

bool sizes_measure(const SizesOpts *o, Repo *repo, PlanSizes *out)
{
    memset(out, 0, sizeof(*out));
    SizesBackup last;
    if (!sizes_newest_backup(repo, &last))
        return false;
    out->have_backup = last.id[0] != '\0';
    PGconn *p = pg_connect(o->primary, "primary");
    if (!p)
        return false;
    uint64_t lsn0 = 0, lsn1 = 0;
    sizes_guided(p, o, &last, out);
    double interval = o->interval > 0 ? o->interval : 1.0;
    double t0 = time_mono();
    bool ok = sizes_lsn(p, "SELECT pg_current_wal_lsn()", &lsn0) &&
              sizes_data(p, o->primary_data, &out->data_bytes);
    if (ok) {
        double left = interval - (time_mono() - t0);
        if (left > 0)
            time_sleep(left);
        ok = sizes_lsn(p, "SELECT pg_current_wal_lsn()", &lsn1);
    }
    double dt = time_mono() - t0;
    pg_disconnect(p);
    if (!ok)
        return false;
    out->wal_rate = dt > 0 && lsn1 > lsn0 ? (double)(lsn1 - lsn0) / dt : 0;
    if (out->have_backup) {
        out->wal_since_backup = lsn1 > last.start_lsn ? lsn1 - last.start_lsn : 0;
        out->backup_store =
            out->wal_since_backup < out->data_bytes ? out->wal_since_backup : out->data_bytes;
    } else {
        out->backup_store = out->data_bytes;
    }
    out->backup_read = out->backup_guided ? out->backup_store : out->data_bytes;
    if (o->standby && !sizes_standby_lag(o->standby, lsn1, &out->standby_lag))
        return err_context("measuring the standby's lag");
    return true;
}
