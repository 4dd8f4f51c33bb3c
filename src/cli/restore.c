/*
 * restore.c - "drydock restore": parse the options, call restore_run(),
 * print the summary (a line for a human, a JSON object with --json).
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/log.h"
#include "common/progress.h"
#include "maint/estimate.h"
#include "restore/recovery.h"
#include "restore/restore.h"

static const char restore_help[] =
    "usage: drydock restore --dest DIR [options]\n\n"
    "Restores a backup into DIR, ready to start as a point-in-time recovery (the\n"
    "default: to the end of the archive) or as a streaming standby.\n\n"
    "  --target-time T | --target-lsn X/Y | --target-xid XID | --target-name NAME\n"
    "  --target immediate        where recovery stops (default: end of the archive)\n"
    "  --target-exclusive        stop just before the time, LSN or xid\n"
    "  --target-action promote|pause|shutdown   what the server does there\n"
    "  --backup ID               restore this backup (default: the newest that reaches)\n"
    "  --delta                   DIR exists: rewrite only what differs\n"
    "  --tablespace-map NAME=DIR put a tablespace in DIR (its name, oid or recorded dir)\n"
    "  --set NAME=VALUE          a setting for the new cluster (repeatable)\n"
    "  --port N                  the new cluster's port\n"
    "  --standby-of CONNINFO     a streaming standby of that primary, not a PITR\n"
    "  --jobs N                  parallel writers (default: the number of cores)\n"
    "  --json                    progress and summary as JSON lines on stdout\n";

typedef struct {
    RestoreOpts o;
    TsMap tsmap;
    StrList sets;
    bool json;
} RestoreArgs;

/* One option; returns an exit code (DD_EXIT_OK to go on, -1 for --help). */
static int restore_option(RestoreArgs *a, const char *name, const char *val)
{
    RestoreOpts *o = &a->o;
    if (strcmp(name, "help") == 0) {
        fputs(restore_help, stdout);
        return -1;
    }
    if (strcmp(name, "dest") == 0)
        o->dest = val;
    else if (strcmp(name, "backup") == 0)
        o->backup_id = val;
    else if (strcmp(name, "delta") == 0)
        o->delta = true;
    else if (strcmp(name, "json") == 0)
        a->json = true;
    else if (strcmp(name, "standby-of") == 0)
        o->standby_of = val;
    else if (strcmp(name, "port") == 0) {
        if (!cli_parse_int(val, 1, 65535, &o->port))
            return cli_usage("restore", "invalid --port \"%s\": expected 1 to 65535", val);
    } else if (strcmp(name, "jobs") == 0) {
        if (!cli_parse_int(val, 1, 256, &o->jobs))
            return cli_usage("restore", "invalid --jobs \"%s\": expected 1 to 256", val);
    } else if (strcmp(name, "set") == 0) {
        if (!recovery_set_check(val))
            return cli_fail();
        strlist_push(&a->sets, val);
    } else if (strcmp(name, "tablespace-map") == 0) {
        if (!tsmap_add(&a->tsmap, val))
            return cli_fail();
    } else if (!target_option(&o->target, name, val)) {
        return cli_fail();
    }
    return DD_EXIT_OK;
}

static int restore_parse(RestoreArgs *a, int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 0},
                                             {"dest", required_argument, NULL, 0},
                                             {"backup", required_argument, NULL, 0},
                                             {"delta", no_argument, NULL, 0},
                                             {"json", no_argument, NULL, 0},
                                             {"standby-of", required_argument, NULL, 0},
                                             {"port", required_argument, NULL, 0},
                                             {"jobs", required_argument, NULL, 0},
                                             {"set", required_argument, NULL, 0},
                                             {"tablespace-map", required_argument, NULL, 0},
                                             {"target-time", required_argument, NULL, 0},
                                             {"target-lsn", required_argument, NULL, 0},
                                             {"target-xid", required_argument, NULL, 0},
                                             {"target-name", required_argument, NULL, 0},
                                             {"target", required_argument, NULL, 0},
                                             {"target-exclusive", no_argument, NULL, 0},
                                             {"target-action", required_argument, NULL, 0},
                                             {0}};
    int c, idx;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", longopts, &idx)) != -1) {
        if (c != 0)
            return cli_bad_option("restore", longopts, argv);
        int rc = restore_option(a, longopts[idx].name, optarg);
        if (rc != DD_EXIT_OK)
            return rc;
    }
    if (optind < argc)
        return cli_usage("restore", "unexpected argument \"%s\"", argv[optind]);
    if (!a->o.dest)
        return cli_usage("restore", "--dest DIR is required");
    if (a->o.dest[0] != '/')
        return cli_usage("restore", "--dest \"%s\" must be an absolute path", a->o.dest);
    if (!target_validate(&a->o.target))
        return cli_fail();
    if (a->o.standby_of && (a->o.target.kind != TARGET_END || a->o.target.action_set))
        return cli_usage("restore", "--standby-of cannot be combined with a recovery target");
    if (a->o.standby_of && strpbrk(a->o.standby_of, "\r\n"))
        return cli_usage("restore", "--standby-of must be one line");
    return DD_EXIT_OK;
}

static void print_summary(const RestoreArgs *a, const RestoreResult *r, Progress *p)
{
    if (a->json) {
        json_t *o = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:i, s:f, s:f}",
            "type", "summary", "backup", r->backup_id, "dest", a->o.dest, "target", r->target,
            "timeline", r->timeline, "delta", a->o.delta, "files", (json_int_t)r->files,
            "directories", (json_int_t)r->dirs, "removed", (json_int_t)r->removed, "bytes_total",
            (json_int_t)r->bytes_total, "bytes_written", (json_int_t)r->bytes_written, "duration",
            r->duration, "rate", r->duration > 0 ? (double)r->bytes_total / r->duration : 0.0,
            "jobs", r->jobs, "copy_seconds", r->copy_s, "small_files_seconds", r->small_s);
        char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        progress_print_line(p, text);
        free(text);
        json_decref(o);
        return;
    }
    char tot[32], wr[32];
    progress_format_bytes((double)r->bytes_total, tot, sizeof(tot));
    progress_format_bytes((double)r->bytes_written, wr, sizeof(wr));
    log_info("restored backup %s to \"%s\": %zu files, %s written of %s%s, %.1f s with %d "
             "job%s; start it with pg_ctl -D %s start",
             r->backup_id, a->o.dest, r->files, wr, tot, a->o.delta ? " (delta)" : "", r->duration,
             r->jobs, r->jobs == 1 ? "" : "s", a->o.dest);
    if (a->o.delta)
        log_info("delta: %" PRIu64 " of %" PRIu64 " bytes rewritten, %zu paths removed",
                 r->bytes_written, r->bytes_total, r->removed);
}

int cli_cmd_restore(CliContext *ctx, int argc, char **argv)
{
    RestoreArgs a = {0};
    int rc = restore_parse(&a, argc, argv);
    const Config *cfg = rc == DD_EXIT_OK ? cli_config(ctx) : NULL;
    if (rc == DD_EXIT_OK && !cfg)
        rc = DD_EXIT_CONFIG;
    char self[PATH_MAX], conf[PATH_MAX];
    ssize_t n = rc == DD_EXIT_OK ? readlink("/proc/self/exe", self, sizeof(self) - 1) : 0;
    if (rc == DD_EXIT_OK && (n <= 0 || !realpath(cfg->file, conf))) {
        err_errno("could not find the path of drydock or of its configuration file");
        rc = cli_fail();
    }
    Repo *repo = NULL;
    Progress *p = NULL;
    if (rc == DD_EXIT_OK) {
        self[n] = '\0';
        a.o.tsmap = &a.tsmap;
        a.o.sets = &a.sets;
        a.o.drydock_path = self;
        a.o.config_path = conf;
        p = progress_new(a.json);
        a.o.progress = p;
        RestoreResult r;
        if (!repo_open(cfg, &repo) || !restore_run(repo, &a.o, &r))
            rc = cli_fail();
        else
            print_summary(&a, &r, p);
        /* A delta restore writes what differs: its time says nothing of the write rate. */
        if (rc == DD_EXIT_OK && !a.o.delta) {
            char src[48];
            snprintf(src, sizeof(src), "restore of backup %s", r.backup_id);
            rates_record_restore(repo, src, r.bytes_written, r.duration,
                                 r.duration - restore_grows_s(&r));
        }
    }
    progress_free(p);
    repo_close(repo);
    tsmap_free(&a.tsmap);
    strlist_free(&a.sets);
    return rc < 0 ? DD_EXIT_OK : rc;
}
