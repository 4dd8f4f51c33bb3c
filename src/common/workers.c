/*
 * workers.c - see workers.h.
 */
#include "common/workers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "common/mem.h"

struct Workers {
    const WorkersOpts *o;
    atomic_size_t next;
    atomic_bool failed;
    pthread_mutex_t lock; /* the first failure */
    ErrSaved err;
};

static void workers_fail(Workers *w)
{
    pthread_mutex_lock(&w->lock);
    if (!atomic_load(&w->failed)) {
        w->err = err_save();
        atomic_store(&w->failed, true);
    }
    pthread_mutex_unlock(&w->lock);
}

static void *workers_main(void *arg)
{
    Workers *w = arg;
    const WorkersOpts *o = w->o;
    void *local = o->local_new ? o->local_new(o->arg) : NULL;
    for (;;) {
        size_t i = atomic_fetch_add(&w->next, 1);
        if (i >= o->n || atomic_load(&w->failed))
            break;
        if (!o->item(w, i, local, o->arg)) {
            workers_fail(w);
            break;
        }
    }
    if (o->local_free)
        o->local_free(local, o->arg);
    return NULL;
}

bool workers_run(const WorkersOpts *o)
{
    Workers *w = xcalloc(1, sizeof(*w));
    w->o = o;
    pthread_mutex_init(&w->lock, NULL);
    int jobs = o->jobs < 1 ? 1 : o->jobs;
    pthread_t *t = xcalloc((size_t)jobs, sizeof(*t));
    int started = 0;
    for (; started < jobs; started++)
        if (pthread_create(&t[started], NULL, workers_main, w) != 0)
            break;
    if (started == 0)
        workers_main(w); /* could not start a thread: do the work here */
    else if (o->meanwhile)
        o->meanwhile(w, o->arg);
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    free(t);
    bool ok = !atomic_load(&w->failed);
    if (!ok)
        err_restore(&w->err);
    pthread_mutex_destroy(&w->lock);
    free(w);
    return ok;
}

bool workers_failed(const Workers *w)
{
    return atomic_load(&w->failed);
}

size_t workers_taken(const Workers *w)
{
    return atomic_load(&w->next);
}

static void *workers_bg_main(void *arg)
{
    WorkersBg *bg = arg;
    bg->ok = bg->fn(bg->arg);
    if (!bg->ok)
        bg->err = err_save();
    return NULL;
}

bool workers_bg_start(WorkersBg *bg, bool (*fn)(void *arg), void *arg)
{
    *bg = (WorkersBg){.fn = fn, .arg = arg};
    bg->threaded = pthread_create(&bg->thread, NULL, workers_bg_main, bg) == 0;
    return bg->threaded;
}

void workers_bg_run(WorkersBg *bg, bool (*fn)(void *arg), void *arg)
{
    if (!workers_bg_start(bg, fn, arg))
        workers_bg_main(bg); /* no thread: the work is done here, before the caller's */
}

bool workers_bg_join(WorkersBg *bg, bool caller_ok)
{
    if (bg->threaded)
        pthread_join(bg->thread, NULL);
    bg->threaded = false;
    if (!bg->ok && caller_ok)
        return err_restore(&bg->err);
    return caller_ok && bg->ok;
}
