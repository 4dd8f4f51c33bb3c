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
#include "common/log.h"
#include "proxy/ctl.h"

static const char proxy_ctl_help[] =
    "usage: drydock proxy-ctl pause [--timeout S] [--on-timeout resume|cancel]\n"
    "       drydock proxy-ctl resume\n"
    "       drydock proxy-ctl switch CONNINFO\n"
    "       drydock proxy-ctl status [--json]\n\n"
    "Talks to the admin API of a running \"drydock proxy\" ([proxy] admin).\n"
    "  pause   holds every session at its next transaction boundary; returns when all\n"
    "          are held. At the deadline (default [proxy] pause-timeout) it resumes\n"
    "          (exit 8) or, with --on-timeout cancel, cancels the open transactions.\n"
    "  resume  releases the held sessions (exit 9 when not paused).\n"
    "  switch  connects every held session to the server CONNINFO (only while paused,\n"
    "          else exit 9); exit 6 when some sessions could not be moved.\n"
    "  status  sessions, counters, server; --json prints the API's answer as is.\n"
    "Exit codes: 0 done, 1 proxy unreachable, 2 usage or a request the API refused\n"
    "(400), 6 switch failures, 8 pause deadline passed, 9 conflict (409), 11 bad answer.\n";

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
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'h':
            fputs(proxy_ctl_help, stdout);
            return -1;
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
        default:
            return cli_bad_option("proxy-ctl", longopts, argv);
        }
    }
    return DD_EXIT_OK;
}

static int exit_for_status(long status)
{
    switch (status) {
    case 200:
        return DD_EXIT_OK;
    case 408:
        return DD_EXIT_TIMEOUT;
    case 409:
        return DD_EXIT_CONFLICT;
    default:
        return status >= 400 && status < 500 ? DD_EXIT_USAGE : DD_EXIT_PROTOCOL;
    }
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

static int report(const char *what, const ProxyCtlReply *r, const CtlOptions *o)
{
    json_t *j = json_loads(r->body, 0, NULL);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        log_error("the proxy's admin API gave an unexpected answer to %s (HTTP %ld)", what,
                  r->status);
        return DD_EXIT_PROTOCOL;
    }
    int rc = exit_for_status(r->status);
    if (o->json) {
        fputs(r->body, stdout);
    } else if (r->status != 200) {
        const char *err = json_string_value(json_object_get(j, "error"));
        char *open = json_dumps(json_object_get(j, "open"), JSON_COMPACT | JSON_ENCODE_ANY);
        log_error("%s refused by the proxy (HTTP %ld): %s%s%s", what, r->status,
                  err ? err : "no reason given", open ? "; sessions still open: " : "",
                  open ? open : "");
        free(open);
    } else if (strcmp(what, "pause") == 0) {
        printf("paused: %lld sessions held after %.1f ms",
               (long long)json_integer_value(json_object_get(j, "held")),
               json_number_value(json_object_get(j, "wait_ms")));
        if (json_object_get(j, "cancelled"))
            printf(", %lld transactions cancelled",
                   (long long)json_integer_value(json_object_get(j, "cancelled")));
        printf("\n");
    } else if (strcmp(what, "resume") == 0) {
        printf("resumed after a pause of %.1f ms\n",
               json_number_value(json_object_get(j, "paused_ms")));
    } else if (strcmp(what, "switch") == 0) {
        long long failed = json_integer_value(json_object_get(j, "failed"));
        printf("switched %lld sessions in %.1f ms, %lld failed\n",
               (long long)json_integer_value(json_object_get(j, "switched")),
               json_number_value(json_object_get(j, "switch_ms")), failed);
        if (failed > 0)
            rc = DD_EXIT_PG;
    } else {
        print_status(j);
    }
    json_decref(j);
    return rc;
}

int cli_cmd_proxy_ctl(CliContext *ctx, int argc, char **argv)
{
    CtlOptions o = {0};
    int rc = parse_options(argc, argv, &o);
    if (rc != DD_EXIT_OK)
        return rc < 0 ? DD_EXIT_OK : rc;
    int nargs = argc - optind;
    const char *what = nargs > 0 ? argv[optind] : NULL;
    if (!what)
        return cli_usage("proxy-ctl", "expected pause, resume, switch or status");
    bool is_switch = strcmp(what, "switch") == 0;
    if (!is_switch && strcmp(what, "pause") != 0 && strcmp(what, "resume") != 0 &&
        strcmp(what, "status") != 0)
        return cli_usage("proxy-ctl",
                         "unknown action \"%s\": expected pause, resume, switch or status", what);
    if (nargs != (is_switch ? 2 : 1))
        return cli_usage("proxy-ctl",
                         is_switch ? "switch needs one CONNINFO argument" : "too many arguments");
    const Config *cfg = cli_config(ctx);
    if (!cfg)
        return DD_EXIT_CONFIG;
    char path[16];
    snprintf(path, sizeof(path), "/%s", what);
    json_t *body = NULL;
    double wait = 30;
    if (strcmp(what, "pause") == 0) {
        body = json_object();
        if (o.timeout > 0)
            json_object_set_new(body, "timeout", json_real(o.timeout));
        if (o.on_timeout)
            json_object_set_new(body, "on_timeout", json_string(o.on_timeout));
        wait = (o.timeout > 0 ? o.timeout : cfg->proxy_pause_timeout) + 30;
    } else if (is_switch) {
        body = json_pack("{s:s}", "server", argv[optind + 1]);
        wait = cfg->proxy_login_timeout + 30;
    }
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    ProxyCtlReply r;
    bool ok = proxy_ctl_call(cfg->proxy_admin, strcmp(what, "status") == 0 ? "GET" : "POST", path,
                             text, wait, &r);
    free(text);
    if (!ok)
        return cli_fail();
    rc = report(what, &r, &o);
    proxy_ctl_reply_free(&r);
    return rc;
}
