/*
 * switchover.h - move the traffic from the primary to a streaming standby
 * through drydock's proxy, holding clients as briefly as possible.
 *
 * Steps, in order; each is timed and reported as it ends:
 *
 *   checks   connect to both servers and to the proxy's admin API; the
 *            primary is not in recovery; the target is in recovery, of the
 *            same cluster (system identifier), its WAL receiver streaming
 *            from the primary's port; its replay lag is under max_lag; the
 *            proxy is not paused and points at the primary; pg_ctl (and
 *            pg_rewind with demote) are in bin; the data directories given
 *            are the servers' own.
 *   pause    POST /pause (deadline pause_timeout, on_timeout resume).
 *            --- clients are held from here ---
 *   catchup  read the primary's pg_current_wal_flush_lsn() and poll the
 *            target's pg_last_wal_replay_lsn() until it reaches it.
 *   promote  pg_promote(wait => false), then poll pg_is_in_recovery() until
 *            false (pg_promote's own wait polls every 100 ms: too slow here).
 *   switch   POST /switch to the target's conninfo.
 *   resume   POST /resume.
 *            --- clients run again, on the new primary ---
 *   fence    stop the old primary, or demote it (fence.h).
 *
 * Everything that can be done before the pause is (connections opened,
 * checks made, the switch request built); while clients are held the polls
 * run every poll_interval (5 ms).
 *
 * Failure, and the state it leaves (SwitchoverOutcome):
 *
 *   checks failed                   UNTOUCHED     nothing was changed
 *   pause, catchup, promote failed  ROLLED_BACK   the proxy is resumed on the old
 *     (target still in recovery)                  primary; the target is as it was
 *   promote did not finish in time  ROLLED_BACK   as above, but the target may still
 *                                                 promote: it must be rebuilt
 *   switch failed                   PAUSED_OLD    the target is promoted; the proxy
 *                                                 is left paused on the old primary
 *                                                 (resuming there would split the
 *                                                 data): switch it by hand
 *   resume failed                   PAUSED_NEW    the proxy points at the new primary
 *                                                 but holds its clients: resume it
 *   fence failed                    SWITCHED      clients are on the new primary; the
 *                                                 old one may still be running
 *   all done                        DONE
 *
 * The hold is measured from the moment POST /pause is sent to the moment
 * POST /resume has returned, and reported with the proxy's paused_ms.
 */
#ifndef DD_MAINT_SWITCHOVER_H
#define DD_MAINT_SWITCHOVER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "common/mem.h"

typedef enum {
    SW_STEP_CHECKS = 0,
    SW_STEP_PAUSE,
    SW_STEP_CATCHUP,
    SW_STEP_PROMOTE,
    SW_STEP_SWITCH,
    SW_STEP_RESUME,
    SW_STEP_FENCE,
    SW_STEP_COUNT
} SwitchoverStepId;

typedef enum {
    SW_STEP_PENDING = 0,
    SW_STEP_RUNNING,
    SW_STEP_OK,
    SW_STEP_FAILED
} SwitchoverStepState;

typedef enum {
    SW_OUTCOME_UNTOUCHED = 0,
    SW_OUTCOME_ROLLED_BACK,
    SW_OUTCOME_PAUSED_OLD,
    SW_OUTCOME_PAUSED_NEW,
    SW_OUTCOME_SWITCHED,
    SW_OUTCOME_DONE
} SwitchoverOutcome;

typedef struct {
    SwitchoverStepState state;
    double started; /* time_mono() at its start */
    double ms;      /* its duration */
    char detail[384];
} SwitchoverStep;

typedef struct {
    SwitchoverStep steps[SW_STEP_COUNT];
    SwitchoverOutcome outcome;
    bool promoted;
    bool demote;
    double hold_ms;         /* /pause sent -> /resume returned; 0 if never paused */
    double proxy_paused_ms; /* the proxy's own measure */
    int held;               /* sessions the pause held */
    int switched;           /* sessions moved to the new server */
    int switch_failed;      /* sessions that could not be moved */
    char *from;             /* redacted conninfo of the old primary */
    char *to;               /* redacted conninfo of the target */
    char *from_data;        /* may be NULL */
    char *to_data;          /* may be NULL */
} SwitchoverReport;

typedef struct SwitchoverOpts SwitchoverOpts;

/* Called when a step ends (state OK or FAILED), e.g. to print it at once. */
typedef void (*SwitchoverStepFn)(const SwitchoverReport *r, SwitchoverStepId id, void *arg);

struct SwitchoverOpts {
    const char *primary;      /* conninfo of the current primary */
    const char *primary_data; /* its data directory (needed to fence it) */
    const char *target;       /* conninfo of the standby to promote */
    const char *target_data;  /* its data directory, or NULL (checked when given) */
    const char *bin;          /* PostgreSQL binaries */
    const char *proxy_admin;  /* host:port of the proxy's admin API */
    bool demote;              /* make the old primary a standby instead of stopping it */
    uint64_t max_lag;         /* bytes of replay lag allowed before the pause */
    int pause_timeout;        /* seconds: the pause deadline, and the catch-up limit */
    double poll_interval;     /* seconds between polls while clients are held */
    const char *drydock_path; /* absolute; for the demoted server's restore_command */
    const char *config_path;  /* absolute; likewise */
    SwitchoverStepFn on_step;
    void *arg;
};

/*
 * Run the switchover. true when every step succeeded; otherwise the error
 * slot says which step failed, why, and the state things are in (also in
 * r->outcome). r is filled either way; free it with switchover_report_free().
 */
DD_MUST_CHECK bool switchover_run(const SwitchoverOpts *o, SwitchoverReport *r);

void switchover_report_free(SwitchoverReport *r);

/* --- step bookkeeping and rendering (pure) ------------------------------ */

const char *switchover_step_name(SwitchoverStepId id);
const char *switchover_outcome_name(SwitchoverOutcome o);

void switchover_step_begin(SwitchoverReport *r, SwitchoverStepId id, double now);
void switchover_step_end(SwitchoverReport *r, SwitchoverStepId id, bool ok, double now,
                         const char *fmt, ...) DD_PRINTF(5, 6);

/* The step that failed, or SW_STEP_COUNT when none did. */
SwitchoverStepId switchover_failed_step(const SwitchoverReport *r);

/* One line for a step that ended: "  promote        12.3 ms  detail". */
void switchover_step_line(const SwitchoverReport *r, SwitchoverStepId id, Buf *out);

/* The closing lines: hold, which server is now the primary, which keys to update. */
void switchover_report_summary(const SwitchoverReport *r, Buf *out);

/* The whole report as one JSON object (with error/hint when given). */
void switchover_report_json(const SwitchoverReport *r, const char *error, const char *hint,
                            Buf *out);

/*
 * Whether two conninfos name the same server: same port (default 5432) and
 * host, where localhost, 127.0.0.1 and ::1 are one host. Passwords and other
 * keys are ignored; redacted conninfos compare like the real ones.
 */
bool switchover_same_server(const char *a, const char *b);

#endif
