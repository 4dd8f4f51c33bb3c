/*
 * entropy.c - see entropy.h.
 */
#include "common/entropy.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>

void entropy_bytes(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            abort(); /* no randomness at all: nothing sane is left to do */
        p += n;
        len -= (size_t)n;
    }
}
