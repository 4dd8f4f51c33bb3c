/*
 * swreport.h - the report of a switchover (maint/switchover.h): its steps,
 * each with its state, duration and a one-line detail, the outcome (the
 * state a failure leaves things in), the hold, and how it is printed: one
 * line per step as it ends, closing lines for people, or one JSON object:
 *
 *   {"ok":bool,"outcome":"done|untouched|rolled-back|paused-on-old-primary|
 *    paused-on-new-primary|switched","from":"..","to":"..",
 *    "steps":[{"name":"checks","state":"ok|failed|running","ms":X,"detail":".."}],
 *    "promoted":bool,"demote":bool,"hold_ms":X,"proxy_paused_ms":X,"held":N,
 *    "switched":N,"switch_failed":N,"other_standbys":N,"primary":"..",
 *    ["error":"..","hint":".."]}
 *
 * Conninfos in a report are redacted (no password). Everything here is pure.
 */
#ifndef DD_MAINT_SWREPORT_H
#define DD_MAINT_SWREPORT_H

#include <stdbool.h>

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
    int other_standbys;     /* standbys of the old primary besides the target */
    char *from;             /* redacted conninfo of the old primary */
    char *to;               /* redacted conninfo of the target */
    char *from_data;        /* may be NULL */
    char *to_data;          /* may be NULL */
} SwitchoverReport;

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

void switchover_report_free(SwitchoverReport *r);

#endif
