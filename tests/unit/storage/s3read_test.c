/*
 * s3read_test.c - the S3 driver's reads without a network: a fake transport
 * serves a 64 MiB object whose every byte is known and records each GET's
 * range, so that the case checks which reads of a pack cost a request
 * (storage/s3.c invariant 5): the open's window; a read forward within
 * S3_READ_GAP of the last one fills an 8 MiB window, and reads inside it
 * cost nothing; a jump, or a read backwards, gets exactly its range. Every
 * read returns the object's bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit/s3fake.h"

#define KIB   1024ull
#define MIB   (1024ull * 1024)
#define TOTAL (64 * MIB)

static uint8_t byte_at(uint64_t off)
{
    return (uint8_t)(off * 7 + off / 4096);
}

typedef struct {
    Buf log; /* "GET off+len\n" per request */
} Fake;

static int fake_send(void *ctx, const S3Req *r, S3Resp *resp, Buf *body)
{
    Fake *f = ctx;
    assert_string_equal(r->method, "GET");
    assert_true(r->range);
    uint64_t off = r->range_off, len = r->range_len;
    if (off + len > TOTAL)
        len = TOTAL - off;
    buf_printf(&f->log, "GET %llu+%llu\n", (unsigned long long)(off / KIB),
               (unsigned long long)(len / KIB));
    resp->status = 206;
    resp->total = TOTAL;
    snprintf(resp->etag, sizeof(resp->etag), "\"e\"");
    buf_reserve(body, body->len + len);
    for (uint64_t i = 0; i < len; i++)
        body->data[body->len + i] = byte_at(off + i);
    body->len += len;
    return 0;
}

static void read_and_check(StorageRead *r, uint64_t off, size_t len)
{
    uint8_t *buf = malloc(len);
    assert_true(storage_read_at(r, off, buf, len));
    for (size_t i = 0; i < len; i++)
        if (buf[i] != byte_at(off + i))
            fail_msg("byte %llu of the object is wrong", (unsigned long long)(off + i));
    free(buf);
}

static void test_read_windows(void **state)
{
    (void)state;
    Fake f = {0};
    Storage *s = s3fake_open(fake_send, &f);

    bool found = false;
    StorageRead *r = storage_read_open(s, "pack", &found);
    assert_non_null(r);
    read_and_check(r, 100 * KIB, 32 * KIB);                /* in the open's window */
    read_and_check(r, 300 * KIB, 32 * KIB);                /* 168 KiB on: a window */
    read_and_check(r, 532 * KIB, 32 * KIB);                /* inside it: no GET */
    read_and_check(r, 8450 * KIB, 32 * KIB);               /* its last bytes: no GET */
    read_and_check(r, 8500 * KIB, 64 * KIB);               /* past it, 18 KiB on: a window */
    read_and_check(r, 40 * MIB, 32 * KIB);                 /* a jump: its range */
    read_and_check(r, 40 * MIB + 32 * KIB + MIB, 8 * KIB); /* exactly the gap on: a window */
    read_and_check(r, 20 * MIB, 32 * KIB);                 /* backwards: its range */
    read_and_check(r, 64 * MIB - 16 * KIB, 16 * KIB);      /* a jump to the last bytes */
    storage_read_close(r);
    buf_append(&f.log, "", 1);
    assert_string_equal((char *)f.log.data, "GET 0+256\n"
                                            "GET 300+8192\n"
                                            "GET 8500+8192\n"
                                            "GET 40960+32\n"
                                            "GET 42016+8192\n"
                                            "GET 20480+32\n"
                                            "GET 65520+16\n");
    buf_free(&f.log);
    storage_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
