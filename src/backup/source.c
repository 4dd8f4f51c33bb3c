/*
 * source.c - see source.h.
 */
#include "backup/source.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "pg/conn.h"
#include "pg/node.h"
#include "pg/wal.h"
#include "repo/walarchive.h"

struct BackupSource {
    const Config *cfg;
    bool from_standby;
    PGconn *primary; /* checkpoint, switch; NULL when not configured and not needed */
    PGconn *session; /* the node read: holds the backup open */
    bool started;
    BackupSourceInfo info;
};

/* Identity and settings of a node; checks it belongs to the repository. */
static bool src_identify(PGconn *conn, const char *node, Repo *repo, BackupSourceInfo *info,
                         bool *in_recovery)
{
    PgNode n;
    if (!pg_node_identify(conn, &n))
        return err_context("on the %s", node);
    uint64_t sysid = n.system_id;
    uint32_t version = n.version_num;
    bool checksums = n.data_checksums;
    *in_recovery = n.in_recovery;
    if (sysid != repo_system_id(repo)) {
        err_set(DD_EXIT_CONFLICT,
                "the %s has system identifier %" PRIu64 ", the repository \"%s\" %" PRIu64, node,
                sysid, repo_path(repo), repo_system_id(repo));
        err_hint("[cluster] %s points at another cluster than the one the repository was "
                 "created for",
                 node);
        return false;
    }
    if (version / 10000 != 15) {
        err_set(DD_EXIT_PG, "the %s runs PostgreSQL %u; drydock supports 15", node, version);
        return false;
    }
    if (info) {
        info->system_id = sysid;
        info->pg_version = version;
        info->data_checksums = checksums;
    }
    return true;
}

/*
 * How long a backup waits for the standby's WAL receiver. A standby whose
 * receiver stopped (the primary recycled WAL it had not sent yet, the
 * primary restarted) reads the archive and retries every
 * wal_retrieve_retry_interval, 5 s by default: twice that is a blip.
 */
#define SRC_STREAM_WAIT 10.0

/* One look at the standby: its WAL receiver's status, replay LSN and replay age. */
static bool src_standby_state(BackupSource *src, char *status, size_t len, uint64_t *replay,
                              double *age)
{
    PGresult *res = pg_query(src->session,
                             "SELECT coalesce((SELECT status FROM pg_stat_wal_receiver), "
                             "'not running'), pg_last_wal_replay_lsn()::text, "
                             "coalesce(extract(epoch FROM now() - "
                             "pg_last_xact_replay_timestamp())::text, '')",
                             0, NULL);
    if (!res)
        return err_context("on the standby");
    snprintf(status, len, "%s", PQgetvalue(res, 0, 0));
    *replay = 0;
    pg_lsn_parse(PQgetvalue(res, 0, 1), replay);
    *age = PQgetvalue(res, 0, 2)[0] ? strtod(PQgetvalue(res, 0, 2), NULL) : -1;
    PQclear(res);
    return true;
}

/* The standby must be streaming (within SRC_STREAM_WAIT); say how far behind it is. */
static bool src_check_streaming(BackupSource *src)
{
    char status[64];
    uint64_t replay = 0;
    double age = -1;
    if (!src_standby_state(src, status, sizeof(status), &replay, &age))
        return false;
    if (strcmp(status, "streaming") != 0) {
        log_debug("waiting up to %.0f s for the standby's WAL receiver (now: %s)", SRC_STREAM_WAIT,
                  status);
        /* its answer aside, the status is asked again: the error names the last one */
        (void)pg_node_wait_streaming(src->cfg->standby, "standby", SRC_STREAM_WAIT, NULL);
        if (!src_standby_state(src, status, sizeof(status), &replay, &age))
            return false;
    }
    if (strcmp(status, "streaming") != 0) {
        err_set(DD_EXIT_PG,
                "the standby is not streaming from the primary (WAL receiver: %s, for %.0f s)",
                status, SRC_STREAM_WAIT);
        err_hint("check primary_conninfo and the standby's log, or back up the primary with "
                 "\"--from primary\"");
        return false;
    }
    char *cur = pg_query_value(src->primary, "SELECT pg_current_wal_lsn()::text", 0, NULL);
    uint64_t primary_lsn = 0;
    if (!cur || !pg_lsn_parse(cur, &primary_lsn)) {
        free(cur);
        return err_context("on the primary");
    }
    free(cur);
    uint64_t lag = primary_lsn > replay ? primary_lsn - replay : 0;
    if (age >= 0)
        log_info("the standby is streaming; replay is %" PRIu64
                 " bytes behind the primary, last transaction replayed %.1f s ago",
                 lag, age);
    else
        log_info("the standby is streaming; replay is %" PRIu64 " bytes behind the primary", lag);
    return true;
}

bool backup_source_open(const Config *cfg, Repo *repo, bool from_standby, BackupSource **out)
{
    const char *node = from_standby ? "standby" : "primary";
    if (!config_require(cfg, "cluster", "primary", cfg->primary) ||
        !config_require(cfg, "cluster", from_standby ? "standby-data" : "primary-data",
                        from_standby ? cfg->standby_data : cfg->primary_data) ||
        (from_standby && !config_require(cfg, "cluster", "standby", cfg->standby)))
        return false;
    BackupSource *src = xcalloc(1, sizeof(*src));
    src->cfg = cfg;
    src->from_standby = from_standby;
    bool rec = false;
    bool ok = (src->session = pg_connect(from_standby ? cfg->standby : cfg->primary, node)) &&
              src_identify(src->session, node, repo, &src->info, &rec);
    if (ok && from_standby && !rec) {
        ok = err_set(DD_EXIT_PG, "the server at [cluster] standby is not in recovery");
        err_hint("point [cluster] standby at a streaming standby, or use \"--from primary\"");
    } else if (ok && !from_standby && rec) {
        ok = err_set(DD_EXIT_PG, "the server at [cluster] primary is in recovery");
        err_hint("point [cluster] primary at the primary");
    }
    if (ok && from_standby) {
        ok = (src->primary = pg_connect(cfg->primary, "primary")) &&
             src_identify(src->primary, "primary", repo, NULL, &rec) && src_check_streaming(src);
    } else if (ok) {
        src->primary = src->session;
    }
    if (!ok) {
        backup_source_close(src);
        return false;
    }
    *out = src;
    return true;
}

const char *backup_source_node(const BackupSource *src)
{
    return src->from_standby ? "standby" : "primary";
}

const char *backup_source_datadir(const BackupSource *src)
{
    return src->from_standby ? src->cfg->standby_data : src->cfg->primary_data;
}

const BackupSourceInfo *backup_source_info(const BackupSource *src)
{
    return &src->info;
}

/* Checkpoint the primary and wait until the standby replayed past it. */
static bool src_sync_standby(BackupSource *src, int timeout)
{
    if (!pg_exec(src->primary, "CHECKPOINT"))
        return err_context("on the primary");
    char *cur = pg_query_value(src->primary, "SELECT pg_current_wal_lsn()::text", 0, NULL);
    uint64_t target = 0;
    if (!cur || !pg_lsn_parse(cur, &target)) {
        free(cur);
        return err_context("on the primary");
    }
    double deadline = time_mono() + timeout;
    for (;;) {
        char *r = pg_query_value(src->session, "SELECT pg_last_wal_replay_lsn()::text", 0, NULL);
        uint64_t replay = 0;
        bool parsed = r && pg_lsn_parse(r, &replay);
        free(r);
        if (!parsed) {
            free(cur);
            return err_context("on the standby");
        }
        if (replay >= target)
            break;
        if (time_mono() > deadline) {
            err_set(DD_EXIT_TIMEOUT,
                    "the standby did not replay the primary's checkpoint (%s) within %d s", cur,
                    timeout);
            err_hint("the standby is too far behind: check its replication, or use \"--from "
                     "primary\"");
            free(cur);
            return false;
        }
        time_sleep(0.02);
    }
    free(cur);
    return true;
}

bool backup_source_start(BackupSource *src, const char *label, int timeout)
{
    const char *node = backup_source_node(src);
    if (src->from_standby && !src_sync_standby(src, timeout))
        return false;
    src->info.start_time = time_wall();
    const char *params[] = {label};
    char *lsn = pg_query_value(src->session, "SELECT pg_backup_start($1, true)::text", 1, params);
    if (!lsn || !pg_lsn_parse(lsn, &src->info.start_lsn)) {
        free(lsn);
        err_context("starting the backup on the %s", node);
        return false;
    }
    free(lsn);
    src->started = true;
    /* The start checkpoint's timeline, which the label names at the stop: a
     * WAL-guided copy (guide.h) needs it before then. */
    char *tli =
        pg_query_value(src->session, "SELECT timeline_id FROM pg_control_checkpoint()", 0, NULL);
    if (!tli || sscanf(tli, "%u", &src->info.tli) != 1)
        src->info.tli = 0; /* unknown: the guide then reads everything */
    free(tli);
    err_clear();
    char start[24];
    pg_lsn_format(src->info.start_lsn, start, sizeof(start));
    log_debug("backup started on the %s at %s", node, start);
    return true;
}

bool backup_source_stop(BackupSource *src)
{
    const char *node = backup_source_node(src);
    PGresult *res = pg_query_row(src->session,
                                 "SELECT lsn::text, labelfile, coalesce(spcmapfile, '') "
                                 "FROM pg_backup_stop(false)",
                                 0, NULL);
    if (!res) {
        err_context("on the %s", node);
        return err_context("stopping the backup");
    }
    src->started = false;
    bool ok = pg_lsn_parse(PQgetvalue(res, 0, 0), &src->info.stop_lsn);
    src->info.backup_label = xstrdup(PQgetvalue(res, 0, 1));
    src->info.tablespace_map = xstrdup(PQgetvalue(res, 0, 2));
    PQclear(res);
    src->info.stop_time = time_wall();
    const char *tl = strstr(src->info.backup_label, "START TIMELINE: ");
    if (!ok || !tl || sscanf(tl + 16, "%u", &src->info.tli) != 1 || src->info.tli == 0)
        return err_set(DD_EXIT_PG, "pg_backup_stop() on the %s returned an unexpected label", node);
    /* The standby cannot switch WAL: the primary completes the stop segment. */
    if (!pg_exec(src->primary, "SELECT pg_switch_wal()"))
        return err_context("switching WAL on the primary");
    return true;
}

bool backup_source_wait_archive(BackupSource *src, Repo *repo, int timeout)
{
    uint32_t seg_size = repo_wal_seg_size(repo);
    uint64_t first = wal_segno_of_lsn(src->info.start_lsn, seg_size, false);
    uint64_t last = wal_segno_of_lsn(src->info.stop_lsn, seg_size, true);
    if (last < first)
        last = first;
    double begin = time_mono(), deadline = begin + timeout;
    /* The archiver takes tens of ms: look often for a second (a guided backup
     * takes well under one), then less often. */
    double nap = 0.002;
    char name[32];
    for (uint64_t seg = first; seg <= last;) {
        wal_segment_name(src->info.tli, seg, seg_size, name);
        bool exists = false;
        if (!walarchive_exists(repo, name, &exists))
            return false;
        if (exists) {
            seg++;
            continue;
        }
        if (time_mono() > deadline) {
            err_set(DD_EXIT_TIMEOUT,
                    "WAL segment %s, needed by the backup, did not reach repository \"%s\" "
                    "within %d s",
                    name, repo_path(repo), timeout);
            err_hint("check the primary's archive_command and pg_stat_archiver; [repository] "
                     "archive-timeout sets the wait");
            return false;
        }
        time_sleep(nap);
        double cap = time_mono() - begin < 1.0 ? 0.01 : 0.1;
        nap = nap * 2 < cap ? nap * 2 : cap;
    }
    return true;
}

void backup_source_close(BackupSource *src)
{
    if (!src)
        return;
    if (src->primary && src->primary != src->session)
        pg_disconnect(src->primary);
    pg_disconnect(src->session); /* a started backup is aborted by the server */
    free(src->info.backup_label);
    free(src->info.tablespace_map);
    free(src);
}
