/*
 * dynlib.h - shared libraries opened the first time they are needed.
 *
 * wal-push and wal-fetch run once per WAL segment and talk to no server.
 * Linked normally, libpq and libcurl would be loaded into every one of those
 * processes together with what they depend on (Kerberos, LDAP, GnuTLS, SASL:
 * about 25 libraries), about 2.5 ms of an 18 ms push. So the code that uses
 * them opens them on first use (pg/libpq.h, proxy/ctl.c): a table of the
 * functions it calls, and a macro per function that resolves it.
 */
#ifndef DD_COMMON_DYNLIB_H
#define DD_COMMON_DYNLIB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *soname;
    const char *package;      /* the Debian package that provides it, for the error */
    const char *const *names; /* NULL-terminated */
    void **fns;               /* one slot per name */
    pthread_mutex_t mu;
    atomic_bool loaded;
} DynLib;

#define DYNLIB_INIT(soname, package, names, fns)                                                   \
    {                                                                                              \
        (soname), (package), (names), (fns), PTHREAD_MUTEX_INITIALIZER, false                      \
    }

/*
 * A static DynLib named var for the functions of an X-macro list: LIST(X)
 * expands X(name) per function, in the order of the caller's index enum,
 * whose last member is count.
 */
#define DYNLIB_NAME(f) #f,
#define DYNLIB_DEFINE(var, soname, package, LIST, count)                                           \
    static const char *const var##_names[] = {LIST(DYNLIB_NAME) NULL};                             \
    static void *var##_fns[count];                                                                 \
    static DynLib var = DYNLIB_INIT(soname, package, var##_names, var##_fns)

/*
 * Function i of lib, opening the library and resolving every name on the
 * first call (thread-safe). A library or symbol that cannot be found ends
 * the process with exit code 1 and a one-line error naming it and the
 * package to install: what a missing library at start-up did before.
 */
void *dynlib_fn(DynLib *lib, size_t i);

#endif
