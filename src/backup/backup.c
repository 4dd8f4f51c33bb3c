/*
 * backup.c - see backup.h.
 */
#include "backup/backup.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backup/copy.h"
#include "backup/source.h"
#include "common/log.h"
#include "common/testpoint.h"
#include "common/timeutil.h"
#include "common/workers.h"
#include "pg/conn.h"
#include "pg/datadir.h"
#include "repo/chunkstore.h"
#include "repo/lock.h"
#include "repo/manifest.h"

/* A backup id from a time: "YYYYMMDDTHHMMSSZ", moved on while one exists. */
static bool backup_make_id(Repo *repo, double when, char *out, size_t len)
{
    StrList ids = {0};
    if (!manifest_list(repo, &ids))
        return false;
    time_t t = (time_t)when;
    for (;;) {
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(out, len, "%Y%m%dT%H%M%SZ", &tm);
        bool taken = false;
        for (size_t i = 0; i < ids.len && !taken; i++)
            taken = strcmp(ids.items[i], out) == 0;
        if (!taken)
            break;
        t++;
    }
    strlist_free(&ids);
    return true;
}

static bool backup_save_manifest(Repo *repo, const BackupSourceInfo *si, const DatadirList *dl,
                                 BackupCopyResult *cr, BackupSummary *sum, double started)
{
    Manifest m = {0};
    m.id = sum->id;
    m.source_node = sum->node;
    m.system_id = si->system_id;
    m.pg_version = si->pg_version;
    m.tli = si->tli;
    m.start_lsn = si->start_lsn;
    m.stop_lsn = si->stop_lsn;
    m.start_time = si->start_time;
    m.stop_time = si->stop_time;
    m.backup_label = si->backup_label;
    m.tablespace_map = si->tablespace_map;
    m.chunk_size = sum->chunk_size;
    m.bytes_logical = cr->bytes_logical;
    m.bytes_new = cr->bytes_new;
    m.bytes_stored = cr->bytes_stored;
    m.duration = time_mono() - started;
    m.guided = sum->guided;
    m.guided_since_full = sum->guided_since_full;
    m.full_read_time = sum->guided ? sum->full_read_time : si->start_time;
    m.data_checksums = si->data_checksums;
    m.full_read_reason = sum->guided ? NULL : sum->full_reason;
    m.files_guided = cr->files_guided;
    ManifestCount rw[GUIDE_WHOLE_COUNT];
    for (int r = 1; r < GUIDE_WHOLE_COUNT; r++)
        if (cr->files_whole[r])
            rw[m.nread_whole++] = (ManifestCount){(char *)guide_reason_name(r), cr->files_whole[r]};
    m.read_whole = rw;
    m.ntablespaces = dl->ntablespaces;
    ManifestTablespace *ts = xcalloc(dl->ntablespaces + 1, sizeof(ManifestTablespace));
    for (size_t i = 0; i < dl->ntablespaces; i++)
        ts[i] = (ManifestTablespace){dl->tablespaces[i].oid, dl->tablespaces[i].location};
    m.tablespaces = ts;
    m.files = cr->files;
    m.nfiles = cr->nfiles;
    bool ok = manifest_save(repo, &m);
    free(ts);
    sum->duration = m.duration;
    return ok;
}

static void backup_fill_summary(BackupSummary *s, const BackupSourceInfo *si,
                                const BackupCopyResult *cr)
{
    s->start_lsn = si->start_lsn;
    s->stop_lsn = si->stop_lsn;
    s->tli = si->tli;
    s->files = cr->nfiles;
    s->bytes_logical = cr->bytes_logical;
    s->bytes_read = cr->bytes_read;
    s->bytes_new = cr->bytes_new;
    s->bytes_stored = cr->bytes_stored;
    s->chunks = cr->chunks;
    s->chunks_new = cr->chunks_new;
    s->data_checksums = si->data_checksums;
    s->pages_checked = cr->pages_checked;
    s->bad_pages = cr->bad_pages;
    s->files_guided = cr->files_guided;
    for (int r = 0; r < GUIDE_WHOLE_COUNT; r++) {
        s->files_whole_by[r] = cr->files_whole[r];
        s->files_whole += cr->files_whole[r];
    }
    s->chunks_reused = cr->chunks_reused;
    s->bytes_reused = cr->bytes_reused;
    s->chunks_rebuilt = cr->chunks_rebuilt;
}

/* The WAL guide for this backup (guide.h), or NULL and the reason in sum. */
static BackupGuide *backup_open_guide(const Config *cfg, Repo *repo, BackupSource *src,
                                      const BackupOpts *opts, const Manifest *prev,
                                      BackupSummary *sum)
{
    const BackupSourceInfo *si = backup_source_info(src);
    GuideOpts go = {.prev = prev,
                    .tli = si->tli,
                    .start_lsn = si->start_lsn,
                    .data_checksums = si->data_checksums,
                    .datadir = backup_source_datadir(src),
                    .full = opts->full,
                    .full_every = (uint32_t)cfg->backup_full_every,
                    .full_days = cfg->backup_full_days,
                    .now = time_wall()};
    BackupGuide *g = backup_guide_open(repo, &go, sum->full_reason, sizeof(sum->full_reason));
    sum->guided = g != NULL;
    if (g) {
        sum->full_reason[0] = '\0';
        sum->guided_since_full = prev->guided_since_full + 1;
        sum->full_read_time = prev->full_read_time;
        backup_guide_stats(g, &sum->wal_segments, &sum->changed_blocks);
    } else
        log_debug("reading every file whole: %s", sum->full_reason);
    return g;
}

/*
 * The newest backup, for delta bases, if it has this chunk size (0: any);
 * NULL when none or unreadable.
 */
static Manifest *backup_load_prev(Repo *repo, uint32_t chunk_size)
{
    StrList ids = {0};
    Manifest *m = NULL;
    if (manifest_list(repo, &ids) && ids.len > 0 &&
        !manifest_load(repo, ids.items[ids.len - 1], &m))
        log_warn("the previous backup cannot be read, this one stores whole chunks: %s",
                 err_message());
    err_clear();
    strlist_free(&ids);
    if (m && chunk_size && m->chunk_size != chunk_size) {
        manifest_free(m);
        m = NULL;
    }
    return m;
}

/* Copy phase: walk, copy, commit packs. */
static bool backup_copy_phase(const Config *cfg, BackupSource *src, Repo *repo, ChunkStore *cs,
                              Manifest *prev, const BackupOpts *opts, BackupSummary *sum,
                              DatadirList *dl, BackupCopyResult *cr)
{
    testpoint_pause("started");
    if (!datadir_walk(backup_source_datadir(src), dl))
        return false;
    if (opts->progress)
        progress_phase(opts->progress, "copy", dl->total_bytes);
    double t0 = time_mono();
    const BackupSourceInfo *si = backup_source_info(src);
    log_debug("walked the data directory: %zu entries", dl->n);
    BackupGuide *guide = backup_open_guide(cfg, repo, src, opts, prev, sum);
    log_debug("WAL guide ready: %.3f s", time_mono() - t0);
    BackupCopyOpts co = {.jobs = sum->jobs,
                         .chunk_size = sum->chunk_size,
                         .check_pages = si->data_checksums,
                         .start_lsn = si->start_lsn,
                         .progress = opts->progress,
                         .prev = prev,
                         .guide = guide};
    bool ok = backup_copy(dl, cs, co, cr);
    log_debug("copied: %.3f s", time_mono() - t0);
    backup_guide_free(guide);
    if (opts->progress)
        progress_end_phase(opts->progress);
    sum->copy_seconds = time_mono() - t0;
    return ok;
}

/* The chunk store and the previous backup, opened while the backup starts. */
typedef struct {
    Repo *repo;
    uint32_t chunk_size;
    ChunkStore *cs;
    Manifest *prev;
} Prep;

static bool backup_prep(void *arg)
{
    Prep *p = arg;
    if (!chunkstore_open(p->repo, &p->cs))
        return false;
    p->prev = backup_load_prev(p->repo, p->chunk_size);
    return true;
}

/*
 * pg_backup_start (a checkpoint; from a standby also the wait for its
 * replay) while the chunk indexes and the previous manifest are read: the
 * repository is only read until the copy.
 */
static bool backup_start_and_prep(BackupSource *src, const char *label, int timeout, Prep *p)
{
    WorkersBg prep;
    workers_bg_run(&prep, backup_prep, p);
    bool ok = backup_source_start(src, label, timeout);
    return workers_bg_join(&prep, ok);
}

static bool backup_flush(void *cs)
{
    return chunkstore_flush(cs);
}

/*
 * Stop the backup and wait for its WAL while the packs are committed (an
 * fsync or an upload): only the manifest must come after both (chunkstore.h
 * invariant 1).
 */
static bool backup_stop_and_flush(const Config *cfg, BackupSource *src, Repo *repo, ChunkStore *cs,
                                  const BackupOpts *opts, BackupSummary *sum)
{
    WorkersBg flush;
    workers_bg_run(&flush, backup_flush, cs);
    bool ok = backup_source_stop(src);
    if (ok) {
        double t0 = time_mono();
        if (opts->progress)
            progress_phase(opts->progress, "wal-wait", 0);
        testpoint_pause("wal-wait");
        ok = backup_source_wait_archive(src, repo, cfg->archive_timeout);
        sum->wal_wait_seconds = time_mono() - t0;
    }
    bool flushed = workers_bg_join(&flush, true); /* its failure comes first */
    log_debug("stopped, WAL archived, packs committed");
    sum->chunks_delta = chunkstore_delta_count(cs);
    return flushed && ok;
}

static bool backup_with_lock(const Config *cfg, Repo *repo, RepoLock *lock, const BackupOpts *opts,
                             BackupSummary *sum)
{
    double started = time_mono();
    bool from_standby = opts->from == BACKUP_FROM_STANDBY ||
                        (opts->from == BACKUP_FROM_AUTO && cfg->standby && cfg->standby[0]);
    BackupSource *src = NULL;
    ChunkStore *cs = NULL;
    DatadirList dl = {0};
    BackupCopyResult cr = {0};
    Prep prep = {.repo = repo, .chunk_size = sum->chunk_size};
    bool ok = backup_source_open(cfg, repo, from_standby, &src) &&
              backup_make_id(repo, time_wall(), sum->id, sizeof(sum->id));
    if (ok) { /* encrypted: a data key of its own (keyring.h) */
        char key[48];
        snprintf(key, sizeof(key), "backup-%s", sum->id);
        ok = repo_use_key(repo, key);
    }
    if (ok) {
        snprintf(sum->node, sizeof(sum->node), "%s", backup_source_node(src));
        char label[64];
        snprintf(label, sizeof(label), "drydock %s", sum->id);
        ok = backup_start_and_prep(src, label, cfg->archive_timeout, &prep);
        cs = prep.cs;
        if (!sum->chunk_size) /* not given: the previous backup's, so it guides this one */
            sum->chunk_size = prep.prev ? prep.prev->chunk_size : BACKUP_CHUNK_SIZE_DEFAULT;
        log_debug("started, store and previous backup open: %.3f s", time_mono() - started);
        ok = ok && backup_copy_phase(cfg, src, repo, cs, prep.prev, opts, sum, &dl, &cr) &&
             backup_stop_and_flush(cfg, src, repo, cs, opts, sum);
    }
    manifest_free(prep.prev);
    if (ok) {
        backup_fill_summary(sum, backup_source_info(src), &cr);
        testpoint_pause("manifest");
        /* A lock in a bucket can be lost (its lease): never publish then. */
        ok = repo_lock_check(lock) &&
             backup_save_manifest(repo, backup_source_info(src), &dl, &cr, sum, started);
    }
    log_debug("finished: %.3f s since the start", time_mono() - started);
    if (ok && cr.bad_pages > 0)
        log_warn("%" PRIu64 " page(s) failed their checksum in backup %s (listed above)",
                 cr.bad_pages, sum->id);
    backup_copy_result_free(&cr);
    datadir_list_free(&dl);
    chunkstore_close(cs);
    backup_source_close(src);
    return ok;
}

bool backup_run(const Config *cfg, Repo *repo, const BackupOpts *opts, BackupSummary *out)
{
    memset(out, 0, sizeof(*out));
    out->jobs = opts->jobs > 0 ? opts->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (out->jobs < 1)
        out->jobs = 1;
    out->chunk_size = opts->chunk_size; /* 0: decided once the previous backup is read */
    RepoLock *lock = NULL;
    bool ok = repo_lock(repo, REPO_LOCK_BACKUP, "backup", &lock) &&
              backup_with_lock(cfg, repo, lock, opts, out);
    repo_lock_release(lock);
    return ok;
}

/* s as a JSON string literal (caller frees). */
static char *json_quote(const char *s)
{
    Buf b = {0};
    buf_append(&b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            buf_printf(&b, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            buf_printf(&b, "\\u%04x", (unsigned char)*s);
        else
            buf_append(&b, s, 1);
    }
    buf_append(&b, "\"", 2);
    return (char *)b.data;
}

/* The "read" part of the summary: how relation files were read (guide.h). */
static char *backup_guide_json(const BackupSummary *s)
{
    Buf b = {0};
    buf_printf(&b, "\"read\":\"%s\",\"full_read_reason\":", s->guided ? "guided" : "full");
    char *reason = json_quote(s->full_reason);
    buf_printf(&b,
               "%s,\"wal_segments\":%" PRIu64 ",\"changed_blocks\":%" PRIu64
               ",\"files_guided\":%" PRIu64 ",\"files_read_whole\":%" PRIu64
               ",\"chunks_reused\":%" PRIu64 ",\"bytes_reused\":%" PRIu64
               ",\"chunks_rebuilt\":%" PRIu64 ",\"read_whole_because\":{",
               reason, s->wal_segments, s->changed_blocks, s->files_guided, s->files_whole,
               s->chunks_reused, s->bytes_reused, s->chunks_rebuilt);
    free(reason);
    bool first = true;
    for (int r = 1; r < GUIDE_WHOLE_COUNT; r++)
        if (s->files_whole_by[r]) {
            buf_printf(&b, "%s\"%s\":%" PRIu64, first ? "" : ",", guide_reason_name(r),
                       s->files_whole_by[r]);
            first = false;
        }
    buf_printf(&b, "}");
    buf_append(&b, "", 1);
    return (char *)b.data;
}

char *backup_summary_json(const BackupSummary *s)
{
    char start[24], stop[24];
    pg_lsn_format(s->start_lsn, start, sizeof(start));
    pg_lsn_format(s->stop_lsn, stop, sizeof(stop));
    double d = s->duration > 0 ? s->duration : 1e-9;
    double cd = s->copy_seconds > 0 ? s->copy_seconds : 1e-9;
    char *guide = backup_guide_json(s);
    char *out =
        xasprintf("{\"type\":\"summary\",\"id\":\"%s\",\"source\":\"%s\",\"start_lsn\":\"%s\","
                  "\"stop_lsn\":\"%s\",\"timeline\":%u,\"files\":%" PRIu64
                  ",\"bytes_logical\":%" PRIu64 ",\"bytes_read\":%" PRIu64 ",\"bytes_new\":%" PRIu64
                  ",\"bytes_stored\":%" PRIu64 ",\"chunks\":%" PRIu64 ",\"chunks_new\":%" PRIu64
                  ",\"chunks_delta\":%" PRIu64 ",\"chunk_size\":%u,\"jobs\":%d,"
                  "\"data_checksums\":%s,\"pages_checked\":%" PRIu64 ",\"bad_pages\":%" PRIu64
                  ",\"duration\":%.3f,\"copy_seconds\":%.3f,\"wal_wait_seconds\":%.3f,"
                  "\"read_rate\":%.0f,\"store_rate\":%.0f,%s}",
                  s->id, s->node, start, stop, s->tli, s->files, s->bytes_logical, s->bytes_read,
                  s->bytes_new, s->bytes_stored, s->chunks, s->chunks_new, s->chunks_delta,
                  s->chunk_size, s->jobs, s->data_checksums ? "true" : "false", s->pages_checked,
                  s->bad_pages, s->duration, s->copy_seconds, s->wal_wait_seconds,
                  (double)s->bytes_read / cd, (double)s->bytes_stored / d, guide);
    free(guide);
    return out;
}
