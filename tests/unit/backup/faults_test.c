/*
 * faults_test.c - every write fault the storage can give (faultstore.h:
 * ENOSPC, a short write, a failed fsync, a torn rename), at every write
 * call of wal-push, of a backup's store path and of expire: each gives one
 * error, on one line, with the I/O exit code, and leaves a repository that
 * verify passes; the same operation then succeeds without the fault.
 *
 * For each operation a clean run first counts its write calls of each
 * kind; then each call in turn is the one that fails, on a fresh repository.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/copy.h"
#include "backup/expire.h"
#include "backup/verify.h"
#include "common/endian.h"
#include "common/fsutil.h"
#include "unit/faultstore.h"
#include "pg/datadir.h"
#include "pg/wal.h"
#include "repo/chunkstore.h"
#include "repo/manifest.h"
#include "repo/walarchive.h"
#include "unit/testrepo.h"

#define SEG_SIZE   (16u << 20)
#define CHUNK_SIZE (64u * 1024)
#define SYSID      42

/* A WAL segment of this repository's cluster (testrepo.h: system 42, 16 MiB). */
static char *make_segment(const char *dir, uint64_t segno)
{
    char name[32];
    wal_segment_name(1, segno, SEG_SIZE, name);
    char *path = xasprintf("%s/%s", dir, name);
    uint8_t *seg = xcalloc(1, SEG_SIZE);
    le_put16(seg, WAL_PAGE_MAGIC_PG15);
    le_put16(seg + 2, 0x0002); /* XLP_LONG_HEADER */
    le_put32(seg + 4, 1);
    le_put64(seg + 8, segno * SEG_SIZE);
    le_put64(seg + 24, SYSID);
    le_put32(seg + 32, SEG_SIZE);
    le_put32(seg + 36, PG_BLCKSZ);
    for (size_t i = WAL_LONG_HEADER_LEN; i < SEG_SIZE; i += 97)
        seg[i] = (uint8_t)(i * 31 + segno);
    assert_true(fs_write_file(path, seg, SEG_SIZE, 0600));
    free(seg);
    return path;
}

/* A small data directory; files named by variant differ between variants. */
static char *make_datadir(const char *root, int variant)
{
    char *dir = xasprintf("%s/data%d", root, variant);
    const char *dirs[] = {"", "/global", "/base", "/base/1"};
    for (size_t i = 0; i < 4; i++) {
        char *d = xasprintf("%s%s", dir, dirs[i]);
        assert_int_equal(mkdir(d, 0700), 0);
        free(d);
    }
    uint8_t *page = xcalloc(1, 3 * CHUNK_SIZE);
    for (size_t i = 0; i < 3 * CHUNK_SIZE; i++)
        page[i] = (uint8_t)(i * 13 + i / 1000);
    const struct {
        const char *name;
        size_t len;
        int salt;
    } files[] = {
        {"PG_VERSION", 3, 0},
        {"global/pg_control", PG_BLCKSZ, variant},
        {"base/1/1000", 2 * CHUNK_SIZE, 0}, /* shared by every variant */
        {"base/1/2000", 3 * CHUNK_SIZE, variant + 1},
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        page[0] = (uint8_t)files[i].salt;
        page[CHUNK_SIZE] = (uint8_t)files[i].salt;
        page[2 * CHUNK_SIZE] = (uint8_t)files[i].salt;
        char *path = xasprintf("%s/%s", dir, files[i].name);
        assert_true(fs_write_file(path, i == 0 ? (const void *)"15\n" : page, files[i].len, 0600));
        free(path);
    }
    free(page);
    return dir;
}

/* The store path of a backup: copy into the chunk store, commit the packs, save the manifest. */
static bool store_backup(Repo *repo, const char *datadir, const char *id)
{
    DatadirList dl = {0};
    BackupCopyResult cr = {0};
    ChunkStore *cs = NULL;
    bool ok = datadir_walk(datadir, &dl) && chunkstore_open(repo, &cs) &&
              backup_copy(&dl, cs, (BackupCopyOpts){.jobs = 2, .chunk_size = CHUNK_SIZE}, &cr) &&
              chunkstore_flush(cs);
    if (ok) {
        Manifest m = {.id = (char *)id,
                      .source_node = "standby",
                      .system_id = SYSID,
                      .pg_version = 150000,
                      .tli = 1,
                      .start_lsn = SEG_SIZE + 40,
                      .stop_lsn = SEG_SIZE + 4096,
                      .start_time = 1.0e9,
                      .stop_time = 1.0e9 + 1,
                      .backup_label = "START TIMELINE: 1\n",
                      .tablespace_map = "",
                      .chunk_size = CHUNK_SIZE,
                      .files = cr.files,
                      .nfiles = cr.nfiles};
        ok = manifest_save(repo, &m);
    }
    backup_copy_result_free(&cr);
    datadir_list_free(&dl);
    chunkstore_close(cs);
    return ok;
}

/* The segment every backup here needs, archived without faults. */
static char *segment_path;

static bool op_wal_push(void)
{
    Repo *repo = NULL;
    WalPushResult res;
    bool ok = repo_open(&cfg, &repo) && walarchive_push(repo, segment_path, &res);
    repo_close(repo);
    return ok;
}

/* A new id each run, as backup_make_id gives: a torn manifest rename leaves its backup there. */
static bool op_backup(void)
{
    static unsigned runs;
    char *data = xasprintf("%s/data0", testrepo_root);
    char id[24];
    snprintf(id, sizeof(id), "20260101T0001%02uZ", runs++ % 60);
    Repo *repo = NULL;
    bool ok = repo_open(&cfg, &repo) && store_backup(repo, data, id);
    repo_close(repo);
    free(data);
    return ok;
}

static bool op_expire(void)
{
    ExpireResult r;
    Repo *repo = NULL;
    bool ok = repo_open(&cfg, &repo) && expire_run(repo, (ExpireOpts){.keep_backups = 1}, &r);
    repo_close(repo);
    return ok;
}

/* The repository each operation starts from (faults off). */
static void prepare(bool push_wal, int backups)
{
    Repo *repo = NULL;
    assert_true(repo_open(&cfg, &repo));
    WalPushResult res;
    if (push_wal)
        assert_true(walarchive_push(repo, segment_path, &res));
    static const char *const ids[] = {"20260101T000000Z", "20260101T000001Z"};
    for (int i = 0; i < backups; i++) {
        char *data = xasprintf("%s/data%d", testrepo_root, i + 1);
        assert_true(store_backup(repo, data, ids[i]));
        free(data);
    }
    repo_close(repo);
}

static void assert_verifies(const char *what)
{
    VerifyReport r = {0};
    Repo *repo = NULL;
    assert_true(repo_open(&cfg, &repo));
    assert_true(verify_run(repo, NULL, &r));
    repo_close(repo);
    if (r.problems.len > 0)
        fail_msg("%s: verify: %s", what, r.problems.items[0]);
    verify_report_free(&r);
}

typedef struct {
    const char *title;
    bool (*run)(void);
    bool push_wal; /* before the operation */
    int backups;   /* before the operation */
} FaultOp;

static const FaultOp fault_ops[] = {
    {"wal-push", op_wal_push, false, 0},
    {"backup store path", op_backup, true, 1},
    {"expire", op_expire, true, 2},
};

static void fresh_repo(void)
{
    char *cmd = xasprintf("rm -rf '%s/repo'", testrepo_root);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    assert_true(repo_create(
        &cfg,
        (RepoCreateOpts){.system_id = SYSID, .wal_seg_size = SEG_SIZE, .pg_version = 150000}));
}

static void run_op_faults(const FaultOp *op)
{
    for (FaultKind kind = FAULT_ENOSPC; kind <= FAULT_TORN_RENAME; kind++) {
        fresh_repo();
        prepare(op->push_wal, op->backups);
        faultstore_arm(kind, 0); /* count */
        assert_true(op->run());
        faultstore_disarm();
        unsigned calls = faultstore_calls();
        assert_verifies(op->title);
        print_message("%s, %s: %u calls to fail\n", op->title, fault_names[kind], calls);
        for (unsigned n = 1; n <= calls; n++) {
            fresh_repo();
            prepare(op->push_wal, op->backups);
            faultstore_arm(kind, n);
            err_clear();
            bool ok = op->run();
            faultstore_disarm();
            char what[128];
            snprintf(what, sizeof(what), "%s, %s at call %u", op->title, fault_names[kind], n);
            if (faultstore_fired() != 1)
                fail_msg("%s: the fault fired %u times", what, faultstore_fired());
            if (ok)
                fail_msg("%s: succeeded", what);
            if (err_code() != DD_EXIT_IO || !err_message()[0] || strchr(err_message(), '\n'))
                fail_msg("%s: error %d \"%s\"", what, err_code(), err_message());
            assert_verifies(what);
            if (!op->run()) /* and it works once the disk does */
                fail_msg("%s: the run after the fault failed: %s", what, err_message());
            assert_verifies(what);
        }
    }
}

static void test_wal_push(void **state)
{
    (void)state;
    run_op_faults(&fault_ops[0]);
}

static void test_backup(void **state)
{
    (void)state;
    run_op_faults(&fault_ops[1]);
}

static void test_expire(void **state)
{
    (void)state;
    run_op_faults(&fault_ops[2]);
}

static int setup(void **state)
{
    if (testrepo_setup(state) != 0)
        return -1;
    segment_path = make_segment(testrepo_root, 1);
    for (int v = 0; v < 3; v++)
        free(make_datadir(testrepo_root, v));
    return 0;
}

static int teardown(void **state)
{
    free(segment_path);
    return testrepo_teardown(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wal_push),
        cmocka_unit_test(test_backup),
        cmocka_unit_test(test_expire),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
