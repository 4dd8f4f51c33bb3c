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
    log_warn("pausing at %s (DRYDOCK_TEST_PAUSE_AT)", point);
    const char *resume = getenv("DRYDOCK_TEST_RESUME_FILE");
    for (int i = 0; i < 6000; i++) {
        if (resume && access(resume, F_OK) == 0)
            break;
        usleep(100000);
    }
}
