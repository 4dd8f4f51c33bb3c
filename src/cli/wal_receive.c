/*
 * wal_receive.c - "drydock wal-receive": WAL streamed into the archive
 * (repo/walrecv.h), as a service.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"
#include "pg/replconn.h"
#include "repo/repo.h"
#include "repo/walrecv.h"
#include "repo/walrecvstat.h"

static const char wal_receive_help[] =
    "usage: drydock wal-receive [--synchronous] [--status-interval SECONDS] [--slot NAME]\n"
    "                           [--application-name NAME] [--source primary|standby]\n"
    "                           [--spool DIR]\n"
    "       drydock wal-receive --flush-partial [--spool DIR]\n\n"
    "Streams WAL from the primary over the replication protocol, with a physical\n"
    "replication slot (--slot, default \"drydock\", created with RESERVE_WAL when\n"
    "missing), into a spool directory (default <state directory>/wal-receive), and\n"
    "pushes every complete segment into the archive exactly as wal-push does. It\n"
    "fsyncs before it reports a position as flushed, so the slot (and pg_wal) advance\n"
    "only over WAL that is durable here. It follows timeline switches, reconnects\n"
    "after errors (1 s backoff doubling to 60 s), resumes from the spool or the\n"
    "archive, and stops cleanly on SIGTERM. It runs beside archive_command: a segment\n"
    "both push is accepted when identical.\n\n"
    "  --synchronous        fsync and report every batch of WAL at once, so that it\n"
    "                       can be a synchronous standby: synchronous_standby_names =\n"
    "                       its application name (--application-name, default\n"
    "                       \"drydock_wal_receive\"). Each commit then waits for a round\n"
    "                       trip and an fsync here.\n"
    "  --status-interval S  without --synchronous, fsync and report every S seconds\n"
    "                       (default 10): a lost host loses at most that much WAL\n"
    "  --source standby     stream from [cluster] standby instead of primary\n"
    "  --flush-partial      the primary is lost: archive the spool's unfinished\n"
    "                       segment, zero-filled, as SEGMENT.partial (the receiver must\n"
    "                       be stopped); restore_command = 'drydock wal-fetch --partial\n"
    "                       %f %p' then recovers up to its last byte\n";

typedef struct {
    WalRecvOpts o;
    const char *source;
    bool flush_partial;
} WalRecvArgs;

static volatile sig_atomic_t wal_receive_stop;

static void on_term(int sig)
{
    (void)sig;
    wal_receive_stop = 1;
}

/* Parse the options into a; -1 after --help, else an exit code. */
static int wal_receive_parse(int argc, char **argv, WalRecvArgs *a)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
                                             {"synchronous", no_argument, NULL, 'y'},
                                             {"status-interval", required_argument, NULL, 'i'},
                                             {"slot", required_argument, NULL, 's'},
                                             {"application-name", required_argument, NULL, 'a'},
                                             {"source", required_argument, NULL, 'f'},
                                             {"spool", required_argument, NULL, 'p'},
                                             {"flush-partial", no_argument, NULL, 'F'},
                                             {0}};
    CliOpts cli = {
        .command = argv[0], .shortopts = "+h", .longopts = longopts, .help = wal_receive_help};
    int c, interval = 10;
    while ((c = cli_opt_next(&cli, argc, argv)) != 0) {
        switch (c) {
        case 'y':
            a->o.synchronous = true;
            break;
        case 'i':
            if (!cli_parse_int(optarg, 1, 3600, &interval))
                return cli_usage(argv[0], "--status-interval must be 1 to 3600 seconds, not \"%s\"",
                                 optarg);
            break;
        case 's':
            a->o.slot = optarg;
            break;
        case 'a':
            a->o.app_name = optarg;
            break;
        case 'f':
            a->source = optarg;
            break;
        case 'p':
            a->o.spool = optarg;
            break;
        case 'F':
            a->flush_partial = true;
            break;
        }
    }
    if (cli.rc != DD_EXIT_OK)
        return cli.rc;
    a->o.status_interval = interval;
    if (!replconn_slot_name_valid(a->o.slot))
        return cli_usage(argv[0], "--slot must be 1 to 63 of a-z, 0-9 and _, not \"%s\"",
                         a->o.slot);
    if (strcmp(a->source, "primary") != 0 && strcmp(a->source, "standby") != 0)
        return cli_usage(argv[0], "--source must be primary or standby, not \"%s\"", a->source);
    return DD_EXIT_OK;
}

static int wal_receive_flush(Repo *repo, const char *spool)
{
    char pushed[64];
    if (!walrecv_flush_partial(repo, spool, pushed, sizeof(pushed)))
        return cli_fail();
    if (pushed[0])
        printf("archived %s (zero-filled) as %s; restore with restore_command = "
               "'drydock wal-fetch --partial %%f %%p'\n",
               pushed, pushed);
    else
        printf("the spool \"%s\" holds no unfinished segment: nothing to archive\n", spool);
    return DD_EXIT_OK;
}

int cli_cmd_wal_receive(CliContext *ctx, int argc, char **argv)
{
    WalRecvArgs a = {.o = {.slot = "drydock", .app_name = "drydock_wal_receive"},
                     .source = "primary"};
    int rc = wal_receive_parse(argc, argv, &a);
    if (rc != DD_EXIT_OK)
        return rc < 0 ? DD_EXIT_OK : rc;
    const Config *cfg = cli_config_no_args(ctx, argc, argv, &rc);
    if (!cfg)
        return rc;
    bool standby = strcmp(a.source, "standby") == 0;
    a.o.conninfo = standby ? cfg->standby : cfg->primary;
    if (!a.flush_partial &&
        !config_require(cfg, "cluster", standby ? "standby" : "primary", a.o.conninfo))
        return cli_fail();
    char *spool = a.o.spool ? NULL : walrecvstat_default_spool(cfg);
    if (spool)
        a.o.spool = spool;
    Repo *repo = NULL;
    if (!repo_open(cfg, &repo)) {
        free(spool);
        return cli_fail();
    }
    if (a.flush_partial) {
        rc = wal_receive_flush(repo, a.o.spool);
    } else {
        struct sigaction sa = {.sa_handler = on_term}; /* no SA_RESTART: poll() wakes */
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        rc = walrecv_run(repo, &a.o, &wal_receive_stop) ? DD_EXIT_OK : cli_fail();
    }
    repo_close(repo);
    free(spool);
    return rc;
}
