/*
 * curl.c - the one table of libcurl functions (curl.h).
 */
#include "common/curl.h"

static const char *const dd_libcurl_names[] = {DD_CURL_FUNCTIONS(DYNLIB_NAME) NULL};
static void *dd_libcurl_fns[DD_CURLFN_COUNT];
DynLib dd_libcurl = DYNLIB_INIT("libcurl.so.4", "libcurl4", dd_libcurl_names, dd_libcurl_fns);
