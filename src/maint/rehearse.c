/*
 * rehearse.c - see rehearse.h.
 */
#include "maint/rehearse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/rand.h"
#include "common/timeutil.h"
#include "maint/estimate.h"
#include "maint/pgtool.h"
#include "maint/sizes.h"
#include "maint/steps.h"
#include "repo/repo.h"

/* The steps a rehearsal runs, in order (rule 5); switchover is the clone's promotion. */
static const PlanStepId rehearsed[] = {PSTEP_PREFLIGHT, PSTEP_RESTORE, PSTEP_OFFLINE,   PSTEP_START,
                                       PSTEP_STANDBY,   PSTEP_VERIFY,  PSTEP_SWITCHOVER};
#define N_REHEARSED (sizeof(rehearsed) / sizeof(rehearsed[0]))

/* How many ports below the ephemeral range the clones' ports are picked from. */
#define REHEARSE_PORT_SPAN 2000

static volatile sig_atomic_t rehearse_interrupted;

static void rehearse_on_signal(int sig)
{
    (void)sig;
    rehearse_interrupted = 1;
}

/* Rule 4: a signal becomes a flag the steps poll; the old handlers come back at the end. */
static void rehearse_signals(bool install, struct sigaction old[3])
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa = {.sa_handler = rehearse_on_signal};
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 3; i++) {
        if (install)
            sigaction(sigs[i], &sa, &old[i]);
        else
            sigaction(sigs[i], &old[i], NULL);
    }
}

/* The low end of the kernel's ephemeral range, where outgoing connections take their ports. */
static int rehearse_ephemeral_low(void)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    int low = 0;
    if (!f || fscanf(f, "%d", &low) != 1 || low < 1024 + REHEARSE_PORT_SPAN)
        low = 32768;
    if (f)
        fclose(f);
    return low;
}

/*
 * A loopback port nobody listens on now, picked at random from the span just
 * below the ephemeral range. The clone binds it minutes later, after the
 * restore: a port the kernel hands out (bind to port 0) could meanwhile be
 * taken as the local end of any outgoing connection on the host.
 */
static bool rehearse_free_port(int *port)
{
    int low = rehearse_ephemeral_low() - REHEARSE_PORT_SPAN;
    for (int i = 0; i < 200; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return err_errno("could not open a socket to find a free loopback port");
        int p = low + (int)(rand_u32() % REHEARSE_PORT_SPAN);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)p),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        bool ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
        close(fd);
        if (ok) {
            *port = p;
            return true;
        }
    }
    err_set(DD_EXIT_FAIL, "no free loopback port for the rehearsal's clones in %d-%d", low,
            low + REHEARSE_PORT_SPAN - 1);
    err_hint("200 random picks were all in use; stop what listens there, then run it again");
    return false;
}

/* The scratch directory (rule 3), owned by the clusters' owner when we are root. */
static bool rehearse_scratch(const Config *cfg, const MaintFile *mf, const RehearseOpts *o,
                             RehearseResult *r)
{
    char parent[PATH_MAX];
    if (o->scratch) {
        snprintf(parent, sizeof(parent), "%s", o->scratch);
    } else {
        char green[PATH_MAX];
        snprintf(green, sizeof(green), "%s", mf->green_data);
        snprintf(parent, sizeof(parent), "%s", dirname(green));
    }
    snprintf(r->scratch, sizeof(r->scratch), "%s/drydock-rehearse.XXXXXX", parent);
    if (!mkdtemp(r->scratch)) {
        bool e = err_errno("could not create a scratch directory in \"%s\"", parent);
        err_hint("give the rehearsal a writable directory with --scratch DIR");
        r->scratch[0] = '\0';
        return e;
    }
    uid_t uid;
    gid_t gid;
    if (geteuid() == 0 && cfg->primary_data && pgtool_owner(cfg->primary_data, &uid, &gid) &&
        chown(r->scratch, uid, gid) != 0)
        return err_errno("could not give \"%s\" to the clusters' owner", r->scratch);
    return true;
}

/* The rehearsal's own estimates: the clone is the newest backup, not a fresh one. */
static bool rehearse_estimates(Repo *repo, const MaintFile *mf, const SizesBackup *b, Plan *p)
{
    bool was[PSTEP__COUNT];
    for (int i = 0; i < PSTEP__COUNT; i++) {
        was[i] = p->steps[i].enabled;
        p->steps[i].enabled = false;
    }
    for (size_t i = 0; i < N_REHEARSED; i++)
        p->steps[rehearsed[i]].enabled = true;
    p->steps[PSTEP_OFFLINE].enabled = was[PSTEP_OFFLINE];
    p->steps[PSTEP_STANDBY].enabled = mf->green_standby_data != NULL;
    p->sizes.data_bytes = b->bytes_logical;
    if (!estimate_plan(repo, p))
        return false;
    /* The switch of a rehearsal is the clone's promotion. */
    if (!estimate_step(repo, RATE_PROMOTE, 1, "promotion", &p->steps[PSTEP_SWITCHOVER].est))
        return false;
    estimate_totals(p);
    return true;
}

/* The test point of rehearse.h. */
static void rehearse_test_wait(const RehearseResult *r)
{
    const char *file = getenv("DRYDOCK_TEST_REHEARSE_WAIT");
    if (!file)
        return;
    char *ready = xasprintf("%s.ready", file);
    char *line = xasprintf("{\"scratch\":\"%s\",\"port\":%d,\"standby_port\":%d}\n", r->scratch,
                           r->port, r->standby_port);
    if (fs_write_file(ready, line, strlen(line), 0644)) {
        for (int i = 0; i < 6000 && access(file, F_OK) == 0 && !rehearse_interrupted; i++)
            time_sleep(0.1);
    }
    err_clear();
    free(line);
    free(ready);
}

static bool rehearse_steps(MaintCtx *ctx, const RehearseOpts *o, Plan *p)
{
    for (size_t i = 0; i < N_REHEARSED; i++) {
        PlanStep *s = &p->steps[rehearsed[i]];
        if (!s->enabled)
            continue;
        if (rehearse_interrupted) {
            err_set(DD_EXIT_FAIL, "the rehearsal was interrupted before %s", plan_step_name(s->id));
            err_hint("its clones are removed; run it again to the end");
            return false;
        }
        const MaintStep *row = maint_step(s->id);
        log_debug("rehearsing %s", plan_step_name(s->id));
        double t0 = time_mono();
        s->ok = s->id == PSTEP_SWITCHOVER ? step_promote_clone(ctx) : row && row->run(ctx);
        s->actual_s = time_mono() - t0;
        s->ran = true;
        if (o->on_step)
            o->on_step(p, s->id, o->arg);
        if (!s->ok)
            return err_context("rehearsing %s", plan_step_name(s->id));
    }
    return true;
}

static bool rehearse_prepare(const Config *cfg, Repo *repo, MaintFile *mf, const RehearseOpts *o,
                             Plan *plan, RehearseResult *r, SizesBackup *b)
{
    if (!sizes_newest_backup(repo, b))
        return false;
    if (!b->id[0]) {
        err_set(DD_EXIT_REPO, "repository \"%s\" has no backup to rehearse from", repo_path(repo));
        err_hint("take one with \"drydock backup\"");
        return false;
    }
    snprintf(r->backup_id, sizeof(r->backup_id), "%s", b->id);
    return rehearse_estimates(repo, mf, b, plan) && rehearse_free_port(&r->port) &&
           (!mf->green_standby_data || rehearse_free_port(&r->standby_port)) &&
           rehearse_scratch(cfg, mf, o, r);
}

/* Rule 4: remove everything; the step's error, when there was one, stays the error. */
static bool rehearse_cleanup(MaintCtx *ctx, RehearseResult *r, bool ok)
{
    DdExit code = err_code();
    char *msg = ok ? NULL : xstrdup(err_message());
    char *hint = ok ? NULL : xstrdup(err_hint_text());
    bool cleaned = maint_steps_cleanup(ctx);
    if (!cleaned && !ok)
        log_warn("%s", err_message());
    if (rmdir(r->scratch) != 0 && errno != ENOENT) {
        if (cleaned)
            err_errno("could not remove \"%s\"", r->scratch);
        cleaned = false;
    }
    r->cleaned = cleaned;
    if (msg) {
        err_set(code, "%s", msg);
        if (hint[0])
            err_hint("%s", hint);
    }
    free(msg);
    free(hint);
    return ok && cleaned;
}

bool rehearse_run(const Config *cfg, MaintFile *mf, const RehearseOpts *o, Plan *plan,
                  RehearseResult *r)
{
    memset(r, 0, sizeof(*r));
    if (!plan_build(cfg, mf, plan))
        return false;
    /* A change no physical copy can take would only fail on the clone, later. */
    for (size_t i = 0; i < mf->nchanges; i++) {
        const MaintChange *c = &mf->changes[i];
        if (c->kind == MKIND_IMPOSSIBLE) {
            err_set(DD_EXIT_PLAN,
                    "the change of %s (line %d) cannot be done on a physical copy: %s", c->name,
                    c->line, c->reason ? c->reason : "refused");
            err_hint("\"drydock maint plan\" says what would work instead");
            return false;
        }
    }
    Repo *repo = NULL;
    SizesBackup b;
    struct sigaction old[3];
    rehearse_interrupted = 0;
    rehearse_signals(true, old);
    bool ok = repo_open(cfg, &repo) && rehearse_prepare(cfg, repo, mf, o, plan, r, &b);
    char *green = r->scratch[0] ? xasprintf("%s/green", r->scratch) : NULL;
    char *standby =
        r->scratch[0] && mf->green_standby_data ? xasprintf("%s/green-standby", r->scratch) : NULL;
    MaintCtx ctx = {.cfg = cfg,
                    .repo = repo,
                    .mf = mf,
                    .plan = plan,
                    .rehearsal = true,
                    .green_data = green,
                    .green_port = r->port,
                    .green_standby_data = standby,
                    .green_standby_port = r->standby_port,
                    .primary = cfg->primary,
                    .primary_data = cfg->primary_data,
                    .standby = cfg->standby,
                    .standby_data = cfg->standby_data,
                    .progress = o->progress,
                    .scratch = r->scratch,
                    .interrupted = &rehearse_interrupted};
    if (ok && o->on_built)
        o->on_built(plan, PSTEP_PREFLIGHT, o->arg);
    if (ok)
        ok = rehearse_steps(&ctx, o, plan);
    if (r->scratch[0]) {
        rehearse_test_wait(r);
        if (ok && rehearse_interrupted) {
            err_set(DD_EXIT_FAIL, "the rehearsal was interrupted");
            err_hint("its clones are removed; run it again to the end");
            ok = false;
        }
        if (!o->keep)
            ok = rehearse_cleanup(&ctx, r, ok);
    }
    rehearse_signals(false, old);
    free(green);
    free(standby);
    repo_close(repo);
    return ok;
}
