/*
 * switchover.c - "drydock switchover": move the traffic from the primary to
 * its standby through the proxy (maint/switchover.h does the work).
 */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "common/log.h"
#include "maint/patroni.h"
#include "maint/switchover.h"
#include "pg/conn.h"

#define SW_DEFAULT_MAX_LAG (16u * 1024 * 1024)

static const char switchover_help[] =
    "usage: drydock switchover [--to CONNINFO [--to-data DIR]] [--from CONNINFO [--from-data "
    "DIR]]\n"
    "                          [--demote] [--max-lag BYTES] [--pause-timeout S] [--json]\n\n"
    "Moves the traffic of \"drydock proxy\" from the primary to a streaming standby:\n"
    "checks, pause the proxy, wait until the standby has replayed everything the\n"
    "primary flushed, promote it, switch the proxy to it, resume, then stop the old\n"
    "primary (or, with --demote, rewind it and restart it as a standby of the new one).\n"
    "A failure before the promotion resumes the proxy on the old primary.\n\n"
    "  --to CONNINFO      the standby to promote (default: [cluster] standby)\n"
    "  --to-data DIR      its data directory (default with the configured standby:\n"
    "                     [cluster] standby-data); checked against the server\n"
    "  --from CONNINFO    the current primary (default: [cluster] primary)\n"
    "  --from-data DIR    its data directory (default: [cluster] primary-data)\n"
    "  --demote           make the old primary a standby of the new one, not just stop it\n"
    "  --max-lag BYTES    refuse to start when the standby is further behind (default\n"
    "                     16MB; kB, MB and GB suffixes allowed)\n"
    "  --pause-timeout S  how long the pause may wait for open transactions, and the\n"
    "                     standby to catch up (default: [proxy] pause-timeout)\n"
    "  --json             print the report as one JSON object\n"
    "  --ignore-patroni   promote even though Patroni manages the cluster (only with\n"
    "                     Patroni paused or stopped for it: it owns promotion)\n";

/* "1048576", "512kB", "16MB", "1GB". */
static bool parse_bytes(const char *s, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (!end || end == s || s[0] == '-')
        return false;
    uint64_t mult = 1;
    if (strcasecmp(end, "kB") == 0)
        mult = 1024;
    else if (strcasecmp(end, "MB") == 0)
        mult = 1024 * 1024;
    else if (strcasecmp(end, "GB") == 0)
        mult = 1024 * 1024 * 1024;
    else if (*end)
        return false;
    *out = (uint64_t)v * mult;
    return true;
}

static void print_step(const SwitchoverReport *r, SwitchoverStepId id, void *arg)
{
    (void)arg;
    Buf line = {0};
    switchover_step_line(r, id, &line);
    fwrite(line.data, 1, line.len, stdout);
    fflush(stdout);
    buf_free(&line);
}

typedef struct {
    SwitchoverOpts o;
    bool json;
    bool to_given;
    bool ignore_patroni;
} SwitchoverArgs;

static int parse_args(int argc, char **argv, SwitchoverArgs *a)
{
    static const struct option longopts[] = {{"to", required_argument, NULL, 't'},
                                             {"to-data", required_argument, NULL, 'T'},
                                             {"from", required_argument, NULL, 'f'},
                                             {"from-data", required_argument, NULL, 'F'},
                                             {"demote", no_argument, NULL, 'd'},
                                             {"max-lag", required_argument, NULL, 'l'},
                                             {"pause-timeout", required_argument, NULL, 'p'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"ignore-patroni", no_argument, NULL, 'P'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
    CliOpts cli = {
        .command = argv[0], .shortopts = "h", .longopts = longopts, .help = switchover_help};
    int c;
    while ((c = cli_opt_next(&cli, argc, argv)) != 0) {
        switch (c) {
        case 't':
            a->o.target = optarg;
            a->to_given = true;
            break;
        case 'T':
            a->o.target_data = optarg;
            break;
        case 'f':
            a->o.primary = optarg;
            break;
        case 'F':
            a->o.primary_data = optarg;
            break;
        case 'd':
            a->o.demote = true;
            break;
        case 'j':
            a->json = true;
            break;
        case 'P':
            a->ignore_patroni = true;
            break;
        case 'l':
            if (!parse_bytes(optarg, &a->o.max_lag))
                return cli_usage(argv[0], "--max-lag expects bytes (e.g. 16MB), got \"%s\"",
                                 optarg);
            break;
        case 'p':
            if (!cli_parse_int(optarg, 1, 3600, &a->o.pause_timeout))
                return cli_usage(
                    argv[0], "--pause-timeout expects seconds from 1 to 3600, got \"%s\"", optarg);
            break;
        }
    }
    if (cli.rc != DD_EXIT_OK)
        return cli.rc;
    if (optind < argc)
        return cli_usage(argv[0], "unexpected argument \"%s\"", argv[optind]);
    if (a->o.target_data && !a->o.target)
        return cli_usage(argv[0], "--to-data needs --to");
    return DD_EXIT_OK;
}

/* Fill what the command line left out from the configuration. */
static bool fill_from_config(const Config *cfg, SwitchoverArgs *a, char **paths)
{
    SwitchoverOpts *o = &a->o;
    if (!o->primary) {
        if (!config_require(cfg, "cluster", "primary", cfg->primary))
            return false;
        o->primary = cfg->primary;
    }
    if (!o->primary_data)
        o->primary_data = cfg->primary_data;
    if (!o->target) {
        if (!config_require(cfg, "cluster", "standby", cfg->standby))
            return false;
        o->target = cfg->standby;
        o->target_data = cfg->standby_data;
    }
    o->bin = cfg->bin;
    o->proxy = proxy_ctl_options(cfg);
    if (!o->pause_timeout)
        o->pause_timeout = cfg->proxy_pause_timeout;
    o->poll_interval = 0.002;
    paths[0] = realpath("/proc/self/exe", NULL);
    paths[1] = cfg->file ? realpath(cfg->file, NULL) : NULL;
    o->drydock_path = paths[0] ? paths[0] : "drydock";
    o->config_path = paths[1] ? paths[1] : cfg->file;
    o->topology = cfg;
    return true;
}

int cli_cmd_switchover(CliContext *ctx, int argc, char **argv)
{
    SwitchoverArgs a = {.o = {.max_lag = SW_DEFAULT_MAX_LAG}};
    int rc = parse_args(argc, argv, &a);
    if (rc != DD_EXIT_OK)
        return cli_exit(rc);
    const Config *cfg = cli_config(ctx);
    if (!cfg)
        return DD_EXIT_CONFIG;
    char *paths[2] = {NULL, NULL};
    if (!fill_from_config(cfg, &a, paths))
        return cli_fail();
    if (!a.ignore_patroni) {
        bool managed = false;
        char why[512];
        if (!patroni_detect(a.o.primary_data, a.o.primary, &managed, why, sizeof(why)))
            return cli_fail();
        if (managed) {
            free(paths[0]);
            free(paths[1]);
            err_set(DD_EXIT_USAGE, "the cluster is managed by Patroni (%s): Patroni owns promotion",
                    why);
            err_hint(
                "run \"patronictl switchover\" with the proxy paused (drydock proxy-ctl pause, "
                "switch, resume), or pass --ignore-patroni when Patroni is paused for it");
            return cli_fail();
        }
    }
    if (!a.json) {
        a.o.on_step = print_step;
        char *from = pg_conninfo_redact(a.o.primary);
        char *to = pg_conninfo_redact(a.o.target);
        printf("switchover from %s to %s\n", from, to);
        fflush(stdout);
        free(from);
        free(to);
    }
    SwitchoverReport r;
    bool ok = switchover_run(&a.o, &r);
    Buf out = {0};
    if (a.json)
        switchover_report_json(&r, ok ? NULL : err_message(), ok ? NULL : err_hint_text(), &out);
    else
        switchover_report_summary(&r, &out);
    if (out.len)
        fwrite(out.data, 1, out.len, stdout);
    fflush(stdout);
    buf_free(&out);
    rc = ok ? DD_EXIT_OK : cli_fail();
    switchover_report_free(&r);
    free(paths[0]);
    free(paths[1]);
    return rc;
}
