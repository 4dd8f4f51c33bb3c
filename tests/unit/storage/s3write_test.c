/*
 * s3write_test.c - the S3 driver's writes without a network: a fake
 * transport (S3Client.transport) answers from a script and records every
 * request, so that each case compares the exact request sequence of an
 * upload (storage/s3.c invariants 1, 3, 4):
 *   - a small object is one PUT; an exclusive one is a HEAD first, and a
 *     conflict when the key exists (no PUT); where the service honours
 *     conditional PUTs, one PUT with If-None-Match (412: a conflict);
 *   - the probe of conditional PUTs (s3cond.c): 200 then 412 is a yes,
 *     501 or 200 twice a no, and the probe object is removed;
 *   - a large one starts a multipart upload, sends parts of S3_PART_SIZE in
 *     order, then completes it with the parts' ETags;
 *   - any failure (a part refused, the start without an UploadId, a 200 that
 *     carries an <Error>, a caller's abort) aborts the upload (DELETE with
 *     its uploadId) and the commit fails; a 503 is retried, not aborted.
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

#define PART (16u << 20) /* S3_PART_SIZE */

/* One scripted answer: the first request whose "METHOD query" starts with match, the nth time. */
typedef struct {
    const char *match;
    int nth; /* 1: the first such request; 0: every one */
    long status;
    const char *body;
} Answer;

typedef struct {
    const Answer *script;
    Buf log;        /* "METHOD key?query [bytes]\n" per request */
    int counts[16]; /* requests that matched script[i] */
    Buf complete;   /* the body of the CompleteMultipartUpload */
} Fake;

static int fake_send(void *ctx, const S3Req *r, S3Resp *resp, Buf *body)
{
    Fake *f = ctx;
    char line[512];
    snprintf(line, sizeof(line), "%s %s%s%s", r->method, r->key ? r->key : "", r->query ? "?" : "",
             r->query ? r->query : "");
    const char *size = "";
    if (strcmp(r->method, "PUT") == 0)
        size = r->body_len == PART ? " [part]" : " [tail]";
    const char *cond = "";
    for (size_t i = 0; r->headers && r->headers[i]; i++)
        if (strcmp(r->headers[i], "If-None-Match: *") == 0)
            cond = " [if-none-match]";
    buf_printf(&f->log, "%s%s%s\n", line, size, cond);
    if (strcmp(r->method, "POST") == 0 && r->query && strncmp(r->query, "uploadId=", 9) == 0) {
        f->complete.len = 0;
        buf_append(&f->complete, r->body, r->body_len);
        buf_append(&f->complete, "", 1);
    }
    /* Defaults: what a healthy service says. */
    resp->status = 200;
    int part = 0;
    if (r->query && sscanf(r->query, "partNumber=%d", &part) == 1)
        snprintf(resp->etag, sizeof(resp->etag), "\"etag-%d\"", part);
    if (strcmp(r->method, "HEAD") == 0)
        resp->status = 404;
    if (strcmp(r->method, "DELETE") == 0)
        resp->status = 204;
    const char *text = "";
    if (r->query && strcmp(r->query, "uploads=") == 0)
        text = "<InitiateMultipartUploadResult><UploadId>U+1/x</UploadId>"
               "</InitiateMultipartUploadResult>";
    else if (strcmp(r->method, "POST") == 0)
        text = "<CompleteMultipartUploadResult><ETag>\"whole\"</ETag>"
               "</CompleteMultipartUploadResult>";
    for (int i = 0; f->script && f->script[i].match; i++) {
        if (strncmp(line, f->script[i].match, strlen(f->script[i].match)) != 0)
            continue;
        f->counts[i]++;
        if (f->script[i].nth && f->counts[i] != f->script[i].nth)
            continue;
        resp->status = f->script[i].status;
        text = f->script[i].body ? f->script[i].body : "";
        if (resp->status >= 300)
            resp->etag[0] = '\0';
        break;
    }
    buf_append(body, text, strlen(text));
    return 0;
}

static Storage *open_fake(Fake *f)
{
    return s3fake_open(fake_send, f);
}

typedef struct {
    const char *title;
    size_t size; /* bytes written */
    bool exclusive;
    bool abort; /* the caller aborts instead of committing */
    const Answer *script;
    bool ok;         /* the commit succeeds */
    int code;        /* its error code otherwise */
    const char *log; /* the requests, in order */
    bool cond_put;   /* the service honours If-None-Match (s3cond.c found out) */
} Case;

static const Answer head_found[] = {{"HEAD ", 0, 200, NULL}, {0}};
static const Answer put_precondition[] = {
    {"PUT obj", 0, 412, "<Error><Code>PreconditionFailed</Code></Error>"}, {0}};
static const Answer part2_refused[] = {
    {"PUT obj?partNumber=2", 0, 403, "<Error><Code>AccessDenied</Code></Error>"}, {0}};
static const Answer part1_busy_once[] = {
    {"PUT obj?partNumber=1", 1, 503, "<Error><Code>SlowDown</Code></Error>"}, {0}};
static const Answer no_upload_id[] = {
    {"POST obj?uploads=", 0, 200, "<InitiateMultipartUploadResult/>"}, {0}};
static const Answer complete_error[] = {
    {"POST obj?uploadId=", 0, 200, "<Error><Code>InternalError</Code></Error>"}, {0}};
static const Answer complete_refused[] = {
    {"POST obj?uploadId=", 0, 400, "<Error><Code>InvalidPart</Code></Error>"}, {0}};

#define START   "POST obj?uploads=\n"
#define PART1   "PUT obj?partNumber=1&uploadId=U%2B1%2Fx [part]\n"
#define PART2   "PUT obj?partNumber=2&uploadId=U%2B1%2Fx [part]\n"
#define TAIL3   "PUT obj?partNumber=3&uploadId=U%2B1%2Fx [tail]\n"
#define DONE    "POST obj?uploadId=U%2B1%2Fx\n"
#define ABORTED "DELETE obj?uploadId=U%2B1%2Fx\n"

static const Case cases[] = {
    {"small: one PUT", 1000, false, false, NULL, true, 0, "PUT obj [tail]\n", false},
    {"exactly one part: still one PUT", PART, false, false, NULL, true, 0, "PUT obj [part]\n",
     false},
    {"small, exclusive: HEAD then PUT", 1000, true, false, NULL, true, 0,
     "HEAD obj\nPUT obj [tail]\n", false},
    {"exclusive, the key exists: a conflict, nothing sent", 1000, true, false, head_found, false,
     DD_EXIT_CONFLICT, "HEAD obj\n", false},
    {"small, exclusive, conditional PUTs: one PUT", 1000, true, false, NULL, true, 0,
     "PUT obj [tail] [if-none-match]\n", true},
    {"conditional PUT, the key exists (412): a conflict", 1000, true, false, put_precondition,
     false, DD_EXIT_CONFLICT, "PUT obj [tail] [if-none-match]\n", true},
    {"small, not exclusive, conditional PUTs: a plain PUT", 1000, false, false, NULL, true, 0,
     "PUT obj [tail]\n", true},
    {"exclusive multipart, conditional PUTs: still a HEAD at commit", PART + 1, true, false, NULL,
     true, 0, START PART1 "HEAD obj\nPUT obj?partNumber=2&uploadId=U%2B1%2Fx [tail]\n" DONE, true},
    {"two parts and a tail", 2 * PART + 5, false, false, NULL, true, 0,
     START PART1 PART2 TAIL3 DONE, false},
    {"two whole parts: no empty tail", 2 * PART, false, false, NULL, true, 0,
     START PART1 PART2 DONE, false},
    {"exclusive multipart: HEAD at commit", PART + 1, true, false, NULL, true, 0,
     START PART1 "HEAD obj\n"
                 "PUT obj?partNumber=2&uploadId=U%2B1%2Fx [tail]\n" DONE,
     false},
    {"exclusive multipart, the key exists: aborted", PART + 1, true, false, head_found, false,
     DD_EXIT_CONFLICT, START PART1 "HEAD obj\n" ABORTED, false},
    {"a part refused (403): aborted", 2 * PART + 5, false, false, part2_refused, false,
     DD_EXIT_CONFIG, START PART1 PART2 ABORTED, false},
    {"a part answered SlowDown once: retried, completed", PART + 1, false, false, part1_busy_once,
     true, 0, START PART1 PART1 "PUT obj?partNumber=2&uploadId=U%2B1%2Fx [tail]\n" DONE, false},
    {"the start without an UploadId: nothing to abort", PART + 1, false, false, no_upload_id, false,
     DD_EXIT_IO, START, false},
    {"a 200 that carries an Error: aborted", PART + 1, false, false, complete_error, false,
     DD_EXIT_IO, START PART1 "PUT obj?partNumber=2&uploadId=U%2B1%2Fx [tail]\n" DONE ABORTED,
     false},
    {"the completion refused: aborted", PART + 1, false, false, complete_refused, false, DD_EXIT_IO,
     START PART1 "PUT obj?partNumber=2&uploadId=U%2B1%2Fx [tail]\n" DONE ABORTED, false},
    {"the caller aborts after a part: the upload is aborted", PART + 1, false, true, NULL, false, 0,
     START PART1 ABORTED, false},
    {"the caller aborts before any part: nothing to abort", 1000, false, true, NULL, false, 0, "",
     false},
};

/* Write size bytes in uneven pieces, as a pack writer does. */
static bool write_case(Storage *s, const Case *c, const uint8_t *data)
{
    StorageWrite *w = storage_write_begin(s, "obj");
    assert_non_null(w);
    size_t at = 0, piece = 1;
    bool ok = true;
    while (ok && at < c->size) {
        size_t n = c->size - at < piece ? c->size - at : piece;
        ok = storage_write_append(w, data + at, n);
        at += n;
        piece = piece * 7 + 4093;
    }
    if (!ok || c->abort) {
        storage_write_abort(w);
        return false;
    }
    return storage_write_commit(w, (StoragePutOpts){.exclusive = c->exclusive});
}

static void test_upload_sequences(void **state)
{
    (void)state;
    uint8_t *data = malloc(3 * PART);
    assert_non_null(data);
    for (size_t i = 0; i < 3 * PART; i++)
        data[i] = (uint8_t)(i * 131);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const Case *c = &cases[i];
        Fake f = {.script = c->script};
        Storage *s = open_fake(&f);
        ((S3Storage *)s)->cond = c->cond_put ? S3_COND_YES : S3_COND_NO;
        bool ok = write_case(s, c, data);
        buf_append(&f.log, "", 1);
        if (ok != c->ok)
            fail_msg("%s: commit %s (%s)", c->title, ok ? "succeeded" : "failed", err_message());
        if (!ok && c->code && (int)err_code() != c->code)
            fail_msg("%s: error code %d, want %d: %s", c->title, err_code(), c->code,
                     err_message());
        if (strcmp((char *)f.log.data, c->log) != 0)
            fail_msg("%s: requests\n%s\nwant\n%s", c->title, (char *)f.log.data, c->log);
        err_clear();
        buf_free(&f.log);
        buf_free(&f.complete);
        storage_free(s);
    }
    free(data);
}

static void test_complete_lists_parts_in_order(void **state)
{
    (void)state;
    Fake f = {0};
    Storage *s = open_fake(&f);
    uint8_t *data = calloc(1, 3 * PART);
    assert_non_null(data);
    assert_true(storage_put(s, "obj", data, 2 * PART + 1, (StoragePutOpts){0}));
    assert_string_equal((char *)f.complete.data,
                        "<CompleteMultipartUpload>"
                        "<Part><PartNumber>1</PartNumber><ETag>\"etag-1\"</ETag></Part>"
                        "<Part><PartNumber>2</PartNumber><ETag>\"etag-2\"</ETag></Part>"
                        "<Part><PartNumber>3</PartNumber><ETag>\"etag-3\"</ETag></Part>"
                        "</CompleteMultipartUpload>");
    free(data);
    buf_free(&f.log);
    buf_free(&f.complete);
    storage_free(s);
}

static void test_conditional_put_probe(void **state)
{
    (void)state;
    static const Answer yes[] = {{"PUT probes/", 2, 412, NULL}, {0}};
    static const Answer refused[] = {
        {"PUT probes/", 0, 501, "<Error><Code>NotImplemented</Code></Error>"}, {0}};
    static const struct {
        const char *title;
        const Answer *script;
        bool yes;
        const char *log; /* with the probe's random name cut */
    } probes[] = {
        {"200 then 412: honoured", yes, true, "PUT [if-none-match]|PUT [if-none-match]|DELETE|"},
        {"200 twice: ignored", NULL, false, "PUT [if-none-match]|PUT [if-none-match]|DELETE|"},
        {"501: refused, nothing written", refused, false, "PUT [if-none-match]|"},
    };
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        Fake f = {.script = probes[i].script};
        Storage *s = open_fake(&f);
        bool yes_now = storage_exclusive_atomic(s);
        bool again = storage_exclusive_atomic(s); /* asked once per process */
        buf_append(&f.log, "", 1);
        Buf cut = {0};
        for (char *line = (char *)f.log.data; *line;) {
            char *nl = strchr(line, '\n');
            char *sp = strchr(line, ' ');
            char *tag = strstr(line, "[if");
            buf_append(&cut, line, (size_t)(sp - line));
            if (tag && tag < nl)
                buf_printf(&cut, " %.*s", (int)(nl - tag), tag);
            buf_append(&cut, "|", 1);
            line = nl + 1;
        }
        buf_append(&cut, "", 1);
        if (yes_now != probes[i].yes || again != probes[i].yes)
            fail_msg("%s: answered %d then %d", probes[i].title, yes_now, again);
        if (strcmp((char *)cut.data, probes[i].log) != 0)
            fail_msg("%s: requests %s, want %s", probes[i].title, (char *)cut.data, probes[i].log);
        assert_true(strstr((char *)f.log.data, "probes/cond-") != NULL);
        buf_free(&cut);
        buf_free(&f.log);
        storage_free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upload_sequences),
        cmocka_unit_test(test_complete_lists_parts_in_order),
        cmocka_unit_test(test_conditional_put_probe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
