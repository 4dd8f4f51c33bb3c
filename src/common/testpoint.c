/*
 * testpoint.c - see testpoint.h.
 */
#include "common/testpoint.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

void testpoint_pause(const char *point)
{
    const char *at = getenv("DRYDOCK_TEST_PAUSE_AT");
    if (!at || strcmp(at, point) != 0)
        return;
    const char *secs = getenv("DRYDOCK_TEST_PAUSE_SECONDS");
    int n = secs ? atoi(secs) : 600;
    if (n < 0 || n > 600)
        n = 600;
    log_warn("pausing at %s (DRYDOCK_TEST_PAUSE_AT)", point);
    for (int i = 0; i < n; i++)
        sleep(1);
}
