/*
 * dynlib.c - see dynlib.h.
 */
#include "common/dynlib.h"

#include <dlfcn.h>
#include <stdlib.h>

#include "common/error.h"
#include "common/log.h"

static void dynlib_fail(const char *what, const char *package)
{
    log_error("could not load %s. HINT: install the Debian package %s", what, package);
    exit(DD_EXIT_FAIL);
}

static void dynlib_open(DynLib *lib)
{
    void *handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
    if (!handle)
        dynlib_fail(dlerror(), lib->package);
    for (size_t i = 0; lib->names[i]; i++) {
        lib->fns[i] = dlsym(handle, lib->names[i]);
        if (!lib->fns[i])
            dynlib_fail(dlerror(), lib->package);
    }
    /* Never closed: the functions are used until the process exits. */
}

void *dynlib_fn(DynLib *lib, size_t i)
{
    if (!atomic_load_explicit(&lib->loaded, memory_order_acquire)) {
        pthread_mutex_lock(&lib->mu);
        if (!atomic_load_explicit(&lib->loaded, memory_order_relaxed)) {
            dynlib_open(lib);
            atomic_store_explicit(&lib->loaded, true, memory_order_release);
        }
        pthread_mutex_unlock(&lib->mu);
    }
    return lib->fns[i];
}
