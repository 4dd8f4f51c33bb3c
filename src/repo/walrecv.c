/*
 * walrecv.c - see walrecv.h.
 */
#include "repo/walrecv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "pg/conn.h"
#include "pg/replconn.h"
#include "pg/replmsg.h"
#include "pg/wal.h"
#include "repo/lock.h"
#include "repo/walarchive.h"
#include "repo/walpush.h"
#include "repo/walrecvpush.h"
#include "repo/walrecvstat.h"

typedef struct {
    const WalRecvOpts *o;
    Repo *repo;
    uint32_t seg_size;
    volatile sig_atomic_t *stop;
    int lock_fd;
    bool have_pos;     /* tli/pos hold where to go on (after the first session) */
    uint32_t tli;      /* timeline being received */
    uint64_t pos;      /* next byte to write: the write position */
    uint64_t flushed;  /* fsynced: the flush position reported */
    uint64_t reported; /* flush position last sent */
    uint64_t server;   /* the server's end of WAL, as last heard */
    int fd;            /* the open .partial, or -1 */
    uint64_t fd_segno;
    WalRecvPusher *pusher; /* completed files into the archive (walrecvpush.h) */
    const char *state;
    double next_status, status_written;
} Recv;

static char *spool_file(const Recv *r, const char *name)
{
    return xasprintf("%s/%s", r->o->spool, name);
}

static void partial_name(uint32_t tli, uint64_t segno, uint32_t seg_size, char *out)
{
    wal_segment_name(tli, segno, seg_size, out);
    strcat(out, ".partial");
}

/* The status file; a failure is logged, never fatal (it is a report). */
static void status_write(Recv *r)
{
    WalRecvStat s = {.pid = (long)getpid(),
                     .synchronous = r->o->synchronous,
                     .timeline = r->tli,
                     .write = r->pos,
                     .flush = r->flushed,
                     .server = r->server > r->pos ? r->server : r->pos,
                     .updated = time_wall()};
    snprintf(s.state, sizeof(s.state), "%s", r->state);
    snprintf(s.slot, sizeof(s.slot), "%s", r->o->slot);
    if (r->pusher)
        walrecvpush_archived(r->pusher, s.archived, sizeof(s.archived));
    if (!walrecvstat_write(r->o->spool, &s)) {
        log_warn("could not write the wal-receive status: %s", err_message());
        err_clear();
    }
    r->status_written = time_mono();
}

/* Take the spool's lock (walrecv.h); DD_EXIT_LOCKED naming nothing more than the spool. */
static bool spool_lock(const char *spool, int *fd_out)
{
    char *parent = xstrdup(spool), *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        (void)mkdir(parent, 0750); /* the state directory, on a first run; errors show below */
    }
    free(parent);
    if (mkdir(spool, 0750) != 0 && errno != EEXIST)
        return err_errno("could not create the wal-receive spool \"%s\"", spool);
    char *path = xasprintf("%s/lock", spool);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    bool ok = fd >= 0 || err_errno("could not open \"%s\"", path);
    if (ok && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ok = errno == EWOULDBLOCK ? err_set(DD_EXIT_LOCKED,
                                            "the wal-receive spool \"%s\" is in use by another "
                                            "wal-receive",
                                            spool)
                                  : err_errno("could not lock \"%s\"", path);
        if (err_code() == DD_EXIT_LOCKED)
            err_hint("stop it first (systemctl stop drydock-wal-receive), or give this one "
                     "its own --spool");
    }
    if (!ok && fd >= 0)
        close(fd);
    free(path);
    *fd_out = ok ? fd : -1;
    return ok;
}

/* Invariant 1: fsync what was written before it is reported. */
static bool recv_flush(Recv *r)
{
    if (r->fd >= 0 && r->flushed < r->pos && fdatasync(r->fd) != 0)
        return err_errno("could not fsync the WAL spool file of segment %" PRIu64, r->fd_segno);
    r->flushed = r->pos;
    return true;
}

/* Open (or create) the .partial of the segment that holds pos; it must end at pos. */
static bool partial_open(Recv *r)
{
    uint64_t segno = r->pos / r->seg_size, off = r->pos % r->seg_size;
    char name[40];
    partial_name(r->tli, segno, r->seg_size, name);
    char *path = spool_file(r, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    bool ok = fd >= 0 || err_errno("could not open WAL spool file \"%s\"", path);
    struct stat st;
    if (ok && fstat(fd, &st) != 0)
        ok = err_errno("could not stat \"%s\"", path);
    if (ok && (uint64_t)st.st_size < off)
        ok = err_set(DD_EXIT_IO, "WAL spool file \"%s\" is %jd bytes, expected at least %" PRIu64,
                     path, (intmax_t)st.st_size, off);
    if (ok && (uint64_t)st.st_size > off && ftruncate(fd, (off_t)off) != 0)
        ok = err_errno("could not truncate \"%s\"", path);
    if (ok && lseek(fd, (off_t)off, SEEK_SET) < 0)
        ok = err_errno("could not seek in \"%s\"", path);
    if (ok && off == 0)
        ok = fs_fsync_parent(path);
    if (!ok && fd >= 0)
        close(fd);
    free(path);
    r->fd = ok ? fd : -1;
    r->fd_segno = segno;
    return ok;
}

/* The segment is whole (invariant 3): fsync, rename, then push (a failed push waits). */
static bool segment_complete(Recv *r)
{
    char name[40], part[40];
    wal_segment_name(r->tli, r->fd_segno, r->seg_size, name);
    partial_name(r->tli, r->fd_segno, r->seg_size, part);
    bool ok = fdatasync(r->fd) == 0 || err_errno("could not fsync WAL spool file \"%s\"", part);
    close(r->fd);
    r->fd = -1;
    char *from = spool_file(r, part), *to = spool_file(r, name);
    if (ok && rename(from, to) != 0)
        ok = err_errno("could not rename \"%s\" to \"%s\"", from, name);
    if (ok)
        ok = fs_fsync_dir(r->o->spool);
    free(from);
    free(to);
    if (!ok)
        return false;
    r->flushed = r->pos;
    walrecvpush_kick(r->pusher); /* pushed at once, on the pusher's thread */
    return true;
}

/* One XLogData message: appended to the spool, segment by segment. */
static bool recv_write(Recv *r, const ReplMsg *m)
{
    if (m->data_start != r->pos) {
        char want[24], got[24];
        pg_lsn_format(r->pos, want, sizeof(want));
        pg_lsn_format(m->data_start, got, sizeof(got));
        return err_set(DD_EXIT_PROTOCOL, "the server sent WAL from %s, expected %s", got, want);
    }
    const uint8_t *p = m->data;
    size_t left = m->len;
    while (left > 0) {
        if (r->fd < 0 && !partial_open(r))
            return false;
        uint64_t room = r->seg_size - r->pos % r->seg_size;
        size_t n = left < room ? left : (size_t)room;
        if (!fs_write_all(r->fd, p, n, "the WAL spool file"))
            return false;
        r->pos += n;
        p += n;
        left -= n;
        if (r->pos % r->seg_size == 0 && !segment_complete(r))
            return false;
    }
    return true;
}

static bool send_status(Recv *r, PGconn *conn, bool flush)
{
    if (flush && !recv_flush(r))
        return false;
    if (!replconn_send_status(conn, r->pos, r->flushed, false))
        return false;
    r->reported = r->flushed;
    if (time_mono() - r->status_written >= 1.0)
        status_write(r);
    return true;
}

/* The timeline that holds pos, from the server's history of its timeline tli. */
static bool timeline_of(Recv *r, PGconn *conn, uint32_t tli, uint64_t pos, uint32_t *out)
{
    *out = tli;
    if (tli <= 1)
        return true;
    char *name = NULL;
    Buf content = {0};
    if (!replconn_timeline_history(conn, tli, &name, &content))
        return false;
    buf_append(&content, "", 1);
    char *save = NULL;
    for (char *line = strtok_r((char *)content.data, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        unsigned long parent;
        char lsn[40];
        uint64_t switchpoint;
        if (sscanf(line, "%lu %39s", &parent, lsn) == 2 && pg_lsn_parse(lsn, &switchpoint) &&
            pos < switchpoint) {
            *out = (uint32_t)parent;
            break;
        }
    }
    (void)r;
    free(name);
    buf_free(&content);
    return true;
}

/* Invariant 4 when the spool has nothing to go on from: the archive and the slot. */
static bool start_from_archive(Recv *r, PGconn *conn, const ReplIdentity *id, uint64_t slot_lsn)
{
    StrList segs = {0};
    if (!walarchive_list_segments(r->repo, &segs))
        return false;
    uint64_t next = 0;
    for (size_t i = 0; i < segs.len; i++) {
        WalFileName wn;
        if (wal_name_parse(segs.items[i], &wn) && wn.tli <= id->timeline &&
            wal_segno(&wn, r->seg_size) + 1 > next)
            next = wal_segno(&wn, r->seg_size) + 1;
        err_clear();
    }
    strlist_free(&segs);
    uint64_t floor = (slot_lsn ? slot_lsn : id->xlogpos) / r->seg_size;
    uint64_t cap = id->xlogpos / r->seg_size;
    uint64_t segno = next > floor ? next : floor;
    if (segno > cap)
        segno = cap;
    r->pos = segno * r->seg_size;
    return timeline_of(r, conn, id->timeline, r->pos, &r->tli);
}

/* Invariant 4: where this receiver goes on from (first session only). */
static bool choose_start(Recv *r, PGconn *conn, const ReplIdentity *id, uint64_t slot_lsn)
{
    StrList parts = {0}, segs = {0};
    bool ok = walrecvpush_list(r->o->spool, WAL_FILE_PARTIAL, &parts) &&
              walrecvpush_list(r->o->spool, WAL_FILE_SEGMENT, &segs);
    WalFileName wn;
    uint64_t best = 0;
    bool found = false;
    for (size_t i = 0; ok && i < parts.len + segs.len; i++) {
        const char *name = i < parts.len ? parts.items[i] : segs.items[i - parts.len];
        if (!wal_name_parse(name, &wn))
            continue;
        /* A .partial is received again from its first byte (invariant 2). */
        uint64_t end = (wal_segno(&wn, r->seg_size) + (i < parts.len ? 0 : 1)) * r->seg_size;
        if (!found || end > best || (end == best && wn.tli > r->tli)) {
            best = end;
            r->tli = wn.tli;
            found = true;
        }
    }
    strlist_free(&parts);
    strlist_free(&segs);
    if (!ok)
        return false;
    if (!found)
        return start_from_archive(r, conn, id, slot_lsn);
    r->pos = best;
    return true;
}

/* A timeline after the first needs its history file in the archive (as wal-push gets it). */
static bool history_ensure(Recv *r, PGconn *conn, uint32_t tli)
{
    if (tli <= 1)
        return true;
    char name[32];
    snprintf(name, sizeof(name), "%08" PRIX32 ".history", tli);
    bool exists = false;
    if (!walarchive_exists(r->repo, name, &exists))
        return false;
    if (exists)
        return true;
    char *got = NULL;
    Buf content = {0};
    bool left = false;
    bool ok = replconn_timeline_history(conn, tli, &got, &content);
    char *path = ok ? spool_file(r, name) : NULL;
    if (ok)
        ok = fs_write_file(path, content.data, content.len, 0600) &&
             walrecvpush_file(r->pusher, name, PUSH_WAIT, &left);
    free(path);
    free(got);
    buf_free(&content);
    return ok;
}

/*
 * The server ended the stream. After a timeline switch, the old timeline's
 * unfinished segment is dropped: the new timeline's copy of that segment
 * holds the same bytes up to the switch, and streaming resumes at its start.
 */
static bool stream_end(Recv *r, PGconn *conn)
{
    bool switched = false;
    uint32_t next = 0;
    uint64_t start = 0;
    if (!recv_flush(r) || !replconn_end(conn, &switched, &next, &start))
        return false;
    if (!switched)
        return err_set(DD_EXIT_PG, "the server ended the WAL stream");
    char at[24], name[40];
    pg_lsn_format(start, at, sizeof(at));
    log_info("timeline %" PRIu32 " ended at %s; following timeline %" PRIu32, r->tli, at, next);
    if (r->fd >= 0) {
        close(r->fd);
        r->fd = -1;
        partial_name(r->tli, r->fd_segno, r->seg_size, name);
        char *path = spool_file(r, name);
        bool ok = fs_remove(path);
        free(path);
        if (!ok)
            return false;
    }
    r->tli = next;
    r->pos = r->flushed = start - start % r->seg_size;
    return true;
}

/* SIGTERM: what was received is made durable and reported before the session ends. */
static bool stream_stop(Recv *r, PGconn *conn)
{
    bool ok = recv_flush(r);
    if (ok && !replconn_send_status(conn, r->pos, r->flushed, false))
        err_clear(); /* the server may be gone; the spool is durable either way */
    return ok;
}

/* One message from the server. */
static bool stream_message(Recv *r, PGconn *conn, const char *buf, int len)
{
    ReplMsg m;
    if (!replmsg_parse((const uint8_t *)buf, (size_t)len, &m))
        return false;
    if (m.wal_end > r->server)
        r->server = m.wal_end;
    if (m.kind == REPLMSG_XLOGDATA)
        return recv_write(r, &m);
    if (m.reply_requested)
        return send_status(r, conn, r->o->synchronous);
    return true;
}

/* Receive until the stream ends, an error, or *stop; true on a timeline switch or stop. */
static bool stream_loop(Recv *r, PGconn *conn)
{
    r->next_status = 0;
    for (;;) {
        if (*r->stop)
            return stream_stop(r, conn);
        double now = time_mono();
        if (now >= r->next_status) {
            if (!send_status(r, conn, true))
                return false;
            r->next_status = now + r->o->status_interval;
        }
        /* Synchronous: drain what is there, then fsync and report at once. */
        bool pending = r->o->synchronous && r->pos > r->reported;
        double wait = pending ? 0 : r->next_status - now;
        char *buf = NULL;
        int len = 0;
        ReplRecv what;
        if (!replconn_receive(conn, wait > 1 ? 1 : wait, &buf, &len, &what))
            return false;
        if (what == REPLCONN_END)
            return stream_end(r, conn);
        if (what == REPLCONN_TIMEOUT) {
            if (pending && !send_status(r, conn, true))
                return false;
            continue;
        }
        bool ok = stream_message(r, conn, buf, len);
        PQfreemem(buf);
        if (!ok)
            return false;
    }
}

/* One connection: identify, slot, where to start, then stream. *streamed once it started. */
static bool stream_session(Recv *r, PGconn *conn, bool *streamed)
{
    ReplIdentity id;
    bool exists = false;
    uint64_t slot_lsn = 0;
    if (!replconn_identify(conn, &id) || !replconn_slot_read(conn, r->o->slot, &exists, &slot_lsn))
        return false;
    if (id.system_id != repo_system_id(r->repo)) {
        err_set(DD_EXIT_CONFLICT,
                "the server's system identifier is %" PRIu64 ", the repository's %" PRIu64,
                id.system_id, repo_system_id(r->repo));
        err_hint("wal-receive streams from the cluster the repository was created for");
        return false;
    }
    if (!exists) {
        if (!replconn_slot_create(conn, r->o->slot) ||
            !replconn_slot_read(conn, r->o->slot, &exists, &slot_lsn))
            return false;
        log_info("created physical replication slot \"%s\"", r->o->slot);
    }
    if (!r->have_pos && !choose_start(r, conn, &id, slot_lsn))
        return false;
    r->have_pos = true;
    r->pos -= r->pos % r->seg_size; /* invariant 2: the .partial is received again whole */
    if (r->fd >= 0) {
        close(r->fd);
        r->fd = -1;
    }
    if (!history_ensure(r, conn, r->tli) || !replconn_start(conn, r->o->slot, r->pos, r->tli))
        return false;
    *streamed = true;
    r->flushed = r->reported = r->pos;
    char at[24];
    pg_lsn_format(r->pos, at, sizeof(at));
    log_info("streaming WAL from %s on timeline %" PRIu32 "%s", at, r->tli,
             r->o->synchronous ? " (synchronous)" : "");
    r->state = "streaming";
    status_write(r);
    return stream_loop(r, conn);
}

/* Sleep up to seconds, or less when *stop is set. */
static void backoff_sleep(Recv *r, double seconds)
{
    double end = time_mono() + seconds;
    while (!*r->stop && time_mono() < end)
        time_sleep(0.1);
}

bool walrecv_run(Repo *repo, const WalRecvOpts *opts, volatile sig_atomic_t *stop)
{
    Recv r = {.o = opts,
              .repo = repo,
              .seg_size = repo_wal_seg_size(repo),
              .stop = stop,
              .fd = -1,
              .state = "connecting"};
    /*
     * A writer must be the repository's owner (run as root it would write
     * what that owner cannot replace): the archive lock says so at once,
     * not at the first complete segment. A lock busy with wal-push is fine.
     */
    RepoLock *probe = NULL;
    if (!repo_lock(repo, REPO_LOCK_ARCHIVE, "wal-receive", &probe) && err_code() != DD_EXIT_LOCKED)
        return false;
    repo_lock_release(probe);
    err_clear();
    if (!spool_lock(opts->spool, &r.lock_fd))
        return false;
    r.pusher = walrecvpush_new(repo, opts->spool);
    bool ok = walrecvpush_start(r.pusher); /* it pushes what waits in the spool first */
    double backoff = 1;
    while (ok && !*stop) {
        r.state = "connecting";
        status_write(&r);
        bool streamed = false, done = false;
        PGconn *conn = replconn_open(opts->conninfo, opts->app_name);
        if (conn)
            done = stream_session(&r, conn, &streamed);
        pg_disconnect(conn);
        if (done)
            continue; /* a timeline switch, or stop */
        DdExit code = err_code();
        if (code == DD_EXIT_IO || code == DD_EXIT_CONFLICT || code == DD_EXIT_LOCKED) {
            ok = false; /* the spool or the repository: retrying cannot mend it */
            break;
        }
        if (streamed)
            backoff = 1;
        log_warn("%s; reconnecting in %.0f s", err_message(), backoff);
        err_clear();
        r.state = "connecting";
        status_write(&r);
        backoff_sleep(&r, backoff);
        backoff = backoff * 2 > 60 ? 60 : backoff * 2;
    }
    if (r.fd >= 0) {
        if (ok && !recv_flush(&r))
            ok = false;
        close(r.fd);
    }
    /* What is left goes now (a busy lock leaves it for the next start). */
    walrecvpush_stop(r.pusher);
    bool left = false;
    if (ok && !walrecvpush_pending(r.pusher, PUSH_TRY, &left)) {
        log_warn("could not archive what waits in the spool: %s (pushed at the next start)",
                 err_message());
        err_clear();
    }
    r.state = "stopped";
    status_write(&r);
    if (ok && r.have_pos) {
        char at[24];
        pg_lsn_format(r.flushed, at, sizeof(at));
        log_info("stopped; WAL up to %s on timeline %" PRIu32 " is durable in the spool", at,
                 r.tli);
    }
    walrecvpush_free(r.pusher);
    close(r.lock_fd);
    return ok;
}

/* The spool's newest .partial (by segment, then timeline) into name; false when none. */
static bool newest_partial(Recv *r, char *name, size_t len)
{
    StrList parts = {0};
    bool ok = walrecvpush_list(r->o->spool, WAL_FILE_PARTIAL, &parts);
    uint64_t best = 0;
    name[0] = '\0';
    for (size_t i = 0; ok && i < parts.len; i++) {
        WalFileName wn;
        if (!wal_name_parse(parts.items[i], &wn))
            continue;
        uint64_t segno = wal_segno(&wn, r->seg_size);
        if (name[0] == '\0' || segno >= best) {
            best = segno;
            snprintf(name, len, "%s", parts.items[i]);
        }
    }
    strlist_free(&parts);
    return ok;
}

bool walrecv_flush_partial(Repo *repo, const char *spool, char *pushed, size_t pushed_len)
{
    WalRecvOpts o = {.spool = spool};
    Recv r = {.o = &o, .repo = repo, .seg_size = repo_wal_seg_size(repo), .fd = -1};
    pushed[0] = '\0';
    char name[64];
    if (!spool_lock(spool, &r.lock_fd))
        return false;
    /* Complete segments still in the spool come first: the archive needs them too. */
    WalRecvPusher *pusher = walrecvpush_new(repo, spool);
    bool left = false;
    bool ok =
        walrecvpush_pending(pusher, PUSH_WAIT, &left) && newest_partial(&r, name, sizeof(name));
    walrecvpush_free(pusher);
    if (!ok || name[0] == '\0') {
        close(r.lock_fd);
        return ok;
    }
    char *src = spool_file(&r, name), *dir = spool_file(&r, "flush");
    char *dst = xasprintf("%s/%s", dir, name);
    Buf data = {0};
    bool found = false;
    ok = fs_read_file(src, &data, &found);
    if (ok && (!found || data.len > r.seg_size))
        ok = err_set(DD_EXIT_IO, "WAL spool file \"%s\" vanished or is too long", src);
    if (ok && mkdir(dir, 0750) != 0 && errno != EEXIST)
        ok = err_errno("could not create \"%s\"", dir);
    if (ok) {
        size_t have = data.len;
        buf_reserve(&data, r.seg_size - have);
        memset(data.data + have, 0, r.seg_size - have);
        data.len = r.seg_size;
        ok = fs_write_file(dst, data.data, data.len, 0600);
    }
    WalPushResult res;
    if (ok)
        ok = walpush_file(repo, dst, "wal-receive --flush-partial", 60, &res);
    if (ok)
        snprintf(pushed, pushed_len, "%s", name);
    unlink(dst);
    buf_free(&data);
    free(src);
    free(dir);
    free(dst);
    close(r.lock_fd);
    return ok;
}
