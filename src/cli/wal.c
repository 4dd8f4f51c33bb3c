/*
 * wal.c - "drydock wal-push" and "drydock wal-fetch": archive_command and
 * restore_command.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "common/log.h"
#include "repo/repo.h"
#include "repo/walarchive.h"
#include "repo/walbacklog.h"
#include "repo/walpush.h"
#include "repo/walspool.h"

static const char wal_push_help[] =
    "usage: drydock wal-push PATH\n\n"
    "Archives one WAL segment, .partial, .backup or .history file. For PostgreSQL:\n"
    "  archive_command = 'drydock --config FILE wal-push %p'\n"
    "Pushing a file that is already archived with the same content succeeds; with\n"
    "other content it fails (exit 9) and the archive is left as it was.\n"
    "A repository lock held by another process (wal-receive pushing, repo-rekey,\n"
    "repo-copy) is waited for, up to 10 s, then the push fails (exit 5). In an S3\n"
    "bucket a push takes no lock unless it needs a new data key (encrypted).\n";

static const char wal_fetch_help[] =
    "usage: drydock wal-fetch NAME DEST\n\n"
    "Restores one archived WAL file to DEST. For PostgreSQL:\n"
    "  restore_command = 'drydock --config FILE wal-fetch %f %p'\n"
    "A file that is not in the archive exits 1 without a message (PostgreSQL asks\n"
    "for files that do not exist); a damaged one exits 10 and names it.\n"
    "Run from a data directory (PostgreSQL runs restore_command there), a fetched\n"
    "segment starts a background prefetch of the next 8 segments of its timeline\n"
    "into pg_wal/drydock-spool/; later fetches are served from there, verified.\n\n"
    "usage: drydock wal-fetch --cleanup\n\n"
    "Recovery has ended: waits for a running prefetch, then removes\n"
    "pg_wal/drydock-spool/. drydock restore sets it as recovery_end_command.\n\n"
    "usage: drydock wal-fetch --partial NAME DEST\n\n"
    "As above, and a segment that is not archived is served from NAME.partial when\n"
    "the archive holds one (what \"drydock wal-receive --flush-partial\" archives when\n"
    "the primary is lost): recovery then replays up to the last byte received.\n";

/* wal-fetch --partial (wal_fetch_help). */
static bool wal_fetch_partial;

/*
 * Both commands take --help and positional arguments; wal-fetch also takes
 * --cleanup (cleanup not NULL), which takes none.
 */
static int wal_parse(int argc, char **argv, const char *help, int nargs, const char *what,
                     bool *cleanup)
{
    static const struct option push_opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
    static const struct option fetch_opts[] = {{"help", no_argument, NULL, 'h'},
                                               {"cleanup", no_argument, NULL, 'c'},
                                               {"partial", no_argument, NULL, 'P'},
                                               {0}};
    const struct option *longopts = cleanup ? fetch_opts : push_opts;
    CliOpts cli = {.command = argv[0], .shortopts = "+h", .longopts = longopts, .help = help};
    int c;
    while ((c = cli_opt_next(&cli, argc, argv)) != 0) {
        if (c == 'P') {
            wal_fetch_partial = true;
        } else if (c == 'c') {
            *cleanup = true;
            nargs = 0;
            what = "no arguments with --cleanup";
        }
    }
    if (cli.rc != DD_EXIT_OK)
        return cli.rc;
    if (argc - optind != nargs)
        return cli_usage(argv[0], "expected %s, got %d argument%s", what, argc - optind,
                         argc - optind == 1 ? "" : "s");
    return DD_EXIT_OK;
}

/*
 * The push failed: past archive-queue-max, drop the segment (walbacklog.h)
 * and say so, instead of failing. true when it was dropped.
 */
static bool wal_push_over_queue(const Config *cfg, const char *path)
{
    if (cfg->archive_queue_max <= 0)
        return false;
    char *copy = xstrdup(path);
    char *slash = strrchr(copy, '/');
    const char *name = slash ? slash + 1 : copy;
    if (slash)
        *slash = '\0';
    const char *dir = slash ? copy : ".";
    struct stat st;
    uint64_t seg = stat(path, &st) == 0 && st.st_size > 0 ? (uint64_t)st.st_size : 16u << 20;
    size_t count = 0;
    uint64_t bytes = 0, max = (uint64_t)cfg->archive_queue_max << 20;
    bool drop = walbacklog_waiting(dir, seg, &count, &bytes) && bytes > max;
    if (drop) {
        char why[512];
        snprintf(why, sizeof(why), "%s", err_message());
        drop = walbacklog_record_drop(dir, name);
        if (drop)
            log_warn("DROPPED WAL file %s without archiving it: %zu segment(s) wait in pg_wal, "
                     "more than archive-queue-max = %d MiB, and the push failed (%s); "
                     "point-in-time recovery cannot cross it: take a new backup once the "
                     "repository is back",
                     name, count, cfg->archive_queue_max, why);
    }
    free(copy);
    if (drop)
        err_clear();
    return drop;
}

int cli_cmd_wal_push(CliContext *ctx, int argc, char **argv)
{
    int rc = wal_parse(argc, argv, wal_push_help, 1, "the path of one WAL file (%p)", NULL);
    if (rc != DD_EXIT_OK)
        return cli_exit(rc);
    const Config *cfg = cli_config(ctx);
    if (!cfg)
        return DD_EXIT_CONFIG;
    Repo *repo = NULL;
    WalPushResult result;
    if (!repo_open_for_push(cfg, &repo) ||
        !walpush_file(repo, argv[optind], "wal-push", WALPUSH_LOCK_WAIT, &result)) {
        rc = wal_push_over_queue(cfg, argv[optind]) ? DD_EXIT_OK : cli_fail();
    } else {
        log_debug("%s %s", result == WAL_PUSH_ALREADY ? "already archived:" : "archived",
                  argv[optind]);
        rc = DD_EXIT_OK;
    }
    repo_close(repo);
    return rc;
}

/*
 * One restore_command call: from the spool when a prefetcher put the segment
 * there, else from the archive; a segment that came from either starts (or
 * tops up) the prefetch of the ones after it.
 */
/*
 * With --partial, a segment that is not archived is looked for as
 * NAME.partial (wal-receive --flush-partial); *found says whether either was.
 */
static bool wal_fetch_archived(Repo *repo, const char *name, const char *dest, bool *found)
{
    if (!walarchive_fetch(repo, name, dest, found))
        return false;
    if (*found || !wal_fetch_partial || strlen(name) != WAL_NAME_LEN)
        return true;
    char *partial = xasprintf("%s.partial", name);
    bool ok = walarchive_fetch(repo, partial, dest, found);
    if (ok && *found)
        log_info("restored %s from %s (a zero-filled unfinished segment)", name, partial);
    free(partial);
    return ok;
}

static int wal_fetch_one(Repo *repo, const char *name, const char *dest)
{
    bool spool = walspool_applies(name), served = false, found = false;
    if (spool) {
        walspool_prune(name);
        if (!walspool_take(name, dest, &served))
            return cli_fail();
    }
    if (served) {
        log_debug("restored %s from the prefetch spool", name);
    } else if (!wal_fetch_archived(repo, name, dest, &found)) {
        return cli_fail();
    } else if (!found) {
        log_debug("%s is not in the archive", name);
        return DD_EXIT_FAIL;
    } else {
        log_debug("restored %s", name);
    }
    if (spool)
        walspool_prefetch_start(repo, name);
    return DD_EXIT_OK;
}

int cli_cmd_wal_fetch(CliContext *ctx, int argc, char **argv)
{
    bool cleanup = false;
    int rc = wal_parse(argc, argv, wal_fetch_help, 2, "NAME and DEST (%f %p)", &cleanup);
    if (rc != DD_EXIT_OK)
        return cli_exit(rc);
    if (cleanup)
        return walspool_cleanup() ? DD_EXIT_OK : cli_fail();
    const Config *cfg = cli_config(ctx);
    if (!cfg)
        return DD_EXIT_CONFIG;
    Repo *repo = NULL;
    if (!repo_open(cfg, &repo))
        return cli_fail();
    rc = wal_fetch_one(repo, argv[optind], argv[optind + 1]);
    repo_close(repo);
    return rc;
}
