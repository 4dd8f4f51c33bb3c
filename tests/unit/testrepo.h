/*
 * testrepo.h - a fresh repository in a temporary directory for unit tests
 * that need one (chunk store, manifests). Header-only: each test program
 * includes it once and passes testrepo_setup/teardown to cmocka.
 */
#ifndef DD_TESTS_TESTREPO_H
#define DD_TESTS_TESTREPO_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "config/config.h"
#include "repo/repo.h"
#include "unit/testdir.h"

static char testrepo_root[64];
static Config cfg; /* the configuration naming the repository */

static int testrepo_setup(void **state)
{
    (void)state;
    if (testdir_make(testrepo_root, sizeof(testrepo_root), "unit-repo") != 0)
        return -1;
    char *repo = xasprintf("%s/repo", testrepo_root);
    memset(&cfg, 0, sizeof(cfg));
    cfg.repo_path = repo;
    cfg.compress = CODEC_ZSTD;
    cfg.compress_level = 3;
    cfg.file = "test";
    if (!repo_create(&cfg, (RepoCreateOpts){
                               .system_id = 42, .wal_seg_size = 16 << 20, .pg_version = 150000}))
        return -1;
    return 0;
}

/* XOR one byte of a file with mask (damage for a test); false if it cannot. */
static inline bool testrepo_flip(const char *path, long offset, int mask)
{
    FILE *f = fopen(path, "r+b");
    if (!f)
        return false;
    int c = fseek(f, offset, SEEK_SET) == 0 ? fgetc(f) : EOF;
    bool ok = c != EOF && fseek(f, offset, SEEK_SET) == 0 && fputc(c ^ mask, f) != EOF;
    return fclose(f) == 0 && ok;
}

static int testrepo_teardown(void **state)
{
    (void)state;
    free(cfg.repo_path);
    return testdir_remove(testrepo_root);
}

#endif
