/*
 * rand.h - the one source of randomness for secrets and names: proxy cancel
 * keys, SCRAM nonces and salts, pack names, and whatever must not be
 * guessed.
 *
 * rand_bytes() reads the kernel's generator (getrandom, which blocks only
 * until the pool is first seeded at boot) and falls back to OpenSSL's
 * RAND_bytes where getrandom is missing. When neither works it aborts, as
 * out-of-memory does: there is no weak fallback (random(), time, pid), since
 * a key that can be guessed is worse than a daemon that does not start.
 */
#ifndef DD_COMMON_RAND_H
#define DD_COMMON_RAND_H

#include <stddef.h>
#include <stdint.h>

void rand_bytes(void *buf, size_t len);

/* Four random bytes as one number. */
uint32_t rand_u32(void);

/* 2*len lower-case hex digits of len random bytes, and a terminator, into out. */
void rand_hex(char *out, size_t len);

#endif
