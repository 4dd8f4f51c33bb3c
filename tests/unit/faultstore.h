/*
 * faultstore.h - a fault-injecting storage driver for unit tests.
 * Header-only: a test program includes it once.
 *
 * faultstore_arm(kind, n) makes the n-th call of one storage operation,
 * counted over every storage made afterwards, fail as the kind says:
 *
 *   FAULT_ENOSPC       write_append: nothing written, "No space left on device"
 *   FAULT_SHORT_WRITE  write_append: the first half written, then ENOSPC
 *                      (what a write(2) that runs out of space does)
 *   FAULT_FSYNC        write_commit: the fsync fails (EIO); nothing committed
 *   FAULT_TORN_RENAME  write_commit: the rename happened but the directory's
 *                      fsync fails (EIO): the object is there, complete, and
 *                      the writer was told it failed
 *
 * n = 0 arms nothing and only counts: faultstore_calls() after a clean run
 * says how many n a test should try. Reads, lists and removes pass through.
 *
 * How: storage_test_hook (storage/storage.h) hands every new Storage to
 * faultstore_wrap(), which swaps its driver for a copy whose write calls go
 * through the functions below and then to the real driver.
 */
#ifndef DD_TESTS_FAULTSTORE_H
#define DD_TESTS_FAULTSTORE_H

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "storage/storage.h"

typedef enum { FAULT_ENOSPC, FAULT_SHORT_WRITE, FAULT_FSYNC, FAULT_TORN_RENAME } FaultKind;

static const char *const fault_names[] = {"ENOSPC", "short write", "fsync failure", "torn rename"};

static struct {
    FaultKind kind;
    unsigned nth;
    atomic_uint calls;
    atomic_uint fired;
} fault;

typedef struct {
    StorageDriver vt; /* first: a Storage's driver pointer leads back here */
    const StorageDriver *inner;
} FaultDriver;

typedef struct {
    const StorageDriver *driver; /* first, as storage.c expects */
    StorageWrite *inner;
    const FaultDriver *fd;
    char *path;
} FaultWrite;

/* Whether this call of an operation of kind k is the one to fail. */
static bool fault_hit(bool append)
{
    bool mine = (fault.kind == FAULT_ENOSPC || fault.kind == FAULT_SHORT_WRITE) == append;
    if (!mine)
        return false;
    unsigned n = atomic_fetch_add(&fault.calls, 1) + 1;
    if (fault.nth == 0 || n != fault.nth)
        return false;
    atomic_fetch_add(&fault.fired, 1);
    return true;
}

static StorageWrite *fault_write_begin(Storage *s, const char *path)
{
    const FaultDriver *fd = (const FaultDriver *)s->driver;
    StorageWrite *inner = fd->inner->write_begin(s, path); /* the inner write names its driver */
    if (!inner)
        return NULL;
    FaultWrite *w = xcalloc(1, sizeof(*w));
    w->driver = &fd->vt;
    w->inner = inner;
    w->fd = fd;
    w->path = xasprintf("%s/%s", storage_root(s), path);
    return (StorageWrite *)w;
}

static void fault_write_free(FaultWrite *w)
{
    free(w->path);
    free(w);
}

static bool fault_write_append(StorageWrite *sw, const void *data, size_t len)
{
    FaultWrite *w = (FaultWrite *)sw;
    if (len > 0 && fault_hit(true)) {
        if (fault.kind == FAULT_SHORT_WRITE && !w->fd->inner->write_append(w->inner, data, len / 2))
            return false;
        errno = ENOSPC;
        return err_errno("could not write file \"%s\"", w->path);
    }
    return w->fd->inner->write_append(w->inner, data, len);
}

static bool fault_write_commit(StorageWrite *sw, StoragePutOpts opts)
{
    FaultWrite *w = (FaultWrite *)sw;
    bool ok;
    if (!fault_hit(false)) {
        ok = w->fd->inner->write_commit(w->inner, opts);
    } else if (fault.kind == FAULT_FSYNC) {
        w->fd->inner->write_abort(w->inner);
        errno = EIO;
        ok = err_errno("could not fsync file \"%s\"", w->path);
    } else {
        ok = w->fd->inner->write_commit(w->inner, opts);
        if (ok) {
            errno = EIO;
            ok = err_errno("could not fsync the directory of \"%s\"", w->path);
        }
    }
    fault_write_free(w);
    return ok;
}

static void fault_write_abort(StorageWrite *sw)
{
    FaultWrite *w = (FaultWrite *)sw;
    w->fd->inner->write_abort(w->inner);
    fault_write_free(w);
}

static void fault_free(Storage *s)
{
    FaultDriver *fd = (FaultDriver *)s->driver;
    s->driver = fd->inner;
    free(fd);
    storage_free(s);
}

/* Wrap s in place (storage_test_hook). */
static void faultstore_wrap(Storage *s)
{
    FaultDriver *fd = xcalloc(1, sizeof(*fd));
    fd->inner = s->driver;
    fd->vt = *s->driver;
    fd->vt.name = "fault";
    fd->vt.free = fault_free;
    fd->vt.write_begin = fault_write_begin;
    fd->vt.write_append = fault_write_append;
    fd->vt.write_commit = fault_write_commit;
    fd->vt.write_abort = fault_write_abort;
    s->driver = &fd->vt;
}

/* Arm (n > 0) or only count (n = 0) for every storage made from now on. */
static void faultstore_arm(FaultKind kind, unsigned nth)
{
    fault.kind = kind;
    fault.nth = nth;
    atomic_store(&fault.calls, 0);
    atomic_store(&fault.fired, 0);
    storage_test_hook = faultstore_wrap;
}

/* Stop wrapping new storages (those already wrapped keep counting, harmlessly). */
static void faultstore_disarm(void)
{
    fault.nth = 0;
    storage_test_hook = NULL;
}

static unsigned faultstore_calls(void)
{
    return atomic_load(&fault.calls);
}

static unsigned faultstore_fired(void)
{
    return atomic_load(&fault.fired);
}

#endif
