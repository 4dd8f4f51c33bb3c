/*
 * libpq.c - see libpq.h.
 */
#include "pg/libpq.h"

#include "common/dynlib.h"

static const char *const libpq_names[] = {
#define LIBPQ_NAME(f) #f,
    LIBPQ_FUNCTIONS(LIBPQ_NAME)
#undef LIBPQ_NAME
        NULL};
static void *libpq_fns[LIBPQ_COUNT];
static DynLib libpq = DYNLIB_INIT("libpq.so.5", "libpq5", libpq_names, libpq_fns);

void *libpq_fn(int i)
{
    return dynlib_fn(&libpq, (size_t)i);
}
