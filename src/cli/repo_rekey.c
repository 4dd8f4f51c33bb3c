/*
 * repo_rekey.c - "drydock repo-rekey": rotate the key-encryption key of an
 * encrypted repository (repo/keyring.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"
#include "repo/keyring.h"
#include "repo/lock.h"
#include "repo/repo.h"

static const char repo_rekey_help[] =
    "usage: drydock repo-rekey --new-pass-file PATH | --new-pass-command CMD\n\n"
    "Rotates the passphrase of an encrypted repository: every data key is rewrapped\n"
    "under a key derived from the new passphrase (scrypt, a new salt); no data is\n"
    "rewritten. The rotation is recorded in keys/current. Once it finishes the old\n"
    "passphrase unlocks nothing: point [repository] cipher-pass-file (or -command)\n"
    "at the new one. It holds the archive and backup locks while it runs (seconds):\n"
    "a wal-push meanwhile fails and PostgreSQL retries it.\n";

int cli_cmd_repo_rekey(CliContext *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
                                             {"new-pass-file", required_argument, NULL, 'f'},
                                             {"new-pass-command", required_argument, NULL, 'c'},
                                             {0}};
    KeySource src = {0};
    CliOpts cli = {
        .command = argv[0], .shortopts = "h", .longopts = longopts, .help = repo_rekey_help};
    int c;
    while ((c = cli_opt_next(&cli, argc, argv)) != 0) {
        if (c == 'f')
            src.pass_file = optarg;
        else if (c == 'c')
            src.pass_command = optarg;
    }
    if (cli.rc != DD_EXIT_OK)
        return cli_exit(cli.rc);
    if (!src.pass_file == !src.pass_command)
        return cli_usage(argv[0], "give one of --new-pass-file PATH and --new-pass-command CMD");
    int cfg_rc;
    const Config *cfg = cli_config_no_args(ctx, argc, argv, &cfg_rc);
    if (!cfg)
        return cfg_rc;
    Repo *repo = NULL;
    RepoLock *archive = NULL, *backup = NULL;
    size_t n = 0;
    int gen = 0;
    bool ok = repo_open(cfg, &repo);
    if (ok && !repo_keyring(repo)) {
        err_set(DD_EXIT_REPO, "repository \"%s\" is not encrypted: it has no key to rotate",
                repo_path(repo));
        err_hint(
            "the cipher is chosen at repo-create; repo-copy moves a repository into a new one");
        ok = false;
    }
    ok = ok && repo_lock_wait(repo, REPO_LOCK_ARCHIVE, "repo-rekey", 60, &archive) &&
         repo_lock(repo, REPO_LOCK_BACKUP, "repo-rekey", &backup) &&
         repo_rekey(repo, &src, &n, &gen);
    repo_lock_release(backup);
    repo_lock_release(archive);
    if (ok) {
        char what[320];
        keysource_describe(&src, what, sizeof(what));
        log_info("rotated the keys of \"%s\": %zu key(s) rewrapped, generation %d; only the "
                 "passphrase from %s unlocks them now",
                 repo_path(repo), n, gen, what);
    }
    repo_close(repo);
    return ok ? DD_EXIT_OK : cli_fail();
}
