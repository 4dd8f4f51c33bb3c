/*
 * crc32c.c - CRC-32C, reflected polynomial 0x82F63B78 (see crc32c.h).
 *
 * The crc32 instruction has a latency of 3 cycles and a throughput of one a
 * cycle: one stream of it runs at a third of the speed the CPU can give.
 * Long inputs are cut into runs of three blocks of CRC_BLK bytes, each block
 * a stream of its own from a zero register, and the three are joined: the
 * register is linear over GF(2), so the state after A then B is the state
 * after A multiplied by x^(8 |B|) modulo the polynomial, XOR the state of B
 * alone. That multiplication by a constant is itself linear, so it is four
 * table lookups (crc_shift), the tables made once from zlib's multmodp.
 */
#include "common/crc32c.h"

#include <pthread.h>
#include <string.h>

#define CRC_POLY 0x82F63B78u
#define CRC_BLK  1024 /* bytes per stream in a run of three */

static uint32_t crc_table[8][256];
static uint32_t crc_shift_table[4][256]; /* times x^(8 CRC_BLK), a byte of the state at a time */
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static int crc_have_sse42;

/* a * b modulo the polynomial, reflected (x^0 is bit 31); a must not be 0 (zlib's multmodp). */
static uint32_t multmodp(uint32_t a, uint32_t b)
{
    uint32_t m = 1u << 31, p = 0;
    for (;;) {
        if (a & m) {
            p ^= b;
            if ((a & (m - 1)) == 0)
                break;
        }
        m >>= 1;
        b = b & 1 ? (b >> 1) ^ CRC_POLY : b >> 1;
    }
    return p;
}

/* x^(8 n) modulo the polynomial, reflected. */
static uint32_t x8nmodp(uint64_t n)
{
    uint32_t sq = 1u << 30, p = 1u << 31; /* x^1; x^0 */
    for (uint64_t bits = n * 8; bits; bits >>= 1) {
        if (bits & 1)
            p = multmodp(sq, p);
        sq = multmodp(sq, sq);
    }
    return p;
}

static void crc_setup_shift(void)
{
    uint32_t op = x8nmodp(CRC_BLK);
    for (uint32_t j = 0; j < 4; j++)
        for (uint32_t b = 0; b < 256; b++)
            crc_shift_table[j][b] = b ? multmodp(op, b << (8 * j)) : 0;
}

/* The register after CRC_BLK more bytes of zeroes (see the top of the file). */
static inline uint32_t crc_shift(uint32_t s)
{
    return crc_shift_table[0][s & 0xFF] ^ crc_shift_table[1][(s >> 8) & 0xFF] ^
           crc_shift_table[2][(s >> 16) & 0xFF] ^ crc_shift_table[3][s >> 24];
}

static void crc_setup(void)
{
    crc_setup_shift();
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xFF];
#if defined(__x86_64__)
    __builtin_cpu_init();
    crc_have_sse42 = __builtin_cpu_supports("sse4.2");
#endif
}

/* Slicing by 8: eight table lookups per 8 bytes. */
static uint32_t crc_sw(uint32_t crc, const uint8_t *p, size_t len)
{
    while (len >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
        lo ^= crc;
        crc = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^
              crc_table[5][(lo >> 16) & 0xFF] ^ crc_table[4][lo >> 24] ^ crc_table[3][hi & 0xFF] ^
              crc_table[2][(hi >> 8) & 0xFF] ^ crc_table[1][(hi >> 16) & 0xFF] ^
              crc_table[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = crc_table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const uint8_t *p, size_t len)
{
    while (len >= 3 * CRC_BLK) { /* three streams at once, joined */
        uint64_t c0 = crc, c1 = 0, c2 = 0;
        for (size_t i = 0; i < CRC_BLK; i += 8) {
            uint64_t v0, v1, v2;
            memcpy(&v0, p + i, 8);
            memcpy(&v1, p + CRC_BLK + i, 8);
            memcpy(&v2, p + 2 * CRC_BLK + i, 8);
            c0 = __builtin_ia32_crc32di(c0, v0);
            c1 = __builtin_ia32_crc32di(c1, v1);
            c2 = __builtin_ia32_crc32di(c2, v2);
        }
        crc = crc_shift(crc_shift((uint32_t)c0) ^ (uint32_t)c1) ^ (uint32_t)c2;
        p += 3 * CRC_BLK;
        len -= 3 * CRC_BLK;
    }
    uint64_t c = crc;
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
        p += 8;
        len -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (len--)
        c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}
#endif

uint32_t crc32c_update(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&crc_once, crc_setup);
#if defined(__x86_64__)
    if (crc_have_sse42)
        return crc_hw(crc, data, len);
#endif
    return crc_sw(crc, data, len);
}
