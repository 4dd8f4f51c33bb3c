/*
 * metrics.c - "drydock metrics": the repository's health (restore/health.h)
 * in Prometheus' text format, for node_exporter's textfile collector.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "common/fsutil.h"
#include "restore/health.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "repo/walrecvstat.h"

static const char metrics_help[] =
    "usage: drydock metrics [--output FILE]\n\n"
    "Prints the repository's health in Prometheus' text format: backups and the\n"
    "newest one's time, the last archived segment's time, WAL gaps, the archive's\n"
    "lag behind the primary and the archiver's failures (when the primary answers),\n"
    "the repository's size and the last verify's result, and wal-receive's position\n"
    "and lag when it runs here. With --output the file is\n"
    "replaced atomically (mode 0644), as node_exporter's textfile collector needs:\n"
    "  drydock metrics --output /var/lib/node_exporter/textfile/drydock.prom\n";

int cli_cmd_metrics(CliContext *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'}, {0}};
    const char *output = NULL;
    CliOpts cli = {
        .command = argv[0], .shortopts = "ho:", .longopts = longopts, .help = metrics_help};
    int c;
    while ((c = cli_opt_next(&cli, argc, argv)) != 0) {
        output = optarg; /* 'o': its only other option */
    }
    if (cli.rc != DD_EXIT_OK)
        return cli_exit(cli.rc);
    CliCatalog cc;
    int rc = cli_open_catalog(ctx, argc, argv, &cc);
    if (rc != DD_EXIT_OK)
        return rc;
    Health h;
    bool ok = health_collect(cc.repo, &cc.cat, cc.cfg->primary, &h);
    cli_close_catalog(&cc);
    if (!ok)
        return cli_fail();
    Buf out = {0};
    health_render_prometheus(&h, &out);
    char *spool = walrecvstat_default_spool(cc.cfg);
    WalRecvStat st;
    bool found = false;
    if (walrecvstat_read(spool, &st, &found) && found)
        walrecvstat_render_prometheus(&st, time_wall(), &out);
    else if (!found && err_code() != DD_EXIT_OK)
        log_warn("%s", err_message());
    err_clear();
    free(spool);
    if (output)
        ok = fs_write_file(output, out.data, out.len, 0644);
    else
        ok = fwrite(out.data, 1, out.len, stdout) == out.len && fflush(stdout) == 0;
    buf_free(&out);
    if (!ok)
        return output ? cli_fail() : DD_EXIT_IO;
    return DD_EXIT_OK;
}
