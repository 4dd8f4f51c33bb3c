/*
 * runreport.c - a run's report from the journal (runreport.h).
 */
#include "maint/runreport.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/mem.h"

static bool rr_fail(sqlite3 *db, const char *path)
{
    err_set(DD_EXIT_IO, "could not read the maintenance journal \"%s\": %s", path,
            db ? sqlite3_errmsg(db) : "out of memory");
    err_hint("check that the file is readable by this user and not damaged");
    return false;
}

static json_t *rr_real(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? json_null()
                                                       : json_real(sqlite3_column_double(st, col));
}

static const char *rr_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : "";
}

/* The run row: {"run", "file", "title", "outcome", "started", "ended", "hold_ms"}, its plan. */
static int rr_run(sqlite3 *db, int64_t status_id, json_t **run, json_t **plan)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT id, file, title, plan, state, started, ended, hold_ms "
                                "FROM runs WHERE status_id = ? ORDER BY id DESC LIMIT 1",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, status_id);
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_ROW) {
        double hold = sqlite3_column_double(st, 7);
        *run = json_pack(
            "{s:I,s:s,s:s,s:s,s:o,s:o,s:o}", "run", (json_int_t)sqlite3_column_int64(st, 0), "file",
            rr_text(st, 1), "title", rr_text(st, 2), "outcome", rr_text(st, 4), "started",
            rr_real(st, 5), "ended", rr_real(st, 6), "hold_ms",
            sqlite3_column_type(st, 7) == SQLITE_NULL || hold < 0 ? json_null() : json_real(hold));
        *plan = json_loads(rr_text(st, 3), 0, NULL);
        if (!*plan)
            *plan = json_object();
    }
    sqlite3_finalize(st);
    return rc;
}

/* Every row of the run, oldest first, as events. */
static int rr_events(sqlite3 *db, json_int_t run, json_t *events)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT step, action, state, predicted_s, low_s, high_s, started, "
                                "ended, actual_s, detail FROM steps WHERE run = ? ORDER BY seq",
                                -1, &st, NULL);
    if (rc == SQLITE_OK)
        sqlite3_bind_int64(st, 1, run);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *e = json_pack("{s:o,s:s,s:s,s:s,s:f,s:f,s:f}", "at", rr_real(st, 6), "step",
                              rr_text(st, 0), "action", rr_text(st, 1), "state", rr_text(st, 2),
                              "predicted_s", sqlite3_column_double(st, 3), "low_s",
                              sqlite3_column_double(st, 4), "high_s", sqlite3_column_double(st, 5));
        if (sqlite3_column_type(st, 7) != SQLITE_NULL)
            json_object_set_new(e, "took_s", rr_real(st, 8));
        if (strcmp(rr_text(st, 2), "failed") == 0 && rr_text(st, 9)[0])
            json_object_set_new(e, "detail", json_string(rr_text(st, 9)));
        json_array_append_new(events, e);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The step named name in steps, appended (from ev's prediction) when absent. */
static json_t *rr_step(json_t *steps, const char *name, const json_t *ev)
{
    size_t i;
    json_t *s;
    json_array_foreach(steps, i, s)
    {
        if (strcmp(json_string_value(json_object_get(s, "name")), name) == 0)
            return s;
    }
    s = json_pack("{s:s,s:O,s:O,s:O,s:s,s:b}", "name", name, "predicted_s",
                  json_object_get(ev, "predicted_s"), "low_s", json_object_get(ev, "low_s"),
                  "high_s", json_object_get(ev, "high_s"), "basis", "", "enabled", 1);
    json_array_append_new(steps, s);
    return s;
}

/* The steps: the plan's enabled ones, then the journal's "do" rows over them. */
static json_t *rr_steps(const json_t *plan, const json_t *events)
{
    json_t *steps = json_array(), *s, *ev;
    size_t i;
    json_array_foreach(json_object_get(plan, "steps"), i, s)
    {
        if (json_is_true(json_object_get(s, "enabled")) && json_object_get(s, "name"))
            json_array_append_new(steps, json_pack("{s:O,s:O,s:O,s:O,s:O,s:b}", "name",
                                                   json_object_get(s, "name"), "predicted_s",
                                                   json_object_get(s, "predicted_s"), "low_s",
                                                   json_object_get(s, "low_s"), "high_s",
                                                   json_object_get(s, "high_s"), "basis",
                                                   json_object_get(s, "basis"), "enabled", 1));
    }
    json_array_foreach(events, i, ev)
    {
        if (strcmp(json_string_value(json_object_get(ev, "action")), "do") != 0)
            continue;
        s = rr_step(steps, json_string_value(json_object_get(ev, "step")), ev);
        json_object_set_new(s, "attempts",
                            json_integer(json_integer_value(json_object_get(s, "attempts")) + 1));
        if (json_number_value(json_object_get(ev, "predicted_s")) > 0) /* a resume re-plans */
            for (const char *const *k =
                     (const char *const[]){"predicted_s", "low_s", "high_s", NULL};
                 *k; k++)
                json_object_set(s, *k, json_object_get(ev, *k));
        const char *state = json_string_value(json_object_get(ev, "state"));
        if (strcmp(state, "started") == 0) { /* died in it: not run to an end */
            json_object_del(s, "actual_s");
            json_object_set_new(s, "ok", json_false());
            continue;
        }
        json_object_set(s, "actual_s", json_object_get(ev, "took_s"));
        json_object_set_new(s, "ok", json_boolean(strcmp(state, "done") == 0));
    }
    return steps;
}

bool runreport_load_file(const char *path, int64_t status_id, json_t **out)
{
    *out = NULL;
    if (access(path, F_OK) != 0)
        return true; /* no maintenance ever ran here */
    sqlite3 *db = NULL;
    json_t *run = NULL, *plan = NULL, *events = json_array();
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        rc = rr_run(db, status_id, &run, &plan);
    }
    if (rc == SQLITE_ROW)
        rc = rr_events(db, json_integer_value(json_object_get(run, "run")), events);
    bool ok = rc == SQLITE_OK || rc == SQLITE_DONE || rr_fail(db, path);
    if (ok && run) {
        json_object_set_new(
            run, "predicted_hold_ms",
            json_real(json_number_value(json_object_get(plan, "predicted_hold_ms"))));
        json_object_set_new(run, "steps", rr_steps(plan, events));
        json_object_set(run, "events", events);
        *out = json_incref(run);
    }
    json_decref(run);
    json_decref(plan);
    json_decref(events);
    sqlite3_close(db);
    return ok;
}

bool runreport_load(const Config *cfg, int64_t status_id, json_t **out)
{
    char *dir = config_state_dir(cfg);
    char *path = xasprintf("%s/journal.db", dir);
    bool ok = runreport_load_file(path, status_id, out);
    free(path);
    free(dir);
    return ok;
}
