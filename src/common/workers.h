/*
 * workers.h - N threads over a shared cursor, the first failure carried back.
 *
 * Items 0 .. n-1 are taken in order, one at a time, by whichever worker is
 * free (an atomic cursor). A worker that fails (item returns false with the
 * error slot set) saves the error (err_save) and stops taking items; the
 * first failure wins and the others see workers_failed() and stop at their
 * next check. workers_run() joins every worker and, when one failed, puts
 * its error into the caller's slot (err_restore) and returns false.
 *
 * Each worker may own state (buffers, a reader with its own file handles):
 * local_new() on the worker's thread before its first item, local_free()
 * after its last. While the workers run, the calling thread may do work of
 * its own (meanwhile); when no thread can be started the calling thread
 * takes every item itself, and meanwhile is not called.
 *
 * Example (the bodies of backup/copy.c and restore/restore.c):
 *
 *   static bool copy_item(Workers *w, size_t i, void *buf, void *arg)
 *   {
 *       Copy *c = arg;
 *       return copy_unit(c, w, &c->units[i], buf); // checks workers_failed(w) between chunks
 *   }
 *   ...
 *   if (!workers_run(&(WorkersOpts){.jobs = jobs, .n = c->nunits, .item = copy_item, .arg = c,
 *                                   .local_new = copy_buf_new, .local_free = copy_buf_free}))
 *       return false; // the first worker's error, as it set it
 */
#ifndef DD_COMMON_WORKERS_H
#define DD_COMMON_WORKERS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

typedef struct Workers Workers;

typedef struct {
    int jobs; /* threads; fewer than 1 is 1 */
    size_t n; /* items 0 .. n-1 */
    /* Do item i; false with the error slot set stops the pool. */
    bool (*item)(Workers *w, size_t i, void *local, void *arg);
    void *(*local_new)(void *arg); /* per worker; NULL: local is NULL */
    void (*local_free)(void *local, void *arg);
    void (*meanwhile)(Workers *w, void *arg); /* on the calling thread; NULL: none */
    void *arg;
} WorkersOpts;

/* Run the pool to its end; false with the first failure's error. */
DD_MUST_CHECK bool workers_run(const WorkersOpts *o);

/* Whether a worker failed: long items check it to stop early. */
bool workers_failed(const Workers *w);

/* How many items have been taken so far (by workers; some may be past n). */
size_t workers_taken(const Workers *w);

/*
 * One function on a thread of its own while the caller does other work, its
 * failure carried back as the pool's is:
 *
 *   WorkersBg bg;
 *   workers_bg_run(&bg, flush, cs);        // on a thread, or here and now
 *   bool ok = stop_the_backup(...);        // meanwhile
 *   return workers_bg_join(&bg, ok);       // ok && flush's result, one error in the slot
 *
 * fn returns false with the error slot set on its thread; the slot is saved
 * there (err_save) and put into the joining thread's (err_restore).
 * workers_bg_start() only starts a thread: false when none can start (the
 * error slot untouched: the caller says what that means, or does without).
 * workers_bg_run() runs fn on the calling thread when no thread can start,
 * so that the work is done either way, one after the other. Every started or
 * run WorkersBg is joined exactly once.
 */
typedef struct {
    bool (*fn)(void *arg);
    void *arg;
    pthread_t thread;
    bool threaded, ok;
    ErrSaved err;
} WorkersBg;

DD_MUST_CHECK bool workers_bg_start(WorkersBg *bg, bool (*fn)(void *arg), void *arg);
void workers_bg_run(WorkersBg *bg, bool (*fn)(void *arg), void *arg);

/*
 * Wait for fn to end; returns caller_ok && fn's result. The caller's own
 * failure comes first: fn's error is put into the slot only when caller_ok
 * is true (pass true when fn's failure should win, or when there is no
 * other). When fn cannot fail, the result may be ignored.
 */
bool workers_bg_join(WorkersBg *bg, bool caller_ok);

#endif
