/*
 * s3cond.c - does this S3 service honour a conditional PUT?
 *
 * A PUT with "If-None-Match: *" creates the object only if the key is free,
 * in one request, atomically: a second writer of the key gets 412. AWS S3
 * (since 2024), MinIO and Ceph RGW honour it. Swift's s3api (2.30) answers
 * 501 NotImplemented, and an older service may ignore the header and
 * overwrite, so it is used only once proven:
 *
 *   1. PUT probes/cond-<16 random hex> with If-None-Match: *   expect 200
 *   2. the same PUT again                                      expect 412
 *   3. DELETE it.
 *
 * Anything else (501, 200 twice) is a "no"; an answer that is not one of
 * these (a network error) leaves it unknown for this process, and exclusive
 * puts keep the HEAD-then-PUT of s3.c. The verdict is remembered in
 * STATE-DIR/s3-caps/<first 16 hex of the SHA-256 of the bucket's URL>, a
 * 0600 file holding "conditional-put yes\n" or "conditional-put no\n", so
 * the three requests are made once a day per host and service: a verdict
 * older than S3_COND_TTL is asked again, so that a service upgraded to
 * honour it, or one put behind a front that no longer does, is found out
 * within a day. Removing the file asks at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fsutil.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/rand.h"
#include "common/timeutil.h"
#include "storage/s3_int.h"

/* How long a remembered verdict holds. */
#define S3_COND_TTL (24 * 3600.0)

static char *cache_path(const S3Storage *s)
{
    if (!s->state_dir)
        return NULL;
    uint8_t h[SHA256_LEN];
    sha256(s->client.base, strlen(s->client.base), h);
    char hex[2 * SHA256_LEN + 1];
    sha256_hex(h, hex);
    return xasprintf("%s/s3-caps/%.16s", s->state_dir, hex);
}

static S3Cond cache_read(const char *path)
{
    Buf b = {0};
    bool found = false;
    S3Cond c = S3_COND_UNKNOWN;
    struct stat st;
    if (!path || stat(path, &st) != 0 || time_wall() - (double)st.st_mtime > S3_COND_TTL)
        return c;
    if (fs_read_file(path, &b, &found) && found) {
        if (b.len == 20 && memcmp(b.data, "conditional-put yes\n", 20) == 0)
            c = S3_COND_YES;
        else if (b.len == 19 && memcmp(b.data, "conditional-put no\n", 19) == 0)
            c = S3_COND_NO;
    }
    err_clear(); /* an unreadable cache is asked again */
    buf_free(&b);
    return c;
}

/* Into STATE-DIR/s3-caps/ (both made 0700 if missing); a failure only costs a probe next time. */
static void cache_write(const S3Storage *s, const char *path, S3Cond c)
{
    if (!path)
        return;
    char *dir = xstrdup(path);
    *strrchr(dir, '/') = '\0';
    const char *text = c == S3_COND_YES ? "conditional-put yes\n" : "conditional-put no\n";
    if ((mkdir(s->state_dir, 0700) != 0 && errno != EEXIST) ||
        (mkdir(dir, 0700) != 0 && errno != EEXIST) ||
        !fs_replace_file(path, text, strlen(text), 0600, false)) {
        log_debug("could not remember the S3 service's answer in \"%s\"", path);
        err_clear();
    }
    free(dir);
}

bool s3_put_if_absent(S3Storage *s, const char *key, const void *data, size_t len, S3Resp *resp)
{
    static const char *const hdrs[] = {"If-None-Match: *", NULL};
    return s3req_send(
        &s->client,
        &(S3Req){.method = "PUT", .key = key, .body = data, .body_len = len, .headers = hdrs},
        resp);
}

static S3Cond probe(S3Storage *s)
{
    uint8_t r[8];
    rand_bytes(r, sizeof(r));
    char key[64];
    int n = snprintf(key, sizeof(key), "probes/cond-");
    for (size_t i = 0; i < sizeof(r); i++)
        n += snprintf(key + n, sizeof(key) - (size_t)n, "%02x", r[i]);
    S3Resp a, b, d;
    S3Cond c = S3_COND_UNKNOWN;
    if (!s3_put_if_absent(s, key, "probe\n", 6, &a)) {
        err_clear();
        return c;
    }
    if (a.status == 501 || a.status == 400)
        return S3_COND_NO; /* refused the header; nothing was written */
    if (a.status != 200)
        return c;
    if (s3_put_if_absent(s, key, "probe\n", 6, &b))
        c = b.status == 412 ? S3_COND_YES : b.status == 200 ? S3_COND_NO : c;
    err_clear();
    if (!s3req_send(&s->client, &(S3Req){.method = "DELETE", .key = key}, &d))
        err_clear();
    return c;
}

bool s3_cond_put(Storage *st)
{
    S3Storage *s = (S3Storage *)st;
    if (s->cond != S3_COND_UNKNOWN)
        return s->cond == S3_COND_YES;
    char *path = cache_path(s);
    s->cond = cache_read(path);
    if (s->cond == S3_COND_UNKNOWN) {
        s->cond = probe(s);
        if (s->cond != S3_COND_UNKNOWN) {
            log_debug("S3 service at %s %s conditional PUTs", s->client.base,
                      s->cond == S3_COND_YES ? "honours" : "does not honour");
            cache_write(s, path, s->cond);
        }
    }
    free(path);
    bool yes = s->cond == S3_COND_YES;
    if (s->cond == S3_COND_UNKNOWN)
        s->cond = S3_COND_NO; /* this process: ask no more */
    return yes;
}
