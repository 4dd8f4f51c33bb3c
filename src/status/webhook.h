/*
 * webhook.h - delivering the outbox (store.h) to the configured URLs.
 *
 * Each outbox row is one POST of its body, exactly as stored, with:
 *   Content-Type: application/json
 *   X-Drydock-Event: maintenance.created | maintenance.updated |
 *                    maintenance.postmortem | incident.* | component.updated
 *   X-Drydock-Delivery: the row's id (the same on every retry: receivers
 *                       may use it to drop a copy they already have)
 *   X-Drydock-Signature: sha256=<hex HMAC-SHA256 of the body with the
 *                        shared secret ([status] webhook-secret-file)>
 * A 2xx answer is delivered; anything else (or no answer in 10 s) is
 * retried after 5 s, 10 s, 20 s ... at most an hour apart, and given up
 * after STATUS_OUTBOX_MAX_ATTEMPTS attempts; every failure is logged (URL
 * without its query) and kept on the row (last_error), which
 * "drydock status webhooks" and GET /api/admin/webhooks show.
 *
 * Delivery happens in a worker thread with its own store connection, so
 * neither the page server nor a maintenance step waits for a receiver.
 */
#ifndef DD_STATUS_WEBHOOK_H
#define DD_STATUS_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "status/store.h"

#define WEBHOOK_SIGNATURE_LEN (7 + 64 + 1) /* "sha256=" + hex + NUL */

/* "sha256=<hex>" of body under secret. */
void webhook_sign(const char *secret, const void *body, size_t len,
                  char out[WEBHOOK_SIGNATURE_LEN]);

/*
 * Send what is due now (at most max rows), recording each result. Returns
 * the number delivered; *failed counts the failures. false only when the
 * store failed.
 */
DD_MUST_CHECK bool webhook_deliver_due(StatusStore *st, const char *secret, int64_t now, size_t max,
                                       size_t *delivered, size_t *failed);

typedef struct WebhookWorker WebhookWorker;

/*
 * Start a thread that opens path (with opt) and delivers what is due every
 * interval seconds until stopped. secret may be NULL (unsigned; the
 * signature header is then left out).
 */
DD_MUST_CHECK bool webhook_worker_start(const char *path, const StatusStoreOptions *opt,
                                        const char *secret, double interval, WebhookWorker **out);

/* Stop the thread (it finishes the POST in flight, at most 10 s) and free. */
void webhook_worker_stop(WebhookWorker *w);

#endif
