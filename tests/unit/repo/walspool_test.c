/*
 * walspool_test.c - the pure parts of the wal-fetch prefetch spool: the
 * segments after a given one (across the log boundary, for several segment
 * sizes, and at the end of the WAL), which names are trusted, which files
 * use the spool; and its removal at the end of recovery, which stops a
 * running prefetcher and waits for one that is starting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "repo/walspool.h"

static void expect_next(const char *name, uint32_t seg_size, unsigned ahead, const char *want)
{
    char out[32];
    assert_true(walspool_next_name(name, seg_size, ahead, out));
    assert_string_equal(out, want);
}

static void test_next_within_log(void **state)
{
    (void)state;
    expect_next("000000010000000000000001", 16u << 20, 1, "000000010000000000000002");
    expect_next("000000010000000000000001", 16u << 20, 8, "000000010000000000000009");
    expect_next("00000003000000020000000A", 16u << 20, 6, "000000030000000200000010");
}

static void test_next_across_log_boundary(void **state)
{
    (void)state;
    /* 16 MiB segments: 256 per log file, the last is ...FF. */
    expect_next("0000000100000000000000FF", 16u << 20, 1, "000000010000000100000000");
    expect_next("0000000100000000000000FE", 16u << 20, 3, "000000010000000100000001");
    expect_next("00000002000000AB000000F9", 16u << 20, 8, "00000002000000AC00000001");
    /* 64 MiB segments: 64 per log file, the last is ...3F. */
    expect_next("00000001000000000000003F", 64u << 20, 1, "000000010000000100000000");
    /* 1 MiB segments: 4096 per log file. */
    expect_next("000000010000000000000FFF", 1u << 20, 2, "000000010000000100000001");
}

static void test_next_keeps_timeline(void **state)
{
    (void)state;
    char out[32];
    assert_true(walspool_next_name("0000000A00000000000000FF", 16u << 20, 1, out));
    assert_memory_equal(out, "0000000A", 8);
}

static void test_next_refuses_non_segments(void **state)
{
    (void)state;
    char out[32];
    assert_false(walspool_next_name("00000002.history", 16u << 20, 1, out));
    assert_false(walspool_next_name("000000010000000000000001.partial", 16u << 20, 1, out));
    assert_false(walspool_next_name("000000010000000000000001.00000028.backup", 16u << 20, 1, out));
    assert_false(walspool_next_name("RECOVERYXLOG", 16u << 20, 1, out));
    /* Past the last possible segment there is no next one. */
    assert_false(walspool_next_name("00000001FFFFFFFF000000FF", 16u << 20, 1, out));
}

static void test_trusted_names(void **state)
{
    (void)state;
    assert_true(walspool_is_segment("000000010000000000000001"));
    assert_true(walspool_is_segment("00000002000000AB000000F9"));
    assert_false(walspool_is_segment("000000010000000000000001.dd-tmp.1234"));
    assert_false(walspool_is_segment("prefetch.lock"));
    assert_false(walspool_is_segment("00000001000000000000000"));
    assert_false(walspool_is_segment("00000001000000000000000a"));
    assert_false(walspool_is_segment("."));
    assert_false(walspool_is_segment(".."));
}

static void test_spool_applies_to_segments_only(void **state)
{
    (void)state;
    /* The unit tests do not run in a data directory: nothing applies there. */
    assert_false(walspool_applies("000000010000000000000001"));
    assert_false(walspool_applies("00000002.history"));
    assert_false(walspool_applies("000000010000000000000001.partial"));
    assert_false(walspool_applies("not a wal name"));
    /* In a directory with pg_wal/ (a data directory) plain segments do. */
    char dir[] = "/tmp/walspool-test.XXXXXX";
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_non_null(mkdtemp(dir));
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(mkdir("pg_wal", 0700), 0);
    assert_true(walspool_applies("000000010000000000000001"));
    assert_false(walspool_applies("00000002.history"));
    assert_false(walspool_applies("000000010000000000000001.partial"));
    assert_int_equal(rmdir("pg_wal"), 0);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* A fake data directory with a spool holding a segment, a temp file and the lock. */
static void spool_setup(char *dir, char *cwd, size_t cwd_len)
{
    assert_non_null(getcwd(cwd, cwd_len));
    assert_non_null(mkdtemp(dir));
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(mkdir("pg_wal", 0700), 0);
    assert_int_equal(mkdir(WALSPOOL_DIR, 0700), 0);
    static const char *const files[] = {"000000010000000000000005",
                                        "000000010000000000000006.dd-tmp.123", "prefetch.lock"};
    for (size_t i = 0; i < 3; i++) {
        char path[128];
        snprintf(path, sizeof(path), "%s/%s", WALSPOOL_DIR, files[i]);
        int fd = open(path, O_WRONLY | O_CREAT, 0600);
        assert_true(fd >= 0);
        close(fd);
    }
}

static void spool_teardown(const char *dir, const char *cwd)
{
    assert_int_equal(rmdir("pg_wal"), 0); /* fails unless the spool is gone */
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void test_cleanup_removes_spool(void **state)
{
    (void)state;
    char dir[] = "/tmp/walspool-test.XXXXXX", cwd[4096];
    spool_setup(dir, cwd, sizeof(cwd));
    assert_true(walspool_cleanup());
    assert_int_equal(access(WALSPOOL_DIR, F_OK), -1);
    assert_true(walspool_cleanup()); /* no spool: nothing to do */
    spool_teardown(dir, cwd);
}

/*
 * A prefetcher in a child: takes the lock; with with_pid, writes its line
 * as a running prefetcher does and sleeps long; without, it is one that has
 * not written its pid yet: it sleeps a little, delivers a segment and exits.
 */
static pid_t fake_prefetcher(bool with_pid)
{
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(WALSPOOL_DIR "/prefetch.lock", O_RDWR);
        if (fd < 0 || flock(fd, LOCK_EX) != 0)
            _exit(1);
        char line[96];
        int len = snprintf(line, sizeof(line), "00000001 0000000000000006 000000000000000D %d\n",
                           (int)getpid());
        if (with_pid && pwrite(fd, line, (size_t)len, 0) != len)
            _exit(1);
        if (write(ready[1], "x", 1) != 1)
            _exit(1);
        usleep(with_pid ? 30 * 1000 * 1000 : 300 * 1000);
        int seg = open(WALSPOOL_DIR "/000000010000000000000007", O_WRONLY | O_CREAT, 0600);
        _exit(seg >= 0 ? 0 : 1);
    }
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    close(ready[1]);
    return pid;
}

static void test_cleanup_waits_for_starting_prefetcher(void **state)
{
    (void)state;
    char dir[] = "/tmp/walspool-test.XXXXXX", cwd[4096];
    spool_setup(dir, cwd, sizeof(cwd));
    pid_t pid = fake_prefetcher(false);
    /* The segment written just before the prefetcher exits must go too. */
    assert_true(walspool_cleanup());
    assert_int_equal(access(WALSPOOL_DIR, F_OK), -1);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    spool_teardown(dir, cwd);
}

static void test_cleanup_stops_running_prefetcher(void **state)
{
    (void)state;
    char dir[] = "/tmp/walspool-test.XXXXXX", cwd[4096];
    spool_setup(dir, cwd, sizeof(cwd));
    pid_t pid = fake_prefetcher(true);
    assert_true(walspool_cleanup());
    assert_int_equal(access(WALSPOOL_DIR, F_OK), -1);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status)); /* stopped, not left to finish its 30 s */
    assert_int_equal(WTERMSIG(status), SIGTERM);
    spool_teardown(dir, cwd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_within_log),
        cmocka_unit_test(test_next_across_log_boundary),
        cmocka_unit_test(test_next_keeps_timeline),
        cmocka_unit_test(test_next_refuses_non_segments),
        cmocka_unit_test(test_trusted_names),
        cmocka_unit_test(test_spool_applies_to_segments_only),
        cmocka_unit_test(test_cleanup_removes_spool),
        cmocka_unit_test(test_cleanup_waits_for_starting_prefetcher),
        cmocka_unit_test(test_cleanup_stops_running_prefetcher),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
