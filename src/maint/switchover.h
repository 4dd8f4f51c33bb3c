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
 *   catchup  commit a transaction of our own on the primary, with a restore
 *            point "drydock switchover" in it (its local flush also flushes
 *            what commits made with synchronous_commit = off left in the WAL
 *            buffers), read pg_current_wal_flush_lsn() and poll the target's
 *            pg_last_wal_replay_lsn() until it reaches it.
 *   promote  pg_promote(wait => false), then poll pg_is_in_recovery() until
 *            false (pg_promote's own wait polls every 100 ms: too slow here).
 *   switch   POST /switch to the target's conninfo, on a thread, as soon as
 *            the promotion is asked for: a hot standby accepts the new
 *            sessions while it finishes promoting, and nothing runs on them
 *            before the resume, which waits for both. The hold is the longer
 *            of promote and switch, not their sum.
 *   resume   POST /resume.
 *            --- clients run again, on the new primary ---
 *   fence    stop the old primary, or demote it (fence.h).
 *
 * Everything that can be done before the pause is (connections opened,
 * checks made, the switch request built), and the checks end by waiting
 * until the target is nearly caught up (64 kB), so that the pause covers the
 * last bytes only; drydock's own recovery_end_command is cleared on the
 * target meanwhile and run after the hold (swquiet.h). While clients are
 * held the polls run every poll_interval (2 ms: half an interval is lost on
 * average per wait, and 5 ms cost 2-3 ms of hold in each of catchup and
 * promote), and every query and proxy call has one deadline, pause_timeout
 * after the pause was sent (pg_query_until: a hung server cannot hold the
 * clients past it); the pause has a lease, renewed by a thread of its own
 * until the deadline, and the proxy is told "promoting" before the
 * promotion: if this process dies, the proxy ends the hold by itself.
 * Test point "switchover-catchup": paused, the catch-up not started.
 *
 * Failure, and the state it leaves (SwitchoverOutcome):
 *
 *   checks failed                   UNTOUCHED     nothing was changed
 *   pause, catchup, promote failed  ROLLED_BACK   the proxy is switched back (if it
 *     (target still in recovery)                  was) and resumed on the old primary;
 *                                                 the target is as it was
 *   promote did not finish in time  ROLLED_BACK   as above, but the target may still
 *                                                 promote: it must be rebuilt
 *   switch failed                   PAUSED_OLD    the target is promoted; the proxy
 *                                                 is left paused on the old primary
 *                                                 (resuming there would split the
 *                                                 data): switch it by hand; the old
 *                                                 primary still runs: stop it
 *   resume failed                   PAUSED_NEW    the proxy points at the new primary
 *                                                 but holds its clients: resume it;
 *                                                 the old primary still runs: stop it
 *   fence failed                    SWITCHED      clients are on the new primary; the
 *                                                 old one may still be running
 *   all done                        DONE
 *
 * The hold is measured from the moment POST /pause is sent to the moment
 * POST /resume has returned, and reported with the proxy's paused_ms.
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT are blocked during the hold, so that
 * an interrupt cannot leave the clients held; they take effect after the
 * resume (before the fence: an interrupt there is reported on stderr).
 * After a SIGKILL the pause's lease ends the hold (proxy.c).
 *
 * Once the target is promoted (whatever failed after), the new roles are
 * recorded (o->topology, config/topology.h): the target is the primary, the
 * old primary its standby when demoted, else retired (kept stopped), so that
 * every later command works against the new primary.
 *
 * Test points (common/testpoint.h), for tests that kill -9 it there:
 * "switchover-switch" (the promotion was asked for, /switch not sent yet:
 * on the switch thread, while the main one waits for the promotion) and
 * "switchover-resume" (promoted and switched, /resume not sent yet).
 */
#ifndef DD_MAINT_SWITCHOVER_H
#define DD_MAINT_SWITCHOVER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "config/config.h"
#include "maint/swreport.h"
#include "proxy/ctl.h"

typedef struct SwitchoverOpts SwitchoverOpts;

/* Called when a step ends (state OK or FAILED), e.g. to print it at once. */
typedef void (*SwitchoverStepFn)(const SwitchoverReport *r, SwitchoverStepId id, void *arg);

struct SwitchoverOpts {
    const char *primary;      /* conninfo of the current primary */
    const char *primary_data; /* its data directory (needed to fence it) */
    const char *target;       /* conninfo of the standby to promote */
    const char *target_data;  /* its data directory, or NULL (checked when given) */
    const char *bin;          /* PostgreSQL binaries */
    ProxyCtlOptions proxy;    /* how to reach the proxy's admin API (proxy/ctl.h) */
    bool demote;              /* make the old primary a standby instead of stopping it */
    uint64_t max_lag;         /* bytes of replay lag allowed before the pause */
    int pause_timeout;        /* seconds: the pause deadline, and the catch-up limit */
    double poll_interval;     /* seconds between polls while clients are held */
    const char *drydock_path; /* absolute; for the demoted server's restore_command */
    const char *config_path;  /* absolute; likewise */
    const Config
        *topology;     /* records the new roles in its state dir (config/topology.h); NULL: not */
    const char *event; /* what the record calls it; NULL: "switchover" */
    SwitchoverStepFn on_step;
    void *arg;
};

/*
 * Run the switchover. true when every step succeeded; otherwise the error
 * slot says which step failed, why, and the state things are in (also in
 * r->outcome). r is filled either way; free it with switchover_report_free().
 */
DD_MUST_CHECK bool switchover_run(const SwitchoverOpts *o, SwitchoverReport *r);

/*
 * After a switchover that died once o->target was promoted (maint resume):
 * point the proxy at the target and end any hold. The proxy may still be
 * held under the dead holder's lease, fenced by its expiry (paused, refusing
 * sessions), or running on the old primary (an operator resumed it): paused,
 * it is switched (unless it points at the target) and resumed; running on
 * another server, it is paused (o->pause_timeout), switched and resumed.
 */
DD_MUST_CHECK bool switchover_adopt(const SwitchoverOpts *o);

/*
 * Whether two conninfos name the same server: same port (default 5432) and
 * host, where localhost, 127.0.0.1 and ::1 are one host. Passwords and other
 * keys are ignored; redacted conninfos compare like the real ones.
 */
bool switchover_same_server(const char *a, const char *b);

#endif
