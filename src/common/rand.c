/*
 * rand.c - see rand.h.
 */
#include "common/rand.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

static void rand_fail(void)
{
    static const char msg[] = "drydock: no random source (getrandom and OpenSSL failed)\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)w;
    abort();
}

void rand_bytes(void *buf, size_t len)
{
    unsigned char *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t n = getrandom(p + done, len - done, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    if (done == len)
        return;
    /* getrandom is missing (ENOSYS) or refused: OpenSSL seeds itself from the OS. */
    while (done < len) {
        size_t chunk = len - done > 1 << 20 ? 1 << 20 : len - done;
        if (RAND_bytes(p + done, (int)chunk) != 1)
            rand_fail();
        done += chunk;
    }
}

uint32_t rand_u32(void)
{
    uint32_t v;
    rand_bytes(&v, sizeof(v));
    return v;
}

void rand_hex(char *out, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char r[64];
    for (size_t done = 0; done < len;) {
        size_t n = len - done < sizeof(r) ? len - done : sizeof(r);
        rand_bytes(r, n);
        for (size_t i = 0; i < n; i++) {
            out[2 * (done + i)] = digits[r[i] >> 4];
            out[2 * (done + i) + 1] = digits[r[i] & 15];
        }
        done += n;
    }
    out[2 * len] = '\0';
}
