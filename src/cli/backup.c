/*
 * backup.c - "drydock backup": parse, run backup_run(), print.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/backup.h"
#include "cli/cli.h"
#include "common/log.h"
#include "common/progress.h"
#include "maint/estimate.h"

static const char backup_help[] =
    "usage: drydock backup [--from standby|primary] [--jobs N] [--full] [--json]\n\n"
    "Takes an online backup. Every backup is logically full and physically\n"
    "incremental: files are cut into chunks named by their SHA-256 and\n"
    "only chunks the repository lacks are stored.\n\n"
    "  --from NODE      standby (default when [cluster] standby is set) or primary\n"
    "  --jobs N         parallel workers (default: the number of cores)\n"
    "  --json           progress lines and a final summary as JSON on stdout\n"
    "  --chunk-size KiB chunk size, a power of two from 8 to 4096 (default: the\n"
    "                   previous backup's, 32 in a new repository)\n"
    "  --full           read every file whole, even where the WAL summaries show\n"
    "                   which blocks changed since the previous backup\n\n"
    "WAL-guided: with the previous backup and a WAL summary for every segment\n"
    "since its start, only the changed chunks of relation files are read; a file\n"
    "the summaries cannot vouch for is read whole, and the summary says why.\n"
    "[repository] backup-full-every (10) and backup-full-days (7) force a full read.\n\n"
    "From the standby: it must be streaming; the primary is asked for a CHECKPOINT\n"
    "and, at the end, a WAL switch. The backup exists once the WAL from its start\n"
    "to its stop is archived ([repository] archive-timeout) and its manifest is\n"
    "written. Exit codes: 5 locked, 6 PostgreSQL, 7 I/O (full disk), 8 WAL not\n"
    "archived in time.\n";

static bool backup_parse_chunk(const char *s, uint32_t *out)
{
    int v;
    if (!cli_parse_int(s, 8, 4096, &v) || (v & (v - 1)) != 0)
        return false;
    *out = (uint32_t)v * 1024;
    return true;
}

/* How relation files were read: guided by the WAL summaries, or whole and why. */
static void backup_print_read(const BackupSummary *s)
{
    if (!s->guided) {
        log_info("read: every file whole (%s)", s->full_reason);
        return;
    }
    char reused[16];
    progress_format_bytes((double)s->bytes_reused, reused, sizeof(reused));
    Buf why = {0};
    for (int r = 1; r < GUIDE_WHOLE_COUNT; r++)
        if (s->files_whole_by[r])
            buf_printf(&why, "%s%s: %" PRIu64, why.len ? ", " : " (", guide_reason_name(r),
                       s->files_whole_by[r]);
    if (why.len)
        buf_printf(&why, ")");
    buf_append(&why, "", 1);
    log_info("read: guided by %" PRIu64 " WAL summaries (%" PRIu64 " changed blocks): %" PRIu64
             " relation files read where changed, %" PRIu64 " read whole%s; %" PRIu64
             " chunks (%s) taken from the previous backup unread",
             s->wal_segments, s->changed_blocks, s->files_guided, s->files_whole, (char *)why.data,
             s->chunks_reused, reused);
    buf_free(&why);
}

static void backup_print(const BackupSummary *s, bool json, Progress *progress)
{
    if (json) {
        char *line = backup_summary_json(s);
        progress_print_line(progress, line);
        free(line);
        return;
    }
    char lsn1[24], lsn2[24], read[16], newb[16], stored[16], rate[16];
    snprintf(lsn1, sizeof(lsn1), "%X/%X", (unsigned)(s->start_lsn >> 32), (unsigned)s->start_lsn);
    snprintf(lsn2, sizeof(lsn2), "%X/%X", (unsigned)(s->stop_lsn >> 32), (unsigned)s->stop_lsn);
    progress_format_bytes((double)s->bytes_read, read, sizeof(read));
    progress_format_bytes((double)s->bytes_new, newb, sizeof(newb));
    progress_format_bytes((double)s->bytes_stored, stored, sizeof(stored));
    progress_format_bytes(s->copy_seconds > 0 ? (double)s->bytes_read / s->copy_seconds : 0, rate,
                          sizeof(rate));
    log_info("backup %s from the %s (%s to %s): %" PRIu64 " files, read %s at %s/s, new %s, "
             "stored %s, %.1f s",
             s->id, s->node, lsn1, lsn2, s->files, read, rate, newb, stored, s->duration);
    backup_print_read(s);
    if (s->data_checksums)
        log_info("page checksums: %" PRIu64 " pages verified, %" PRIu64 " bad", s->pages_checked,
                 s->bad_pages);
}

int cli_cmd_backup(CliContext *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {{"from", required_argument, NULL, 'f'},
                                             {"jobs", required_argument, NULL, 'j'},
                                             {"json", no_argument, NULL, 'J'},
                                             {"chunk-size", required_argument, NULL, 'c'},
                                             {"full", no_argument, NULL, 'F'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
    BackupOpts opts = {0};
    bool json = false;
    CliOpts cli = {
        .command = argv[0], .shortopts = "hj:", .longopts = longopts, .help = backup_help};
    int c;
    while ((c = cli_opt_next(&cli, argc, argv)) != 0) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "standby") == 0)
                opts.from = BACKUP_FROM_STANDBY;
            else if (strcmp(optarg, "primary") == 0)
                opts.from = BACKUP_FROM_PRIMARY;
            else
                return cli_usage(argv[0], "--from expects \"standby\" or \"primary\", got \"%s\"",
                                 optarg);
            break;
        case 'j':
            if (!cli_parse_int(optarg, 1, 256, &opts.jobs))
                return cli_usage(argv[0], "--jobs expects a number from 1 to 256, got \"%s\"",
                                 optarg);
            break;
        case 'J':
            json = true;
            break;
        case 'F':
            opts.full = true;
            break;
        case 'c':
            if (!backup_parse_chunk(optarg, &opts.chunk_size))
                return cli_usage(argv[0],
                                 "--chunk-size expects KiB, a power of two from 8 to 4096, "
                                 "got \"%s\"",
                                 optarg);
            break;
        }
    }
    int cfg_rc;
    const Config *cfg = cli_config_opts(ctx, &cli, argc, argv, &cfg_rc);
    if (!cfg)
        return cfg_rc;
    Progress *progress = progress_new(json);
    opts.progress = progress;
    BackupSummary sum;
    Repo *repo = NULL;
    if (!repo_open(cfg, &repo) || !backup_run(cfg, repo, &opts, &sum)) {
        progress_free(progress); /* ends a terminal progress line before the error */
        repo_close(repo);
        return cli_fail();
    }
    backup_print(&sum, json, progress);
    progress_free(progress);
    /* The rates the next maintenance plan predicts from (a failure is only a warning). */
    rates_record_backup(repo, "backup", &sum);
    repo_close(repo);
    return DD_EXIT_OK;
}
