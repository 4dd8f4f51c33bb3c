/*
 * walrecv_test.c - wal-receive's spool without a server: --flush-partial
 * archives the unfinished segment zero-filled (after the complete segments
 * that wait), refuses a spool a receiver holds, and a receiver that cannot
 * reach its server retries until stopped, then says "stopped".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/endian.h"
#include "common/fsutil.h"
#include "common/timeutil.h"
#include "repo/walarchive.h"
#include "repo/walrecv.h"
#include "repo/walrecvstat.h"
#include "unit/testrepo.h"

#define SEG (16u << 20)

/* len bytes of segment segno (timeline 1) with a long page header of system 42. */
static uint8_t *segment_bytes(uint64_t segno, size_t len)
{
    uint8_t *b = xcalloc(1, len);
    le_put16(b, WAL_PAGE_MAGIC_PG15);
    le_put16(b + 2, 0x0002);
    le_put32(b + 4, 1);
    le_put64(b + 8, segno * SEG);
    le_put64(b + 24, 42);
    le_put32(b + 32, SEG);
    le_put32(b + 36, 8192);
    for (size_t i = WAL_LONG_HEADER_LEN; i < len; i++)
        b[i] = (uint8_t)(i * 7 + 1);
    return b;
}

static void spool_put(const char *spool, const char *name, uint64_t segno, size_t len)
{
    char *path = xasprintf("%s/%s", spool, name);
    uint8_t *b = segment_bytes(segno, len);
    assert_true(fs_write_file(path, b, len, 0600));
    free(b);
    free(path);
}

static Buf fetch(Repo *repo, const char *name, bool *found)
{
    char *dest = xasprintf("%s/fetched", testrepo_root);
    Buf b = {0};
    assert_true(walarchive_fetch(repo, name, dest, found));
    bool f2 = false;
    if (*found)
        assert_true(fs_read_file(dest, &b, &f2));
    unlink(dest);
    free(dest);
    return b;
}

static void test_flush_partial(void **state)
{
    (void)state;
    Repo *repo = NULL;
    assert_true(repo_open(&cfg, &repo));
    char *spool = xasprintf("%s/spool", testrepo_root);
    char pushed[64];

    /* A spool with nothing unfinished: nothing to do. */
    assert_true(walrecv_flush_partial(repo, spool, pushed, sizeof(pushed)));
    assert_string_equal(pushed, "");

    /* A complete segment waiting, and the unfinished one after it. */
    spool_put(spool, "000000010000000000000004", 4, SEG);
    spool_put(spool, "000000010000000000000005.partial", 5, 10000);
    assert_true(walrecv_flush_partial(repo, spool, pushed, sizeof(pushed)));
    assert_string_equal(pushed, "000000010000000000000005.partial");

    bool found = false;
    Buf whole = fetch(repo, "000000010000000000000004", &found);
    assert_true(found);
    assert_int_equal(whole.len, SEG);
    buf_free(&whole);
    char *left = xasprintf("%s/000000010000000000000004", spool);
    assert_int_not_equal(access(left, F_OK), 0); /* pushed, so gone from the spool */
    free(left);

    Buf part = fetch(repo, "000000010000000000000005.partial", &found);
    assert_true(found);
    assert_int_equal(part.len, SEG); /* zero-filled to a whole segment */
    uint8_t *want = segment_bytes(5, 10000);
    assert_memory_equal(part.data, want, 10000);
    for (size_t i = 10000; i < SEG; i += 4096)
        assert_int_equal(part.data[i], 0);
    free(want);
    buf_free(&part);
    char *kept = xasprintf("%s/000000010000000000000005.partial", spool);
    assert_int_equal(access(kept, F_OK), 0); /* the spool keeps its .partial */
    free(kept);

    /* Again with the same bytes: already archived, accepted. */
    assert_true(walrecv_flush_partial(repo, spool, pushed, sizeof(pushed)));
    free(spool);
    repo_close(repo);
}

static void test_spool_locked(void **state)
{
    (void)state;
    Repo *repo = NULL;
    assert_true(repo_open(&cfg, &repo));
    char *spool = xasprintf("%s/spool-held", testrepo_root);
    char *lock = xasprintf("%s/lock", spool);
    char pushed[64];
    assert_true(walrecv_flush_partial(repo, spool, pushed, sizeof(pushed))); /* creates it */
    int fd = open(lock, O_RDWR);
    assert_true(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0);
    assert_false(walrecv_flush_partial(repo, spool, pushed, sizeof(pushed)));
    assert_int_equal(err_code(), DD_EXIT_LOCKED);
    char want[256];
    snprintf(want, sizeof(want), "the wal-receive spool \"%s\" is in use by another wal-receive",
             spool);
    assert_string_equal(err_message(), want);
    err_clear();
    close(fd);
    free(lock);
    free(spool);
    repo_close(repo);
}

static volatile sig_atomic_t stop_flag;

static void *stop_later(void *arg)
{
    (void)arg;
    time_sleep(1.5);
    stop_flag = 1;
    return NULL;
}

static void test_unreachable_server(void **state)
{
    (void)state;
    Repo *repo = NULL;
    assert_true(repo_open(&cfg, &repo));
    char *spool = xasprintf("%s/spool-run", testrepo_root);
    WalRecvOpts o = {.conninfo = "host=127.0.0.1 port=1 user=nobody connect_timeout=2",
                     .slot = "drydock",
                     .app_name = "test",
                     .spool = spool,
                     .status_interval = 1};
    pthread_t t;
    stop_flag = 0;
    pthread_create(&t, NULL, stop_later, NULL);
    assert_true(walrecv_run(repo, &o, &stop_flag)); /* retries until stopped */
    pthread_join(t, NULL);
    WalRecvStat s;
    bool found = false;
    assert_true(walrecvstat_read(spool, &s, &found));
    assert_true(found);
    assert_string_equal(s.state, "stopped");
    assert_string_equal(s.slot, "drydock");
    assert_int_equal(s.pid, getpid());
    assert_false(walrecvstat_running(&s));
    free(spool);
    repo_close(repo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flush_partial),
        cmocka_unit_test(test_spool_locked),
        cmocka_unit_test(test_unreachable_server),
    };
    return cmocka_run_group_tests(tests, testrepo_setup, testrepo_teardown);
}
