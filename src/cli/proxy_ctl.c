/*
 * proxy_ctl.c - "drydock proxy-ctl": the command-line front of the proxy's
 * admin API ([proxy] admin): pause, resume, switch, status.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "proxy/auth.h"
#include "proxy/ctl.h"

static const char proxy_ctl_help[] =
    "usage: drydock proxy-ctl pause [--timeout S] [--on-timeout resume|cancel]\n"
    "       drydock proxy-ctl resume\n"
    "       drydock proxy-ctl switch CONNINFO\n"
    "       drydock proxy-ctl status [--json]\n"
    "       drydock proxy-ctl token-create FILE\n\n"
    "Talks to the admin API of a running \"drydock proxy\" ([proxy] admin).\n"
    "  pause   holds every session at its next transaction boundary; returns when all\n"
    "          are held. At the deadline (default [proxy] pause-timeout) it resumes\n"
    "          (exit 8) or, with --on-timeout cancel, cancels the open transactions.\n"
    "  resume  releases the held sessions (exit 9 when not paused).\n"
    "  switch  connects every held session to the server CONNINFO (only while paused,\n"
    "          else exit 9); exit 6 when some sessions could not be moved.\n"
    "  status  sessions, counters, server; --json prints the API's answer as is.\n"
    "  token-create  writes a new admin token to FILE (32 random bytes as hex, mode\n"
    "          0600; an existing FILE is refused, exit 7), for [proxy] admin-token-file.\n"
    "Requests carry the bearer token of [proxy] admin-token-file (mandatory), and go\n"
    "to [proxy] admin-socket when it is set, else to [proxy] admin.\n"
    "Exit codes: 0 done, 1 proxy unreachable, 2 usage or a request the API refused\n"
    "(400), 3 token missing or wrong, or a server the configuration does not name\n"
    "(401, 403), 6 switch failures, 8 pause deadline passed, 9 conflict (409),\n"
    "11 bad answer.\n";

typedef struct {
    double timeout;
    const char *on_timeout;
    bool json;
} CtlOptions;

static int parse_options(int argc, char **argv, CtlOptions *o)
{
    static const struct option longopts[] = {{"timeout", required_argument, NULL, 't'},
                                             {"on-timeout", required_argument, NULL, 'o'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
    CliOpts cli = {
        .command = "proxy-ctl", .shortopts = "h", .longopts = longopts, .help = proxy_ctl_help};
    int c;
    while ((c = cli_opt_next(&cli, argc, argv)) != 0) {
        char *end = NULL;
        switch (c) {
        case 't':
            o->timeout = strtod(optarg, &end);
            if (!end || *end || o->timeout <= 0 || o->timeout > 86400)
                return cli_usage("proxy-ctl",
                                 "invalid --timeout \"%s\": expected seconds (0-86400]", optarg);
            break;
        case 'o':
            if (strcmp(optarg, "resume") != 0 && strcmp(optarg, "cancel") != 0)
                return cli_usage("proxy-ctl",
                                 "invalid --on-timeout \"%s\": expected resume or cancel", optarg);
            o->on_timeout = optarg;
            break;
        case 'j':
            o->json = true;
            break;
        }
    }
    return cli.rc;
}

static void print_status(json_t *o)
{
    json_t *c = json_object_get(o, "counters");
    printf("server: %s\npaused: %s\nclients: %lld\n",
           json_string_value(json_object_get(o, "server")),
           json_is_true(json_object_get(o, "paused")) ? "yes" : "no",
           (long long)json_integer_value(json_object_get(o, "clients")));
    const char *key;
    json_t *v;
    printf("counters:");
    json_object_foreach(c, key, v) printf(" %s=%lld", key, (long long)json_integer_value(v));
    printf("\n%-8s %-16s %-16s %-11s %-15s %s\n", "id", "user", "database", "state", "tx",
           "client");
    size_t i;
    json_array_foreach(json_object_get(o, "sessions"), i, v)
    {
        printf("%-8lld %-16s %-16s %-11s %-15s %s\n",
               (long long)json_integer_value(json_object_get(v, "id")),
               json_string_value(json_object_get(v, "user")),
               json_string_value(json_object_get(v, "database")),
               json_string_value(json_object_get(v, "state")),
               json_string_value(json_object_get(v, "tx")),
               json_string_value(json_object_get(v, "client")));
    }
}

/* The typed call for one action; prints what it did. */
static int run_action(ProxyCtl *c, const char *what, const char *conninfo, const CtlOptions *o,
                      const Config *cfg)
{
    bool ok;
    int rc = DD_EXIT_OK;
    if (strcmp(what, "pause") == 0) {
        ProxyPauseReply r;
        ok = proxy_ctl_pause(c, o->timeout, o->on_timeout && strcmp(o->on_timeout, "cancel") == 0,
                             &r);
        if (ok && !o->json) {
            printf("paused: %d sessions held after %.1f ms", r.held, r.wait_ms);
            if (r.cancelled)
                printf(", %d transactions cancelled", r.cancelled);
            printf("\n");
        }
    } else if (strcmp(what, "resume") == 0) {
        double ms;
        ok = proxy_ctl_resume(c, &ms);
        if (ok && !o->json)
            printf("resumed after a pause of %.1f ms\n", ms);
    } else if (strcmp(what, "switch") == 0) {
        ProxySwitchReply r;
        ok = proxy_ctl_switch(c, conninfo, cfg->proxy_login_timeout + 30.0, &r);
        if (ok && !o->json)
            printf("switched %d sessions in %.1f ms, %d failed\n", r.switched, r.switch_ms,
                   r.failed);
        if (ok && r.failed > 0)
            rc = DD_EXIT_PG;
    } else {
        ProxyStatus st;
        ok = proxy_ctl_status(c, &st);
        proxy_status_free(&st);
        json_t *j = ok && !o->json ? json_loads(proxy_ctl_last_body(c), 0, NULL) : NULL;
        if (j)
            print_status(j);
        json_decref(j);
    }
    if (o->json && proxy_ctl_last_body(c))
        fputs(proxy_ctl_last_body(c), stdout);
    return ok ? rc : cli_fail();
}

int cli_cmd_proxy_ctl(CliContext *ctx, int argc, char **argv)
{
    CtlOptions o = {0};
    int rc = parse_options(argc, argv, &o);
    if (rc != DD_EXIT_OK)
        return cli_exit(rc);
    int nargs = argc - optind;
    const char *what = nargs > 0 ? argv[optind] : NULL;
    if (!what)
        return cli_usage("proxy-ctl", "expected pause, resume, switch or status");
    if (strcmp(what, "token-create") == 0) {
        if (nargs != 2)
            return cli_usage("proxy-ctl", "token-create needs one FILE argument");
        return auth_token_create(argv[optind + 1]) ? DD_EXIT_OK : cli_fail();
    }
    bool is_switch = strcmp(what, "switch") == 0;
    if (!is_switch && strcmp(what, "pause") != 0 && strcmp(what, "resume") != 0 &&
        strcmp(what, "status") != 0)
        return cli_usage(
            "proxy-ctl",
            "unknown action \"%s\": expected pause, resume, switch, status or token-create", what);
    if (nargs != (is_switch ? 2 : 1))
        return cli_usage("proxy-ctl",
                         is_switch ? "switch needs one CONNINFO argument" : "too many arguments");
    const Config *cfg = cli_config(ctx);
    if (!cfg)
        return DD_EXIT_CONFIG;
    ProxyCtlOptions co = proxy_ctl_options(cfg);
    ProxyCtl *c = proxy_ctl_open(&co);
    if (!c)
        return cli_fail();
    rc = run_action(c, what, is_switch ? argv[optind + 1] : NULL, &o, cfg);
    proxy_ctl_close(c);
    return rc;
}
