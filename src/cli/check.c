/*
 * check.c - "drydock check": prove that the primary's archive_command
 * reaches this repository, by forcing a WAL switch and waiting for the
 * segment to arrive.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/archcheck.h"
#include "cli/cli.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "pg/conn.h"
#include "pg/node.h"
#include "repo/repo.h"
#include "repo/walarchive.h"
#include "repo/walbacklog.h"

static const char check_help[] =
    "usage: drydock check [--timeout SECONDS] [--json]\n\n"
    "Checks that the primary belongs to the repository, forces a WAL switch there\n"
    "and waits until the switched segment is in the repository (default: the\n"
    "[repository] archive-timeout, 60 s). Exit 8 on timeout, with the archiver's\n"
    "last error. --json prints {\"segment\", \"archived_s\"} on success.\n";

static bool check_wait(PGconn *conn, Repo *repo, const char *segment, int timeout, double *took)
{
    double deadline = time_mono() + timeout;
    double started = time_mono();
    for (;;) {
        bool exists = false;
        if (!walarchive_exists(repo, segment, &exists))
            return false;
        if (exists) {
            *took = time_mono() - started;
            log_info("WAL segment %s was archived in %.2f s: archiving works", segment, *took);
            return true;
        }
        if (time_mono() > deadline)
            break;
        time_sleep(0.05);
    }
    char *last = pg_query_value(conn,
                                "SELECT coalesce(last_failed_wal || ' at ' || last_failed_time, "
                                "'none') FROM pg_stat_archiver",
                                0, NULL);
    err_set(DD_EXIT_TIMEOUT,
            "WAL segment %s did not reach repository \"%s\" within %d s (last archive failure: "
            "%s)",
            segment, repo_path(repo), timeout, last ? last : "unknown");
    err_hint("check archive_command and the server log for drydock wal-push errors");
    free(last);
    return false;
}

/*
 * archive-queue-max trades recoverability for the primary's disk
 * (walbacklog.h): say so, and loudly when segments were dropped.
 */
static void check_backlog(const Config *cfg)
{
    if (cfg->archive_queue_max <= 0)
        return;
    log_warn("archive-queue-max = %d MiB: if the repository is unreachable while more WAL than "
             "that waits, wal-push drops segments and point-in-time recovery cannot cross them",
             cfg->archive_queue_max);
    if (!cfg->primary_data)
        return;
    char *dir = xasprintf("%s/pg_wal", cfg->primary_data);
    StrList dropped = {0};
    if (walbacklog_dropped(dir, &dropped) && dropped.len > 0)
        log_warn("WAL WAS DROPPED: %zu segment(s) were never archived, the last at %s; restores "
                 "cannot cross them. HINT: take a new backup, then remove \"%s/%s\"",
                 dropped.len, dropped.items[dropped.len - 1], dir, WALBACKLOG_DROPPED);
    err_clear();
    strlist_free(&dropped);
    free(dir);
}

int cli_cmd_check(CliContext *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {{"timeout", required_argument, NULL, 't'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
    int timeout = -1;
    bool json = false;
    CliOpts cli = {
        .command = argv[0], .shortopts = "ht:", .longopts = longopts, .help = check_help};
    int c;
    while ((c = cli_opt_next(&cli, argc, argv)) != 0) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 't':
            if (!cli_parse_int(optarg, 1, 86400, &timeout))
                return cli_usage(
                    argv[0], "--timeout expects whole seconds from 1 to 86400, got \"%s\"", optarg);
            break;
        }
    }
    int cfg_rc;
    const Config *cfg = cli_config_opts(ctx, &cli, argc, argv, &cfg_rc);
    if (!cfg)
        return cfg_rc;
    if (timeout < 0)
        timeout = cfg->archive_timeout;
    Repo *repo = NULL;
    PGconn *conn = NULL;
    char *segment = NULL;
    int rc = DD_EXIT_OK;
    if (!config_require(cfg, "cluster", "primary", cfg->primary) || !repo_open(cfg, &repo) ||
        !(conn = pg_connect(cfg->primary, "primary")) || !archcheck_cluster(conn, repo)) {
        rc = cli_fail();
        goto done;
    }
    /* A restore point guarantees there is WAL to switch away from. */
    segment = pg_query_value(conn,
                             "SELECT pg_walfile_name(pg_switch_wal()) "
                             "FROM (SELECT pg_create_restore_point('drydock check')) AS rp",
                             0, NULL);
    double took = 0;
    if (!segment || !check_wait(conn, repo, segment, timeout, &took)) {
        rc = cli_fail();
    } else {
        check_backlog(cfg);
        if (json)
            printf("{\"type\":\"summary\",\"segment\":\"%s\",\"archived_s\":%.3f}\n", segment,
                   took);
    }
done:
    free(segment);
    pg_disconnect(conn);
    repo_close(repo);
    return rc;
}
