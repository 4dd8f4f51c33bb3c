/*
 * webhook.c - signing and delivering webhooks over libcurl (webhook.h),
 * which is opened on first use (common/dynlib.h says why).
 */
#include "status/webhook.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/curl.h"
#include "common/log.h"
#include "common/mem.h"

#define WEBHOOK_TIMEOUT_MS 10000L

void webhook_sign(const char *secret, const void *body, size_t len, char out[WEBHOOK_SIGNATURE_LEN])
{
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), body, len, mac, &n);
    memcpy(out, "sha256=", 7);
    for (unsigned i = 0; i < n && i < 32; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", mac[i]);
    out[7 + 64] = '\0';
}

/* The URL up to its query, for logs (a query may carry a token). */
static void url_for_log(const char *url, char *out, size_t len)
{
    snprintf(out, len, "%.*s", (int)strcspn(url, "?#"), url);
}

static size_t discard(char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    (void)arg;
    return size * n;
}

/* One POST; true on 2xx, else false with why. */
static bool post_one(const StatusOutboxItem *it, const char *secret, char *why, size_t len)
{
    CURL *curl = curl_easy_init();
    if (!curl) {
        snprintf(why, len, "could not initialise libcurl");
        return false;
    }
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    char line[160];
    snprintf(line, sizeof(line), "X-Drydock-Event: %s", it->event);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof(line), "X-Drydock-Delivery: %lld", (long long)it->id);
    h = curl_slist_append(h, line);
    if (secret) {
        char sig[WEBHOOK_SIGNATURE_LEN];
        webhook_sign(secret, it->body, strlen(it->body), sig);
        snprintf(line, sizeof(line), "X-Drydock-Signature: %s", sig);
        h = curl_slist_append(h, line);
    }
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(curl, CURLOPT_URL, it->url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, it->body);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "drydock-status");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, WEBHOOK_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    CURLcode rc = curl_easy_perform(curl);
    long code = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    if (rc != CURLE_OK)
        snprintf(why, len, "%s", curl_easy_strerror(rc));
    else if (code < 200 || code > 299)
        snprintf(why, len, "the receiver answered HTTP %ld", code);
    curl_slist_free_all(h);
    curl_easy_cleanup(curl);
    return rc == CURLE_OK && code >= 200 && code <= 299;
}

static bool deliver_items(StatusStore *st, const char *secret, StatusOutboxItem *items, size_t n,
                          size_t *delivered, size_t *failed)
{
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        char why[256] = "";
        bool sent = post_one(&items[i], secret, why, sizeof(why));
        char url[256];
        url_for_log(items[i].url, url, sizeof(url));
        if (sent) {
            (*delivered)++;
            log_debug("webhook %s #%lld delivered to %s", items[i].event, (long long)items[i].id,
                      url);
        } else {
            (*failed)++;
            bool last = items[i].attempts + 1 >= STATUS_OUTBOX_MAX_ATTEMPTS;
            log_warn("webhook %s #%lld to %s failed (attempt %d): %s%s", items[i].event,
                     (long long)items[i].id, url, items[i].attempts + 1, why,
                     last ? "; giving up" : "; will retry");
        }
        ok = status_store_outbox_done(st, items[i].id, status_now(), sent, sent ? NULL : why);
    }
    return ok;
}

bool webhook_deliver_due(StatusStore *st, const char *secret, int64_t now, size_t max,
                         size_t *delivered, size_t *failed)
{
    *delivered = *failed = 0;
    bool ok = true;
    /* One row per URL per round (store.h): go round until nothing is due. */
    for (size_t done = 0; ok && done < max;) {
        StatusOutboxItem *items;
        size_t n;
        if (!status_store_outbox_due(st, now, max - done, &items, &n))
            return false;
        if (n == 0)
            break;
        done += n;
        ok = deliver_items(st, secret, items, n, delivered, failed);
        status_outbox_free(items, n);
    }
    return ok;
}

/* --- the worker thread --- */

struct WebhookWorker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    double interval;
    char *secret;
    StatusStore *st;
};

static void *worker_main(void *arg)
{
    WebhookWorker *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        pthread_mutex_unlock(&w->mu);
        size_t sent, failed;
        if (!webhook_deliver_due(w->st, w->secret, status_now(), 100, &sent, &failed))
            log_failure(); /* the store failed: say so, try again next round */
        pthread_mutex_lock(&w->mu);
        if (w->stop)
            break;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        long ns = until.tv_nsec + (long)(w->interval * 1e9);
        until.tv_sec += ns / 1000000000L;
        until.tv_nsec = ns % 1000000000L;
        pthread_cond_timedwait(&w->cv, &w->mu, &until);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

bool webhook_worker_start(const char *path, const StatusStoreOptions *opt, const char *secret,
                          double interval, WebhookWorker **out)
{
    *out = NULL;
    WebhookWorker *w = xcalloc(1, sizeof(*w));
    if (!status_store_open(path, opt, &w->st)) {
        free(w);
        return false;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->interval = interval > 0 ? interval : 1.0;
    w->secret = secret ? xstrdup(secret) : NULL;
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        status_store_close(w->st);
        free(w->secret);
        free(w);
        return err_set(DD_EXIT_FAIL, "could not start the webhook delivery thread");
    }
    *out = w;
    return true;
}

void webhook_worker_stop(WebhookWorker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    status_store_close(w->st);
    if (w->secret)
        OPENSSL_cleanse(w->secret, strlen(w->secret));
    free(w->secret);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}
