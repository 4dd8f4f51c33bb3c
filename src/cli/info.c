/*
 * info.c - "drydock info": the backups and the recoverable window.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "repo/walrecvstat.h"
#include "restore/health.h"
#include "restore/info.h"

static const char info_help[] =
    "usage: drydock info [--json]\n\n"
    "Lists the backups (id, source, start and stop time and LSN, timeline, sizes,\n"
    "duration, how far each can be recovered) and the recoverable window: the\n"
    "earliest and latest points a restore can reach, and any gap in the archived\n"
    "WAL. --json prints one JSON object (its fields are in README.md), with a\n"
    "\"health\" member: the newest backup's age, the archive's lag behind the\n"
    "primary, the archiver's failures, the last verify, the repository's size;\n"
    "and, when drydock wal-receive runs here (its default spool), its position and\n"
    "lag (\"wal_receive\" in --json).\n";

/* wal-receive's status (repo/walrecvstat.h), when its default spool has one. */
static bool info_wal_receive(const Config *cfg, WalRecvStat *st)
{
    char *spool = walrecvstat_default_spool(cfg);
    bool found = false;
    if (!walrecvstat_read(spool, st, &found)) {
        log_warn("%s", err_message());
        err_clear();
        found = false;
    }
    free(spool);
    return found;
}

int cli_cmd_info(CliContext *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'}, {"json", no_argument, NULL, 'j'}, {0}};
    bool json = false;
    CliOpts cli = {.command = "info", .shortopts = "+", .longopts = longopts, .help = info_help};
    int c;
    while ((c = cli_opt_next(&cli, argc, argv)) != 0) {
        json = true; /* 'j': its only other option */
    }
    if (cli.rc != DD_EXIT_OK)
        return cli_exit(cli.rc);
    CliCatalog cc;
    int rc = cli_open_catalog(ctx, argc, argv, &cc);
    if (rc != DD_EXIT_OK)
        return rc;
    Buf out = {0};
    Health h;
    if (json && !health_collect(cc.repo, &cc.cat, cc.cfg->primary, &h)) {
        rc = cli_fail();
        cli_close_catalog(&cc);
        return rc;
    }
    WalRecvStat st;
    bool recv = info_wal_receive(cc.cfg, &st);
    if (json) {
        json_t *health = health_to_json(&h);
        if (recv)
            json_object_set_new(health, "wal_receive", walrecvstat_to_json(&st, time_wall()));
        info_render_json_with(&cc.cat, health, &out);
    } else {
        info_render_text(&cc.cat, &out);
        if (recv)
            walrecvstat_render_text(&st, time_wall(), &out);
    }
    fwrite(out.data, 1, out.len, stdout);
    buf_free(&out);
    cli_close_catalog(&cc);
    return fflush(stdout) == 0 ? DD_EXIT_OK : DD_EXIT_IO;
}
