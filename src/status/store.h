/*
 * store.h - the status page's store: maintenances, incidents, their
 * updates, components, postmortems and the webhook outbox, in one SQLite
 * file ([status] store). store.c documents the schema and its invariants.
 *
 * Every write is one transaction that also recomputes the components
 * (lifecycle.h rule 3) and queues the webhooks that report it (outbox), so
 * a crash never leaves half an update, and a caller never waits on the
 * network: delivery is webhook.h's job, later, elsewhere.
 *
 * Several processes may write at once (the server, the CLI, a maintenance
 * run): each write takes SQLite's write lock for a few milliseconds and
 * waits up to 5 s for it.
 */
#ifndef DD_STATUS_STORE_H
#define DD_STATUS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "status/model.h"

typedef struct StatusStore StatusStore;

typedef struct {
    const char *title;             /* page title, for snapshots and webhook bodies */
    const char *time_zone;         /* IANA zone; NULL = UTC */
    const char *url;               /* the page's public URL; NULL = "" */
    const char *const *components; /* configured component names, in display order */
    size_t ncomponents;
    const char *const *webhooks; /* URLs; one outbox row per URL per change */
    size_t nwebhooks;
} StatusStoreOptions;

/* Open (creating the file and schema when missing; adding configured components). */
DD_MUST_CHECK bool status_store_open(const char *path, const StatusStoreOptions *opt,
                                     StatusStore **out);
void status_store_close(StatusStore *st);

/* The outcome of a write; the error slot says more for REFUSED and FAILED. */
typedef enum {
    STATUS_WRITE_OK = 0,
    STATUS_WRITE_NOT_FOUND, /* no event with that id (DD_EXIT_FAIL) */
    STATUS_WRITE_REFUSED,   /* bad input (DD_EXIT_USAGE) or against the lifecycle (DD_EXIT_CONFLICT)
                             */
    STATUS_WRITE_FAILED     /* SQLite failed (DD_EXIT_IO) */
} StatusWrite;

typedef struct {
    StatusKind kind;
    const char *title; /* required */
    const char *body;  /* the first update's text; NULL: a default sentence */
    const char
        *impact; /* NULL: "maintenance" or "minor"; else none|minor|major|critical|maintenance */
    const char
        *component_status; /* incidents: what its components show; NULL: degraded_performance */
    int64_t scheduled_for, scheduled_until; /* maintenances: required, until > for */
    double predicted_s, low_s, high_s;      /* 0 when unknown */
    const char *const *components;          /* affected names; none = every component */
    size_t ncomponents;
    int64_t at; /* 0: now */
} StatusNew;

DD_MUST_CHECK StatusWrite status_store_create(StatusStore *st, const StatusNew *n, int64_t *id);

typedef struct {
    const char *status; /* NULL: keep the status (an Update) */
    const char *body;   /* required, not empty */
    int64_t eta;        /* new expected end; 0: unchanged */
    int64_t at;         /* 0: now */
} StatusPost;

/* Post an update (and maybe a new status) to event id, checked by lifecycle_check. */
DD_MUST_CHECK StatusWrite status_store_post(StatusStore *st, int64_t id, const StatusPost *p);

/* Attach (or replace) the published postmortem of a finished event. */
DD_MUST_CHECK StatusWrite status_store_postmortem(StatusStore *st, int64_t id, const char *markdown,
                                                  int64_t at);

/* The newest event of kind titled title that is not finished; *id = 0 when there is none. */
DD_MUST_CHECK bool status_store_find_open(StatusStore *st, StatusKind kind, const char *title,
                                          int64_t *id);

/* Everything the renderers need, as of now (0: the clock). */
DD_MUST_CHECK bool status_store_snapshot(StatusStore *st, int64_t now, StatusSnapshot *out);

/* Event id alone (with updates); false with *found=false when there is none. */
DD_MUST_CHECK bool status_store_event(StatusStore *st, int64_t id, StatusEvent *out, bool *found);

/* --- the webhook outbox (delivered by webhook.h) --- */
typedef struct {
    int64_t id;
    char *url;
    char *event; /* "maintenance.updated", "component.updated", ... */
    char *body;  /* the JSON, exactly as it is signed and sent */
    int attempts;
    int64_t created_at, next_at, delivered_at, failed_at;
    char *last_error;
} StatusOutboxItem;

/*
 * Rows to send now: per URL, the oldest row not yet delivered nor given up,
 * when its next_at <= now (a receiver gets the changes in order: a row
 * waiting for its retry holds back the later ones for that URL). At most max.
 */
DD_MUST_CHECK bool status_store_outbox_due(StatusStore *st, int64_t now, size_t max,
                                           StatusOutboxItem **items, size_t *n);
/* The newest max rows, for the admin side. */
DD_MUST_CHECK bool status_store_outbox_recent(StatusStore *st, size_t max, StatusOutboxItem **items,
                                              size_t *n);
/*
 * Record one delivery attempt: delivered, or failed with error (retried at
 * now + backoff, 5 s doubling to 1 h; given up after STATUS_OUTBOX_MAX_ATTEMPTS).
 */
#define STATUS_OUTBOX_MAX_ATTEMPTS 12
DD_MUST_CHECK bool status_store_outbox_done(StatusStore *st, int64_t id, int64_t now, bool ok,
                                            const char *error);
void status_outbox_free(StatusOutboxItem *items, size_t n);

/* The wall clock in whole seconds (what "0: now" means above). */
int64_t status_now(void);

#endif
