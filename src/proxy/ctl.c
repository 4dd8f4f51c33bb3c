/*
 * ctl.c - admin API client over libcurl (ctl.h), which is opened on first
 * use (common/dynlib.h says why).
 */
#include "proxy/ctl.h"

#include <stdlib.h>
#include <string.h>

#include "common/curlfn.h"
#include "common/mem.h"

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
