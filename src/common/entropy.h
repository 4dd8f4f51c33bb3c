/*
 * entropy.h - random bytes for keys and nonces, from getrandom(2).
 *
 * One small function, to be replaced by common/rand.h's rand_bytes() when
 * that lands (issue 9): every caller goes through here.
 */
#ifndef DD_COMMON_ENTROPY_H
#define DD_COMMON_ENTROPY_H

#include <stddef.h>

/* Fill buf with len random bytes; aborts if the kernel cannot give any. */
void entropy_bytes(void *buf, size_t len);

#endif
