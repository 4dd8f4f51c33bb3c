/*
 * s3lock.c - locks in a bucket, for writers on several hosts.
 *
 * flock(2) cannot reach across hosts, and S3 (Swift's s3api included) has
 * no compare-and-swap that every service offers. So a lock is built from
 * what every one offers: whole-object PUT, DELETE, and a listing that shows
 * a completed PUT (read-after-write, list-after-write).
 *
 * Layout: locks/<name>/<mode><id>, mode 'x' (exclusive) or 's' (shared), id
 * 16 random hex digits, one object per contender, so contenders never write
 * the same key. The object holds "<state> <owner text>\n", state "claim"
 * while taking, "held" once taken.
 *
 * Taking (lock_try):
 *   1. PUT my claim.   2. LIST locks/<name>/.
 *   3. Any other object older than the lease (the server's Date minus its
 *      LastModified, so only the server's clock counts) belongs to a dead
 *      holder: DELETE it (takeover) and log it.
 *   4. If no other live object conflicts (exclusive conflicts with all;
 *      shared with exclusive): rewrite mine as "held": taken.
 *   5. Else DELETE mine; if a conflicting one is "held", fail at once naming
 *      its owner; if all are mere claims (a race), wait a random 50-500 ms
 *      and go again, up to LOCK_TRIES times.
 * Why two never both win: if A and B both won, A's LIST (after A's PUT) did
 * not show B, so B's PUT came after A's LIST; then B's LIST, after B's PUT,
 * came after A's PUT, and showed A's claim, which A deletes only on release:
 * B lost. A race can make both lose; they retry with random delays.
 *
 * The lease: a holder rewrites its object every lease/4 (a thread), after
 * checking that it is still there. If it is gone (someone took over after
 * the lease), or no renewal succeeded for a whole lease, the lock is lost:
 * storage_lock_check() fails, and the holder stops before its next commit.
 *
 * Limits, honestly:
 *  - The argument needs list-after-write consistency. AWS S3 has it (since
 *    2020), as do Ceph RGW and MinIO; Swift's container listings are updated
 *    asynchronously and can lag under load or failures, which can let two
 *    writers in. Give a Swift-backed repository one writer host per kind.
 *  - There is no fencing: a holder stalled for longer than the lease (a
 *    suspended VM) can write once more after another took over; checking the
 *    lease before each commit narrows that window but cannot close it.
 *  - A holder killed with -9 keeps the lock until its lease runs out.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/rand.h"
#include "common/timeutil.h"
#include "storage/s3_int.h"

#define LOCK_TRIES 8

typedef struct {
    StorageLock base;
    S3Storage *s;
    char *key;
    char *held; /* the object's content once held */
    pthread_t renewer;
    bool renewing;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    atomic_bool lost;
} S3Lock;

static bool lock_put(S3Storage *s, const char *key, const char *text)
{
    S3Resp resp;
    if (!s3req_send(&s->client,
                    &(S3Req){.method = "PUT", .key = key, .body = text, .body_len = strlen(text)},
                    &resp))
        return false;
    return resp.status == 200 || s3req_fail(&s->client, &resp, "write lock", key);
}

static bool lock_delete(S3Storage *s, const char *key)
{
    S3Resp resp;
    if (!s3req_send(&s->client, &(S3Req){.method = "DELETE", .key = key}, &resp))
        return false;
    return resp.status == 204 || resp.status == 200 || resp.status == 404 ||
           s3req_fail(&s->client, &resp, "remove lock", key);
}

/* The content of a lock object into text ("" if it went away meanwhile). */
static bool lock_read(S3Storage *s, const char *key, char *text, size_t cap)
{
    Buf body = {0};
    S3Resp resp;
    text[0] = '\0';
    bool ok = s3req_send(&s->client, &(S3Req){.method = "GET", .key = key, .out = &body}, &resp);
    if (ok && resp.status == 200) {
        size_t n = body.len < cap - 1 ? body.len : cap - 1;
        memcpy(text, body.data, n);
        text[n] = '\0';
        text[strcspn(text, "\n")] = '\0';
    } else if (ok && resp.status != 404) {
        ok = s3req_fail(&s->client, &resp, "read lock", key);
    }
    buf_free(&body);
    return ok;
}

static void *renew_loop(void *arg)
{
    S3Lock *l = arg;
    double interval = l->s->lock_lease / 4, last_ok = time_mono();
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)interval;
        until.tv_nsec += (long)((interval - (double)(time_t)interval) * 1e9);
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&l->cv, &l->mu, &until);
        if (l->stop)
            break;
        pthread_mutex_unlock(&l->mu);
        S3Resp resp;
        bool sent = s3req_send(&l->s->client, &(S3Req){.method = "HEAD", .key = l->key}, &resp);
        if (sent && resp.status == 404) {
            log_warn("lost the repository lock \"%s\": another process took it over", l->key);
            atomic_store(&l->lost, true);
        } else if (sent && resp.status == 200 && lock_put(l->s, l->key, l->held)) {
            last_ok = time_mono();
        } else if (time_mono() - last_ok > l->s->lock_lease) {
            log_warn("lost the repository lock \"%s\": could not renew it for %.0f s", l->key,
                     l->s->lock_lease);
            atomic_store(&l->lost, true);
        }
        err_clear();
        pthread_mutex_lock(&l->mu);
        if (atomic_load(&l->lost))
            break;
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

typedef enum { TRY_TAKEN, TRY_BUSY, TRY_RACE, TRY_ERROR } TryResult;

/* Step 3 and 4 of the header over a listing; *conflicts counts live conflicting objects. */
static bool lock_scan(S3Storage *s, const S3Listing *l, const char *mine, bool shared,
                      StrList *conflicts)
{
    for (size_t i = 0; i < l->len; i++) {
        const S3Object *o = &l->items[i];
        if (strcmp(o->key, mine) == 0)
            continue;
        const char *base = strrchr(o->key, '/');
        base = base ? base + 1 : o->key;
        double age = l->server_date && o->last_modified ? l->server_date - o->last_modified : 0;
        if (age > s->lock_lease) {
            log_warn("taking over lock \"%s\": its holder has not renewed it for %.0f s", o->key,
                     age);
            if (!lock_delete(s, o->key))
                return false;
            continue;
        }
        if (shared && base[0] == 's')
            continue;
        strlist_push(conflicts, o->key);
    }
    return true;
}

static TryResult lock_try(S3Lock *l, const char *dir, bool shared, const char *owner, char *holder,
                          size_t holder_len)
{
    char *claim = xasprintf("claim %s\n", owner);
    S3Listing list = {0};
    StrList conflicts = {0};
    TryResult res = TRY_ERROR;
    if (!lock_put(l->s, l->key, claim) || !s3_list_objects(l->s, dir, false, &list) ||
        !lock_scan(l->s, &list, l->key, shared, &conflicts))
        goto done;
    if (conflicts.len == 0) {
        res = lock_put(l->s, l->key, l->held) ? TRY_TAKEN : TRY_ERROR;
        goto done;
    }
    if (!lock_delete(l->s, l->key))
        goto done;
    res = TRY_RACE;
    for (size_t i = 0; i < conflicts.len; i++) {
        char text[512];
        if (!lock_read(l->s, conflicts.items[i], text, sizeof(text))) {
            res = TRY_ERROR;
            break;
        }
        if (strncmp(text, "held ", 5) == 0) {
            snprintf(holder, holder_len, "%s", text + 5);
            res = TRY_BUSY;
            break;
        }
    }
done:
    if (res == TRY_ERROR)
        (void)lock_delete(l->s, l->key); /* best effort: the lease cleans up otherwise */
    strlist_free(&conflicts);
    if (list.items || list.dirs.len)
        s3_listing_free(&list);
    free(claim);
    return res;
}

static void lock_free(S3Lock *l)
{
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l->key);
    free(l->held);
    free(l);
}

bool s3_lock(Storage *st, const char *name, bool shared, const char *owner, StorageLock **out,
             bool *busy, char *holder, size_t holder_len)
{
    S3Lock *l = xcalloc(1, sizeof(*l));
    l->base.driver = st->driver;
    l->s = (S3Storage *)st;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    uint8_t id[8];
    rand_bytes(id, sizeof(id));
    char *dir = xasprintf("locks/%s/", name);
    l->key = xasprintf("%s%c%02x%02x%02x%02x%02x%02x%02x%02x", dir, shared ? 's' : 'x', id[0],
                       id[1], id[2], id[3], id[4], id[5], id[6], id[7]);
    l->held = xasprintf("held %s\n", owner);
    TryResult res = TRY_RACE;
    for (int i = 0; i < LOCK_TRIES && res == TRY_RACE; i++) {
        if (i > 0) {
            uint32_t r;
            r = rand_u32();
            time_sleep(0.05 + 0.45 * (double)r / 4294967296.0);
        }
        res = lock_try(l, dir, shared, owner, holder, holder_len);
    }
    free(dir);
    if (res == TRY_TAKEN) {
        l->renewing = pthread_create(&l->renewer, NULL, renew_loop, l) == 0;
        *out = &l->base;
        return true;
    }
    *busy = res != TRY_ERROR;
    lock_free(l);
    return false;
}

bool s3_lock_check(StorageLock *sl)
{
    S3Lock *l = (S3Lock *)sl;
    if (!atomic_load(&l->lost))
        return true;
    err_set(DD_EXIT_LOCKED,
            "lost the repository lock \"%s%s\": its lease ran out or another "
            "process took it over",
            l->s->client.prefix, l->key);
    err_hint("run the command again; see \"Locks in a bucket\" in the README");
    return false;
}

void s3_unlock(StorageLock *sl)
{
    S3Lock *l = (S3Lock *)sl;
    if (l->renewing) {
        pthread_mutex_lock(&l->mu);
        l->stop = true;
        pthread_cond_signal(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->renewer, NULL);
    }
    if (!atomic_load(&l->lost) && !lock_delete(l->s, l->key))
        err_clear(); /* the lease ends it */
    lock_free(l);
}
