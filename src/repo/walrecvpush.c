/*
 * walrecvpush.c - see walrecvpush.h.
 */
#include "repo/walrecvpush.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/workers.h"
#include "repo/lock.h"
#include "repo/walarchive.h"
#include "repo/walpush.h"

struct WalRecvPusher {
    Repo *repo;
    char *spool;
    pthread_mutex_t push_mu; /* invariant 1: held for each push */
    pthread_mutex_t mu;      /* the fields below */
    pthread_cond_t cv;
    WorkersBg thread;
    bool running, stop, kicked;
    char archived[64];
};

WalRecvPusher *walrecvpush_new(Repo *repo, const char *spool)
{
    WalRecvPusher *p = xcalloc(1, sizeof(*p));
    p->repo = repo;
    p->spool = xstrdup(spool);
    pthread_mutex_init(&p->push_mu, NULL);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    return p;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

bool walrecvpush_list(const char *spool, WalFileKind kind, StrList *out)
{
    DIR *d = opendir(spool);
    if (!d)
        return err_errno("could not open the wal-receive spool \"%s\"", spool);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        WalFileName wn;
        if (e->d_name[0] == '.' || fs_is_temp_name(e->d_name))
            continue;
        if (!wal_name_parse(e->d_name, &wn)) {
            err_clear();
            continue;
        }
        if (wn.kind == kind)
            strlist_push(out, e->d_name);
    }
    closedir(d);
    if (out->len > 1)
        qsort(out->items, out->len, sizeof(char *), cmp_str);
    return true;
}

/*
 * One file (invariant 2), with push_mu held. A file the archive already
 * holds (archive_command was first) is only compared: no lock needed.
 */
static bool push_one(WalRecvPusher *p, const char *name, WalRecvPushMode mode, bool *left)
{
    char *path = xasprintf("%s/%s", p->spool, name);
    RepoLock *lock = NULL;
    WalPushResult res;
    bool need = walpush_needs_lock(p->repo, name), exists = false, ok = true;
    *left = false;
    if (need)
        ok = walarchive_exists(p->repo, name, &exists);
    if (ok && need && !exists)
        ok = repo_lock_wait(p->repo, REPO_LOCK_ARCHIVE, "wal-receive", mode == PUSH_WAIT ? 60 : 0,
                            &lock);
    if (!ok && err_code() == DD_EXIT_LOCKED && mode != PUSH_WAIT) {
        log_debug("%s waits: %s", name, err_message());
        err_clear();
        *left = true;
        free(path);
        return true;
    }
    if (ok)
        ok = walarchive_push(p->repo, path, &res);
    repo_lock_release(lock);
    if (ok) {
        log_debug("%s %s", res == WAL_PUSH_ALREADY ? "already archived:" : "archived", name);
        ok = fs_remove(path);
    }
    if (ok && strlen(name) == WAL_NAME_LEN) {
        pthread_mutex_lock(&p->mu);
        snprintf(p->archived, sizeof(p->archived), "%s", name);
        pthread_mutex_unlock(&p->mu);
    }
    free(path);
    return ok;
}

bool walrecvpush_file(WalRecvPusher *p, const char *name, WalRecvPushMode mode, bool *left)
{
    pthread_mutex_lock(&p->push_mu);
    bool ok = push_one(p, name, mode, left);
    pthread_mutex_unlock(&p->push_mu);
    return ok;
}

bool walrecvpush_pending(WalRecvPusher *p, WalRecvPushMode mode, bool *left)
{
    StrList hist = {0}, segs = {0};
    *left = false;
    pthread_mutex_lock(&p->push_mu);
    bool ok = walrecvpush_list(p->spool, WAL_FILE_HISTORY, &hist) &&
              walrecvpush_list(p->spool, WAL_FILE_SEGMENT, &segs);
    for (size_t i = 0; ok && !*left && i < hist.len; i++)
        ok = push_one(p, hist.items[i], PUSH_WAIT, left);
    for (size_t i = 0; ok && !*left && i < segs.len; i++)
        ok = push_one(p, segs.items[i], mode, left);
    pthread_mutex_unlock(&p->push_mu);
    strlist_free(&hist);
    strlist_free(&segs);
    return ok;
}

/* Invariant 3. Never fails: a push that fails is retried. */
static bool pusher_main(void *arg)
{
    WalRecvPusher *p = arg;
    bool again = true; /* what a previous run left in the spool */
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        if (!p->kicked && !again) {
            pthread_cond_wait(&p->cv, &p->mu);
            continue;
        }
        if (!p->kicked) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1;
            if (pthread_cond_timedwait(&p->cv, &p->mu, &until) == 0 && !p->kicked)
                continue; /* woken to stop */
        }
        p->kicked = false;
        pthread_mutex_unlock(&p->mu);
        bool left = false;
        again = !walrecvpush_pending(p, PUSH_TRY, &left) || left;
        if (again && err_code() != DD_EXIT_OK) {
            log_warn("could not archive from the spool yet: %s (retrying)", err_message());
            err_clear();
        }
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return true;
}

bool walrecvpush_start(WalRecvPusher *p)
{
    p->kicked = true;
    p->stop = false;
    if (!workers_bg_start(&p->thread, pusher_main, p))
        return err_set(DD_EXIT_FAIL, "could not start the wal-receive pusher thread");
    p->running = true;
    return true;
}

void walrecvpush_kick(WalRecvPusher *p)
{
    pthread_mutex_lock(&p->mu);
    p->kicked = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void walrecvpush_stop(WalRecvPusher *p)
{
    if (!p->running)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    workers_bg_join(&p->thread, true);
    p->running = false;
}

void walrecvpush_archived(WalRecvPusher *p, char *out, size_t len)
{
    pthread_mutex_lock(&p->mu);
    snprintf(out, len, "%s", p->archived);
    pthread_mutex_unlock(&p->mu);
}

void walrecvpush_free(WalRecvPusher *p)
{
    if (!p)
        return;
    walrecvpush_stop(p);
    pthread_mutex_destroy(&p->push_mu);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->spool);
    free(p);
}
