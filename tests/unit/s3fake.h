/*
 * s3fake.h - the S3 driver with a fake transport, for unit tests of what it
 * sends without a network. Header-only: a test program includes it once.
 *
 * s3fake_open() opens an S3 storage (bucket "b", no prefix, an endpoint
 * nothing listens on, test credentials) and points its client's transport
 * (S3Client.transport, storage/s3req.h) at send, which gets ctx with every
 * request and answers it: the test's script and log live there.
 */
#ifndef DD_TESTS_S3FAKE_H
#define DD_TESTS_S3FAKE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "storage/s3_int.h"

static inline Storage *s3fake_open(S3Transport send, void *ctx)
{
    setenv("AWS_ACCESS_KEY_ID", "test", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    Storage *s = NULL;
    StorageConfig cfg = {.type = STORAGE_S3,
                         .s3 = {.endpoint = "http://127.0.0.1:9",
                                .bucket = "b",
                                .region = "us-east-1",
                                .prefix = "",
                                .retry_timeout = 2}};
    assert_true(storage_open(&cfg, &s));
    ((S3Storage *)s)->client.transport = send;
    ((S3Storage *)s)->client.transport_ctx = ctx;
    return s;
}

#endif
