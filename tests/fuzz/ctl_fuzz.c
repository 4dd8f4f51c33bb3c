/*
 * ctl_fuzz.c - libFuzzer target over the parsers of the proxy's admin API
 * replies (proxy/ctl.h), which switchover and proxy-ctl read. The first
 * byte picks the HTTP status class, the rest is the body. Built by
 * `make fuzz`; run build/fuzz/ctl_fuzz -max_total_time=60
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const long codes[] = {200, 400, 401, 403, 404, 408, 409, 415, 500};
    long code = codes[data[0] % (sizeof(codes) / sizeof(codes[0]))];
    char *body = malloc(size);
    memcpy(body, data + 1, size - 1);
    body[size - 1] = '\0';
    ProxyStatus st;
    if (proxy_ctl_parse_status(code, body, &st))
        proxy_status_free(&st);
    ProxyPauseReply pr;
    (void)!proxy_ctl_parse_pause(code, body, &pr);
    double ms;
    (void)!proxy_ctl_parse_resume(code, body, &ms);
    ProxySwitchReply sr;
    (void)!proxy_ctl_parse_switch(code, body, &sr);
    free(body);
    return 0;
}
