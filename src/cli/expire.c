/*
 * expire.c - "drydock expire": parse, run expire_run(), print.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "backup/expire.h"
#include "cli/cli.h"
#include "common/log.h"
#include "common/progress.h"

static const char expire_help[] =
    "usage: drydock expire [--keep-backups N | --keep-days D] [--json]\n\n"
    "Removes the backups retention does not keep, the archived WAL older than the\n"
    "oldest kept backup's start (history files stay), then the chunks no kept backup\n"
    "references (packs that are mostly garbage are rewritten). --keep-days keeps\n"
    "the backups of the last D days and the newest one before them, so that every\n"
    "point of those days stays restorable. The newest backup is always kept.\n"
    "Takes the repository's \"backup\" lock. Without either option the retention is\n"
    "[repository] keep-backups or keep-days of the configuration (one of them).\n"
    "--json prints the result as one JSON object.\n";

int cli_cmd_expire(CliContext *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {{"keep-backups", required_argument, NULL, 'b'},
                                             {"keep-days", required_argument, NULL, 'd'},
                                             {"help", no_argument, NULL, 'h'},
                                             {"json", no_argument, NULL, 'j'},
                                             {0}};
    ExpireOpts opts = {0};
    bool json = false;
    CliOpts cli = {.command = argv[0], .shortopts = "h", .longopts = longopts, .help = expire_help};
    int c;
    while ((c = cli_opt_next(&cli, argc, argv)) != 0) {
        switch (c) {
        case 'b':
            if (!cli_parse_int(optarg, 1, 100000, &opts.keep_backups))
                return cli_usage(
                    argv[0], "--keep-backups expects a number of at least 1, got \"%s\"", optarg);
            break;
        case 'd':
            if (!cli_parse_int(optarg, 1, 100000, &opts.keep_days))
                return cli_usage(argv[0], "--keep-days expects a number of at least 1, got \"%s\"",
                                 optarg);
            break;
        case 'j':
            json = true;
            break;
        }
    }
    if (cli.rc != DD_EXIT_OK)
        return cli_exit(cli.rc);
    if (optind < argc)
        return cli_usage(argv[0], "unexpected argument \"%s\"", argv[optind]);
    if (opts.keep_backups > 0 && opts.keep_days > 0)
        return cli_usage(argv[0], "give exactly one of --keep-backups N and --keep-days D");
    const Config *cfg = cli_config(ctx);
    if (!cfg)
        return DD_EXIT_CONFIG;
    if (opts.keep_backups == 0 && opts.keep_days == 0) {
        /* The retention of the configuration: what a timer runs with no flags. */
        if (cfg->keep_backups > 0 && cfg->keep_days > 0) {
            err_set(DD_EXIT_CONFIG,
                    "configuration file \"%s\": keys \"keep-backups\" and \"keep-days\" in "
                    "[repository] are both set",
                    cfg->file);
            err_hint("keep one of the two, or give --keep-backups or --keep-days");
            return cli_fail();
        }
        opts.keep_backups = cfg->keep_backups;
        opts.keep_days = cfg->keep_days;
        if (opts.keep_backups == 0 && opts.keep_days == 0)
            return cli_usage(argv[0], "give --keep-backups N or --keep-days D, or set "
                                      "keep-backups or keep-days in [repository]");
    }
    ExpireResult r;
    Repo *repo = NULL;
    bool ok = repo_open(cfg, &repo) && expire_run(repo, opts, &r);
    repo_close(repo);
    if (!ok)
        return cli_fail();
    if (json) {
        json_t *o = json_pack(
            "{s:s, s:I, s:s?, s:I, s:I, s:I, s:I, s:I, s:I}", "type", "summary", "backups_kept",
            (json_int_t)r.backups_kept, "oldest_kept", r.oldest_kept[0] ? r.oldest_kept : NULL,
            "backups_removed", (json_int_t)r.backups_removed, "segments_removed",
            (json_int_t)r.segments_removed, "packs_removed", (json_int_t)r.gc.packs_removed,
            "packs_rewritten", (json_int_t)r.gc.packs_rewritten, "bytes_freed",
            (json_int_t)r.gc.bytes_freed, "temps_removed", (json_int_t)r.temps_removed);
        char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (text)
            puts(text);
        free(text);
        return DD_EXIT_OK;
    }
    char freed[16];
    progress_format_bytes((double)r.gc.bytes_freed, freed, sizeof(freed));
    log_info("kept %" PRIu64 " backup(s) (oldest %s), removed %" PRIu64 " backup(s) and %" PRIu64
             " WAL segment(s); packs: %" PRIu64 " removed, %" PRIu64
             " rewritten, %s freed; %zu temporary file(s) of killed writers removed",
             r.backups_kept, r.oldest_kept[0] ? r.oldest_kept : "none", r.backups_removed,
             r.segments_removed, r.gc.packs_removed, r.gc.packs_rewritten, freed, r.temps_removed);
    return DD_EXIT_OK;
}
