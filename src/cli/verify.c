/*
 * verify.c - "drydock verify": run verify_run() and report.
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/compare.h"
#include "backup/verify.h"
#include "cli/cli.h"
#include "common/log.h"
#include "restore/health.h"

static const char verify_help[] =
    "usage: drydock verify [--json]\n"
    "       drydock verify --compare-full [--backup ID] [--data DIR]\n\n"
    "Reads every pack index and chunk, every backup manifest and the chunks it\n"
    "references, and every archived WAL segment and history file, checking their\n"
    "checksums. Each problem is one line naming the object and the backups or WAL\n"
    "range it affects. Exit 0 when everything verifies, 10 when anything is damaged\n"
    "or missing.\n\n"
    "--compare-full compares a backup (default: the newest) with a full read of the\n"
    "running cluster's data directory (--data, default: the standby's, else the\n"
    "primary's): every page of a relation file whose LSN is older than the\n"
    "backup's start must be equal to the backup's copy, however the backup read it\n"
    "(WAL-guided or whole). Exit 10 on a difference. Needs data checksums or\n"
    "wal_log_hints (hint bits otherwise change pages without WAL).\n";

/* verify --compare-full: a backup against a full read of the live cluster (compare.h). */
static int verify_compare(const Config *cfg, const char *id, const char *data)
{
    if (!data)
        data = cfg->standby_data && cfg->standby_data[0] ? cfg->standby_data : cfg->primary_data;
    if (!data || !data[0]) {
        err_set(DD_EXIT_CONFIG, "no data directory to compare with");
        err_hint("set [cluster] standby-data or primary-data, or pass --data DIR");
        return cli_fail();
    }
    Repo *repo = NULL;
    CompareReport r;
    if (!repo_open(cfg, &repo) || !backup_compare_full(repo, id, data, &r)) {
        repo_close(repo);
        return cli_fail();
    }
    repo_close(repo);
    for (size_t i = 0; i < r.problems.len; i++)
        log_error("%s", r.problems.items[i]);
    int rc = r.mismatches ? DD_EXIT_CORRUPT : DD_EXIT_OK;
    if (r.mismatches)
        log_error("backup %s (%s read) differs from a full read of \"%s\" in %" PRIu64
                  " page(s). HINT: take a backup with --full, and report this",
                  r.backup, r.guided ? "WAL-guided" : "full", data, r.mismatches);
    else
        log_info("backup %s (%s read) equals a full read of \"%s\": %" PRIu64 " files, %" PRIu64
                 " pages compared, %" PRIu64 " changed since the backup (skipped)",
                 r.backup, r.guided ? "WAL-guided" : "full", data, r.files, r.pages_compared,
                 r.pages_newer);
    compare_report_free(&r);
    return rc;
}

static void verify_print_json(const VerifyReport *r)
{
    json_t *o = json_pack(
        "{s:s,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "type", "verify", "ok",
        r->problems.len == 0, "manifests", (json_int_t)r->manifests, "packs", (json_int_t)r->packs,
        "chunks", (json_int_t)r->chunks, "chunks_bad", (json_int_t)r->chunks_bad, "chunks_missing",
        (json_int_t)r->chunks_missing, "segments", (json_int_t)r->segments, "segments_bad",
        (json_int_t)r->segments_bad, "segments_missing", (json_int_t)r->segments_missing,
        "history_files", (json_int_t)r->history_files);
    json_t *p = json_array(), *d = json_array();
    for (size_t i = 0; i < r->problems.len; i++)
        json_array_append_new(p, json_string(r->problems.items[i]));
    for (size_t i = 0; i < r->damaged_backups.len; i++)
        json_array_append_new(d, json_string(r->damaged_backups.items[i]));
    json_object_set_new(o, "problems", p);
    json_object_set_new(o, "damaged_backups", d);
    char *text = json_dumps(o, JSON_COMPACT);
    puts(text);
    free(text);
    json_decref(o);
}

int cli_cmd_verify(CliContext *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'J'},         {"help", no_argument, NULL, 'h'},
        {"compare-full", no_argument, NULL, 'C'}, {"backup", required_argument, NULL, 'b'},
        {"data", required_argument, NULL, 'd'},   {0}};
    bool json = false, compare = false;
    const char *backup_id = NULL, *data = NULL;
    CliOpts cli = {.command = argv[0], .shortopts = "h", .longopts = longopts, .help = verify_help};
    int c;
    while ((c = cli_opt_next(&cli, argc, argv)) != 0) {
        if (c == 'J' || c == 'C')
            *(c == 'J' ? &json : &compare) = true;
        else /* 'b' or 'd' */
            *(c == 'b' ? &backup_id : &data) = optarg;
    }
    int cfg_rc;
    const Config *cfg = cli_config_opts(ctx, &cli, argc, argv, &cfg_rc);
    if (!cfg)
        return cfg_rc;
    if (compare)
        return verify_compare(cfg, backup_id, data);
    Progress *progress = progress_new(false);
    VerifyReport r = {0};
    Repo *repo = NULL;
    bool ok = repo_open(cfg, &repo) && verify_run(repo, json ? NULL : progress, &r);
    progress_free(progress);
    if (!ok) {
        repo_close(repo);
        verify_report_free(&r);
        return cli_fail();
    }
    for (size_t i = 0; i < r.problems.len; i++)
        log_error("%s", r.problems.items[i]);
    /* For "info --json" and "metrics": an alert on the last verify's result. */
    if (!health_record_verify(repo, r.problems.len == 0, r.problems.len, r.damaged_backups.len)) {
        log_warn("could not record the verify's result: %s", err_message());
        err_clear();
    }
    repo_close(repo);
    if (json)
        verify_print_json(&r);
    int rc = DD_EXIT_OK;
    if (r.problems.len > 0) {
        Buf ids = {0};
        for (size_t i = 0; i < r.damaged_backups.len; i++)
            buf_printf(&ids, "%s%s", i ? ", " : "", r.damaged_backups.items[i]);
        log_error("%zu problem(s); backups that cannot be restored: %s. HINT: take a new backup; "
                  "\"drydock expire\" removes the damaged ones once they are old enough",
                  r.problems.len, ids.len ? (const char *)ids.data : "none");
        buf_free(&ids);
        rc = DD_EXIT_CORRUPT;
    } else {
        log_info("verified %" PRIu64 " backups, %" PRIu64 " packs (%" PRIu64 " chunks), %" PRIu64
                 " WAL segments, %" PRIu64 " history files: no problems",
                 r.manifests, r.packs, r.chunks, r.segments, r.history_files);
    }
    verify_report_free(&r);
    return rc;
}
