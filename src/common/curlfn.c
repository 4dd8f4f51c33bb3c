/*
 * curlfn.c - the libcurl function table (curlfn.h).
 */
#include "common/curlfn.h"

static const char *const curlfn_names[] = {CURL_FUNCTIONS(DYNLIB_NAME) NULL};
static void *curlfn_fns[CURLFN_COUNT];
DynLib curlfn_lib = DYNLIB_INIT("libcurl.so.4", "libcurl4", curlfn_names, curlfn_fns);
