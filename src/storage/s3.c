/*
 * s3.c - the storage driver for an S3 bucket (AWS S3, Ceph RGW, MinIO,
 * OpenStack Swift's s3api), over libcurl (s3req.h).
 *
 * Keys are "<s3-prefix>/<path>". What a directory gives for free, the bucket
 * is given here:
 *  1. Whole-object visibility (storage.h invariant 1): a PUT is atomic, and a
 *     multipart upload becomes visible only when completed, at once. An
 *     object up to S3_PART_SIZE goes in one PUT; a larger one streams as
 *     parts of S3_PART_SIZE, so a write holds at most one part in memory
 *     whatever the object's size.
 *  2. Durability (invariant 2) is the service's: a 200 means stored.
 *  3. No temporary objects exist (invariant 3): an unfinished multipart
 *     upload is not an object, is never listed or read, and
 *     storage_remove_orphans() aborts those older than the caller says.
 *  4. An exclusive put of one PUT's size is a conditional PUT
 *     (If-None-Match: *) where the service honours it (s3cond.c): one
 *     request, and of two writers racing on one key exactly one wins. Else,
 *     and for a multipart upload, it checks that the key is absent (HEAD)
 *     before it commits, so two writers racing on one key could both
 *     succeed: the repository's locks keep writers of one kind apart where
 *     that matters (repo/walpush.h says when a WAL push goes without).
 *  5. Reads: a read opens with a GET of the first S3_OPEN_WINDOW bytes
 *     (the whole of a small object; little wasted when the caller wants one
 *     chunk of a pack), then reads on in ranged GETs of S3_READ_WINDOW that
 *     carry If-Match with the first answer's ETag, so an object replaced
 *     mid-read fails (412) instead of mixing two versions. A read_at is one
 *     ranged GET, or a window's worth when it starts at most S3_READ_GAP
 *     past where the previous one ended (a pack read forward, even with
 *     gaps: a guided backup reads the bases of the changed chunks of a file,
 *     in order, and one GET each cost it most of its time on Swift).
 *  6. Listing is ListObjectsV2 with '/' as delimiter, page after page.
 */
#include "storage/s3.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/mem.h"
#include "common/testpoint.h"
#include "storage/s3_int.h"
#include "storage/s3xml.h"

#define S3_PART_SIZE   (16u << 20)
#define S3_OPEN_WINDOW (256u << 10)
#define S3_READ_WINDOW (8u << 20)
#define S3_READ_GAP    (1u << 20)

typedef struct {
    const StorageDriver *driver; /* first: see storage.c */
    S3Storage *s;
    char *key;
    Buf buf;         /* the part being filled */
    char *upload_id; /* once the object outgrew one part */
    StrList etags;   /* of the parts sent, in order */
} S3Write;

typedef struct {
    const StorageDriver *driver;
    S3Storage *s;
    char *key;
    char etag[128];
    uint64_t total;
    Buf window; /* bytes [window_off, window_off + window.len) */
    uint64_t window_off;
    uint64_t pos;      /* next byte read() returns */
    uint64_t last_end; /* where the last read_at ended: the next one there is sequential */
} S3Read;

/* ---- writes ---- */

static StorageWrite *s3_write_begin(Storage *st, const char *path)
{
    S3Write *w = xcalloc(1, sizeof(*w));
    w->driver = st->driver;
    w->s = (S3Storage *)st;
    w->key = xstrdup(path);
    return (StorageWrite *)w;
}

static bool s3_initiate(S3Write *w)
{
    Buf body = {0};
    S3Resp resp;
    bool ok = s3req_send(
        &w->s->client, &(S3Req){.method = "POST", .key = w->key, .query = "uploads=", .out = &body},
        &resp);
    if (ok && resp.status != 200)
        ok = s3req_fail(&w->s->client, &resp, "start an upload of", w->key);
    XmlNode *x = NULL;
    if (ok && (ok = s3xml_parse((const char *)body.data, body.len, &x))) {
        const char *id = s3xml_text(x, "UploadId");
        if (id && *id)
            w->upload_id = xstrdup(id);
        else
            ok = err_set(DD_EXIT_IO,
                         "S3 answered the start of an upload of \"%s\" without an "
                         "UploadId",
                         w->key);
    }
    s3xml_free(x);
    buf_free(&body);
    return ok;
}

static bool s3_send_part(S3Write *w)
{
    if (!w->upload_id && !s3_initiate(w))
        return false;
    Buf q = {0};
    buf_printf(&q, "partNumber=%zu&uploadId=", w->etags.len + 1);
    s3req_encode(&q, w->upload_id, false);
    buf_append(&q, "", 1);
    S3Resp resp;
    bool ok = s3req_send(&w->s->client,
                         &(S3Req){.method = "PUT",
                                  .key = w->key,
                                  .query = (char *)q.data,
                                  .body = w->buf.data,
                                  .body_len = w->buf.len},
                         &resp);
    if (ok && resp.status != 200)
        ok = s3req_fail(&w->s->client, &resp, "store a part of", w->key);
    if (ok && !resp.etag[0])
        ok = err_set(DD_EXIT_IO, "S3 stored a part of \"%s\" without an ETag", w->key);
    if (ok)
        strlist_push(&w->etags, resp.etag);
    w->buf.len = 0;
    buf_free(&q);
    if (ok)
        testpoint_pause("s3-part-stored"); /* a multipart upload is open */
    return ok;
}

static bool s3_write_append(StorageWrite *sw, const void *data, size_t len)
{
    S3Write *w = (S3Write *)sw;
    const uint8_t *p = data;
    while (len > 0) {
        /* A full part goes once more bytes come: an object of exactly one part is one PUT. */
        if (w->buf.len == S3_PART_SIZE && !s3_send_part(w))
            return false;
        size_t room = S3_PART_SIZE - w->buf.len;
        size_t n = len < room ? len : room;
        buf_append(&w->buf, p, n);
        p += n;
        len -= n;
    }
    return true;
}

static void s3_abort_upload(S3Write *w)
{
    if (!w->upload_id)
        return;
    Buf q = {0};
    buf_printf(&q, "uploadId=");
    s3req_encode(&q, w->upload_id, false);
    buf_append(&q, "", 1);
    S3Resp resp;
    if (!s3req_send(&w->s->client,
                    &(S3Req){.method = "DELETE", .key = w->key, .query = (char *)q.data}, &resp))
        err_clear(); /* left for expire's orphan removal */
    buf_free(&q);
}

static void s3_write_free(S3Write *w)
{
    buf_free(&w->buf);
    strlist_free(&w->etags);
    free(w->upload_id);
    free(w->key);
    free(w);
}

static bool s3_complete(S3Write *w)
{
    Buf body = {0}, q = {0}, out = {0};
    buf_printf(&body, "<CompleteMultipartUpload>");
    for (size_t i = 0; i < w->etags.len; i++)
        buf_printf(&body, "<Part><PartNumber>%zu</PartNumber><ETag>%s</ETag></Part>", i + 1,
                   w->etags.items[i]);
    buf_printf(&body, "</CompleteMultipartUpload>");
    buf_printf(&q, "uploadId=");
    s3req_encode(&q, w->upload_id, false);
    buf_append(&q, "", 1);
    S3Resp resp;
    bool ok = s3req_send(&w->s->client,
                         &(S3Req){.method = "POST",
                                  .key = w->key,
                                  .query = (char *)q.data,
                                  .body = body.data,
                                  .body_len = body.len,
                                  .out = &out},
                         &resp);
    if (ok && resp.status != 200)
        ok = s3req_fail(&w->s->client, &resp, "complete the upload of", w->key);
    /* A 200 may still carry an <Error> (the service failed while it answered). */
    XmlNode *x = NULL;
    if (ok && (ok = s3xml_parse((const char *)out.data, out.len, &x)) &&
        strcmp(x->name, "Error") == 0)
        ok = err_set(DD_EXIT_IO, "S3 could not complete the upload of \"%s\": %s", w->key,
                     s3xml_text(x, "Code") ? s3xml_text(x, "Code") : "unknown error");
    s3xml_free(x);
    buf_free(&body);
    buf_free(&q);
    buf_free(&out);
    return ok;
}

static bool s3_head(S3Storage *s, const char *key, bool *found, S3Resp *resp)
{
    if (!s3req_send(&s->client, &(S3Req){.method = "HEAD", .key = key}, resp))
        return false;
    *found = resp->status == 200;
    if (resp->status == 200 || resp->status == 404)
        return true;
    return s3req_fail(&s->client, resp, "look at", key);
}

static bool s3_write_commit(StorageWrite *sw, StoragePutOpts opts)
{
    S3Write *w = (S3Write *)sw;
    bool ok = true, exists = false;
    S3Resp resp;
    if (opts.exclusive && !w->upload_id && s3_cond_put(&w->s->base)) {
        ok = s3_put_if_absent(w->s, w->key, w->buf.data, w->buf.len, &resp);
        if (ok && resp.status == 412)
            ok = err_set(DD_EXIT_CONFLICT, "object \"%s%s\" already exists in bucket \"%s\"",
                         w->s->client.prefix, w->key, w->s->client.bucket);
        else if (ok && resp.status != 200)
            ok = s3req_fail(&w->s->client, &resp, "store", w->key);
        s3_write_free(w);
        return ok;
    }
    if (opts.exclusive && (ok = s3_head(w->s, w->key, &exists, &resp)) && exists)
        ok = err_set(DD_EXIT_CONFLICT, "object \"%s%s\" already exists in bucket \"%s\"",
                     w->s->client.prefix, w->key, w->s->client.bucket);
    if (ok && !w->upload_id) {
        ok = s3req_send(
            &w->s->client,
            &(S3Req){.method = "PUT", .key = w->key, .body = w->buf.data, .body_len = w->buf.len},
            &resp);
        if (ok && resp.status != 200)
            ok = s3req_fail(&w->s->client, &resp, "store", w->key);
    } else if (ok) {
        ok = (w->buf.len == 0 || s3_send_part(w)) && s3_complete(w);
    }
    if (!ok)
        s3_abort_upload(w);
    s3_write_free(w);
    return ok;
}

static void s3_write_abort(StorageWrite *sw)
{
    S3Write *w = (S3Write *)sw;
    s3_abort_upload(w);
    s3_write_free(w);
}

/* ---- reads ---- */

/* GET [off, off + len) into out; *status is the answer's. */
static bool s3_get_range(S3Read *r, uint64_t off, size_t len, Buf *out, S3Resp *resp)
{
    char ifmatch[160];
    snprintf(ifmatch, sizeof(ifmatch), "If-Match: %s", r->etag);
    const char *hdrs[] = {ifmatch, NULL};
    return s3req_send(&r->s->client,
                      &(S3Req){.method = "GET",
                               .key = r->key,
                               .range = true,
                               .range_off = off,
                               .range_len = len,
                               .out = out,
                               .headers = r->etag[0] ? hdrs : NULL},
                      resp);
}

static StorageRead *s3_read_open(Storage *st, const char *path, bool *found)
{
    S3Read *r = xcalloc(1, sizeof(*r));
    r->driver = st->driver;
    r->s = (S3Storage *)st;
    r->key = xstrdup(path);
    S3Resp resp;
    *found = true; /* an error is not "missing" */
    bool ok = s3_get_range(r, 0, S3_OPEN_WINDOW, &r->window, &resp);
    if (ok && resp.status == 416) { /* an empty object: no range of it exists */
        bool there = false;
        ok = s3_head(r->s, path, &there, &resp);
        r->window.len = 0;
        *found = there;
        resp.total = 0;
        if (ok && there)
            snprintf(r->etag, sizeof(r->etag), "%s", resp.etag);
    } else if (ok && resp.status == 404) {
        *found = false;
    } else if (ok && resp.status != 200 && resp.status != 206) {
        ok = s3req_fail(&r->s->client, &resp, "read", path);
    } else if (ok) {
        snprintf(r->etag, sizeof(r->etag), "%s", resp.etag);
        r->total = resp.total ? resp.total : r->window.len;
    }
    if (!ok || !*found) {
        buf_free(&r->window);
        free(r->key);
        free(r);
        return NULL;
    }
    return (StorageRead *)r;
}

static bool s3_read(StorageRead *sr, void *buf, size_t len, size_t *got)
{
    S3Read *r = (S3Read *)sr;
    *got = 0;
    if (r->pos >= r->total)
        return true;
    if (r->pos >= r->window_off + r->window.len) {
        r->window.len = 0;
        r->window_off = r->pos;
        S3Resp resp;
        uint64_t want = r->total - r->pos < S3_READ_WINDOW ? r->total - r->pos : S3_READ_WINDOW;
        if (!s3_get_range(r, r->pos, (size_t)want, &r->window, &resp))
            return false;
        if (resp.status != 206 && resp.status != 200)
            return s3req_fail(&r->s->client, &resp, "read on in", r->key);
        if (r->window.len == 0)
            return err_set(DD_EXIT_CORRUPT, "object \"%s\" ended before its %" PRIu64 " bytes",
                           r->key, r->total);
    }
    size_t off = (size_t)(r->pos - r->window_off);
    size_t n = r->window.len - off < len ? r->window.len - off : len;
    memcpy(buf, r->window.data + off, n);
    r->pos += n;
    *got = n;
    return true;
}

/*
 * A read_at that goes on forward from where the last one ended, at most
 * S3_READ_GAP on (verify or a restore reading a pack's chunks in order, a
 * guided backup its bases), refills the window from there, so that a pack
 * read forward costs one GET per S3_READ_WINDOW; one that jumps gets
 * exactly its range.
 */
static bool s3_read_at(StorageRead *sr, uint64_t offset, void *buf, size_t len)
{
    S3Read *r = (S3Read *)sr;
    bool sequential = offset >= r->last_end && offset - r->last_end <= S3_READ_GAP;
    r->last_end = offset + len;
    if (offset >= r->window_off && offset + len <= r->window_off + r->window.len) {
        memcpy(buf, r->window.data + (offset - r->window_off), len);
        return true;
    }
    if (sequential && len < S3_READ_WINDOW && offset + len <= r->total) {
        uint64_t want = r->total - offset < S3_READ_WINDOW ? r->total - offset : S3_READ_WINDOW;
        r->window.len = 0;
        r->window_off = offset;
        S3Resp resp;
        bool ok = s3_get_range(r, offset, (size_t)want, &r->window, &resp);
        if (ok && resp.status != 206 && resp.status != 200)
            ok = s3req_fail(&r->s->client, &resp, "read a range of", r->key);
        if (ok && r->window.len != want)
            ok = err_set(DD_EXIT_CORRUPT,
                         "object \"%s\" gave %zu bytes at offset %llu, expected %llu", r->key,
                         r->window.len, (unsigned long long)offset, (unsigned long long)want);
        if (!ok) {
            r->window.len = 0;
            return false;
        }
        memcpy(buf, r->window.data, len);
        return true;
    }
    if (offset + len > r->total)
        return err_set(DD_EXIT_CORRUPT,
                       "object \"%s\" is shorter than expected (%zu bytes missing at offset %llu)",
                       r->key, len, (unsigned long long)offset);
    if (len == 0)
        return true;
    Buf out = {0};
    S3Resp resp;
    bool ok = s3_get_range(r, offset, len, &out, &resp);
    if (ok && resp.status != 206 && resp.status != 200)
        ok = s3req_fail(&r->s->client, &resp, "read a range of", r->key);
    if (ok && out.len != len)
        ok = err_set(DD_EXIT_CORRUPT, "object \"%s\" gave %zu bytes at offset %llu, expected %zu",
                     r->key, out.len, (unsigned long long)offset, len);
    if (ok)
        memcpy(buf, out.data, len);
    buf_free(&out);
    return ok;
}

static void s3_read_close(StorageRead *sr)
{
    S3Read *r = (S3Read *)sr;
    buf_free(&r->window);
    free(r->key);
    free(r);
}

/* ---- metadata, listing, removal ---- */

static bool s3_info(Storage *st, const char *path, bool *found, StorageInfo *info)
{
    S3Resp resp;
    if (!s3_head((S3Storage *)st, path, found, &resp))
        return false;
    if (*found) {
        info->size = resp.total;
        info->mtime = resp.last_modified;
    }
    return true;
}

static bool s3_remove(Storage *st, const char *path)
{
    S3Storage *s = (S3Storage *)st;
    S3Resp resp;
    if (!s3req_send(&s->client, &(S3Req){.method = "DELETE", .key = path}, &resp))
        return false;
    if (resp.status == 204 || resp.status == 200 || resp.status == 404)
        return true;
    return s3req_fail(&s->client, &resp, "remove", path);
}

/* DeleteObjects takes at most this many keys a request. */
#define S3_DELETE_BATCH 1000

static void xml_escaped(Buf *b, const char *s)
{
    for (; *s; s++) {
        const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : NULL;
        if (e)
            buf_printf(b, "%s", e);
        else
            buf_append(b, s, 1);
    }
}

/* One DeleteObjects request (Quiet: only failures are listed in the answer). */
static bool s3_delete_batch(S3Storage *s, char *const *paths, size_t n)
{
    Buf body = {0}, out = {0};
    buf_printf(&body, "<Delete><Quiet>true</Quiet>");
    for (size_t i = 0; i < n; i++) {
        buf_printf(&body, "<Object><Key>");
        char *key = xasprintf("%s%s", s->client.prefix, paths[i]);
        xml_escaped(&body, key);
        free(key);
        buf_printf(&body, "</Key></Object>");
    }
    buf_printf(&body, "</Delete>");
    /* S3 insists on Content-MD5 for this request. */
    unsigned char md5[EVP_MAX_MD_SIZE];
    unsigned int md5_len = 0;
    EVP_Digest(body.data, body.len, md5, &md5_len, EVP_md5(), NULL);
    char b64[64], header[96];
    EVP_EncodeBlock((unsigned char *)b64, md5, (int)md5_len);
    snprintf(header, sizeof(header), "Content-MD5: %s", b64);
    const char *hdrs[] = {header, "Content-Type: application/xml", NULL};
    S3Resp resp;
    bool ok = s3req_send(&s->client,
                         &(S3Req){.method = "POST",
                                  .query = "delete=",
                                  .body = body.data,
                                  .body_len = body.len,
                                  .headers = hdrs,
                                  .out = &out},
                         &resp);
    if (ok && resp.status != 200)
        ok = s3req_fail(&s->client, &resp, "remove a batch of objects from", "");
    XmlNode *x = NULL;
    if (ok && (ok = s3xml_parse((const char *)out.data, out.len, &x))) {
        const XmlNode *e = s3xml_child(x, "Error");
        if (e)
            ok = err_set(DD_EXIT_IO, "S3 could not remove \"%s\": %s",
                         s3xml_text(e, "Key") ? s3xml_text(e, "Key") : "?",
                         s3xml_text(e, "Code") ? s3xml_text(e, "Code") : "unknown error");
    }
    s3xml_free(x);
    buf_free(&body);
    buf_free(&out);
    return ok;
}

static bool s3_remove_many(Storage *st, const StrList *paths)
{
    bool ok = true;
    for (size_t i = 0; ok && i < paths->len; i += S3_DELETE_BATCH) {
        size_t n = paths->len - i < S3_DELETE_BATCH ? paths->len - i : S3_DELETE_BATCH;
        ok = s3_delete_batch((S3Storage *)st, paths->items + i, n);
    }
    return ok;
}

void s3_listing_free(S3Listing *l)
{
    for (size_t i = 0; i < l->len; i++)
        free(l->items[i].key);
    free(l->items);
    strlist_free(&l->dirs);
    memset(l, 0, sizeof(*l));
}

/* Add one page of ListObjectsV2 to out; *next is the continuation token or NULL. */
static bool list_page(S3Storage *s, const XmlNode *x, size_t plen, S3Listing *out, char **next)
{
    for (const XmlNode *c = s3xml_child(x, "Contents"); c; c = s3xml_next(c, "Contents")) {
        const char *key = s3xml_text(c, "Key"), *size = s3xml_text(c, "Size");
        const char *lm = s3xml_text(c, "LastModified");
        if (!key || strncmp(key, s->client.prefix, plen) != 0)
            return err_set(DD_EXIT_IO, "S3 listed a key outside the prefix asked for");
        out->items = xrealloc(out->items, (out->len + 1) * sizeof(*out->items));
        out->items[out->len++] =
            (S3Object){xstrdup(key + plen), size ? strtoull(size, NULL, 10) : 0,
                       lm ? s3req_parse_time(lm) : 0};
    }
    for (const XmlNode *c = s3xml_child(x, "CommonPrefixes"); c;
         c = s3xml_next(c, "CommonPrefixes")) {
        const char *p = s3xml_text(c, "Prefix");
        size_t n = p ? strlen(p) : 0;
        if (!p || n <= plen || strncmp(p, s->client.prefix, plen) != 0)
            return err_set(DD_EXIT_IO, "S3 listed a folder outside the prefix asked for");
        char *d = xstrndup(p + plen, n - plen - (p[n - 1] == '/'));
        strlist_push(&out->dirs, d);
        free(d);
    }
    const char *trunc = s3xml_text(x, "IsTruncated");
    const char *token = s3xml_text(x, "NextContinuationToken");
    *next = trunc && strcmp(trunc, "true") == 0 && token && *token ? xstrdup(token) : NULL;
    if (trunc && strcmp(trunc, "true") == 0 && !*next)
        return err_set(DD_EXIT_IO, "S3 said a listing goes on but gave no continuation token");
    return true;
}

bool s3_list_objects(S3Storage *s, const char *prefix, bool dirs, S3Listing *out)
{
    memset(out, 0, sizeof(*out));
    size_t plen = strlen(s->client.prefix);
    char *full = xasprintf("%s%s", s->client.prefix, prefix);
    char *token = NULL;
    bool ok = true;
    do {
        Buf q = {0}, body = {0};
        if (token) {
            buf_printf(&q, "continuation-token=");
            s3req_encode(&q, token, false);
            buf_printf(&q, "&");
        }
        buf_printf(&q, "%slist-type=2&prefix=", dirs ? "delimiter=%2F&" : "");
        s3req_encode(&q, full, false);
        buf_append(&q, "", 1);
        free(token);
        token = NULL;
        S3Resp resp;
        ok = s3req_send(&s->client,
                        &(S3Req){.method = "GET", .query = (char *)q.data, .out = &body}, &resp);
        if (ok && resp.status != 200)
            ok = s3req_fail(&s->client, &resp, "list", prefix);
        out->server_date = resp.date;
        XmlNode *x = NULL;
        ok = ok && s3xml_parse((const char *)body.data, body.len, &x) &&
             list_page(s, x, plen, out, &token);
        s3xml_free(x);
        buf_free(&q);
        buf_free(&body);
    } while (ok && token);
    free(token);
    free(full);
    if (!ok)
        s3_listing_free(out);
    return ok;
}

static bool s3_list(Storage *st, const char *dir, StrList *out)
{
    char *prefix = dir && dir[0] ? xasprintf("%s/", dir) : xstrdup("");
    S3Listing l;
    bool ok = s3_list_objects((S3Storage *)st, prefix, true, &l);
    size_t n = strlen(prefix);
    for (size_t i = 0; ok && i < l.len; i++)
        strlist_push(out, l.items[i].key + n);
    for (size_t i = 0; ok && i < l.dirs.len; i++)
        strlist_push(out, l.dirs.items[i] + n);
    if (ok)
        s3_listing_free(&l);
    free(prefix);
    return ok;
}

/* Abort the unfinished multipart uploads under dir/ started min_age seconds ago or more. */
static bool s3_remove_orphans(Storage *st, const char *dir, double min_age, size_t *removed)
{
    S3Storage *s = (S3Storage *)st;
    Buf q = {0}, body = {0};
    char *full = xasprintf("%s%s/", s->client.prefix, dir);
    buf_printf(&q, "prefix=");
    s3req_encode(&q, full, false);
    buf_printf(&q, "&uploads=");
    buf_append(&q, "", 1);
    S3Resp resp;
    bool ok = s3req_send(&s->client,
                         &(S3Req){.method = "GET", .query = (char *)q.data, .out = &body}, &resp);
    if (ok && resp.status != 200)
        ok = s3req_fail(&s->client, &resp, "list the unfinished uploads in", dir);
    XmlNode *x = NULL;
    ok = ok && s3xml_parse((const char *)body.data, body.len, &x);
    size_t plen = strlen(s->client.prefix);
    for (const XmlNode *u = ok ? s3xml_child(x, "Upload") : NULL; ok && u;
         u = s3xml_next(u, "Upload")) {
        const char *key = s3xml_text(u, "Key"), *id = s3xml_text(u, "UploadId");
        const char *init = s3xml_text(u, "Initiated");
        if (!key || !id || strncmp(key, s->client.prefix, plen) != 0)
            continue;
        double age = resp.date && init ? resp.date - s3req_parse_time(init) : 0;
        if (age < min_age)
            continue;
        S3Write w = {.s = s, .key = (char *)key + plen, .upload_id = (char *)id};
        s3_abort_upload(&w);
        (*removed)++;
    }
    s3xml_free(x);
    buf_free(&q);
    buf_free(&body);
    free(full);
    return ok;
}

static bool s3_bucket_exists(S3Storage *s, bool *exists)
{
    S3Resp resp;
    if (!s3req_send(&s->client, &(S3Req){.method = "HEAD"}, &resp))
        return false;
    *exists = resp.status == 200;
    return resp.status == 200 || resp.status == 404 ||
           s3req_fail(&s->client, &resp, "look at bucket", NULL);
}

static bool s3_root_state(Storage *st, bool *exists, bool *empty)
{
    S3Storage *s = (S3Storage *)st;
    *empty = true;
    if (!s3_bucket_exists(s, exists))
        return false;
    if (!*exists)
        return true;
    S3Listing l;
    if (!s3_list_objects(s, "", true, &l))
        return false;
    *empty = l.len == 0 && l.dirs.len == 0;
    s3_listing_free(&l);
    return true;
}

/* The bucket is created if it does not exist: a new bucket is the usual place for a repository. */
static bool s3_root_create(Storage *st)
{
    S3Storage *s = (S3Storage *)st;
    bool exists = false;
    if (!s3_bucket_exists(s, &exists))
        return false;
    if (exists)
        return true;
    S3Resp resp;
    if (!s3req_send(&s->client, &(S3Req){.method = "PUT"}, &resp))
        return false;
    return resp.status == 200 || s3req_fail(&s->client, &resp, "create bucket", NULL);
}

static void s3_free(Storage *st)
{
    S3Storage *s = (S3Storage *)st;
    s3req_client_free(&s->client);
    free(s->state_dir);
    free(s->base.root);
    free(s);
}

static const StorageDriver s3_driver = {
    .name = "s3",
    .lock_hint = "wait for that process to finish or stop it; the lock of a process that died "
                 "ends with its lease ([repository] s3-lock-lease)",
    .free = s3_free,
    .write_begin = s3_write_begin,
    .write_append = s3_write_append,
    .write_commit = s3_write_commit,
    .write_abort = s3_write_abort,
    .read_open = s3_read_open,
    .read = s3_read,
    .read_at = s3_read_at,
    .read_close = s3_read_close,
    .info = s3_info,
    .remove = s3_remove,
    .remove_many = s3_remove_many,
    .list = s3_list,
    .remove_orphans = s3_remove_orphans,
    .root_state = s3_root_state,
    .root_create = s3_root_create,
    .lock = s3_lock,
    .lock_check = s3_lock_check,
    .unlock = s3_unlock,
    .exclusive_atomic = s3_cond_put,
    .remote = true,
};

bool storage_s3_open(const StorageConfig *cfg, Storage **out)
{
    *out = NULL;
    S3Storage *s = xcalloc(1, sizeof(*s));
    if (!s3req_client_init(&s->client, cfg)) {
        free(s);
        return false;
    }
    s->base.driver = &s3_driver;
    s->base.root = storage_config_name(cfg);
    s->lock_lease = cfg->s3.lock_lease > 0 ? cfg->s3.lock_lease : 60;
    s->state_dir = cfg->s3.state_dir ? xstrdup(cfg->s3.state_dir) : NULL;
    *out = &s->base;
    return true;
}
