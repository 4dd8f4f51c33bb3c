/*
 * s3req.h - one S3 request, signed by libcurl (CURLOPT_AWS_SIGV4: no
 * signing code of our own), sent with retries. Private to storage/s3*.c.
 *
 * Retry policy (s3req_retryable, s3req_backoff): a request is sent again,
 * after an exponentially growing pause with full jitter (a random fraction
 * of min(S3REQ_BACKOFF_CAP, S3REQ_BACKOFF_BASE * 2^attempt)), when the
 * connection failed, was reset or timed out, or the answer was a 5xx, a 429,
 * or an error whose Code is SlowDown, RequestTimeout or InternalError; until
 * retry_timeout seconds have passed since the first attempt. Any other 4xx
 * is a real answer (403 refused, 404 missing, 412 changed) and is returned at
 * once; but a NoSuchBucket after the bucket answered in this process is an
 * endpoint restarting (Swift says it while its container server starts) and
 * is retried. Every request is idempotent (a PUT of the same bytes, a ranged GET, a
 * multipart part, a DELETE), so sending one twice is safe.
 *
 * Connections: each thread keeps one curl handle, reused from request to
 * request, so its connection (and TLS session) is kept alive.
 */
#ifndef DD_STORAGE_S3REQ_H
#define DD_STORAGE_S3REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/mem.h"
#include "storage/storage.h"

#define S3REQ_BACKOFF_BASE 0.1
#define S3REQ_BACKOFF_CAP  5.0

typedef struct S3Req S3Req;
typedef struct S3Resp S3Resp;

/*
 * What sends one request (a test's fake: tests/unit/storage/s3write_test.c):
 * fills resp (status, etag...) and appends the answer's body to body.
 * Returns a CURLcode (0: an answer came), as libcurl would.
 */
typedef int (*S3Transport)(void *ctx, const S3Req *r, S3Resp *resp, Buf *body);

typedef struct {
    char *base;   /* scheme://host[:port][/bucket] : every URL starts with it */
    char *prefix; /* "" or "some/prefix/": prepended to every key */
    char *bucket;
    char *sigv4; /* "aws:amz:<region>:s3" */
    char *access_key, *secret_key, *session_token;
    char *ca_file;
    bool no_verify_tls;
    double retry_timeout;  /* seconds */
    S3Transport transport; /* NULL: libcurl */
    void *transport_ctx;
} S3Client;

struct S3Req {
    const char *method;
    const char *key;   /* relative to the prefix; NULL: the bucket itself */
    const char *query; /* canonical (sorted, encoded) query string, or NULL */
    const void *body;  /* request body, or NULL */
    size_t body_len;
    const char *const *headers; /* extra "Name: value" lines, NULL-terminated, or NULL */
    bool range;                 /* ask for bytes [range_off, range_off + range_len) */
    uint64_t range_off, range_len;
    Buf *out; /* the response body is appended here (NULL: kept only for errors) */
};

struct S3Resp {
    long status;
    char etag[128];
    uint64_t total;       /* the object's size: Content-Range's total, else Content-Length */
    double date;          /* server's Date, seconds since the epoch (0 if none) */
    double last_modified; /* Last-Modified (0 if none) */
    char code[64];        /* an error reply's <Code> */
    char message[256];    /* and its <Message> */
};

/* Fill c from cfg: endpoint, credentials (file, or the AWS_* environment). DD_EXIT_CONFIG. */
DD_MUST_CHECK bool s3req_client_init(S3Client *c, const StorageConfig *cfg);
void s3req_client_free(S3Client *c);

/*
 * Send r, retrying as the policy says. true once an answer came that is not
 * to be retried (any status: the caller decides); false with an error
 * (DD_EXIT_IO) when none came in time.
 */
DD_MUST_CHECK bool s3req_send(const S3Client *c, const S3Req *r, S3Resp *resp);

/* An error for an unexpected answer to what, naming the status and S3's code. */
bool s3req_fail(const S3Client *c, const S3Resp *resp, const char *what, const char *key);

/* The retry policy's two halves (pure, for tests). curl_code is a CURLcode, 0 when an answer came.
 */
bool s3req_retryable(int curl_code, long status, const char *code);
double s3req_backoff(int attempt, double unit_random);

/* Append s to b URI-encoded as SigV4 wants: unreserved bytes kept, and '/' kept if keep_slash. */
void s3req_encode(Buf *b, const char *s, bool keep_slash);

/* "Mon, 30 Nov 2026 09:00:00 GMT" or "2026-11-30T09:00:00.000Z" -> epoch seconds; 0 if neither. */
double s3req_parse_time(const char *s);

#endif
