/*
 * store.c - the status store in SQLite (store.h).
 *
 * Schema (PRAGMA user_version = 1):
 *
 *   components(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,
 *              position INTEGER NOT NULL, status TEXT NOT NULL,
 *              created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)
 *   events(id INTEGER PRIMARY KEY, kind TEXT NOT NULL, title TEXT NOT NULL,
 *          status TEXT NOT NULL, impact TEXT NOT NULL, component_status TEXT NOT NULL,
 *          scheduled_for INTEGER, scheduled_until INTEGER, eta INTEGER,
 *          predicted_s REAL, low_s REAL, high_s REAL,
 *          created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
 *          started_at INTEGER, monitoring_at INTEGER, resolved_at INTEGER,
 *          postmortem TEXT, postmortem_at INTEGER)
 *   updates(id INTEGER PRIMARY KEY, event_id INTEGER NOT NULL REFERENCES events,
 *           status TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL)
 *   event_components(event_id INTEGER NOT NULL REFERENCES events,
 *                    component_id INTEGER NOT NULL REFERENCES components,
 *                    PRIMARY KEY (event_id, component_id))
 *   outbox(id INTEGER PRIMARY KEY, url TEXT NOT NULL, event TEXT NOT NULL,
 *          body TEXT NOT NULL, created_at INTEGER NOT NULL,
 *          attempts INTEGER NOT NULL, next_at INTEGER NOT NULL,
 *          delivered_at INTEGER, failed_at INTEGER, last_error TEXT)
 *
 * Invariants:
 *  1. Every write is one transaction (BEGIN IMMEDIATE ... COMMIT): an
 *     update, its event's new status, the components and the outbox rows
 *     that report them are all there or none is.
 *  2. Times are whole seconds since 1970-01-01 UTC; NULL means not set.
 *     Nothing stores a local time: the zone is applied when shown.
 *  3. Every event has at least one update (its first text), and its status
 *     is the status of its newest update.
 *  4. An event's status changes only along lifecycle.c's table; completed
 *     and resolved events change no more, except for their postmortem.
 *  5. components.status is derived (lifecycle.h rule 3), recomputed in the
 *     transaction of every event write, and written nowhere else;
 *     updated_at changes only when the status does.
 *  6. One outbox row per configured webhook URL per change (event created,
 *     event updated, postmortem, component status changed), written in the
 *     change's transaction; its body never changes afterwards; delivered_at
 *     or failed_at is set at most once, and then the row is never sent again.
 *  7. Ids are never reused (rows of events and updates are never deleted).
 */
#include "status/store.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/mem.h"
#include "status/api.h"
#include "status/lifecycle.h"

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS components(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
    " position INTEGER NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY, kind TEXT NOT NULL,"
    " title TEXT NOT NULL, status TEXT NOT NULL, impact TEXT NOT NULL,"
    " component_status TEXT NOT NULL, scheduled_for INTEGER, scheduled_until INTEGER,"
    " eta INTEGER, predicted_s REAL, low_s REAL, high_s REAL, created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL, started_at INTEGER, monitoring_at INTEGER,"
    " resolved_at INTEGER, postmortem TEXT, postmortem_at INTEGER);"
    "CREATE TABLE IF NOT EXISTS updates(id INTEGER PRIMARY KEY,"
    " event_id INTEGER NOT NULL REFERENCES events, status TEXT NOT NULL, body TEXT NOT NULL,"
    " created_at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS updates_event ON updates(event_id);"
    "CREATE TABLE IF NOT EXISTS event_components(event_id INTEGER NOT NULL REFERENCES events,"
    " component_id INTEGER NOT NULL REFERENCES components, PRIMARY KEY(event_id, component_id));"
    "CREATE TABLE IF NOT EXISTS outbox(id INTEGER PRIMARY KEY, url TEXT NOT NULL,"
    " event TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " attempts INTEGER NOT NULL, next_at INTEGER NOT NULL, delivered_at INTEGER,"
    " failed_at INTEGER, last_error TEXT);"
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox(next_at) WHERE delivered_at IS NULL"
    " AND failed_at IS NULL;"
    "PRAGMA user_version = 1;";

struct StatusStore {
    sqlite3 *db;
    char *path;
    char *title, *time_zone, *url;
    StrList webhooks;
};

int64_t status_now(void)
{
    return (int64_t)time(NULL);
}

static bool db_fail(StatusStore *st, const char *what)
{
    err_set(DD_EXIT_IO, "status store \"%s\": could not %s: %s", st->path, what,
            sqlite3_errmsg(st->db));
    err_hint("check that the file and its directory are writable and the disk is not full");
    return false;
}

static bool exec(StatusStore *st, const char *sql, const char *what)
{
    return sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK || db_fail(st, what);
}

/* Prepare sql and bind "?" parameters from fmt: i=int64, d=double, s=text (NULL -> NULL). */
static sqlite3_stmt *prep(StatusStore *st, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        db_fail(st, "prepare a statement");
        return NULL;
    }
    va_list ap;
    va_start(ap, fmt);
    for (int i = 0; fmt && fmt[i]; i++) {
        if (fmt[i] == 'i') {
            int64_t v = va_arg(ap, int64_t);
            sqlite3_bind_int64(s, i + 1, v);
        } else if (fmt[i] == 'z') { /* int64, NULL when 0 */
            int64_t v = va_arg(ap, int64_t);
            if (v)
                sqlite3_bind_int64(s, i + 1, v);
            else
                sqlite3_bind_null(s, i + 1);
        } else if (fmt[i] == 'd') {
            sqlite3_bind_double(s, i + 1, va_arg(ap, double));
        } else {
            const char *v = va_arg(ap, const char *);
            sqlite3_bind_text(s, i + 1, v, -1, SQLITE_TRANSIENT);
        }
    }
    va_end(ap);
    return s;
}

/* Step a statement that returns no rows, then finalize it. */
static bool run(StatusStore *st, sqlite3_stmt *s, const char *what)
{
    if (!s)
        return false;
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE || db_fail(st, what);
}

static char *col_text(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? xstrdup((const char *)t) : NULL;
}

static bool begin(StatusStore *st)
{
    return exec(st, "BEGIN IMMEDIATE", "begin a transaction");
}

static bool commit(StatusStore *st)
{
    return exec(st, "COMMIT", "commit");
}

static void rollback(StatusStore *st)
{
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

static bool add_components(StatusStore *st, const StatusStoreOptions *opt)
{
    int64_t now = status_now();
    for (size_t i = 0; i < opt->ncomponents; i++)
        if (!run(st,
                 prep(st,
                      "INSERT INTO components(name, position, status, created_at, updated_at)"
                      " VALUES(?, ?, 'operational', ?, ?) ON CONFLICT(name) DO UPDATE SET"
                      " position = excluded.position",
                      "siii", opt->components[i], (int64_t)i + 1, now, now),
                 "add a component"))
            return false;
    return true;
}

bool status_store_open(const char *path, const StatusStoreOptions *opt, StatusStore **out)
{
    *out = NULL;
    StatusStore *st = xcalloc(1, sizeof(*st));
    st->path = xstrdup(path);
    st->title = xstrdup(opt->title ? opt->title : "Status");
    st->time_zone = xstrdup(opt->time_zone ? opt->time_zone : "UTC");
    st->url = xstrdup(opt->url ? opt->url : "");
    for (size_t i = 0; i < opt->nwebhooks; i++)
        strlist_push(&st->webhooks, opt->webhooks[i]);
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        err_set(DD_EXIT_IO, "could not open status store \"%s\": %s", path,
                st->db ? sqlite3_errmsg(st->db) : "out of memory");
        err_hint("check [status] store: its directory must exist and be writable");
        status_store_close(st);
        return false;
    }
    sqlite3_busy_timeout(st->db, 5000);
    bool ok =
        exec(st, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON", "set it up") && begin(st);
    if (ok) {
        ok = exec(st, schema_sql, "create its tables") && add_components(st, opt) && commit(st);
        if (!ok)
            rollback(st);
    }
    if (!ok) {
        status_store_close(st);
        return false;
    }
    *out = st;
    return true;
}

void status_store_close(StatusStore *st)
{
    if (!st)
        return;
    sqlite3_close(st->db);
    free(st->path);
    free(st->title);
    free(st->time_zone);
    free(st->url);
    strlist_free(&st->webhooks);
    free(st);
}

/* --- reading --- */

static void event_from_row(sqlite3_stmt *s, StatusEvent *e)
{
    e->id = sqlite3_column_int64(s, 0);
    e->kind = strcmp((const char *)sqlite3_column_text(s, 1), "incident") == 0 ? STATUS_INCIDENT
                                                                               : STATUS_MAINTENANCE;
    e->title = col_text(s, 2);
    e->status = col_text(s, 3);
    e->impact = col_text(s, 4);
    e->scheduled_for = sqlite3_column_int64(s, 5);
    e->scheduled_until = sqlite3_column_int64(s, 6);
    e->eta = sqlite3_column_int64(s, 7);
    e->predicted_s = sqlite3_column_double(s, 8);
    e->low_s = sqlite3_column_double(s, 9);
    e->high_s = sqlite3_column_double(s, 10);
    e->created_at = sqlite3_column_int64(s, 11);
    e->updated_at = sqlite3_column_int64(s, 12);
    e->started_at = sqlite3_column_int64(s, 13);
    e->monitoring_at = sqlite3_column_int64(s, 14);
    e->resolved_at = sqlite3_column_int64(s, 15);
    e->postmortem = col_text(s, 16);
    e->postmortem_at = sqlite3_column_int64(s, 17);
}

#define EVENT_COLUMNS                                                                              \
    "id, kind, title, status, impact, scheduled_for, scheduled_until, eta, predicted_s, low_s,"    \
    " high_s, created_at, updated_at, started_at, monitoring_at, resolved_at, postmortem,"         \
    " postmortem_at"

static bool load_event_details(StatusStore *st, StatusEvent *e)
{
    sqlite3_stmt *s = prep(st,
                           "SELECT id, status, body, created_at FROM updates WHERE event_id = ?"
                           " ORDER BY created_at DESC, id DESC",
                           "i", e->id);
    if (!s)
        return false;
    size_t cap = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (e->nupdates == cap) {
            cap = cap ? cap * 2 : 4;
            e->updates = xrealloc(e->updates, cap * sizeof(*e->updates));
        }
        StatusUpdate *u = &e->updates[e->nupdates++];
        u->id = sqlite3_column_int64(s, 0);
        u->status = col_text(s, 1);
        u->body = col_text(s, 2);
        u->at = sqlite3_column_int64(s, 3);
    }
    sqlite3_finalize(s);
    s = prep(st,
             "SELECT c.name FROM event_components ec JOIN components c ON c.id = ec.component_id"
             " WHERE ec.event_id = ? ORDER BY c.position",
             "i", e->id);
    if (!s)
        return false;
    cap = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (e->ncomponents == cap) {
            cap = cap ? cap * 2 : 4;
            e->components = xrealloc(e->components, cap * sizeof(char *));
        }
        e->components[e->ncomponents++] = col_text(s, 0);
    }
    sqlite3_finalize(s);
    return true;
}

bool status_store_event(StatusStore *st, int64_t id, StatusEvent *out, bool *found)
{
    *out = (StatusEvent){0};
    *found = false;
    sqlite3_stmt *s = prep(st, "SELECT " EVENT_COLUMNS " FROM events WHERE id = ?", "i", id);
    if (!s)
        return false;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        event_from_row(s, out);
    sqlite3_finalize(s);
    if (rc == SQLITE_ROW) {
        *found = true;
        return load_event_details(st, out);
    }
    return rc == SQLITE_DONE || db_fail(st, "read an event");
}

static bool load_components(StatusStore *st, StatusSnapshot *out)
{
    sqlite3_stmt *s = prep(st,
                           "SELECT id, name, status, position, created_at, updated_at"
                           " FROM components ORDER BY position, id",
                           NULL);
    if (!s)
        return false;
    size_t cap = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (out->ncomponents == cap) {
            cap = cap ? cap * 2 : 8;
            out->components = xrealloc(out->components, cap * sizeof(*out->components));
        }
        StatusComponent *c = &out->components[out->ncomponents++];
        c->id = sqlite3_column_int64(s, 0);
        c->name = col_text(s, 1);
        c->status = col_text(s, 2);
        c->position = sqlite3_column_int(s, 3);
        c->created_at = sqlite3_column_int64(s, 4);
        c->updated_at = sqlite3_column_int64(s, 5);
        if (c->updated_at > out->updated_at)
            out->updated_at = c->updated_at;
    }
    sqlite3_finalize(s);
    return true;
}

bool status_store_find_open(StatusStore *st, StatusKind kind, const char *title, int64_t *id)
{
    *id = 0;
    sqlite3_stmt *s = prep(st,
                           "SELECT id FROM events WHERE kind = ? AND title = ? AND status NOT IN"
                           " ('completed', 'resolved') ORDER BY id DESC LIMIT 1",
                           "ss", lifecycle_kind_name(kind), title);
    if (!s)
        return false;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE || db_fail(st, "look for an event");
}

bool status_store_snapshot(StatusStore *st, int64_t now, StatusSnapshot *out)
{
    *out = (StatusSnapshot){0};
    out->title = xstrdup(st->title);
    out->time_zone = xstrdup(st->time_zone);
    out->url = xstrdup(st->url);
    out->now = now ? now : status_now();
    bool ok = load_components(st, out);
    sqlite3_stmt *s =
        ok ? prep(st,
                  "SELECT " EVENT_COLUMNS " FROM events ORDER BY created_at DESC, id DESC"
                  " LIMIT 500",
                  NULL)
           : NULL;
    ok = ok && s;
    size_t cap = 0;
    while (ok && sqlite3_step(s) == SQLITE_ROW) {
        if (out->nevents == cap) {
            cap = cap ? cap * 2 : 8;
            out->events = xrealloc(out->events, cap * sizeof(*out->events));
        }
        StatusEvent *e = &out->events[out->nevents++];
        *e = (StatusEvent){0};
        event_from_row(s, e);
        if (e->updated_at > out->updated_at)
            out->updated_at = e->updated_at;
    }
    sqlite3_finalize(s);
    for (size_t i = 0; ok && i < out->nevents; i++)
        ok = load_event_details(st, &out->events[i]);
    if (!ok)
        status_snapshot_free(out);
    return ok;
}

/* --- the outbox (invariant 6) --- */

static bool queue(StatusStore *st, const char *event, json_t *body, int64_t at)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    bool ok = true;
    for (size_t i = 0; ok && i < st->webhooks.len; i++)
        ok = run(st,
                 prep(st,
                      "INSERT INTO outbox(url, event, body, created_at, attempts, next_at)"
                      " VALUES(?, ?, ?, ?, 0, ?)",
                      "sssii", st->webhooks.items[i], event, text, at, at),
                 "queue a webhook");
    free(text);
    return ok;
}

/*
 * Recompute every component (lifecycle.h rule 3) and queue a webhook per
 * change. Runs inside the caller's transaction.
 */
static bool recompute_components(StatusStore *st, int64_t at)
{
    StatusSnapshot snap = {0};
    if (!status_store_snapshot(st, at, &snap))
        return false;
    bool ok = true;
    for (size_t i = 0; ok && i < snap.ncomponents; i++) {
        StatusComponent *c = &snap.components[i];
        char want[32] = "operational"; /* copied: a row's text dies with the next step */
        sqlite3_stmt *s = prep(st,
                               "SELECT e.kind, e.status, e.component_status FROM events e"
                               " JOIN event_components ec ON ec.event_id = e.id"
                               " WHERE ec.component_id = ?",
                               "i", c->id);
        ok = s != NULL;
        while (ok && sqlite3_step(s) == SQLITE_ROW) {
            StatusKind kind = strcmp((const char *)sqlite3_column_text(s, 0), "incident") == 0
                                  ? STATUS_INCIDENT
                                  : STATUS_MAINTENANCE;
            if (!lifecycle_holds_components(kind, (const char *)sqlite3_column_text(s, 1)))
                continue;
            const char *held = kind == STATUS_MAINTENANCE ? "under_maintenance"
                                                          : (const char *)sqlite3_column_text(s, 2);
            const char *worse = lifecycle_component_worse(want, held);
            if (worse != want)
                snprintf(want, sizeof(want), "%s", worse);
        }
        sqlite3_finalize(s);
        if (ok && strcmp(want, c->status) != 0) {
            char *old = c->status;
            c->status = xstrdup(want);
            c->updated_at = at;
            ok = run(st,
                     prep(st, "UPDATE components SET status = ?, updated_at = ? WHERE id = ?",
                          "sii", want, at, c->id),
                     "update a component") &&
                 queue(st, "component.updated", api_webhook_component(&snap, c, old, at), at);
            free(old);
        }
    }
    status_snapshot_free(&snap);
    return ok;
}

/* Queue the event's webhook (after its rows are written), then the components'. */
static bool after_event_write(StatusStore *st, int64_t id, const char *event, int64_t at)
{
    if (!recompute_components(st, at))
        return false;
    if (st->webhooks.len == 0)
        return true;
    StatusSnapshot snap = {0};
    if (!status_store_snapshot(st, at, &snap))
        return false;
    char name[64];
    const StatusEvent *e = status_event_find(&snap, id);
    snprintf(name, sizeof(name), "%s.%s", e ? lifecycle_kind_name(e->kind) : "event", event);
    bool ok = !e || queue(st, name, api_webhook_event(&snap, e, name, at), at);
    status_snapshot_free(&snap);
    return ok;
}

/* --- writing --- */

static StatusWrite refused(DdExit code, const char *hint, const char *fmt, ...) DD_PRINTF(3, 4);
static StatusWrite refused(DdExit code, const char *hint, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    err_set(code, "%s", msg);
    if (hint)
        err_hint("%s", hint);
    return STATUS_WRITE_REFUSED;
}

static StatusWrite check_new(const StatusNew *n)
{
    const char *what = lifecycle_kind_name(n->kind);
    if (!n->title || !n->title[0])
        return refused(DD_EXIT_USAGE, NULL, "%s %s needs a title",
                       n->kind == STATUS_MAINTENANCE ? "a" : "an", what);
    if (n->kind == STATUS_MAINTENANCE &&
        (!n->scheduled_for || !n->scheduled_until || n->scheduled_until <= n->scheduled_for))
        return refused(DD_EXIT_USAGE, "give scheduled_for and scheduled_until (--start, --end)",
                       "a %s needs a window whose end is after its start", what);
    static const char *const impacts[] = {"none", "minor", "major", "critical", "maintenance"};
    bool impact_ok = !n->impact;
    for (size_t i = 0; !impact_ok && i < 5; i++)
        impact_ok = strcmp(n->impact, impacts[i]) == 0;
    if (!impact_ok)
        return refused(DD_EXIT_USAGE, "use none, minor, major, critical or maintenance",
                       "unknown impact \"%s\"", n->impact);
    if (n->component_status && (!lifecycle_component_status_valid(n->component_status) ||
                                strcmp(n->component_status, "operational") == 0))
        return refused(DD_EXIT_USAGE, "use degraded_performance, partial_outage or major_outage",
                       "unknown component status \"%s\"", n->component_status);
    return STATUS_WRITE_OK;
}

static StatusWrite link_components(StatusStore *st, int64_t id, const StatusNew *n)
{
    if (n->ncomponents == 0)
        return run(st,
                   prep(st,
                        "INSERT INTO event_components(event_id, component_id)"
                        " SELECT ?, id FROM components",
                        "i", id),
                   "link the components")
                   ? STATUS_WRITE_OK
                   : STATUS_WRITE_FAILED;
    for (size_t i = 0; i < n->ncomponents; i++) {
        sqlite3_stmt *s = prep(st,
                               "INSERT OR IGNORE INTO event_components(event_id, component_id)"
                               " SELECT ?, id FROM components WHERE name = ?",
                               "is", id, n->components[i]);
        if (!run(st, s, "link a component"))
            return STATUS_WRITE_FAILED;
        if (sqlite3_changes(st->db) == 0) { /* unknown, or named twice */
            sqlite3_stmt *q =
                prep(st, "SELECT count(*) FROM components WHERE name = ?", "s", n->components[i]);
            bool known = q && sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) > 0;
            sqlite3_finalize(q);
            if (!known)
                return refused(DD_EXIT_USAGE, "the components are listed in [status] components",
                               "unknown component \"%s\"", n->components[i]);
        }
    }
    return STATUS_WRITE_OK;
}

static const char *default_body(const StatusNew *n)
{
    return n->kind == STATUS_MAINTENANCE ? "This maintenance is scheduled."
                                         : "We are investigating this issue.";
}

static StatusWrite create_rows(StatusStore *st, const StatusNew *n, int64_t at, int64_t *id)
{
    const char *impact = n->impact                       ? n->impact
                         : n->kind == STATUS_MAINTENANCE ? "maintenance"
                                                         : "minor";
    const char *cs = n->component_status ? n->component_status : "degraded_performance";
    const char *status = lifecycle_initial(n->kind);
    if (!run(st,
             prep(st,
                  "INSERT INTO events(kind, title, status, impact, component_status, scheduled_for,"
                  " scheduled_until, predicted_s, low_s, high_s, created_at, updated_at,"
                  " started_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  "ssssszzdddiiz", lifecycle_kind_name(n->kind), n->title, status, impact, cs,
                  n->scheduled_for, n->scheduled_until, n->predicted_s, n->low_s, n->high_s, at, at,
                  n->kind == STATUS_INCIDENT ? at : (int64_t)0),
             "add an event"))
        return STATUS_WRITE_FAILED;
    *id = sqlite3_last_insert_rowid(st->db);
    const char *body = n->body && n->body[0] ? n->body : default_body(n);
    if (!run(st,
             prep(st, "INSERT INTO updates(event_id, status, body, created_at) VALUES(?, ?, ?, ?)",
                  "issi", *id, status, body, at),
             "add an update"))
        return STATUS_WRITE_FAILED;
    return link_components(st, *id, n);
}

/* Run a write: begin, body, after_event_write, commit; rollback on any failure. */
static StatusWrite finish(StatusStore *st, StatusWrite rc, int64_t id, const char *event,
                          int64_t at)
{
    if (rc == STATUS_WRITE_OK && !after_event_write(st, id, event, at))
        rc = STATUS_WRITE_FAILED;
    if (rc == STATUS_WRITE_OK && !commit(st))
        rc = STATUS_WRITE_FAILED;
    if (rc != STATUS_WRITE_OK)
        rollback(st);
    return rc;
}

StatusWrite status_store_create(StatusStore *st, const StatusNew *n, int64_t *id)
{
    StatusWrite rc = check_new(n);
    if (rc != STATUS_WRITE_OK)
        return rc;
    if (!begin(st))
        return STATUS_WRITE_FAILED;
    int64_t at = n->at ? n->at : status_now();
    rc = create_rows(st, n, at, id); /* before finish() reads *id */
    return finish(st, rc, *id, "created", at);
}

/* The event's kind and status, for the lifecycle check; NOT_FOUND when absent. */
static StatusWrite event_state(StatusStore *st, int64_t id, StatusKind *kind, char **status)
{
    sqlite3_stmt *s = prep(st, "SELECT kind, status FROM events WHERE id = ?", "i", id);
    if (!s)
        return STATUS_WRITE_FAILED;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *kind = strcmp((const char *)sqlite3_column_text(s, 0), "incident") == 0
                    ? STATUS_INCIDENT
                    : STATUS_MAINTENANCE;
        *status = col_text(s, 1);
    }
    sqlite3_finalize(s);
    if (rc == SQLITE_ROW)
        return STATUS_WRITE_OK;
    if (rc != SQLITE_DONE)
        return (void)db_fail(st, "read an event"), STATUS_WRITE_FAILED;
    err_set(DD_EXIT_FAIL, "no maintenance or incident has id %lld", (long long)id);
    err_hint("\"drydock status list\" shows the ids");
    return STATUS_WRITE_NOT_FOUND;
}

static StatusWrite post_rows(StatusStore *st, int64_t id, const StatusPost *p, int64_t at)
{
    StatusKind kind;
    char *from = NULL;
    StatusWrite rc = event_state(st, id, &kind, &from);
    if (rc != STATUS_WRITE_OK)
        return rc;
    const char *to = p->status ? p->status : from;
    bool ok = lifecycle_check(kind, (long long)id, from, to);
    if (!ok) {
        free(from);
        return STATUS_WRITE_REFUSED;
    }
    /* Stamps: the first time an event reaches a status, and its end. */
    ok = run(st,
             prep(st,
                  "UPDATE events SET status = ?, updated_at = ?, eta = coalesce(?, eta),"
                  " started_at = CASE WHEN ? = 'in_progress' THEN coalesce(started_at, ?)"
                  "  ELSE started_at END,"
                  " monitoring_at = CASE WHEN ? IN ('verifying', 'monitoring')"
                  "  THEN coalesce(monitoring_at, ?) ELSE monitoring_at END,"
                  " resolved_at = CASE WHEN ? IN ('completed', 'resolved') THEN ?"
                  "  ELSE resolved_at END WHERE id = ?",
                  "sizsisisii", to, at, p->eta, to, at, to, at, to, at, id),
             "update an event") &&
         run(st,
             prep(st, "INSERT INTO updates(event_id, status, body, created_at) VALUES(?, ?, ?, ?)",
                  "issi", id, to, p->body, at),
             "add an update");
    free(from); /* to may point into it */
    return ok ? STATUS_WRITE_OK : STATUS_WRITE_FAILED;
}

StatusWrite status_store_post(StatusStore *st, int64_t id, const StatusPost *p)
{
    if (!p->body || !p->body[0])
        return refused(DD_EXIT_USAGE, "say what changed for the people affected",
                       "an update needs a text");
    if (!begin(st))
        return STATUS_WRITE_FAILED;
    int64_t at = p->at ? p->at : status_now();
    return finish(st, post_rows(st, id, p, at), id, "updated", at);
}

StatusWrite status_store_postmortem(StatusStore *st, int64_t id, const char *markdown, int64_t at)
{
    if (!markdown || !markdown[0])
        return refused(DD_EXIT_USAGE, "write it with \"drydock status postmortem ID\" first",
                       "the postmortem is empty");
    if (!begin(st))
        return STATUS_WRITE_FAILED;
    at = at ? at : status_now();
    StatusKind kind;
    char *status = NULL;
    StatusWrite rc = event_state(st, id, &kind, &status);
    if (rc == STATUS_WRITE_OK && !lifecycle_check_postmortem(kind, (long long)id, status))
        rc = STATUS_WRITE_REFUSED;
    free(status);
    if (rc == STATUS_WRITE_OK &&
        !run(st,
             prep(st,
                  "UPDATE events SET postmortem = ?, postmortem_at = ?, updated_at = ?"
                  " WHERE id = ?",
                  "siii", markdown, at, at, id),
             "attach the postmortem"))
        rc = STATUS_WRITE_FAILED;
    return finish(st, rc, id, "postmortem", at);
}

/* --- outbox reading and results --- */

static bool outbox_query(StatusStore *st, sqlite3_stmt *s, StatusOutboxItem **items, size_t *n)
{
    *items = NULL;
    *n = 0;
    if (!s)
        return false;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            *items = xrealloc(*items, cap * sizeof(**items));
        }
        StatusOutboxItem *it = &(*items)[(*n)++];
        it->id = sqlite3_column_int64(s, 0);
        it->url = col_text(s, 1);
        it->event = col_text(s, 2);
        it->body = col_text(s, 3);
        it->attempts = sqlite3_column_int(s, 4);
        it->created_at = sqlite3_column_int64(s, 5);
        it->next_at = sqlite3_column_int64(s, 6);
        it->delivered_at = sqlite3_column_int64(s, 7);
        it->failed_at = sqlite3_column_int64(s, 8);
        it->last_error = col_text(s, 9);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE || db_fail(st, "read the webhook outbox");
}

#define OUTBOX_COLUMNS                                                                             \
    "id, url, event, body, attempts, created_at, next_at, delivered_at, failed_at, last_error"

bool status_store_outbox_due(StatusStore *st, int64_t now, size_t max, StatusOutboxItem **items,
                             size_t *n)
{
    return outbox_query(st,
                        prep(st,
                             "SELECT " OUTBOX_COLUMNS " FROM outbox o WHERE delivered_at IS NULL"
                             " AND failed_at IS NULL AND next_at <= ? AND NOT EXISTS (SELECT 1"
                             " FROM outbox p WHERE p.url = o.url AND p.id < o.id AND"
                             " p.delivered_at IS NULL AND p.failed_at IS NULL) ORDER BY id"
                             " LIMIT ?",
                             "ii", now, (int64_t)max),
                        items, n);
}

bool status_store_outbox_recent(StatusStore *st, size_t max, StatusOutboxItem **items, size_t *n)
{
    return outbox_query(st,
                        prep(st, "SELECT " OUTBOX_COLUMNS " FROM outbox ORDER BY id DESC LIMIT ?",
                             "i", (int64_t)max),
                        items, n);
}

bool status_store_outbox_done(StatusStore *st, int64_t id, int64_t now, bool ok, const char *error)
{
    if (ok)
        return run(st,
                   prep(st,
                        "UPDATE outbox SET delivered_at = ?, attempts = attempts + 1,"
                        " last_error = NULL WHERE id = ? AND delivered_at IS NULL",
                        "ii", now, id),
                   "record a webhook delivery");
    /* Backoff: 5 s after the first failure, doubling, at most an hour. */
    return run(st,
               prep(st,
                    "UPDATE outbox SET attempts = attempts + 1, last_error = ?,"
                    " next_at = ? + min(3600, 5 << min(attempts, 10)),"
                    " failed_at = CASE WHEN attempts + 1 >= ? THEN ? ELSE NULL END"
                    " WHERE id = ? AND delivered_at IS NULL",
                    "siiii", error ? error : "failed", now, (int64_t)STATUS_OUTBOX_MAX_ATTEMPTS,
                    now, id),
               "record a webhook failure");
}

void status_outbox_free(StatusOutboxItem *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(items[i].url);
        free(items[i].event);
        free(items[i].body);
        free(items[i].last_error);
    }
    free(items);
}
