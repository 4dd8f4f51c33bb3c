/*
 * ctl.h - a client of the proxy's admin API (HTTP + JSON over libcurl), for
 * "drydock proxy-ctl" and for commands that drive the proxy (switchover).
 */
#ifndef DD_PROXY_CTL_H
#define DD_PROXY_CTL_H

#include <stdbool.h>

#include "common/error.h"

typedef struct {
    long status; /* HTTP status */
    char *body;  /* response body (owned) */
} ProxyCtlReply;

/*
 * Send METHOD path (with an optional JSON body) to the admin API at
 * host:port and wait up to timeout seconds. False (DD_EXIT_FAIL) when the
 * API cannot be reached; any HTTP status is a success here.
 */
DD_MUST_CHECK bool proxy_ctl_call(const char *admin, const char *method, const char *path,
                                  const char *body, double timeout, ProxyCtlReply *out);
void proxy_ctl_reply_free(ProxyCtlReply *r);

#endif
