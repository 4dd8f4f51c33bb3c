/*
 * notify.c - the maintenance's posts (notify.h).
 */
#include "status/notify.h"

#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "status/setup.h"
#include "status/store.h"
#include "status/tz.h"
#include "status/webhook.h"

const StatusTexts status_default_texts = {
    .scheduled = "We will carry out maintenance between {start} and {end}. We expect it to take "
                 "about {duration} (between {low} and {high}). The service stays available: "
                 "you may notice a pause of a few seconds while we switch over. If it takes "
                 "longer than expected, we will say so here.",
    .in_progress = "The maintenance has started. The service remains available; some requests "
                   "may be slower than usual for a while.",
    .late = "This is taking longer than we predicted. We now expect to be done by {eta}. The "
            "service remains available.",
    .verifying = "The change is in place and we are checking that everything works as it "
                 "should. You may notice slower requests for a few minutes.",
    .completed = "The maintenance is complete and everything works normally. Thank you for "
                 "your patience.",
    .aborting = "We have stopped the maintenance and are putting everything back as it was. "
                "The service remains available.",
    .rolling_back = "We found a problem after the change and are switching back to the previous "
                    "setup. You may notice a short pause.",
    .aborted = "The maintenance was stopped and nothing has changed. The service works "
               "normally. We will schedule it again.",
    .rolled_back = "We switched back to the previous setup and the service works normally. We "
                   "will schedule the maintenance again.",
};

struct StatusNotifier {
    StatusSetup setup;
    StatusStore *st; /* NULL: disabled */
    WebhookWorker *worker;
    StatusTexts texts;
    char *zone;
    int64_t start, end;
    double predicted_s, low_s, high_s;
};

bool status_notify_open(const Config *cfg, const StatusNotifyOptions *opt, StatusNotifier **out)
{
    StatusNotifier *n = xcalloc(1, sizeof(*n));
    n->texts = status_default_texts;
    *out = n;
    if (!cfg->status_store)
        return true;
    char *secret = NULL;
    bool ok = status_setup(cfg, &n->setup) && status_setup_open(&n->setup, &n->st) &&
              (!opt || !opt->deliver || n->setup.webhooks.len == 0 ||
               (status_setup_secret(cfg, &secret) &&
                webhook_worker_start(n->setup.store_path, &n->setup.opt, secret, 1.0, &n->worker)));
    free(secret);
    n->zone = xstrdup(cfg->status_time_zone ? cfg->status_time_zone : "UTC");
    if (!ok) {
        status_notify_close(n);
        *out = NULL;
    }
    return ok;
}

void status_notify_close(StatusNotifier *n)
{
    if (!n)
        return;
    webhook_worker_stop(n->worker);
    status_store_close(n->st);
    status_setup_free(&n->setup);
    free(n->zone);
    free(n);
}

bool status_notify_enabled(const StatusNotifier *n)
{
    return n && n->st;
}

static void append_time(Buf *b, int64_t t, const char *zone)
{
    char s[96];
    if (!t) {
        buf_append_str(b, "(unknown)");
        return;
    }
    tz_format(t, zone, TZ_DATE_TIME, s, sizeof(s));
    buf_append_str(b, s);
}

static void append_duration(Buf *b, double seconds)
{
    char s[48];
    if (seconds <= 0) {
        buf_append_str(b, "(unknown)");
        return;
    }
    tz_duration(seconds, s, sizeof(s));
    buf_append_str(b, s);
}

char *status_texts_expand(const char *text, const char *zone, int64_t start, int64_t end,
                          double predicted_s, double low_s, double high_s, int64_t eta)
{
    Buf b = {0};
    for (const char *p = text; *p;) {
        static const char *const keys[] = {"{start}", "{end}",  "{duration}",
                                           "{low}",   "{high}", "{eta}"};
        size_t k = 0;
        while (k < 6 && strncmp(p, keys[k], strlen(keys[k])) != 0)
            k++;
        if (k == 6) {
            buf_append(&b, p++, 1);
            continue;
        }
        if (k == 0 || k == 1 || k == 5)
            append_time(&b, k == 0 ? start : k == 1 ? end : eta, zone);
        else
            append_duration(&b, k == 2 ? predicted_s : k == 3 ? low_s : high_s);
        p += strlen(keys[k]);
    }
    buf_append(&b, "", 1);
    return (char *)b.data;
}

/* Post text (expanded) with status (NULL = keep) and eta to maintenance id. */
static bool post(StatusNotifier *n, int64_t id, const char *status, const char *text, int64_t eta)
{
    if (!n->st)
        return true;
    char *body = status_texts_expand(text, n->zone, n->start, n->end, n->predicted_s, n->low_s,
                                     n->high_s, eta);
    StatusPost p = {.status = status, .body = body, .eta = eta};
    StatusWrite rc = status_store_post(n->st, id, &p);
    free(body);
    return rc == STATUS_WRITE_OK;
}

/* The operator's text when set, else the default. */
#define TEXT(n, field) ((n)->texts.field ? (n)->texts.field : status_default_texts.field)

static void keep_texts(StatusNotifier *n, const StatusTexts *t)
{
    if (!t)
        return;
    const char **dst = (const char **)&n->texts;
    const char *const *src = (const char *const *)t;
    for (size_t i = 0; i < sizeof(StatusTexts) / sizeof(char *); i++)
        if (src[i])
            dst[i] = src[i];
}

/* The plan's texts, window and prediction, for the posts that follow. */
static void keep_plan(StatusNotifier *n, const StatusNotifyPlan *p)
{
    keep_texts(n, p->texts);
    n->start = p->window_start;
    n->end = p->window_end;
    n->predicted_s = p->predicted_s;
    n->low_s = p->low_s;
    n->high_s = p->high_s;
}

bool status_notify_scheduled(StatusNotifier *n, const StatusNotifyPlan *p, int64_t *id)
{
    *id = 0;
    keep_plan(n, p);
    if (!n->st)
        return true;
    /* The window and the prediction always; the file's description after them. */
    char *text = xasprintf("%s%s%s", TEXT(n, scheduled), p->description ? "\n\n" : "",
                           p->description ? p->description : "");
    char *body = status_texts_expand(text, n->zone, n->start, n->end, n->predicted_s, n->low_s,
                                     n->high_s, 0);
    free(text);
    StatusNew sn = {.kind = STATUS_MAINTENANCE,
                    .title = p->title,
                    .body = body,
                    .scheduled_for = p->window_start,
                    .scheduled_until = p->window_end,
                    .predicted_s = p->predicted_s,
                    .low_s = p->low_s,
                    .high_s = p->high_s,
                    .components = p->components,
                    .ncomponents = p->ncomponents};
    StatusWrite rc = status_store_create(n->st, &sn, id);
    free(body);
    return rc == STATUS_WRITE_OK;
}

bool status_notify_adopt(StatusNotifier *n, const StatusNotifyPlan *p, int64_t *id)
{
    *id = 0;
    if (!n->st)
        return true;
    if (!status_store_find_open(n->st, STATUS_MAINTENANCE, p->title, id))
        return false;
    if (*id == 0)
        return status_notify_scheduled(n, p, id);
    keep_plan(n, p);
    return true;
}

bool status_notify_in_progress(StatusNotifier *n, int64_t id)
{
    return post(n, id, "in_progress", TEXT(n, in_progress), 0);
}

bool status_notify_late(StatusNotifier *n, int64_t id, int64_t new_eta)
{
    return post(n, id, NULL, TEXT(n, late), new_eta);
}

bool status_notify_update(StatusNotifier *n, int64_t id, const char *text, int64_t new_eta)
{
    return post(n, id, NULL, text, new_eta);
}

bool status_notify_verifying(StatusNotifier *n, int64_t id)
{
    return post(n, id, "verifying", TEXT(n, verifying), 0);
}

bool status_notify_completed(StatusNotifier *n, int64_t id)
{
    return post(n, id, "completed", TEXT(n, completed), 0);
}

bool status_notify_aborting(StatusNotifier *n, int64_t id)
{
    return post(n, id, NULL, TEXT(n, aborting), 0);
}

bool status_notify_rolling_back(StatusNotifier *n, int64_t id)
{
    return post(n, id, NULL, TEXT(n, rolling_back), 0);
}

bool status_notify_aborted(StatusNotifier *n, int64_t id)
{
    return post(n, id, "completed", TEXT(n, aborted), 0);
}

bool status_notify_rolled_back(StatusNotifier *n, int64_t id)
{
    return post(n, id, "completed", TEXT(n, rolled_back), 0);
}
