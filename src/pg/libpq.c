/*
 * libpq.c - see libpq.h.
 */
#include "pg/libpq.h"

#include "common/dynlib.h"

DYNLIB_DEFINE(libpq, "libpq.so.5", "libpq5", LIBPQ_FUNCTIONS, LIBPQ_COUNT);

void *libpq_fn(int i)
{
    return dynlib_fn(&libpq, (size_t)i);
}
