/*
 * repo_create.c - "drydock repo-create": make the repository for the
 * configured cluster and record its system identifier.
 */
#include <getopt.h>
#include <jansson.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"
#include "common/mem.h"
#include "pg/conn.h"
#include "pg/control.h"
#include "pg/node.h"
#include "pg/wal.h"
#include "repo/repo.h"

static const char repo_create_help[] =
    "usage: drydock repo-create [--json]\n\n"
    "Creates the repository at [repository] path for the cluster at [cluster] primary\n"
    "(or, when it is not running, the data directory [cluster] primary-data) and\n"
    "records its system identifier. Refuses a directory that is not empty.\n"
    "--json prints the result as one JSON object.\n";

/* Ask the running primary; fall back to its control file. */
static bool repo_create_identify(const Config *cfg, RepoCreateOpts *opts)
{
    opts->wal_seg_size = WAL_DEFAULT_SEG_SIZE;
    opts->pg_version = 150000;
    if (cfg->primary) {
        PGconn *conn = pg_connect(cfg->primary, "primary");
        if (conn) {
            PgNode node;
            bool ok = pg_node_identify(conn, &node);
            if (ok) {
                opts->system_id = node.system_id;
                opts->wal_seg_size = node.wal_seg_size;
                opts->pg_version = node.version_num;
            }
            pg_disconnect(conn);
            if (opts->pg_version / 10000 != 15) {
                err_set(DD_EXIT_PG, "the primary runs PostgreSQL %u, drydock supports 15",
                        opts->pg_version / 10000);
                return false;
            }
            return ok;
        }
        if (!cfg->primary_data)
            return false;
        log_warn("%s; reading the control file of %s instead", err_message(), cfg->primary_data);
    }
    if (!config_require(cfg, "cluster", "primary-data", cfg->primary_data))
        return false;
    PgControl ctl;
    if (!pg_control_read(cfg->primary_data, &ctl))
        return false;
    opts->system_id = ctl.system_id;
    return true;
}

int cli_cmd_repo_create(CliContext *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {0}};
    bool json = false;
    CliOpts cli = {
        .command = argv[0], .shortopts = "h", .longopts = longopts, .help = repo_create_help};
    int c;
    while ((c = cli_opt_next(&cli, argc, argv)) != 0) {
        json = true; /* 'j': its only other option */
    }
    int cfg_rc;
    const Config *cfg = cli_config_opts(ctx, &cli, argc, argv, &cfg_rc);
    if (!cfg)
        return cfg_rc;
    StorageConfig sc;
    if (!repo_storage_config(cfg, &sc))
        return cli_fail();
    RepoCreateOpts opts = {0};
    if (!repo_create_identify(cfg, &opts) || !repo_create(cfg, opts))
        return cli_fail();
    char *where = storage_config_name(&sc);
    log_info("created repository \"%s\" for system %" PRIu64 " (PostgreSQL %u.%u, %u MiB segments)",
             where, opts.system_id, opts.pg_version / 10000, opts.pg_version % 10000,
             opts.wal_seg_size >> 20);
    if (json) {
        char sysid[24]; /* as text: JSON numbers lose a 64-bit identifier's digits */
        snprintf(sysid, sizeof(sysid), "%" PRIu64, opts.system_id);
        json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:i}", "type", "summary", "repository", where,
                              "system_identifier", sysid, "pg_version", (int)opts.pg_version,
                              "wal_segment_size", (int)opts.wal_seg_size);
        char *text = json_dumps(o, JSON_COMPACT);
        puts(text);
        free(text);
        json_decref(o);
    }
    free(where);
    return DD_EXIT_OK;
}
