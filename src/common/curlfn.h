/*
 * curlfn.h - libcurl, opened on first use (common/dynlib.h says why): the one
 * table of the libcurl functions drydock calls, shared by every user (the
 * proxy's admin client, the S3 driver). Include this instead of curl.h.
 */
#ifndef DD_COMMON_CURLFN_H
#define DD_COMMON_CURLFN_H

/* curl.h wraps two functions in macros; the table below routes them instead. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#undef curl_easy_setopt
#undef curl_easy_getinfo

#include "common/dynlib.h"

#define CURL_FUNCTIONS(X)                                                                          \
    X(curl_easy_cleanup)                                                                           \
    X(curl_easy_getinfo)                                                                           \
    X(curl_easy_init)                                                                              \
    X(curl_easy_perform)                                                                           \
    X(curl_easy_reset)                                                                             \
    X(curl_easy_setopt)                                                                            \
    X(curl_easy_strerror)                                                                          \
    X(curl_global_init)                                                                            \
    X(curl_slist_append)                                                                           \
    X(curl_slist_free_all)

enum {
#define CURL_INDEX(f) CURLFN_##f,
    CURL_FUNCTIONS(CURL_INDEX)
#undef CURL_INDEX
        CURLFN_COUNT
};

extern DynLib curlfn_lib;

#define CURL_CALL(f)        ((__typeof__(f) *)dynlib_fn(&curlfn_lib, CURLFN_##f))
#define curl_easy_cleanup   CURL_CALL(curl_easy_cleanup)
#define curl_easy_getinfo   CURL_CALL(curl_easy_getinfo)
#define curl_easy_init      CURL_CALL(curl_easy_init)
#define curl_easy_perform   CURL_CALL(curl_easy_perform)
#define curl_easy_reset     CURL_CALL(curl_easy_reset)
#define curl_easy_setopt    CURL_CALL(curl_easy_setopt)
#define curl_easy_strerror  CURL_CALL(curl_easy_strerror)
#define curl_global_init    CURL_CALL(curl_global_init)
#define curl_slist_append   CURL_CALL(curl_slist_append)
#define curl_slist_free_all CURL_CALL(curl_slist_free_all)

#endif
