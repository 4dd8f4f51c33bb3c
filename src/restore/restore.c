/*
 * restore.c - see restore.h. The workers (step 4) live here; the
 * destination's checks and layout in dest.c.
 */
#include "restore/restore.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/testpoint.h"
#include "common/timeutil.h"
#include "common/workers.h"
#include "repo/chunkstore.h"
#include "repo/lock.h"
#include "repo/manifest.h"
#include "restore/catalog.h"
#include "restore/dest.h"
#include "common/fsutil.h"
#include "restore/plan.h"
#include "restore/recovery.h"
#include "restore/tsnames.h"

#define UNIT_BYTES (8u << 20) /* a worker takes this much of a file at a time */
_Static_assert(RESTORE_SMALL_FILE <= UNIT_BYTES, "a small file is one unit, timed whole");

/* What the workers share. */
typedef struct {
    const Manifest *m;
    const char *dir;
    ChunkStore *cs;
    const PlanUnit *units;
    size_t nunits;
    bool delta;
    Progress *progress;
    atomic_size_t *left; /* per file: units not yet done; the last one fsyncs it */
    atomic_uint_fast64_t written;
    atomic_uint_fast64_t small_ns; /* the workers' time on small files (RESTORE_SMALL_FILE) */
} Job;

/* What each worker owns: its buffers and its own pack handles. */
typedef struct {
    ChunkReader *rd;
    Buf raw, disk;
} Worker;

/* Read what is on disk at off (up to len bytes; fewer at the end of the file). */
static bool pread_some(int fd, Buf *b, size_t len, uint64_t off, const char *path)
{
    buf_reset(b);
    buf_reserve(b, len);
    return fs_pread_full(fd, b->data, len, off, &b->len, path);
}

/* Write (or, with delta, check and rewrite) the chunks of one unit. */
static bool unit_restore(Job *j, Workers *w, ChunkReader *rd, const PlanUnit *u, Buf *raw,
                         Buf *disk)
{
    const ManifestFile *f = &j->m->files[u->file];
    double t0 = time_mono();
    char *path = xasprintf("%s/%s", j->dir, f->path);
    int fd = -1;
    bool ok = dest_open_file(path, f, u->first == 0, &fd);
    uint64_t off = u->offset;
    for (size_t i = 0; ok && i < u->nchunks && !workers_failed(w); i++) {
        const ManifestChunk *c = &f->chunks[u->first + i];
        bool same = false;
        if (j->delta) {
            ok = pread_some(fd, disk, c->len, off, path);
            same = ok && plan_chunk_same(chunkstore_keys(j->cs), c, disk->data, disk->len);
        }
        if (ok && !same) {
            buf_reset(raw);
            ok = chunkstore_reader_get(rd, c->sha256, raw);
            if (ok && raw->len != c->len)
                ok = err_set(DD_EXIT_CORRUPT, "a chunk of %zu bytes is %" PRIu32 " in the manifest",
                             raw->len, c->len);
            if (!ok) {
                err_context("restoring file \"%s\" of the backup", f->path);
                err_hint("run \"drydock verify\"; restore another backup with --backup ID");
            }
            ok = ok && fs_pwrite_all(fd, raw->data, raw->len, off, path);
            if (ok)
                atomic_fetch_add(&j->written, c->len);
        }
        if (j->progress)
            progress_add(j->progress, c->len);
        off += c->len;
    }
    /*
     * Start writing this unit back now, so that the file's fsync below finds
     * little left to write and the disk works while the workers decompress
     * (advice only: a write error still surfaces at the fsync).
     */
    if (ok)
        (void)sync_file_range(fd, (off_t)u->offset, (off_t)u->bytes, SYNC_FILE_RANGE_WRITE);
    /* The file's last unit makes it durable (one fsync a file, by the workers). */
    if (ok && atomic_fetch_sub(&j->left[u->file], 1) == 1 && fsync(fd) != 0)
        ok = err_errno("could not fsync file \"%s\"", path);
    if (fd >= 0)
        close(fd);
    free(path);
    if (ok && f->size < RESTORE_SMALL_FILE)
        atomic_fetch_add(&j->small_ns, (uint_fast64_t)((time_mono() - t0) * 1e9));
    return ok;
}

static bool worker_item(Workers *w, size_t i, void *local, void *arg)
{
    Job *j = arg;
    Worker *wk = local;
    if (!unit_restore(j, w, wk->rd, &j->units[i], &wk->raw, &wk->disk))
        return false;
    if (i == j->nunits / 2)
        testpoint_pause("restore-write"); /* half the files written, the rest not */
    return true;
}

static void *worker_new(void *arg)
{
    Worker *wk = xcalloc(1, sizeof(*wk));
    wk->rd = chunkstore_reader_new(((Job *)arg)->cs);
    return wk;
}

static void worker_free(void *local, void *arg)
{
    (void)arg;
    Worker *wk = local;
    chunkstore_reader_free(wk->rd);
    buf_free(&wk->raw);
    buf_free(&wk->disk);
    free(wk);
}

/*
 * While the workers run, this thread creates the files they are about to
 * open, in the order they take them. A create holds its directory's lock,
 * so workers creating files in one directory (base/<db>) wait for each
 * other, and on ext4 a create can take a millisecond when many inodes were
 * recently freed; opening an existing file takes no such lock. Best effort:
 * the workers still open with O_CREAT and report any failure themselves.
 */
static void precreate_files(Workers *w, void *arg)
{
    Job *j = arg;
    for (size_t i = 0; i < j->nunits && !workers_failed(w); i++) {
        const PlanUnit *u = &j->units[i];
        if (u->first != 0 || workers_taken(w) > i)
            continue; /* not the start of a file, or a worker has it already */
        char *path = xasprintf("%s/%s", j->dir, j->m->files[u->file].path);
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0)
            close(fd);
        free(path);
    }
}

/* Step 4: every chunk of every file, with jobs threads (and this one creating files). */
static bool write_files(Job *j, int jobs)
{
    return workers_run(&(WorkersOpts){.jobs = jobs,
                                      .n = j->nunits,
                                      .item = worker_item,
                                      .local_new = worker_new,
                                      .local_free = worker_free,
                                      .meanwhile = precreate_files,
                                      .arg = j});
}

/* Step 1: the backup to restore, by the target and the window. */
static bool choose_backup(Repo *repo, const RestoreOpts *o, char *id, size_t idlen,
                          TargetTimeline *timeline)
{
    /* A forced backup whose manifest does not load: say why, not "does not exist". */
    Manifest *forced = NULL;
    if (o->backup_id && !manifest_load(repo, o->backup_id, &forced)) {
        if (err_code() == DD_EXIT_CORRUPT)
            err_context("backup \"%s\" cannot be restored: its manifest is damaged", o->backup_id);
        return false;
    }
    manifest_free(forced);
    Catalog cat;
    if (!catalog_load(repo, &cat))
        return false;
    WindowChoice choice;
    bool ok = window_select(&cat.window, cat.wb, cat.nbackups, &o->target, o->backup_id, &choice);
    if (ok) {
        snprintf(id, idlen, "%s", cat.backups[choice.backup].id);
        *timeline = choice.timeline;
    }
    catalog_free(&cat);
    return ok;
}

/* Step 5: backup_label, tablespace_map, recovery settings. */
static bool write_control_files(const RestoreOpts *o, const Manifest *m, char *const *tsloc,
                                TargetTimeline timeline)
{
    char *label = xasprintf("%s/backup_label", o->dest);
    char *map = xasprintf("%s/tablespace_map", o->dest);
    bool ok = fs_write_file(label, m->backup_label, strlen(m->backup_label), 0600);
    if (ok && m->ntablespaces > 0) {
        Buf b = {0};
        tsmap_render(m->tablespaces, tsloc, m->ntablespaces, &b);
        ok = fs_write_file(map, b.data, b.len, 0600);
        buf_free(&b);
    } else if (ok) {
        ok = fs_remove(map);
    }
    RecoveryOpts ro = {
        .drydock_path = o->drydock_path,
        .config_path = o->config_path,
        .target = &o->target,
        .timeline = timeline,
        .port = o->port,
        .sets = o->sets,
        .standby_of = o->standby_of,
    };
    ok = ok && recovery_write(o->dest, &ro);
    free(label);
    free(map);
    return ok;
}

static int default_jobs(int jobs)
{
    if (jobs > 0)
        return jobs;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* The canonical form of path, which need not exist yet (its parent must, to resolve). */
static char *canonical(const char *path)
{
    char *r = realpath(path, NULL);
    if (r)
        return r;
    char *copy = xstrdup(path);
    char *slash = strrchr(copy, '/');
    if (slash && slash != copy) {
        *slash = '\0';
        char *parent = realpath(copy, NULL);
        if (parent) {
            r = xasprintf("%s/%s", parent, slash + 1);
            free(parent);
        }
    }
    free(copy);
    return r ? r : xstrdup(path);
}

/* The destination must not be the repository or inside it. */
static bool check_not_in_repo(Repo *repo, const char *dest)
{
    char *d = canonical(dest), *r = canonical(repo_path(repo));
    size_t n = strlen(r);
    bool inside = strncmp(d, r, n) == 0 && (d[n] == '\0' || d[n] == '/');
    free(d);
    free(r);
    if (!inside)
        return true;
    err_set(DD_EXIT_USAGE, "destination directory \"%s\" is inside the repository \"%s\"", dest,
            repo_path(repo));
    err_hint("restore somewhere else: drydock alone writes in its repository");
    return false;
}

/* Step 4 with its progress phase. */
static bool run_workers(const RestoreOpts *o, const Manifest *m, ChunkStore *cs, RestoreResult *out)
{
    PlanUnit *units = NULL;
    size_t nunits = plan_units(m->files, m->nfiles, UNIT_BYTES, &units);
    out->jobs = default_jobs(o->jobs);
    if ((size_t)out->jobs > nunits)
        out->jobs = nunits > 0 ? (int)nunits : 1;
    atomic_size_t *left = xcalloc(m->nfiles ? m->nfiles : 1, sizeof(*left));
    for (size_t i = 0; i < nunits; i++)
        atomic_fetch_add(&left[units[i].file], 1);
    Job j = {.m = m,
             .left = left,
             .dir = o->dest,
             .cs = cs,
             .units = units,
             .nunits = nunits,
             .delta = o->delta,
             .progress = o->progress};
    if (o->progress)
        progress_phase(o->progress, o->delta ? "delta" : "restore", m->bytes_logical);
    bool ok = write_files(&j, out->jobs);
    if (o->progress)
        progress_end_phase(o->progress);
    out->bytes_written = atomic_load(&j.written);
    out->small_s = (double)atomic_load(&j.small_ns) / 1e9 / out->jobs;
    free(units);
    free(left);
    return ok;
}

/*
 * The names of the backup's tablespaces, from its pg_tablespace file (only
 * needed to map them by name; a failure just leaves them unnamed).
 */
static size_t tablespace_names(ChunkStore *cs, const Manifest *m, TsName **out)
{
    *out = NULL;
    const ManifestFile *f = NULL;
    for (size_t i = 0; i < m->nfiles && !f; i++)
        if (strcmp(m->files[i].path, TSNAMES_RELPATH) == 0)
            f = &m->files[i];
    if (!f || m->ntablespaces == 0)
        return 0;
    Buf data = {0};
    bool ok = true;
    for (size_t i = 0; ok && i < f->nchunks; i++)
        ok = chunkstore_get(cs, f->chunks[i].sha256, &data);
    size_t n = ok ? tsnames_parse(data.data, data.len, out) : 0;
    if (!ok) {
        log_debug("tablespace names unknown: %s", err_message());
        err_clear();
    }
    buf_free(&data);
    return n;
}

/* Step 2 (tablespace locations, the destination), then 3 to 5. */
static bool restore_manifest(Repo *repo, const RestoreOpts *o, const Manifest *m,
                             TargetTimeline timeline, RestoreResult *out)
{
    if (!m->backup_label || strncmp(m->backup_label, "START WAL LOCATION:", 19) != 0) {
        /* Without its label PostgreSQL would take the copy for a crashed cluster. */
        err_set(DD_EXIT_CORRUPT, "backup \"%s\" has no backup_label in its manifest", m->id);
        err_hint("run \"drydock verify\"; restore another backup with --backup ID");
        return false;
    }
    ChunkStore *cs = NULL;
    if (!check_not_in_repo(repo, o->dest) || !chunkstore_open(repo, &cs))
        return false;
    TsName *names = NULL;
    size_t nnames = o->tsmap->len > 0 ? tablespace_names(cs, m, &names) : 0;
    char **tsloc = NULL;
    bool ok =
        tsmap_resolve(o->tsmap, m->tablespaces, m->ntablespaces, names, nnames, m->id, &tsloc);
    free(names);
    RestoreDest d = {o->dest, m, tsloc, o->delta};
    ok = ok && dest_check(&d);
    if (ok)
        log_info("restoring backup %s (%s) to \"%s\"%s", m->id, out->target, o->dest,
                 o->delta ? ", delta" : "");
    double t0 = time_mono();
    ok = ok && (!o->delta || dest_clean(&d, &out->removed)) &&
         dest_layout(&d, &out->dirs, &out->files);
    double t1 = time_mono();
    ok = ok && run_workers(o, m, cs, out);
    double t2 = time_mono();
    out->copy_s = t2 - t1;
    out->small_s = fmin(out->small_s, out->copy_s);
    ok = ok && write_control_files(o, m, tsloc, timeline) && dest_finish(&d);
    if (ok)
        log_debug("layout %.3f s, files %.3f s (small files %.3f s), control files and sync "
                  "%.3f s",
                  t1 - t0, t2 - t1, out->small_s, time_mono() - t2);
    chunkstore_close(cs);
    tsmap_free_locations(tsloc, m->ntablespaces);
    return ok;
}

static bool restore_locked(Repo *repo, const RestoreOpts *o, RestoreResult *out, double t0)
{
    TargetTimeline timeline = TARGET_TIMELINE_LATEST;
    if (!choose_backup(repo, o, out->backup_id, sizeof(out->backup_id), &timeline))
        return false;
    log_debug("backup chosen in %.3f s", time_mono() - t0);
    if (o->standby_of)
        timeline = TARGET_TIMELINE_LATEST;
    out->timeline = timeline == TARGET_TIMELINE_LATEST ? "latest" : "current";
    if (o->standby_of)
        snprintf(out->target, sizeof(out->target), "streaming standby");
    else
        target_describe(&o->target, out->target, sizeof(out->target));
    Manifest *m = NULL;
    if (!manifest_load(repo, out->backup_id, &m))
        return false;
    out->bytes_total = m->bytes_logical;
    bool ok = restore_manifest(repo, o, m, timeline, out);
    manifest_free(m);
    return ok;
}

bool restore_run(Repo *repo, const RestoreOpts *o, RestoreResult *out)
{
    double t0 = time_mono();
    memset(out, 0, sizeof(*out));
    /* Shared with other readers; expire, which removes chunks, waits for none. */
    RepoLock *lock = NULL;
    bool ok = repo_lock(repo, REPO_LOCK_CHUNKS_SHARED, "restore", &lock) &&
              restore_locked(repo, o, out, t0);
    repo_lock_release(lock);
    out->duration = time_mono() - t0;
    return ok;
}
