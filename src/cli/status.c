/*
 * status.c - "drydock status": serve the status page, export it, and post
 * maintenances and incidents from scripts (the same store calls as the
 * write API and the maintenance runner).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "maint/runreport.h"
#include "status/lifecycle.h"
#include "status/postmortem.h"
#include "status/server.h"
#include "status/setup.h"
#include "status/site.h"
#include "status/store.h"
#include "status/tz.h"
#include "status/webhook.h"

static const char status_help[] =
    "usage: drydock status serve\n"
    "       drydock status export DIR\n"
    "       drydock status list\n"
    "       drydock status maintenance create --title T --start TIME --end TIME [--body TEXT]\n"
    "                        [--component NAME]... [--predicted S [--low S --high S]]\n"
    "       drydock status maintenance update ID --body TEXT [--status S] [--eta TIME]\n"
    "       drydock status maintenance complete ID [--body TEXT]\n"
    "       drydock status incident create --title T [--body TEXT] [--impact I]\n"
    "                        [--component-status S] [--component NAME]...\n"
    "       drydock status incident update ID --body TEXT [--status S]\n"
    "       drydock status incident resolve ID [--body TEXT]\n"
    "       drydock status postmortem ID [--report FILE] [--output FILE]\n"
    "       drydock status publish ID FILE\n"
    "       drydock status webhooks [--deliver]\n\n"
    "The status page of [status]. serve runs it (foreground, until SIGTERM) on [status]\n"
    "listen; export writes a static copy. create prints the new id. A maintenance goes\n"
    "scheduled -> in_progress -> verifying -> completed (update --status S moves it; an\n"
    "update without --status is an Update); an incident goes investigating, identified,\n"
    "monitoring -> resolved. TIME: 2026-11-30T22:00:00Z, now, or +30m / +2h / +1d.\n"
    "postmortem prints a Markdown draft: the page's timeline and, from the maintenance\n"
    "journal of the run that posted it (or --report, the --json output of \"drydock\n"
    "maint run\"), what drydock did, each step predicted vs actual, the client hold,\n"
    "what failed and where the time went; publish attaches the edited file.\n"
    "webhooks lists the deliveries and their errors; --deliver sends what is due now.\n"
    "Exit codes: 0 done, 1 unknown id, 2 usage or bad input, 3 configuration,\n"
    "7 store I/O, 9 not allowed by the lifecycle (e.g. an update after completed).\n";

typedef struct {
    const char *title, *body, *status, *impact, *component_status, *report, *output;
    const char *start, *end, *eta;
    double predicted, low, high;
    bool deliver;
    StrList components;
} StatusOpts;

static int parse_opts(int argc, char **argv, int first, StatusOpts *o)
{
    static const struct option longopts[] = {{"title", required_argument, NULL, 't'},
                                             {"body", required_argument, NULL, 'b'},
                                             {"status", required_argument, NULL, 's'},
                                             {"impact", required_argument, NULL, 'i'},
                                             {"component-status", required_argument, NULL, 'C'},
                                             {"component", required_argument, NULL, 'c'},
                                             {"start", required_argument, NULL, 'S'},
                                             {"end", required_argument, NULL, 'E'},
                                             {"eta", required_argument, NULL, 'e'},
                                             {"predicted", required_argument, NULL, 'p'},
                                             {"low", required_argument, NULL, 'l'},
                                             {"high", required_argument, NULL, 'H'},
                                             {"report", required_argument, NULL, 'r'},
                                             {"output", required_argument, NULL, 'o'},
                                             {"deliver", no_argument, NULL, 'd'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
    CliOpts cli = {.command = "status",
                   .shortopts = "h",
                   .longopts = longopts,
                   .help = status_help,
                   .first = first};
    int c;
    while ((c = cli_opt_next(&cli, argc, argv)) != 0) {
        char *end = NULL;
        double *num = c == 'p' ? &o->predicted : c == 'l' ? &o->low : &o->high;
        switch (c) {
        case 't':
            o->title = optarg;
            break;
        case 'b':
            o->body = optarg;
            break;
        case 's':
            o->status = optarg;
            break;
        case 'i':
            o->impact = optarg;
            break;
        case 'C':
            o->component_status = optarg;
            break;
        case 'c':
            strlist_push(&o->components, optarg);
            break;
        case 'S':
            o->start = optarg;
            break;
        case 'E':
            o->end = optarg;
            break;
        case 'e':
            o->eta = optarg;
            break;
        case 'r':
            o->report = optarg;
            break;
        case 'o':
            o->output = optarg;
            break;
        case 'd':
            o->deliver = true;
            break;
        case 'p':
        case 'l':
        case 'H':
            *num = strtod(optarg, &end);
            if (!end || *end || *num < 0 || *num > 1e7)
                return cli_usage("status", "invalid \"%s\": expected seconds", optarg);
            break;
        }
    }
    return cli.rc;
}

/* A TIME option; DD_EXIT_USAGE naming it when malformed. */
static int parse_time(const char *opt, const char *s, int64_t *out)
{
    *out = 0;
    if (!s)
        return DD_EXIT_OK;
    if (tz_parse(s, status_now(), out))
        return DD_EXIT_OK;
    return cli_usage("status", "invalid %s \"%s\": expected 2026-11-30T22:00:00Z, now or +30m", opt,
                     s);
}

static int write_result(StatusWrite rc)
{
    return rc == STATUS_WRITE_OK ? DD_EXIT_OK : cli_fail();
}

static int parse_id(const char *s, int64_t *id)
{
    char *end = NULL;
    long long v = s ? strtoll(s, &end, 10) : 0;
    if (!s || !end || *end || v <= 0)
        return cli_usage("status", "expected an id (a positive number), got \"%s\"",
                         s ? s : "nothing");
    *id = v;
    return DD_EXIT_OK;
}

static int cmd_create(StatusStore *st, StatusKind kind, StatusOpts *o)
{
    StatusNew n = {.kind = kind,
                   .title = o->title,
                   .body = o->body,
                   .impact = o->impact,
                   .component_status = o->component_status,
                   .predicted_s = o->predicted,
                   .low_s = o->low,
                   .high_s = o->high,
                   .components = (const char *const *)o->components.items,
                   .ncomponents = o->components.len};
    int rc = parse_time("--start", o->start, &n.scheduled_for);
    if (rc == DD_EXIT_OK)
        rc = parse_time("--end", o->end, &n.scheduled_until);
    if (rc != DD_EXIT_OK)
        return rc;
    int64_t id = 0;
    rc = write_result(status_store_create(st, &n, &id));
    if (rc == DD_EXIT_OK)
        printf("%lld\n", (long long)id);
    return rc;
}

static int cmd_post(StatusStore *st, int64_t id, StatusOpts *o, bool finish)
{
    StatusPost p = {.status = o->status, .body = o->body};
    int rc = parse_time("--eta", o->eta, &p.eta);
    if (rc != DD_EXIT_OK)
        return rc;
    if (finish) {
        StatusEvent e;
        bool found = false;
        if (!status_store_event(st, id, &e, &found))
            return cli_fail();
        bool incident = found && e.kind == STATUS_INCIDENT;
        status_event_free(&e);
        p.status = incident ? "resolved" : "completed";
        if (!p.body)
            p.body = incident ? "This incident has been resolved."
                              : "The maintenance is complete and everything works normally.";
    }
    return write_result(status_store_post(st, id, &p));
}

static int cmd_list(StatusStore *st)
{
    StatusSnapshot s;
    if (!status_store_snapshot(st, 0, &s))
        return cli_fail();
    for (size_t i = 0; i < s.ncomponents; i++)
        printf("component  %-24s %s\n", s.components[i].name, s.components[i].status);
    for (size_t i = 0; i < s.nevents; i++) {
        const StatusEvent *e = &s.events[i];
        printf("%-10lld %-11s %-12s %s\n", (long long)e->id, lifecycle_kind_name(e->kind),
               e->status, e->title);
    }
    status_snapshot_free(&s);
    return DD_EXIT_OK;
}

static int cmd_postmortem(StatusStore *st, const Config *cfg, int64_t id, StatusOpts *o)
{
    StatusEvent e;
    bool found = false;
    if (!status_store_event(st, id, &e, &found))
        return cli_fail();
    if (!found) {
        err_set(DD_EXIT_FAIL, "no maintenance or incident has id %lld", (long long)id);
        err_hint("\"drydock status list\" shows the ids");
        return cli_fail();
    }
    json_t *report = NULL;
    if (o->report) {
        json_error_t jerr;
        report = json_load_file(o->report, 0, &jerr);
        if (!report) {
            status_event_free(&e);
            err_set(DD_EXIT_USAGE, "could not read run report \"%s\": %s (line %d)", o->report,
                    jerr.text, jerr.line);
            err_hint("give the --json output of \"drydock maint run\"");
            return cli_fail();
        }
    } else if (!runreport_load(cfg, id, &report)) { /* the run that posted it, if any */
        log_warn("%s; the draft has the page's record only", err_message());
        err_clear();
    }
    Buf b = {0};
    bool ok = postmortem_draft(&e, cfg->status_time_zone, report, status_now(), &b);
    json_decref(report);
    status_event_free(&e);
    if (ok && o->output)
        ok = fs_write_file(o->output, b.data, b.len, 0644);
    else if (ok)
        fwrite(b.data, 1, b.len, stdout);
    buf_free(&b);
    return ok ? DD_EXIT_OK : cli_fail();
}

static int cmd_publish(StatusStore *st, int64_t id, const char *file)
{
    Buf b = {0};
    bool found = false;
    if (!fs_read_file(file, &b, &found))
        return cli_fail();
    if (!found) {
        err_set(DD_EXIT_USAGE, "postmortem file \"%s\" does not exist", file);
        err_hint("write it with \"drydock status postmortem %lld --output FILE\"", (long long)id);
        return cli_fail();
    }
    buf_append(&b, "", 1);
    int rc = write_result(status_store_postmortem(st, id, (const char *)b.data, 0));
    buf_free(&b);
    return rc;
}

static int cmd_webhooks(StatusStore *st, const Config *cfg, bool deliver)
{
    if (deliver) {
        char *secret = NULL;
        size_t sent = 0, failed = 0;
        bool ok = status_setup_secret(cfg, &secret) &&
                  webhook_deliver_due(st, secret, status_now(), 1000, &sent, &failed);
        free(secret);
        if (!ok)
            return cli_fail();
        log_info("%zu webhook(s) delivered, %zu failed", sent, failed);
    }
    StatusOutboxItem *items;
    size_t n;
    if (!status_store_outbox_recent(st, 100, &items, &n))
        return cli_fail();
    for (size_t i = 0; i < n; i++) {
        const StatusOutboxItem *it = &items[i];
        printf("%-6lld %-24s %-9s attempts=%d %.*s%s%s\n", (long long)it->id, it->event,
               it->delivered_at ? "delivered"
               : it->failed_at  ? "failed"
                                : "pending",
               it->attempts, (int)strcspn(it->url, "?#"), it->url,
               it->last_error ? "  last error: " : "", it->last_error ? it->last_error : "");
    }
    status_outbox_free(items, n);
    return DD_EXIT_OK;
}

/* The subcommands that post: maintenance|incident create|update|complete|resolve. */
static int cmd_event(StatusStore *st, StatusKind kind, int argc, char **argv, StatusOpts *o)
{
    const char *verb = argc > 2 ? argv[2] : "";
    if (strcmp(verb, "create") == 0)
        return optind == argc ? cmd_create(st, kind, o)
                              : cli_usage("status", "unexpected argument \"%s\"", argv[optind]);
    bool finish = strcmp(verb, kind == STATUS_MAINTENANCE ? "complete" : "resolve") == 0;
    if (!finish && strcmp(verb, "update") != 0)
        return cli_usage("status", "unknown action \"%s\" for a %s", verb,
                         lifecycle_kind_name(kind));
    int64_t id;
    int rc = optind + 1 == argc ? parse_id(argv[optind], &id)
                                : cli_usage("status", "expected one id after \"%s\"", verb);
    return rc == DD_EXIT_OK ? cmd_post(st, id, o, finish) : rc;
}

static int run_sub(CliContext *ctx, const Config *cfg, int argc, char **argv, StatusOpts *o)
{
    const char *sub = argv[1];
    if (strcmp(sub, "serve") == 0)
        return optind == argc ? (status_server_run(cfg) ? DD_EXIT_OK : cli_fail())
                              : cli_usage("status", "unexpected argument \"%s\"", argv[optind]);
    (void)ctx;
    StatusSetup setup;
    StatusStore *st = NULL;
    if (!status_setup(cfg, &setup))
        return cli_fail();
    if (!status_setup_open(&setup, &st)) {
        status_setup_free(&setup);
        return cli_fail();
    }
    int rc;
    int64_t id = 0;
    size_t written = 0;
    if (strcmp(sub, "export") == 0)
        rc = optind + 1 != argc ? cli_usage("status", "expected one directory")
             : site_export(st, argv[optind], &written) ? DD_EXIT_OK
                                                       : cli_fail();
    else if (strcmp(sub, "list") == 0)
        rc = cmd_list(st);
    else if (strcmp(sub, "maintenance") == 0 || strcmp(sub, "incident") == 0)
        rc = cmd_event(st, sub[0] == 'm' ? STATUS_MAINTENANCE : STATUS_INCIDENT, argc, argv, o);
    else if (strcmp(sub, "postmortem") == 0)
        rc = optind + 1 != argc ? cli_usage("status", "expected one id")
             : (rc = parse_id(argv[optind], &id)) != DD_EXIT_OK ? rc
                                                                : cmd_postmortem(st, cfg, id, o);
    else if (strcmp(sub, "publish") == 0)
        rc = optind + 2 != argc ? cli_usage("status", "expected an id and a file")
             : (rc = parse_id(argv[optind], &id)) != DD_EXIT_OK
                 ? rc
                 : cmd_publish(st, id, argv[optind + 1]);
    else if (strcmp(sub, "webhooks") == 0)
        rc = cmd_webhooks(st, cfg, o->deliver);
    else
        rc = cli_usage("status", "unknown subcommand \"%s\"", sub);
    if (rc == DD_EXIT_OK && written)
        log_info("wrote %zu files under \"%s\"", written, argv[optind]);
    status_store_close(st);
    status_setup_free(&setup);
    return rc;
}

int cli_cmd_status(CliContext *ctx, int argc, char **argv)
{
    if (argc < 2) {
        fputs(status_help, stderr);
        return DD_EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++) /* "drydock help status maintenance" puts it last */
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(status_help, stdout);
            return DD_EXIT_OK;
        }
    /* "maintenance create" and friends have a verb before the options. */
    bool two_words = strcmp(argv[1], "maintenance") == 0 || strcmp(argv[1], "incident") == 0;
    StatusOpts o = {0};
    int rc = parse_opts(argc, argv, two_words ? 3 : 2, &o);
    if (rc == DD_EXIT_OK) {
        const Config *cfg = cli_config(ctx);
        rc = cfg ? run_sub(ctx, cfg, argc, argv, &o) : DD_EXIT_CONFIG;
    } else if (rc < 0) {
        rc = DD_EXIT_OK;
    }
    strlist_free(&o.components);
    return rc;
}
