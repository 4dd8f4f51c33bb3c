/*
 * ctl.c - admin API client over libcurl (ctl.h), which is opened on first
 * use (common/dynlib.h says why).
 */
#include "proxy/ctl.h"

/* curl.h wraps two functions in macros; the table below routes them instead. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#undef curl_easy_setopt
#undef curl_easy_getinfo
#include <stdlib.h>
#include <string.h>

#include "common/dynlib.h"
#include "common/mem.h"

#define CURL_FUNCTIONS(X)                                                                          \
    X(curl_easy_cleanup)                                                                           \
    X(curl_easy_getinfo)                                                                           \
    X(curl_easy_init)                                                                              \
    X(curl_easy_perform)                                                                           \
    X(curl_easy_setopt)                                                                            \
    X(curl_easy_strerror)                                                                          \
    X(curl_slist_append)                                                                           \
    X(curl_slist_free_all)

enum {
#define CURL_INDEX(f) CURLFN_##f,
    CURL_FUNCTIONS(CURL_INDEX)
#undef CURL_INDEX
        CURLFN_COUNT
};
DYNLIB_DEFINE(libcurl, "libcurl.so.4", "libcurl4", CURL_FUNCTIONS, CURLFN_COUNT);

#define CURL_CALL(f)        ((__typeof__(f) *)dynlib_fn(&libcurl, CURLFN_##f))
#define curl_easy_cleanup   CURL_CALL(curl_easy_cleanup)
#define curl_easy_getinfo   CURL_CALL(curl_easy_getinfo)
#define curl_easy_init      CURL_CALL(curl_easy_init)
#define curl_easy_perform   CURL_CALL(curl_easy_perform)
#define curl_easy_setopt    CURL_CALL(curl_easy_setopt)
#define curl_easy_strerror  CURL_CALL(curl_easy_strerror)
#define curl_slist_append   CURL_CALL(curl_slist_append)
#define curl_slist_free_all CURL_CALL(curl_slist_free_all)

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
    buf_append(arg, data, size * n);
    return size * n;
}

bool proxy_ctl_call(const char *admin, const char *method, const char *path, const char *body,
                    double timeout, ProxyCtlReply *out)
{
    memset(out, 0, sizeof(*out));
    CURL *curl = curl_easy_init();
    if (!curl)
        return err_set(DD_EXIT_FAIL, "could not initialise libcurl");
    char *url = xasprintf("http://%s%s", admin, path);
    Buf resp = {0};
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
    if (body)
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    else if (strcmp(method, "POST") == 0)
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
    CURLcode rc = curl_easy_perform(curl);
    bool ok = rc == CURLE_OK;
    if (ok) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
        buf_append(&resp, "", 1);
        out->body = (char *)resp.data;
    } else {
        buf_free(&resp);
        err_set(DD_EXIT_FAIL, "could not reach the proxy's admin API at \"%s\": %s", admin,
                curl_easy_strerror(rc));
        err_hint("is \"drydock proxy\" running? check [proxy] admin");
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    free(url);
    return ok;
}

void proxy_ctl_reply_free(ProxyCtlReply *r)
{
    free(r->body);
    r->body = NULL;
}
