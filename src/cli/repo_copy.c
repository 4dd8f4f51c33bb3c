/*
 * repo_copy.c - "drydock repo-copy": parse, copy (repo/repocopy.h), verify
 * the copy (backup/verify.h), print.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "backup/verify.h"
#include "cli/cli.h"
#include "common/log.h"
#include "common/progress.h"
#include "repo/repocopy.h"

static const char repo_copy_help[] =
    "usage: drydock repo-copy --to FILE\n\n"
    "Copies the configured repository to the one that the [repository] section of\n"
    "the configuration FILE names (a directory or a bucket: this is how a repository\n"
    "moves between them), then verifies the copy as \"drydock verify\" does. The\n"
    "destination must be empty, or hold an interrupted copy, which is continued.\n"
    "The source's archive and backup locks are held meanwhile: wal-push waits.\n";

int cli_cmd_repo_copy(CliContext *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'}, {"to", required_argument, NULL, 't'}, {0}};
    const char *to = NULL;
    CliOpts cli = {
        .command = argv[0], .shortopts = "h", .longopts = longopts, .help = repo_copy_help};
    int c;
    while ((c = cli_opt_next(&cli, argc, argv)) != 0) {
        to = optarg; /* 't': its only other option */
    }
    if (cli.rc != DD_EXIT_OK)
        return cli_exit(cli.rc);
    if (!to)
        return cli_usage(argv[0], "give the destination's configuration with --to FILE");
    int cfg_rc;
    const Config *cfg = cli_config_no_args(ctx, argc, argv, &cfg_rc);
    if (!cfg)
        return cfg_rc;
    Config dst_cfg;
    if (!config_load(to, &dst_cfg))
        return cli_fail();
    Repo *src = NULL, *dst = NULL;
    RepoCopyResult r;
    VerifyReport v = {0};
    bool ok = repo_open(cfg, &src) && repo_copy(src, &dst_cfg, &r);
    repo_close(src);
    if (ok)
        log_info("copied %" PRIu64 " object(s) (%" PRIu64 " bytes), %" PRIu64
                 " already there; verifying the copy",
                 r.copied, r.bytes, r.skipped);
    ok = ok && repo_open(&dst_cfg, &dst) && verify_run(dst, NULL, &v);
    repo_close(dst);
    int rc = ok ? DD_EXIT_OK : cli_fail();
    if (ok && v.problems.len > 0) {
        for (size_t i = 0; i < v.problems.len; i++)
            log_error("%s", v.problems.items[i]);
        log_error("the copy has %zu problem(s). HINT: run \"drydock verify\" on the source",
                  v.problems.len);
        rc = DD_EXIT_CORRUPT;
    } else if (ok) {
        log_info("the copy verifies: %" PRIu64 " manifest(s), %" PRIu64 " chunk(s), %" PRIu64
                 " WAL segment(s)",
                 v.manifests, v.chunks, v.segments);
    }
    verify_report_free(&v);
    config_free(&dst_cfg);
    return rc;
}
