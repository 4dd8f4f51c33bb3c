/*
 * curl.h - libcurl, opened on first use (common/dynlib.h says why), for
 * every module that speaks HTTP as a client: the proxy's admin client,
 * webhooks, object storage. Include this instead of <curl/curl.h>: the
 * functions below are routed through one table, resolved once per process.
 * A function not in DD_CURL_FUNCTIONS is not available: add it there.
 */
#ifndef DD_COMMON_CURL_H
#define DD_COMMON_CURL_H

/* curl.h wraps two functions in type-checking macros; the table routes them instead. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#undef curl_easy_setopt
#undef curl_easy_getinfo

#include "common/dynlib.h"

#define DD_CURL_FUNCTIONS(X)                                                                       \
    X(curl_easy_cleanup)                                                                           \
    X(curl_easy_getinfo)                                                                           \
    X(curl_easy_init)                                                                              \
    X(curl_easy_perform)                                                                           \
    X(curl_easy_setopt)                                                                            \
    X(curl_easy_strerror)                                                                          \
    X(curl_slist_append)                                                                           \
    X(curl_slist_free_all)

enum {
#define DD_CURL_INDEX(f) DD_CURLFN_##f,
    DD_CURL_FUNCTIONS(DD_CURL_INDEX)
#undef DD_CURL_INDEX
        DD_CURLFN_COUNT
};

extern DynLib dd_libcurl;

#define DD_CURL_CALL(f)     ((__typeof__(f) *)dynlib_fn(&dd_libcurl, DD_CURLFN_##f))
#define curl_easy_cleanup   DD_CURL_CALL(curl_easy_cleanup)
#define curl_easy_getinfo   DD_CURL_CALL(curl_easy_getinfo)
#define curl_easy_init      DD_CURL_CALL(curl_easy_init)
#define curl_easy_perform   DD_CURL_CALL(curl_easy_perform)
#define curl_easy_setopt    DD_CURL_CALL(curl_easy_setopt)
#define curl_easy_strerror  DD_CURL_CALL(curl_easy_strerror)
#define curl_slist_append   DD_CURL_CALL(curl_slist_append)
#define curl_slist_free_all DD_CURL_CALL(curl_slist_free_all)

#endif
