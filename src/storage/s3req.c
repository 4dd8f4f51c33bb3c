/*
 * s3req.c - see s3req.h.
 */
#include "storage/s3req.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/curl.h"
#include "common/rand.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "storage/s3xml.h"

/* ---- credentials and client ---- */

static char *trimmed(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/*
 * The credentials file has the AWS shared-credentials shape, which
 * operators know: "aws_access_key_id = ...", "aws_secret_access_key = ...",
 * optionally "aws_session_token = ..."; [section] lines and # comments are
 * ignored. It must be mode 0600 (no group or other bits).
 */
static bool read_credentials(S3Client *c, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return err_errno("could not read S3 credentials file \"%s\"", path);
    if (st.st_mode & 077) {
        err_set(DD_EXIT_CONFIG, "S3 credentials file \"%s\" has mode %04o, expected 0600", path,
                (unsigned)(st.st_mode & 07777));
        err_hint("chmod 600 \"%s\"", path);
        return false;
    }
    FILE *f = fopen(path, "r");
    if (!f)
        return err_errno("could not read S3 credentials file \"%s\"", path);
    char line[1024];
    while (fgets(line, sizeof(line), f)) {
        char *eq = strchr(line, '=');
        char *k = trimmed(line);
        if (!eq || k[0] == '#' || k[0] == '[')
            continue;
        *eq = '\0';
        k = trimmed(k);
        char *v = trimmed(eq + 1);
        char **slot = strcmp(k, "aws_access_key_id") == 0       ? &c->access_key
                      : strcmp(k, "aws_secret_access_key") == 0 ? &c->secret_key
                      : strcmp(k, "aws_session_token") == 0     ? &c->session_token
                                                                : NULL;
        if (slot) {
            free(*slot);
            *slot = xstrdup(v);
        }
    }
    fclose(f);
    if (!c->access_key || !c->secret_key) {
        err_set(DD_EXIT_CONFIG,
                "S3 credentials file \"%s\" lacks aws_access_key_id or "
                "aws_secret_access_key",
                path);
        err_hint("write both, one \"key = value\" a line");
        return false;
    }
    return true;
}

static bool env_credentials(S3Client *c)
{
    const char *id = getenv("AWS_ACCESS_KEY_ID"), *secret = getenv("AWS_SECRET_ACCESS_KEY");
    const char *token = getenv("AWS_SESSION_TOKEN");
    if (!id || !*id || !secret || !*secret) {
        err_set(DD_EXIT_CONFIG, "no S3 credentials: [repository] s3-credentials-file is not set "
                                "and AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is empty");
        err_hint("set s3-credentials-file to a 0600 file, or export the AWS_* variables");
        return false;
    }
    c->access_key = xstrdup(id);
    c->secret_key = xstrdup(secret);
    c->session_token = token && *token ? xstrdup(token) : NULL;
    return true;
}

bool s3req_client_init(S3Client *c, const StorageConfig *cfg)
{
    memset(c, 0, sizeof(*c));
    const char *ep = cfg->s3.endpoint;
    const char *host = strstr(ep, "://");
    if (!host || !host[3] || (strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0))
        return err_set(DD_EXIT_CONFIG,
                       "[repository] s3-endpoint \"%s\" is not http[s]://host[:port]", ep);
    host += 3;
    size_t n = strlen(host);
    while (n > 0 && host[n - 1] == '/')
        n--;
    int scheme_len = (int)(host - ep);
    if (cfg->s3.host_style)
        c->base = xasprintf("%.*s%s.%.*s", scheme_len, ep, cfg->s3.bucket, (int)n, host);
    else
        c->base = xasprintf("%.*s%.*s/%s", scheme_len, ep, (int)n, host, cfg->s3.bucket);
    const char *p = cfg->s3.prefix ? cfg->s3.prefix : "";
    while (*p == '/')
        p++;
    size_t pn = strlen(p);
    while (pn > 0 && p[pn - 1] == '/')
        pn--;
    c->prefix = pn ? xasprintf("%.*s/", (int)pn, p) : xstrdup("");
    c->bucket = xstrdup(cfg->s3.bucket);
    c->sigv4 = xasprintf("aws:amz:%s:s3", cfg->s3.region ? cfg->s3.region : "us-east-1");
    c->ca_file = cfg->s3.ca_file ? xstrdup(cfg->s3.ca_file) : NULL;
    c->no_verify_tls = cfg->s3.no_verify_tls;
    c->retry_timeout = cfg->s3.retry_timeout > 0 ? cfg->s3.retry_timeout : 60;
    bool ok = cfg->s3.credentials_file ? read_credentials(c, cfg->s3.credentials_file)
                                       : env_credentials(c);
    if (!ok)
        s3req_client_free(c);
    return ok;
}

void s3req_client_free(S3Client *c)
{
    free(c->base);
    free(c->prefix);
    free(c->bucket);
    free(c->sigv4);
    if (c->secret_key)
        memset(c->secret_key, 0, strlen(c->secret_key));
    free(c->access_key);
    free(c->secret_key);
    free(c->session_token);
    free(c->ca_file);
    memset(c, 0, sizeof(*c));
}

/* ---- encoding, times ---- */

void s3req_encode(Buf *b, const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~' ||
            (keep_slash && *p == '/')) {
            buf_append(b, p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            buf_append(b, e, 3);
        }
    }
}

double s3req_parse_time(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(s, "%a, %d %b %Y %H:%M:%S", &tm);
    double frac = 0;
    if (!end) {
        memset(&tm, 0, sizeof(tm));
        end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (end && *end == '.')
            frac = strtod(end, NULL);
    }
    if (!end)
        return 0;
    return (double)timegm(&tm) + frac;
}

/* ---- retry policy ---- */

bool s3req_retryable(int curl_code, long status, const char *code)
{
    switch ((CURLcode)curl_code) {
    case CURLE_OK:
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false; /* TLS verification, bad URL, out of memory: retrying changes nothing */
    }
    if (status == 501)
        return false; /* NotImplemented: an answer (a conditional PUT on Swift: s3cond.c) */
    if (status >= 500 || status == 429)
        return true;
    return code && (strcmp(code, "SlowDown") == 0 || strcmp(code, "RequestTimeout") == 0 ||
                    strcmp(code, "InternalError") == 0);
}

double s3req_backoff(int attempt, double unit_random)
{
    double cap = S3REQ_BACKOFF_BASE;
    for (int i = 0; i < attempt && cap < S3REQ_BACKOFF_CAP; i++)
        cap *= 2;
    if (cap > S3REQ_BACKOFF_CAP)
        cap = S3REQ_BACKOFF_CAP;
    return cap * unit_random;
}

/* ---- one request ---- */

/* Each thread's handle, freed when the thread exits. */
static _Thread_local CURL *thread_curl;
static pthread_key_t curl_key;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_release(void *unused)
{
    (void)unused;
    if (thread_curl)
        curl_easy_cleanup(thread_curl);
    thread_curl = NULL;
}

static void curl_setup_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    (void)pthread_key_create(&curl_key, curl_release);
}

static CURL *curl_for_thread(void)
{
    pthread_once(&curl_once, curl_setup_once);
    if (!thread_curl) {
        thread_curl = curl_easy_init();
        (void)pthread_setspecific(curl_key, &curl_key);
    } else {
        curl_easy_reset(thread_curl); /* keeps the connection and the TLS session */
    }
    return thread_curl;
}

typedef struct {
    S3Resp *resp;
    Buf *body;
} Collect;

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    buf_append(((Collect *)arg)->body, data, size * n);
    return size * n;
}

static void header_value(char *dst, size_t cap, const char *v, size_t len)
{
    while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
        len--;
    while (len > 0 && *v == ' ')
        v++, len--;
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, v, len);
    dst[len] = '\0';
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    S3Resp *r = ((Collect *)arg)->resp;
    size_t len = size * n;
    const char *colon = memchr(data, ':', len);
    if (!colon)
        return len;
    size_t klen = (size_t)(colon - data);
    char v[256];
    header_value(v, sizeof(v), colon + 1, len - klen - 1);
    if (klen == 4 && strncasecmp(data, "ETag", 4) == 0)
        snprintf(r->etag, sizeof(r->etag), "%s", v);
    else if (klen == 4 && strncasecmp(data, "Date", 4) == 0)
        r->date = s3req_parse_time(v);
    else if (klen == 13 && strncasecmp(data, "Last-Modified", 13) == 0)
        r->last_modified = s3req_parse_time(v);
    else if (klen == 13 && strncasecmp(data, "Content-Range", 13) == 0) {
        const char *slash = strrchr(v, '/');
        if (slash && slash[1] != '*')
            r->total = strtoull(slash + 1, NULL, 10);
    } else if (klen == 14 && strncasecmp(data, "Content-Length", 14) == 0 && r->total == 0)
        r->total = strtoull(v, NULL, 10);
    return len;
}

/* The error's Code and Message from an S3 error body (best effort: it may not be XML). */
static void read_error_body(S3Resp *resp, const Buf *body)
{
    XmlNode *x = NULL;
    if (body->len == 0 || !s3xml_parse((const char *)body->data, body->len, &x)) {
        err_clear();
        return;
    }
    const char *code = s3xml_text(x, "Code"), *msg = s3xml_text(x, "Message");
    snprintf(resp->code, sizeof(resp->code), "%s", code ? code : "");
    snprintf(resp->message, sizeof(resp->message), "%s", msg ? msg : "");
    s3xml_free(x);
}

static char *request_url(const S3Client *c, const S3Req *r)
{
    Buf u = {0};
    buf_printf(&u, "%s/", c->base);
    if (r->key) {
        char *full = xasprintf("%s%s", c->prefix, r->key);
        s3req_encode(&u, full, true);
        free(full);
    }
    if (r->query)
        buf_printf(&u, "?%s", r->query);
    buf_append(&u, "", 1);
    return (char *)u.data;
}

/* One attempt; returns the CURLcode. */
static int send_once(const S3Client *c, const S3Req *r, const char *url, S3Resp *resp, Buf *body)
{
    CURL *h = curl_for_thread();
    if (!h)
        return CURLE_OUT_OF_MEMORY;
    struct curl_slist *hdrs = NULL;
    char line[512];
    /* Bodies are covered by our own checksums (object.h); libcurl need not hash them. */
    hdrs = curl_slist_append(hdrs, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
    if (c->session_token) {
        snprintf(line, sizeof(line), "x-amz-security-token: %s", c->session_token);
        hdrs = curl_slist_append(hdrs, line);
    }
    if (r->range) {
        snprintf(line, sizeof(line), "Range: bytes=%llu-%llu", (unsigned long long)r->range_off,
                 (unsigned long long)(r->range_off + r->range_len - 1));
        hdrs = curl_slist_append(hdrs, line);
    }
    for (const char *const *x = r->headers; x && *x; x++)
        hdrs = curl_slist_append(hdrs, *x);
    Collect col = {resp, body};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
    if (strcmp(r->method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (r->body || strcmp(r->method, "PUT") == 0 || strcmp(r->method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body ? r->body : "");
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, c->sigv4);
    curl_easy_setopt(h, CURLOPT_USERNAME, c->access_key);
    curl_easy_setopt(h, CURLOPT_PASSWORD, c->secret_key);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    /* A transfer slower than 1 KiB/s for 30 s is dead: retried. */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &col);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &col);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->no_verify_tls ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->no_verify_tls ? 0L : 2L);
    if (c->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_slist_free_all(hdrs);
    return (int)rc;
}

/*
 * Set once the bucket answered with a success: a NoSuchBucket after that
 * comes from an endpoint that is (re)starting (Swift says so until its
 * container server is up), not from a bucket that went away, and is retried.
 */
static atomic_bool bucket_seen;

bool s3req_send(const S3Client *c, const S3Req *r, S3Resp *resp)
{
    char *url = request_url(c, r);
    Buf scratch = {0};
    Buf *body = r->out ? r->out : &scratch;
    size_t body_start = body->len;
    double t0 = time_mono();
    bool ok = false;
    for (int attempt = 0;; attempt++) {
        memset(resp, 0, sizeof(*resp));
        body->len = body_start;
        double sent = time_mono();
        int rc = c->transport ? c->transport(c->transport_ctx, r, resp, body)
                              : send_once(c, r, url, resp, body);
        log_debug("S3 %s %s%s%s: %ld in %.1f ms", r->method, r->key ? r->key : "",
                  r->query ? "?" : "", r->query ? r->query : "", resp->status,
                  (time_mono() - sent) * 1000);
        Buf errbody = {body->data + body_start, body->len - body_start, 0};
        if (rc == CURLE_OK && resp->status >= 300)
            read_error_body(resp, &errbody);
        if (rc == CURLE_OK && resp->status >= 200 && resp->status < 300)
            atomic_store(&bucket_seen, true);
        bool again = s3req_retryable(rc, resp->status, resp->code) ||
                     (atomic_load(&bucket_seen) && strcmp(resp->code, "NoSuchBucket") == 0);
        if (!again) {
            ok = rc == CURLE_OK;
            if (!ok)
                err_set(DD_EXIT_IO, "S3 request %s \"%s\" failed: %s", r->method,
                        r->key ? r->key : c->bucket, curl_easy_strerror((CURLcode)rc));
            break;
        }
        double wait = 0;
        uint32_t rnd;
        rnd = rand_u32();
        wait = s3req_backoff(attempt, (double)rnd / 4294967296.0);
        if (time_mono() - t0 + wait > c->retry_timeout) {
            if (rc != CURLE_OK)
                err_set(DD_EXIT_IO, "S3 request %s \"%s\" failed after %d attempts: %s", r->method,
                        r->key ? r->key : c->bucket, attempt + 1, curl_easy_strerror((CURLcode)rc));
            else
                err_set(DD_EXIT_IO, "S3 request %s \"%s\" failed after %d attempts: HTTP %ld %s",
                        r->method, r->key ? r->key : c->bucket, attempt + 1, resp->status,
                        resp->code);
            err_hint(
                "is the endpoint up? drydock retried for %.0f s ([repository] s3-retry-timeout)",
                c->retry_timeout);
            break;
        }
        log_debug("S3 %s %s: %s, retrying in %.2f s", r->method, r->key ? r->key : "",
                  rc != CURLE_OK ? curl_easy_strerror((CURLcode)rc) : resp->code, wait);
        time_sleep(wait);
    }
    buf_free(&scratch);
    free(url);
    return ok;
}

bool s3req_fail(const S3Client *c, const S3Resp *resp, const char *what, const char *key)
{
    DdExit code = resp->status == 403 ? DD_EXIT_CONFIG : DD_EXIT_IO;
    err_set(code, "S3 refused to %s \"%s%s\" in bucket \"%s\": HTTP %ld%s%s%s%s", what, c->prefix,
            key ? key : "", c->bucket, resp->status, resp->code[0] ? " " : "", resp->code,
            resp->message[0] ? ": " : "", resp->message);
    if (resp->status == 403)
        err_hint("check the S3 credentials and the bucket's permissions");
    return false;
}
