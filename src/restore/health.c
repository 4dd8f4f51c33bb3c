/*
 * health.c - see health.h.
 */
#include "restore/health.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "pg/conn.h"
#include "pg/wal.h"
#include "repo/manifest.h"

bool health_record_verify(Repo *repo, bool ok, uint64_t problems, uint64_t damaged)
{
    json_t *o = json_pack("{s:f, s:b, s:I, s:I}", "time", time_wall(), "ok", ok, "problems",
                          (json_int_t)problems, "backups_damaged", (json_int_t)damaged);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    bool done =
        repo_object_put(repo, HEALTH_VERIFY_OBJECT, text, strlen(text), (StoragePutOpts){0});
    free(text);
    return done;
}

static void load_verify(Repo *repo, Health *h)
{
    Buf raw = {0};
    bool found = false;
    if (!repo_object_get(repo, HEALTH_VERIFY_OBJECT, &raw, &found) || !found) {
        if (!found)
            err_clear();
        else
            log_warn("the last verify's result is unreadable: %s", err_message());
        buf_free(&raw);
        return;
    }
    json_error_t je;
    json_t *o = json_loadb((const char *)raw.data, raw.len, 0, &je);
    json_t *t = json_object_get(o, "time"), *ok = json_object_get(o, "ok"),
           *p = json_object_get(o, "problems");
    if (json_is_number(t) && json_is_boolean(ok) && json_is_integer(p)) {
        h->have_verify = true;
        h->verify_time = json_number_value(t);
        h->verify_ok = json_is_true(ok);
        h->verify_problems = (uint64_t)json_integer_value(p);
    }
    json_decref(o);
    buf_free(&raw);
}

/* Add the sizes of the objects in dir (one level) to *total. */
static bool add_dir(Storage *s, const char *dir, uint64_t *total)
{
    StrList names = {0};
    if (!storage_list(s, dir, &names))
        return false;
    bool ok = true;
    for (size_t i = 0; ok && i < names.len; i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s%s%s", dir, dir[0] ? "/" : "", names.items[i]);
        StorageInfo info = {0};
        bool found = false;
        ok = storage_info(s, path, &found, &info);
        if (ok && found)
            *total += info.size;
    }
    strlist_free(&names);
    return ok;
}

/* The repository's layout (repo.h): top-level metadata, packs, manifests, WAL by timeline. */
static bool repository_bytes(Repo *repo, uint64_t *total)
{
    Storage *s = repo_storage(repo);
    *total = 0;
    StrList wal = {0};
    bool ok = add_dir(s, "packs", total) && add_dir(s, MANIFEST_DIR, total) &&
              add_dir(s, "status", total) && storage_list(s, "wal", &wal);
    for (size_t i = 0; ok && i < wal.len; i++) {
        char dir[256];
        snprintf(dir, sizeof(dir), "wal/%s", wal.items[i]);
        ok = add_dir(s, dir, total);
    }
    strlist_free(&wal);
    StorageInfo info = {0};
    bool found = false;
    if (ok && storage_info(s, REPO_META_FILE, &found, &info) && found)
        *total += info.size;
    return ok;
}

static void ask_primary(const char *primary, Health *h)
{
    PGconn *conn = pg_connect(primary, "primary");
    if (!conn) {
        log_debug("health: the primary did not answer: %s", err_message());
        err_clear();
        return;
    }
    PGresult *res = pg_query(conn,
                             "select pg_current_wal_lsn(), failed_count, "
                             "coalesce(extract(epoch from last_failed_time), 0), "
                             "coalesce(last_failed_wal, '') "
                             "from pg_stat_archiver where not pg_is_in_recovery()",
                             0, NULL);
    if (res && PQntuples(res) == 1 && pg_lsn_parse(PQgetvalue(res, 0, 0), &h->current_lsn)) {
        h->primary_reached = true;
        h->archiver_failed_count = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        h->archiver_last_failed_time = strtod(PQgetvalue(res, 0, 2), NULL);
        snprintf(h->archiver_last_failed_wal, sizeof(h->archiver_last_failed_wal), "%s",
                 PQgetvalue(res, 0, 3));
        int64_t lag = (int64_t)(h->current_lsn - h->archive_end_lsn);
        h->archive_lag_bytes = h->have_segment && h->current_lsn > h->archive_end_lsn ? lag : 0;
        if (!h->have_segment)
            h->archive_lag_bytes = (int64_t)h->current_lsn;
    } else if (!res) {
        log_debug("health: %s", err_message());
        err_clear();
    }
    if (res)
        PQclear(res);
    pg_disconnect(conn);
}

bool health_collect(Repo *repo, const Catalog *c, const char *primary, Health *h)
{
    memset(h, 0, sizeof(*h));
    h->now = time_wall();
    h->backups = c->nbackups;
    h->backups_damaged = c->damaged.len;
    if (c->nbackups > 0) {
        const CatalogBackup *b = &c->backups[c->nbackups - 1];
        h->have_backup = true;
        snprintf(h->last_backup_id, sizeof(h->last_backup_id), "%s", b->id);
        h->last_backup_time = b->stop_time;
        h->last_backup_guided = b->guided;
        h->last_backup_files_whole = b->files_read_whole;
    }
    for (size_t i = c->nbackups; i-- > 0 && h->last_full_read_time == 0;)
        if (!c->backups[i].guided)
            h->last_full_read_time = c->backups[i].stop_time;
    const Window *w = &c->window;
    h->wal_gaps = w->ngaps;
    for (size_t i = 0; i < w->nruns; i++) {
        const WalRun *r = &w->runs[i];
        /* Runs are sorted by timeline, then segment: the last one is the newest. */
        h->have_segment = true;
        wal_segment_name(r->tli, r->last, repo_wal_seg_size(repo), h->last_segment);
        h->last_segment_time = r->last_archived_at;
        h->archive_end_lsn = (r->last + 1) * (uint64_t)repo_wal_seg_size(repo);
    }
    load_verify(repo, h);
    if (!repository_bytes(repo, &h->repository_bytes))
        return false;
    if (primary)
        ask_primary(primary, h);
    return true;
}

static json_t *j_time_or_null(bool have, double t)
{
    return have && t > 0 ? json_real(t) : json_null();
}

json_t *health_to_json(const Health *h)
{
    json_t *o = json_object();
    json_object_set_new(o, "backups", json_integer((json_int_t)h->backups));
    json_object_set_new(o, "backups_damaged", json_integer((json_int_t)h->backups_damaged));
    json_object_set_new(o, "last_backup",
                        h->have_backup ? json_string(h->last_backup_id) : json_null());
    json_object_set_new(o, "last_backup_age_s",
                        h->have_backup ? json_real(h->now - h->last_backup_time) : json_null());
    json_object_set_new(o, "last_backup_read",
                        h->have_backup ? json_string(h->last_backup_guided ? "guided" : "full")
                                       : json_null());
    json_object_set_new(o, "last_full_read_age_s",
                        h->last_full_read_time > 0 ? json_real(h->now - h->last_full_read_time)
                                                   : json_null());
    json_object_set_new(o, "last_segment",
                        h->have_segment ? json_string(h->last_segment) : json_null());
    json_object_set_new(o, "last_segment_age_s",
                        h->have_segment && h->last_segment_time > 0
                            ? json_real(h->now - h->last_segment_time)
                            : json_null());
    json_object_set_new(o, "wal_gaps", json_integer((json_int_t)h->wal_gaps));
    json_object_set_new(o, "archive_lag_bytes",
                        h->primary_reached ? json_integer(h->archive_lag_bytes) : json_null());
    json_object_set_new(o, "archiver_failed_count",
                        h->primary_reached ? json_integer(h->archiver_failed_count) : json_null());
    json_object_set_new(o, "archiver_last_failed_wal",
                        h->primary_reached && h->archiver_last_failed_wal[0]
                            ? json_string(h->archiver_last_failed_wal)
                            : json_null());
    json_object_set_new(o, "repository_bytes", json_integer((json_int_t)h->repository_bytes));
    json_t *v = json_null();
    if (h->have_verify)
        v = json_pack("{s:o, s:f, s:b, s:I}", "time", j_time_or_null(true, h->verify_time), "age_s",
                      h->now - h->verify_time, "ok", h->verify_ok, "problems",
                      (json_int_t)h->verify_problems);
    json_object_set_new(o, "last_verify", v);
    return o;
}

static void metric(Buf *out, const char *name, const char *type, const char *help, double value)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, value);
}

void health_render_prometheus(const Health *h, Buf *out)
{
    metric(out, "drydock_backups", "gauge", "Backups in the repository.", (double)h->backups);
    metric(out, "drydock_backups_damaged", "gauge", "Backups whose manifest does not load.",
           (double)h->backups_damaged);
    if (h->have_backup)
        metric(out, "drydock_last_backup_timestamp_seconds", "gauge",
               "When the newest backup ended (Unix time).", h->last_backup_time);
    if (h->have_backup) {
        metric(out, "drydock_last_backup_guided", "gauge",
               "1 when the newest backup read only what the WAL says changed, 0 when it read "
               "every file whole.",
               h->last_backup_guided ? 1 : 0);
        metric(out, "drydock_last_backup_files_read_whole", "gauge",
               "Relation files the newest (guided) backup read whole anyway.",
               (double)h->last_backup_files_whole);
    }
    if (h->last_full_read_time > 0)
        metric(out, "drydock_last_full_read_timestamp_seconds", "gauge",
               "When the newest backup that read every file whole ended (Unix time).",
               h->last_full_read_time);
    if (h->have_segment && h->last_segment_time > 0)
        metric(out, "drydock_last_archived_timestamp_seconds", "gauge",
               "When the newest WAL segment was archived (Unix time).", h->last_segment_time);
    metric(out, "drydock_wal_gaps", "gauge", "Holes in the WAL archive.", (double)h->wal_gaps);
    metric(out, "drydock_primary_up", "gauge", "1 when the primary answered.",
           h->primary_reached ? 1 : 0);
    if (h->primary_reached) {
        metric(out, "drydock_archive_lag_bytes", "gauge",
               "WAL bytes the primary wrote that the archive does not hold yet.",
               (double)h->archive_lag_bytes);
        metric(out, "drydock_archiver_failed_total", "counter",
               "Failed archive_command runs since the primary's statistics reset.",
               (double)h->archiver_failed_count);
    }
    metric(out, "drydock_repository_bytes", "gauge", "Bytes stored in the repository.",
           (double)h->repository_bytes);
    if (h->have_verify) {
        metric(out, "drydock_last_verify_timestamp_seconds", "gauge",
               "When the last verify ended (Unix time).", h->verify_time);
        metric(out, "drydock_last_verify_ok", "gauge", "1 when the last verify found no problem.",
               h->verify_ok ? 1 : 0);
        metric(out, "drydock_last_verify_problems", "gauge", "Problems the last verify found.",
               (double)h->verify_problems);
    }
}
