/*
 * journal.h - the maintenance journal: what a run did, durable before it
 * does it, so that a run killed at any instant can be resumed or undone.
 *
 * One SQLite database, journal.db, in the state directory
 * (config_state_dir(): never inside the repository, which may be an object
 * store). The schema and its invariants are at the top of journal.c.
 *
 * A run writes, in this order, each call one durable transaction:
 *
 *   journal_run_begin           the run, its file and its plan (JSON)
 *   journal_step_begin (do)     before the step's first effect
 *   journal_created             before the thing is created (MaintCtx.on_created)
 *   journal_step_end            once the step's effects are complete (or it failed)
 *   journal_run_set             switched / completed / aborted / ...
 *
 * and an abort, a resume or a rollback writes the undo of a step the same
 * way (action "undo"). journal_load() replays those rows into the state of
 * every step (the diagram below), which is all resume and abort need.
 *
 *   step states (JournalStepState), by the last row of the step:
 *
 *     PENDING --do started--> RUNNING --ended ok--> DONE
 *                                |  \--ended failed--> FAILED
 *       (killed: stays RUNNING)  |
 *     DONE/RUNNING/FAILED --undo started--> UNDOING --ok--> UNDONE (as PENDING)
 *                                                 \--failed--> UNDO_FAILED
 *
 * A step whose state is RUNNING, FAILED, UNDOING or UNDO_FAILED is half
 * done: resume undoes it, then does it again; abort undoes it.
 */
#ifndef DD_MAINT_JOURNAL_H
#define DD_MAINT_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

typedef struct Journal Journal;

typedef enum {
    JRUN_RUNNING = 0,  /* steps before the switch are under way (or the run died there) */
    JRUN_SWITCHED,     /* the traffic is on the new primary; the steps after it may remain */
    JRUN_COMPLETED,    /* every step done; the old primary kept until "maint finish" */
    JRUN_ABORTED,      /* undone before the switch: nothing changed */
    JRUN_ROLLING_BACK, /* a rollback is under way (or died) */
    JRUN_ROLLED_BACK,  /* back on a cluster with the old configuration */
    JRUN_FAILED,       /* stopped on an error; resume, abort or rollback from here */
    JRUN_FINISHED,     /* "maint finish": the old primary removed; nothing more to do */
    JRUN__COUNT
} JournalRunState;

typedef enum {
    JSTEP_PENDING = 0,
    JSTEP_RUNNING,
    JSTEP_DONE,
    JSTEP_FAILED,
    JSTEP_UNDOING,
    JSTEP_UNDONE,
    JSTEP_UNDO_FAILED,
    JSTEP__COUNT
} JournalStepState;

typedef enum { JACT_DO = 0, JACT_UNDO } JournalAction;

typedef enum { JCREATED_DIR = 0, JCREATED_SERVER } JournalCreatedType;

typedef struct {
    char name[40]; /* plan_step_name(), or a rollback step's name */
    JournalStepState state;
    double predicted_s, low_s, high_s;
    double started, ended; /* wall clock of the last row */
    double actual_s;       /* of the last "do" that ended */
    int attempts;          /* "do" rows */
    char detail[256];
} JournalStepView;

typedef struct {
    JournalCreatedType type;
    char step[40];
    char *what; /* directory, or data directory of a server */
    int port;
    bool removed;
} JournalCreated;

typedef struct {
    int64_t id; /* 0: no run in the journal */
    char *file, *title, *plan_json;
    JournalRunState state;
    int pid; /* of the process that began it (or resumed it last) */
    double started, ended;
    double hold_ms;    /* < 0: not measured */
    int64_t status_id; /* the status page's maintenance (status/notify.h), 0: none */
    JournalStepView *steps;
    size_t nsteps;
    JournalCreated *created;
    size_t ncreated;
} JournalRun;

/* Open (creating the state directory, mode 0700, and the database) dir/journal.db. */
DD_MUST_CHECK bool journal_open(const char *dir, Journal **out);
void journal_close(Journal *j);

/*
 * Begin a run. Fails (DD_EXIT_CONFLICT) when the latest run is not over
 * (RUNNING, SWITCHED, ROLLING_BACK, FAILED, or COMPLETED without "maint
 * finish"), naming it: resume, abort, roll back or finish it first.
 */
DD_MUST_CHECK bool journal_run_begin(Journal *j, const char *file, const char *title,
                                     const char *plan_json, int64_t *run);
/* Set the run's state (and hold_ms when >= 0); the pid becomes this process's. */
DD_MUST_CHECK bool journal_run_set(Journal *j, int64_t run, JournalRunState st, double hold_ms);

/* The status page's id of the run's maintenance, so that resume and abort post to it. */
DD_MUST_CHECK bool journal_run_status_id(Journal *j, int64_t run, int64_t status_id);

/* A step starts (durable before the call returns); *seq identifies the row. */
DD_MUST_CHECK bool journal_step_begin(Journal *j, int64_t run, const char *step, JournalAction act,
                                      double predicted_s, double low_s, double high_s,
                                      int64_t *seq);
DD_MUST_CHECK bool journal_step_end(Journal *j, int64_t run, int64_t seq, bool ok,
                                    const char *detail);

/* Something is about to be created (durable before it is); again is harmless. */
DD_MUST_CHECK bool journal_created(Journal *j, int64_t run, const char *step,
                                   JournalCreatedType type, const char *what, int port);
/* It was removed (by an undo or "maint finish"). */
DD_MUST_CHECK bool journal_removed(Journal *j, int64_t run, JournalCreatedType type,
                                   const char *what);

/* Replay run (0: the latest) into out; out->id = 0 when there is none. */
DD_MUST_CHECK bool journal_load(Journal *j, int64_t run, JournalRun *out);
void journal_run_free(JournalRun *r);
/* The view of a step by name, or NULL when the run never wrote it. */
const JournalStepView *journal_run_step(const JournalRun *r, const char *name);

/* Whether a run in state st still has something to do (resume, abort, rollback or finish). */
bool journal_run_open(JournalRunState st);
/* Whether a step in state s is half done (undo it before doing it again). */
bool journal_step_half_done(JournalStepState s);

const char *journal_run_state_name(JournalRunState st);  /* "running", "rolled back", ... */
const char *journal_step_state_name(JournalStepState s); /* "pending", "running", ... */

/*
 * The one maintenance at a time on this host: an flock on dir/maint.lock,
 * released by the kernel when the holder dies. A second holder fails at
 * once (DD_EXIT_LOCKED) naming the first: its pid, command and start.
 */
typedef struct JournalLock JournalLock;
DD_MUST_CHECK bool journal_lock(const char *dir, const char *command, JournalLock **out);
void journal_unlock(JournalLock *l);

#endif
