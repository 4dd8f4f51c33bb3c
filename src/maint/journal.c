/*
 * journal.c - the maintenance journal (journal.h): SQLite, one file.
 *
 * Schema (PRAGMA user_version = 1):
 *
 *   runs     (id INTEGER PRIMARY KEY, file TEXT, title TEXT, plan TEXT,
 *             state TEXT, pid INTEGER, started REAL, ended REAL, hold_ms REAL,
 *             status_id INTEGER: the status page's maintenance, 0 when none)
 *   steps    (seq INTEGER PRIMARY KEY, run INTEGER, step TEXT, action TEXT,
 *             state TEXT, predicted_s REAL, low_s REAL, high_s REAL,
 *             started REAL, ended REAL, actual_s REAL, detail TEXT)
 *   created  (run INTEGER, step TEXT, type TEXT, what TEXT, port INTEGER,
 *             recorded REAL, removed REAL, PRIMARY KEY (run, type, what))
 *
 * Times are wall-clock seconds since the epoch. runs.state is
 * journal_run_state_name(); steps.action is "do" or "undo"; steps.state is
 * "started", "done" or "failed"; created.type is "dir" or "server".
 *
 * Invariants:
 *   1. Every call is one transaction, committed with synchronous = FULL in
 *      rollback-journal mode (the journal file, the database and the
 *      directory fsynced): when a call returns, its row survives a crash
 *      or a power loss.
 *   2. Write-ahead: a step's "started" row is committed before the step's
 *      first effect, and a created row before the thing is created. So
 *      anything a run made is in created (a row may name a thing that was
 *      never made: undo tolerates its absence).
 *   3. A step's row is "done" only after its effects are complete; a row
 *      still "started" belongs to a step the process died in.
 *   4. seq grows with every row: a step's state is that of its last row
 *      (journal.h's diagram); replay needs nothing else.
 *   5. At most one run is open (journal_run_open()): a new run is refused
 *      until the last one is finished, aborted or rolled back; at most one
 *      process works on it (journal_lock()).
 */
#include "maint/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/mem.h"
#include "common/timeutil.h"

struct Journal {
    sqlite3 *db;
    char *path;
};

static const char *const run_state_names[JRUN__COUNT] = {
    "running",      "switched",    "completed", "aborted",
    "rolling back", "rolled back", "failed",    "finished",
};
static const char *const step_state_names[JSTEP__COUNT] = {
    "pending", "running", "done", "failed", "undoing", "undone", "undo failed",
};

const char *journal_run_state_name(JournalRunState st)
{
    return st < JRUN__COUNT ? run_state_names[st] : "unknown";
}

const char *journal_step_state_name(JournalStepState s)
{
    return s < JSTEP__COUNT ? step_state_names[s] : "unknown";
}

bool journal_run_open(JournalRunState st)
{
    return st != JRUN_ABORTED && st != JRUN_ROLLED_BACK && st != JRUN_FINISHED;
}

bool journal_step_half_done(JournalStepState s)
{
    return s == JSTEP_RUNNING || s == JSTEP_FAILED || s == JSTEP_UNDOING || s == JSTEP_UNDO_FAILED;
}

static bool jr_fail(Journal *j, const char *what)
{
    err_set(DD_EXIT_IO, "journal \"%s\": %s failed: %s", j->path, what, sqlite3_errmsg(j->db));
    err_hint("check the state directory's disk and permissions");
    return false;
}

static const char jr_schema[] =
    "CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, file TEXT NOT NULL, title TEXT,"
    " plan TEXT, state TEXT NOT NULL, pid INTEGER, started REAL NOT NULL, ended REAL,"
    " hold_ms REAL, status_id INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS steps (seq INTEGER PRIMARY KEY, run INTEGER NOT NULL,"
    " step TEXT NOT NULL, action TEXT NOT NULL, state TEXT NOT NULL, predicted_s REAL,"
    " low_s REAL, high_s REAL, started REAL NOT NULL, ended REAL, actual_s REAL, detail TEXT);"
    "CREATE TABLE IF NOT EXISTS created (run INTEGER NOT NULL, step TEXT NOT NULL,"
    " type TEXT NOT NULL, what TEXT NOT NULL, port INTEGER, recorded REAL NOT NULL,"
    " removed REAL, PRIMARY KEY (run, type, what));"
    "PRAGMA user_version = 1;";

bool journal_open(const char *dir, Journal **out)
{
    *out = NULL;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return err_errno("could not create the state directory \"%s\"", dir);
    Journal *j = xcalloc(1, sizeof(*j));
    j->path = xasprintf("%s/journal.db", dir);
    if (sqlite3_open_v2(j->path, &j->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        jr_fail(j, "opening");
        journal_close(j);
        return false;
    }
    sqlite3_busy_timeout(j->db, 5000);
    if (sqlite3_exec(j->db,
                     "PRAGMA journal_mode = DELETE; PRAGMA synchronous = FULL;"
                     "PRAGMA foreign_keys = ON;",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(j->db, jr_schema, NULL, NULL, NULL) != SQLITE_OK) {
        jr_fail(j, "creating the schema");
        journal_close(j);
        return false;
    }
    chmod(j->path, 0600);
    *out = j;
    return true;
}

void journal_close(Journal *j)
{
    if (!j)
        return;
    sqlite3_close(j->db);
    free(j->path);
    free(j);
}

/* Prepare sql and bind the arguments described by types ('t' text, 'd' double, 'i' int64). */
static sqlite3_stmt *jr_prepare(Journal *j, const char *sql, const char *types, ...)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(j->db, sql, -1, &st, NULL) != SQLITE_OK) {
        jr_fail(j, "preparing a statement");
        return NULL;
    }
    va_list ap;
    va_start(ap, types);
    for (int i = 0; types[i]; i++) {
        if (types[i] == 't') {
            const char *v = va_arg(ap, const char *);
            if (v)
                sqlite3_bind_text(st, i + 1, v, -1, SQLITE_TRANSIENT);
        } else if (types[i] == 'd') {
            double v = va_arg(ap, double);
            if (!isnan(v))
                sqlite3_bind_double(st, i + 1, v);
        } else {
            sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
        }
    }
    va_end(ap);
    return st;
}

/* Run a statement that returns no row; one implicit (durable) transaction. */
static bool jr_step_done(Journal *j, sqlite3_stmt *st, const char *what)
{
    if (!st)
        return false;
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || jr_fail(j, what);
}

static JournalRunState jr_run_state(const char *s)
{
    for (int i = 0; i < JRUN__COUNT; i++)
        if (s && strcmp(s, run_state_names[i]) == 0)
            return (JournalRunState)i;
    return JRUN_FAILED;
}

bool journal_run_begin(Journal *j, const char *file, const char *title, const char *plan_json,
                       int64_t *run)
{
    JournalRun last;
    if (!journal_load(j, 0, &last))
        return false;
    bool open = last.id && journal_run_open(last.state);
    if (open) {
        err_set(DD_EXIT_CONFLICT, "maintenance #%lld (\"%s\", from \"%s\") is %s, not over",
                (long long)last.id, last.title ? last.title : "", last.file,
                journal_run_state_name(last.state));
        err_hint("drydock maint status says what to do: resume, abort, rollback or finish it "
                 "first");
    }
    journal_run_free(&last);
    if (open)
        return false;
    sqlite3_stmt *st = jr_prepare(j,
                                  "INSERT INTO runs (file, title, plan, state, pid, started) "
                                  "VALUES (?, ?, ?, 'running', ?, ?)",
                                  "tttid", file, title, plan_json, (int64_t)getpid(), time_wall());
    if (!jr_step_done(j, st, "recording the run"))
        return false;
    *run = sqlite3_last_insert_rowid(j->db);
    return true;
}

bool journal_run_set(Journal *j, int64_t run, JournalRunState s, double hold_ms)
{
    bool over = !journal_run_open(s) || s == JRUN_COMPLETED;
    sqlite3_stmt *st =
        jr_prepare(j,
                   "UPDATE runs SET state = ?, pid = ?, hold_ms = coalesce(?, hold_ms), "
                   "ended = CASE WHEN ? THEN ? ELSE ended END WHERE id = ?",
                   "tididi", journal_run_state_name(s), (int64_t)getpid(),
                   hold_ms >= 0 ? hold_ms : NAN, (int64_t)over, time_wall(), run);
    return jr_step_done(j, st, "recording the run's state");
}

bool journal_run_status_id(Journal *j, int64_t run, int64_t status_id)
{
    sqlite3_stmt *st =
        jr_prepare(j, "UPDATE runs SET status_id = ? WHERE id = ?", "ii", status_id, run);
    return jr_step_done(j, st, "recording the status page's id");
}

bool journal_step_begin(Journal *j, int64_t run, const char *step, JournalAction act,
                        double predicted_s, double low_s, double high_s, int64_t *seq)
{
    sqlite3_stmt *st = jr_prepare(
        j,
        "INSERT INTO steps (run, step, action, state, predicted_s, low_s, high_s, started) "
        "VALUES (?, ?, ?, 'started', ?, ?, ?, ?)",
        "ittdddd", run, step, act == JACT_DO ? "do" : "undo", predicted_s, low_s, high_s,
        time_wall());
    if (!jr_step_done(j, st, "recording a step's start"))
        return false;
    *seq = sqlite3_last_insert_rowid(j->db);
    return true;
}

bool journal_step_end(Journal *j, int64_t run, int64_t seq, bool ok, const char *detail)
{
    double now = time_wall();
    sqlite3_stmt *st = jr_prepare(j,
                                  "UPDATE steps SET state = ?, ended = ?, actual_s = ? - started, "
                                  "detail = ? WHERE seq = ? AND run = ?",
                                  "tddtii", ok ? "done" : "failed", now, now, detail, seq, run);
    return jr_step_done(j, st, "recording a step's end");
}

bool journal_created(Journal *j, int64_t run, const char *step, JournalCreatedType type,
                     const char *what, int port)
{
    sqlite3_stmt *st = jr_prepare(
        j,
        "INSERT INTO created (run, step, type, what, port, recorded) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (run, type, what) DO UPDATE SET removed = NULL, port = excluded.port",
        "itttid", run, step, type == JCREATED_DIR ? "dir" : "server", what, (int64_t)port,
        time_wall());
    return jr_step_done(j, st, "recording what a step creates");
}

bool journal_removed(Journal *j, int64_t run, JournalCreatedType type, const char *what)
{
    sqlite3_stmt *st =
        jr_prepare(j, "UPDATE created SET removed = ? WHERE run = ? AND type = ? AND what = ?",
                   "ditt", time_wall(), run, type == JCREATED_DIR ? "dir" : "server", what);
    return jr_step_done(j, st, "recording a removal");
}

/* --- replay -------------------------------------------------------------- */

static char *jr_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? xstrdup((const char *)t) : NULL;
}

static JournalStepView *jr_view(JournalRun *r, const char *name)
{
    for (size_t i = 0; i < r->nsteps; i++)
        if (strcmp(r->steps[i].name, name) == 0)
            return &r->steps[i];
    r->steps = xrealloc(r->steps, (r->nsteps + 1) * sizeof(*r->steps));
    JournalStepView *v = &r->steps[r->nsteps++];
    memset(v, 0, sizeof(*v));
    snprintf(v->name, sizeof(v->name), "%s", name);
    return v;
}

/* Apply one steps row (invariant 4: the last row of a step decides its state). */
static void jr_apply(JournalRun *r, sqlite3_stmt *st)
{
    JournalStepView *v = jr_view(r, (const char *)sqlite3_column_text(st, 0));
    bool undo = strcmp((const char *)sqlite3_column_text(st, 1), "undo") == 0;
    const char *state = (const char *)sqlite3_column_text(st, 2);
    bool started = strcmp(state, "started") == 0, done = strcmp(state, "done") == 0;
    if (undo)
        v->state = started ? JSTEP_UNDOING : done ? JSTEP_UNDONE : JSTEP_UNDO_FAILED;
    else
        v->state = started ? JSTEP_RUNNING : done ? JSTEP_DONE : JSTEP_FAILED;
    if (!undo) {
        v->attempts++;
        v->predicted_s = sqlite3_column_double(st, 3);
        v->low_s = sqlite3_column_double(st, 4);
        v->high_s = sqlite3_column_double(st, 5);
        if (!started)
            v->actual_s = sqlite3_column_double(st, 8);
    }
    v->started = sqlite3_column_double(st, 6);
    v->ended = sqlite3_column_double(st, 7);
    const unsigned char *d = sqlite3_column_text(st, 9);
    snprintf(v->detail, sizeof(v->detail), "%s", d ? (const char *)d : "");
}

static bool jr_load_steps(Journal *j, JournalRun *r)
{
    sqlite3_stmt *st = jr_prepare(j,
                                  "SELECT step, action, state, predicted_s, low_s, high_s, "
                                  "started, ended, actual_s, detail FROM steps WHERE run = ? "
                                  "ORDER BY seq",
                                  "i", r->id);
    if (!st)
        return false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        jr_apply(r, st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return jr_fail(j, "reading the steps");
    st = jr_prepare(j,
                    "SELECT type, step, what, port, removed IS NOT NULL FROM created "
                    "WHERE run = ? ORDER BY recorded",
                    "i", r->id);
    if (!st)
        return false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        r->created = xrealloc(r->created, (r->ncreated + 1) * sizeof(*r->created));
        JournalCreated *c = &r->created[r->ncreated++];
        memset(c, 0, sizeof(*c));
        c->type = strcmp((const char *)sqlite3_column_text(st, 0), "dir") == 0 ? JCREATED_DIR
                                                                               : JCREATED_SERVER;
        snprintf(c->step, sizeof(c->step), "%s", (const char *)sqlite3_column_text(st, 1));
        c->what = jr_text(st, 2);
        c->port = sqlite3_column_int(st, 3);
        c->removed = sqlite3_column_int(st, 4) != 0;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || jr_fail(j, "reading what the run created");
}

bool journal_load(Journal *j, int64_t run, JournalRun *out)
{
    memset(out, 0, sizeof(*out));
    out->hold_ms = -1;
    sqlite3_stmt *st = jr_prepare(j,
                                  run ? "SELECT id, file, title, plan, state, pid, started, "
                                        "ended, hold_ms, status_id FROM runs WHERE id = ?"
                                      : "SELECT id, file, title, plan, state, pid, started, "
                                        "ended, hold_ms, status_id FROM runs ORDER BY id DESC "
                                        "LIMIT 1",
                                  run ? "i" : "", run);
    if (!st)
        return false;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->id = sqlite3_column_int64(st, 0);
        out->file = jr_text(st, 1);
        out->title = jr_text(st, 2);
        out->plan_json = jr_text(st, 3);
        out->state = jr_run_state((const char *)sqlite3_column_text(st, 4));
        out->pid = sqlite3_column_int(st, 5);
        out->started = sqlite3_column_double(st, 6);
        out->ended = sqlite3_column_double(st, 7);
        if (sqlite3_column_type(st, 8) != SQLITE_NULL)
            out->hold_ms = sqlite3_column_double(st, 8);
        out->status_id = sqlite3_column_int64(st, 9);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return jr_fail(j, "reading the run");
    if (rc == SQLITE_ROW && !jr_load_steps(j, out)) {
        journal_run_free(out);
        return false;
    }
    return true;
}

const JournalStepView *journal_run_step(const JournalRun *r, const char *name)
{
    for (size_t i = 0; i < r->nsteps; i++)
        if (strcmp(r->steps[i].name, name) == 0)
            return &r->steps[i];
    return NULL;
}

void journal_run_free(JournalRun *r)
{
    free(r->file);
    free(r->title);
    free(r->plan_json);
    free(r->steps);
    for (size_t i = 0; i < r->ncreated; i++)
        free(r->created[i].what);
    free(r->created);
    memset(r, 0, sizeof(*r));
}

/* --- one maintenance at a time -------------------------------------------- */

struct JournalLock {
    int fd;
};

bool journal_lock(const char *dir, const char *command, JournalLock **out)
{
    *out = NULL;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return err_errno("could not create the state directory \"%s\"", dir);
    char *path = xasprintf("%s/maint.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        err_errno("could not open \"%s\"", path);
        free(path);
        return false;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char holder[256] = "";
        ssize_t n = pread(fd, holder, sizeof(holder) - 1, 0);
        holder[n > 0 ? n : 0] = '\0';
        holder[strcspn(holder, "\n")] = '\0';
        err_set(DD_EXIT_LOCKED, "another maintenance command is running: %s",
                holder[0] ? holder : "a process that has not said its name yet");
        err_hint("wait for it to end; \"drydock maint status\" shows where it is");
        close(fd);
        free(path);
        return false;
    }
    char text[256], when[48];
    time_format(time_wall(), when, sizeof(when));
    int len = snprintf(text, sizeof(text), "pid %d (drydock %s) since %s\n", (int)getpid(), command,
                       when);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)len, 0) != len) {
        err_errno("could not write \"%s\"", path);
        close(fd);
        free(path);
        return false;
    }
    free(path);
    *out = xcalloc(1, sizeof(**out));
    (*out)->fd = fd;
    return true;
}

void journal_unlock(JournalLock *l)
{
    if (!l)
        return;
    if (ftruncate(l->fd, 0) != 0) {
        /* the holder's text stays; the lock itself goes with the descriptor */
    }
    close(l->fd);
    free(l);
}
