/*
 * chunkstore_test.c - chunks in packs: round trip, dedup, reopen, corruption
 * and missing chunks detected with their names, concurrent puts, gc, deltas,
 * and the reader's pack cache (hits, eviction order, damage, threads).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "repo/chunkstore.h"
#include "repo/object.h"
#include "unit/testrepo.h"

/* A chunk whose content depends on seed: compressible, distinct per seed. */
static void make_chunk(uint8_t *buf, size_t len, uint32_t seed)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)((i / 64) * 7 + seed * 13 + (i % 5 == 0 ? seed : 0));
    memcpy(buf, &seed, sizeof(seed));
}

static void put_chunk(ChunkStore *cs, uint32_t seed, uint8_t sha[SHA256_LEN], uint64_t *stored)
{
    uint8_t buf[8192];
    make_chunk(buf, sizeof(buf), seed);
    sha256(buf, sizeof(buf), sha);
    assert_true(chunkstore_put(cs, sha, buf, sizeof(buf), stored));
}

/* The test repository and its chunk store, open. */
static void store_open(Repo **repo, ChunkStore **cs)
{
    assert_true(repo_open(&cfg, repo));
    assert_true(chunkstore_open(*repo, cs));
}

static void store_close(Repo *repo, ChunkStore *cs)
{
    chunkstore_close(cs);
    repo_close(repo);
}

static void test_round_trip(void **state)
{
    (void)state;
    Repo *repo;
    ChunkStore *cs;
    store_open(&repo, &cs);
    uint8_t sha[3][SHA256_LEN];
    uint64_t stored;
    for (uint32_t i = 0; i < 3; i++) {
        put_chunk(cs, i, sha[i], &stored);
        assert_true(stored > OBJ_HEADER_LEN && stored < 8192);
    }
    put_chunk(cs, 1, sha[1], &stored); /* invariant 2: stored once */
    assert_int_equal(stored, 0);
    assert_false(chunkstore_has(cs, sha[0])); /* not committed yet */
    assert_true(chunkstore_flush(cs));
    assert_true(chunkstore_has(cs, sha[0]));
    chunkstore_close(cs);

    assert_true(chunkstore_open(repo, &cs));
    assert_int_equal(chunkstore_npacks(cs), 1);
    for (uint32_t i = 0; i < 3; i++) {
        uint8_t expect[8192];
        make_chunk(expect, sizeof(expect), i);
        Buf raw = {0};
        assert_true(chunkstore_has(cs, sha[i]));
        assert_true(chunkstore_get(cs, sha[i], &raw));
        assert_int_equal(raw.len, 8192);
        assert_memory_equal(raw.data, expect, 8192);
        buf_free(&raw);
    }
    store_close(repo, cs);
}

static void test_missing_chunk(void **state)
{
    (void)state;
    Repo *repo;
    ChunkStore *cs;
    store_open(&repo, &cs);
    uint8_t sha[SHA256_LEN];
    memset(sha, 0xab, sizeof(sha));
    Buf raw = {0};
    assert_false(chunkstore_get(cs, sha, &raw));
    assert_int_equal(err_code(), DD_EXIT_CORRUPT);
    char *expect = xasprintf("chunk abababababababababababababababababababababababababababababab"
                             "abab is not in any pack of repository \"%s\"",
                             cfg.repo_path);
    assert_string_equal(err_message(), expect);
    free(expect);
    store_close(repo, cs);
}

typedef struct {
    ChunkStore *cs;
    uint32_t base;
} Worker;

static void *worker(void *arg)
{
    Worker *w = arg;
    for (uint32_t i = 0; i < 200; i++) {
        uint8_t sha[SHA256_LEN];
        uint64_t stored;
        put_chunk(w->cs, 1000 + i % 150, sha, &stored); /* overlapping content */
    }
    return NULL;
}

static void test_concurrent_puts(void **state)
{
    (void)state;
    Repo *repo;
    ChunkStore *cs;
    store_open(&repo, &cs);
    uint64_t before_chunks, raw, stored;
    chunkstore_stats(cs, &before_chunks, &raw, &stored);
    pthread_t t[4];
    Worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (Worker){cs, (uint32_t)i};
        assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_true(chunkstore_flush(cs));
    uint64_t chunks;
    chunkstore_stats(cs, &chunks, &raw, &stored);
    assert_int_equal(chunks - before_chunks, 150); /* each distinct chunk once */
    store_close(repo, cs);
}

static void bad_cb(void *ctx, const uint8_t sha[SHA256_LEN], const char *message)
{
    (void)sha;
    (void)message;
    (*(int *)ctx)++;
}

static void test_corruption_detected(void **state)
{
    (void)state;
    Repo *repo;
    ChunkStore *cs;
    store_open(&repo, &cs);
    uint8_t sha[SHA256_LEN];
    uint64_t stored;
    put_chunk(cs, 77, sha, &stored);
    assert_true(chunkstore_flush(cs));
    size_t pi = chunkstore_npacks(cs) - 1;
    size_t n;
    const ChunkIndexEntry *e = chunkstore_pack_entries(cs, pi, &n);
    assert_int_equal(n, 1);
    /* flip a byte in the payload */
    char *path = xasprintf("%s/packs/%s.pack", cfg.repo_path, chunkstore_pack_name(cs, pi));
    assert_true(testrepo_flip(path, (long)(e[0].offset + OBJ_HEADER_LEN + 3), 0x40));
    Buf raw = {0};
    assert_false(chunkstore_get(cs, sha, &raw));
    assert_int_equal(err_code(), DD_EXIT_CORRUPT);
    char hex[SHA256_HEX_LEN + 1];
    sha256_hex(sha, hex);
    char *prefix = xasprintf("chunk %s in pack \"%s/packs/%s.pack\" is damaged: ", hex,
                             cfg.repo_path, chunkstore_pack_name(cs, pi));
    assert_memory_equal(err_message(), prefix, strlen(prefix));
    int bad = 0;
    assert_true(chunkstore_verify_pack(cs, pi, bad_cb, &bad));
    assert_int_equal(bad, 1);
    /* a damaged index is named by the lenient open (verify) */
    char *idx = xasprintf("%s/packs/%s.index", cfg.repo_path, chunkstore_pack_name(cs, pi));
    assert_true(testrepo_flip(idx, 60, 1));
    ChunkStore *cs2 = NULL;
    StrList damaged = {0};
    assert_true(chunkstore_open_lenient(repo, &cs2, &damaged)); /* invariant 8 */
    assert_int_equal(damaged.len, 1);
    assert_non_null(strstr(damaged.items[0], chunkstore_pack_name(cs, pi)));
    strlist_free(&damaged);
    chunkstore_close(cs2);
    unlink(idx); /* leave the store usable: this pack becomes garbage */
    free(idx);
    free(prefix);
    free(path);
    store_close(repo, cs);
}

/* Read chunk seed through rd and check it is the chunk put_chunk stored. */
static void reader_check(ChunkReader *rd, const uint8_t sha[SHA256_LEN], uint32_t seed)
{
    uint8_t expect[8192];
    make_chunk(expect, sizeof(expect), seed);
    Buf raw = {0};
    buf_append(&raw, "x", 1); /* appends after what the buffer holds */
    assert_true(chunkstore_reader_get(rd, sha, &raw));
    assert_int_equal(raw.len, 1 + 8192);
    assert_memory_equal(raw.data + 1, expect, 8192);
    buf_free(&raw);
}

/*
 * The reader keeps the last CHUNKSTORE_READER_PACKS packs open: a pack read
 * again is not reopened, the least recently used one is evicted first.
 */
static void test_reader_cache(void **state)
{
    (void)state;
    Repo *repo;
    ChunkStore *cs;
    store_open(&repo, &cs);
    enum { NP = CHUNKSTORE_READER_PACKS + 2 };
    uint8_t sha[NP][2][SHA256_LEN];
    uint64_t stored;
    for (uint32_t p = 0; p < NP; p++) { /* one pack per flush, two chunks each */
        put_chunk(cs, 7000 + 2 * p, sha[p][0], &stored);
        put_chunk(cs, 7001 + 2 * p, sha[p][1], &stored);
        assert_true(chunkstore_flush(cs));
    }
    ChunkReader *rd = chunkstore_reader_new(cs);
    static const struct {
        uint32_t pack, chunk;
        uint64_t opens; /* after the read */
    } steps[] = {
        {0, 0, 1}, {0, 1, 1},            /* same pack: opened once */
        {1, 0, 2}, {2, 1, 3}, {3, 0, 4}, /* the cache is full: 0 1 2 3 */
        {0, 1, 4},                       /* a hit makes 0 the most recent */
        {4, 0, 5},                       /* evicts 1, the least recently used */
        {0, 0, 5}, {2, 0, 5}, {3, 1, 5}, /* still open */
        {1, 1, 6},                       /* reopened, evicts 4 */
        {4, 1, 7},
    };
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        reader_check(rd, sha[steps[i].pack][steps[i].chunk],
                     7000 + 2 * steps[i].pack + steps[i].chunk);
        assert_int_equal(chunkstore_reader_opens(rd), steps[i].opens);
    }
    chunkstore_reader_free(rd);
    store_close(repo, cs);
}

/* A damaged chunk read through a reader fails as chunkstore_get does; the reader goes on. */
static void test_reader_damage(void **state)
{
    (void)state;
    Repo *repo;
    ChunkStore *cs;
    store_open(&repo, &cs);
    uint8_t good[SHA256_LEN], bad[SHA256_LEN], missing[SHA256_LEN];
    uint64_t stored;
    put_chunk(cs, 7100, good, &stored);
    put_chunk(cs, 7101, bad, &stored);
    assert_true(chunkstore_flush(cs));
    size_t pi = chunkstore_npacks(cs) - 1, n;
    const ChunkIndexEntry *e = chunkstore_pack_entries(cs, pi, &n);
    assert_int_equal(n, 2);
    char *path = xasprintf("%s/packs/%s.pack", cfg.repo_path, chunkstore_pack_name(cs, pi));
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, (long)(e[1].offset + e[1].stored_len - 3), SEEK_SET);
    fputc(0x33, f);
    fclose(f);
    ChunkReader *rd = chunkstore_reader_new(cs);
    reader_check(rd, good, 7100);
    Buf raw = {0};
    assert_false(chunkstore_reader_get(rd, bad, &raw));
    assert_int_equal(err_code(), DD_EXIT_CORRUPT);
    char hex[SHA256_HEX_LEN + 1];
    sha256_hex(bad, hex);
    char *prefix = xasprintf("chunk %s in pack \"%s/packs/%s.pack\" is damaged: ", hex,
                             cfg.repo_path, chunkstore_pack_name(cs, pi));
    assert_memory_equal(err_message(), prefix, strlen(prefix));
    assert_int_equal(raw.len, 0); /* nothing of a damaged chunk is kept */
    memset(missing, 0xcd, sizeof(missing));
    assert_false(chunkstore_reader_get(rd, missing, &raw));
    assert_int_equal(err_code(), DD_EXIT_CORRUPT);
    reader_check(rd, good, 7100);
    buf_free(&raw);
    free(prefix);
    free(path);
    chunkstore_reader_free(rd);
    store_close(repo, cs);
}

typedef struct {
    ChunkStore *cs;
    uint8_t (*sha)[SHA256_LEN];
    uint32_t n, seed;
} ReaderJob;

static void *reader_worker(void *arg)
{
    ReaderJob *job = arg;
    ChunkReader *rd = chunkstore_reader_new(job->cs);
    for (int round = 0; round < 3; round++)
        for (uint32_t i = 0; i < job->n; i++)
            reader_check(rd, job->sha[i], job->seed + i);
    chunkstore_reader_free(rd);
    return NULL;
}

/* Readers on several threads share one store, each with its own handles. */
static void test_reader_threads(void **state)
{
    (void)state;
    Repo *repo;
    ChunkStore *cs;
    store_open(&repo, &cs);
    enum { N = 12 };
    uint8_t sha[N][SHA256_LEN];
    uint64_t stored;
    for (uint32_t i = 0; i < N; i++) {
        put_chunk(cs, 7200 + i, sha[i], &stored);
        if (i % 2 == 1)
            assert_true(chunkstore_flush(cs));
    }
    ReaderJob job = {cs, sha, N, 7200};
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, reader_worker, &job), 0);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    store_close(repo, cs);
}

static bool live_even(void *ctx, const uint8_t sha[SHA256_LEN])
{
    (void)ctx;
    return sha[0] % 2 == 0;
}

static bool live_none(void *ctx, const uint8_t sha[SHA256_LEN])
{
    (void)ctx;
    (void)sha;
    return false;
}

static void test_gc(void **state)
{
    (void)state;
    Repo *repo;
    ChunkStore *cs;
    store_open(&repo, &cs);
    uint8_t sha[40][SHA256_LEN];
    uint64_t stored;
    for (uint32_t i = 0; i < 40; i++)
        put_chunk(cs, 5000 + i, sha[i], &stored);
    assert_true(chunkstore_flush(cs));
    ChunkGcStats st;
    assert_true(chunkstore_gc(cs, live_even, NULL, &st));
    chunkstore_close(cs);
    assert_true(chunkstore_open(repo, &cs));
    for (uint32_t i = 0; i < 40; i++) {
        Buf raw = {0};
        if (sha[i][0] % 2 == 0) {
            assert_true(chunkstore_get(cs, sha[i], &raw));
            assert_int_equal(raw.len, 8192);
        }
        buf_free(&raw);
    }
    assert_true(chunkstore_gc(cs, live_none, NULL, &st));
    chunkstore_close(cs);
    assert_true(chunkstore_open(repo, &cs));
    assert_int_equal(chunkstore_npacks(cs), 0);
    store_close(repo, cs);
}

static bool live_one(void *ctx, const uint8_t sha[SHA256_LEN])
{
    return memcmp(ctx, sha, SHA256_LEN) == 0;
}

/* Deltas: a chunk with one page changed stores about one page, reads back whole,
 * depends on its base (damage there is found), and keeps its base alive in gc. */
static void test_delta(void **state)
{
    (void)state;
    Repo *repo;
    ChunkStore *cs;
    store_open(&repo, &cs);
    enum { LEN = 8 * 8192 };
    static uint8_t base[LEN], next[LEN], third[LEN];
    for (size_t i = 0; i < LEN; i++)
        base[i] = (uint8_t)(i * 31 + (i >> 9) * 7 + (i >> 13));
    uint8_t sb[SHA256_LEN], sn[SHA256_LEN], st[SHA256_LEN];
    sha256(base, LEN, sb);
    uint64_t stored_base, stored;
    assert_true(chunkstore_put(cs, sb, base, LEN, &stored_base));
    assert_true(chunkstore_flush(cs));
    memcpy(next, base, LEN);
    for (int i = 0; i < 8192; i++)
        next[3 * 8192 + i] = (uint8_t)(i * 13 + 5);
    sha256(next, LEN, sn);
    assert_true(chunkstore_put_delta(cs, sn, next, LEN, sb, &stored));
    assert_true(stored > 0 && stored < 8192 + 200);
    /* half the pages changed or more: stored whole */
    memcpy(third, next, LEN);
    for (int p = 0; p < 5; p++)
        third[p * 8192 + 100] ^= 0x55;
    sha256(third, LEN, st);
    assert_true(chunkstore_put_delta(cs, st, third, LEN, sn, &stored));
    assert_true(chunkstore_flush(cs));
    chunkstore_close(cs);

    assert_true(chunkstore_open(repo, &cs));
    Buf raw = {0};
    assert_true(chunkstore_get(cs, sn, &raw));
    assert_int_equal(raw.len, LEN);
    assert_memory_equal(raw.data, next, LEN);
    raw.len = 0;
    assert_true(chunkstore_get(cs, st, &raw));
    assert_memory_equal(raw.data, third, LEN);
    ChunkReader *rd = chunkstore_reader_new(cs); /* the delta and its base, two packs */
    raw.len = 0;
    assert_true(chunkstore_reader_get(rd, sn, &raw));
    assert_int_equal(raw.len, LEN);
    assert_memory_equal(raw.data, next, LEN);
    assert_int_equal(chunkstore_reader_opens(rd), 2);
    raw.len = 0; /* read as a base (codec checksums, object.h invariant 7): the same bytes */
    assert_true(chunkstore_reader_get_base(rd, sn, &raw));
    assert_memory_equal(raw.data, next, LEN);
    chunkstore_reader_free(rd);
    /* gc with only the delta live keeps its base */
    ChunkGcStats gs;
    assert_true(chunkstore_gc(cs, live_one, sn, &gs));
    chunkstore_close(cs);
    assert_true(chunkstore_open(repo, &cs));
    assert_true(chunkstore_has(cs, sb));
    raw.len = 0;
    assert_true(chunkstore_get(cs, sn, &raw));
    assert_memory_equal(raw.data, next, LEN);
    /* damage in the base is damage in the delta */
    size_t n = 0;
    const ChunkIndexEntry *e = NULL;
    size_t pi = 0;
    for (pi = 0; pi < chunkstore_npacks(cs); pi++) {
        e = chunkstore_pack_entries(cs, pi, &n);
        size_t k;
        for (k = 0; k < n && memcmp(e[k].sha256, sb, SHA256_LEN) != 0; k++)
            ;
        if (k < n) {
            e = &e[k];
            break;
        }
    }
    assert_true(pi < chunkstore_npacks(cs));
    char *path = xasprintf("%s/packs/%s.pack", cfg.repo_path, chunkstore_pack_name(cs, pi));
    FILE *f = fopen(path, "r+b");
    fseek(f, (long)(e->offset + e->stored_len - 2), SEEK_SET);
    fputc(0x5a, f);
    fclose(f);
    free(path);
    raw.len = 0;
    assert_false(chunkstore_get(cs, sn, &raw));
    assert_int_equal(err_code(), DD_EXIT_CORRUPT);
    assert_non_null(strstr(err_message(), "its base chunk"));
    rd = chunkstore_reader_new(cs); /* and read as a base, the frame checksum finds it */
    raw.len = 0;
    assert_false(chunkstore_reader_get_base(rd, sn, &raw));
    assert_int_equal(err_code(), DD_EXIT_CORRUPT);
    chunkstore_reader_free(rd);
    buf_free(&raw);
    store_close(repo, cs);
}

/* Fill buf with bytes that do not compress (xorshift from seed). */
static void make_noise(uint8_t *buf, size_t len, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (uint8_t)x;
    }
}

/*
 * Liveness starts from the caller's chunks only (issue 16): a dead delta in a
 * pack that stays whole (mostly alive) does not keep its base's pack, and the
 * delta left without its base is absent. Failed before the fix: the dead
 * delta kept its base, so the base's pack (nothing in it needed) stayed.
 */
/* Deltas against several bases of one pack, through one reader: the pack is opened once
 * (copy.c's workers; on S3 that is a few windowed GETs instead of two per base). */
static void test_delta_bases_through_reader(void **state)
{
    (void)state;
    Repo *repo;
    ChunkStore *cs;
    store_open(&repo, &cs);
    enum { LEN = 8 * 8192, N = 6 };
    static uint8_t base[N][LEN], next[LEN];
    uint8_t sb[N][SHA256_LEN], sn[SHA256_LEN];
    uint64_t stored;
    for (int k = 0; k < N; k++) {
        for (size_t i = 0; i < LEN; i++)
            base[k][i] = (uint8_t)(i * 31 + (i >> 9) * 7 + (size_t)k * 101);
        sha256(base[k], LEN, sb[k]);
        assert_true(chunkstore_put(cs, sb[k], base[k], LEN, &stored));
    }
    assert_true(chunkstore_flush(cs));
    uint64_t deltas = chunkstore_delta_count(cs);
    ChunkReader *rd = chunkstore_reader_new(cs);
    for (int k = 0; k < N; k++) {
        memcpy(next, base[k], LEN);
        next[2 * 8192 + 7] ^= 0x5a;
        sha256(next, LEN, sn);
        assert_true(chunkstore_put_delta_with(cs, rd, sn, next, LEN, sb[k], &stored));
        assert_true(stored > 0 && stored < 8192 + 200); /* a delta */
    }
    assert_int_equal(chunkstore_delta_count(cs) - deltas, N);
    assert_int_equal(chunkstore_reader_opens(rd), 1);
    chunkstore_reader_free(rd);
    assert_true(chunkstore_flush(cs));
    Buf raw = {0};
    assert_true(chunkstore_get(cs, sn, &raw)); /* the last one reads back whole */
    assert_memory_equal(raw.data, next, LEN);
    buf_free(&raw);
    store_close(repo, cs);
}

static void test_gc_dead_delta_frees_base(void **state)
{
    (void)state;
    Repo *repo;
    ChunkStore *cs;
    store_open(&repo, &cs);
    enum { LEN = 8 * 8192 };
    static uint8_t base[LEN], next[LEN], kept[LEN];
    make_noise(base, LEN, 1);
    make_noise(kept, LEN, 2);
    memcpy(next, base, LEN);
    next[2 * 8192 + 7] ^= 0x40;
    uint8_t sb[SHA256_LEN], sn[SHA256_LEN], sk[SHA256_LEN];
    sha256(base, LEN, sb);
    sha256(next, LEN, sn);
    sha256(kept, LEN, sk);
    uint64_t stored;
    size_t n0 = chunkstore_npacks(cs);
    assert_true(chunkstore_put(cs, sb, base, LEN, &stored));
    assert_true(chunkstore_flush(cs));
    assert_true(chunkstore_put_delta(cs, sn, next, LEN, sb, &stored));
    assert_true(chunkstore_put(cs, sk, kept, LEN, &stored));
    assert_true(chunkstore_flush(cs));
    assert_int_equal(chunkstore_npacks(cs), n0 + 2);
    ChunkGcStats gs;
    assert_true(chunkstore_gc(cs, live_one, sk, &gs)); /* only "kept" is needed */
    chunkstore_close(cs);
    assert_true(chunkstore_open(repo, &cs));
    assert_int_equal(chunkstore_npacks(cs), 1);
    assert_true(chunkstore_has(cs, sk));
    assert_false(chunkstore_has(cs, sb));
    assert_false(chunkstore_has(cs, sn)); /* its base is gone: an orphan, absent */
    Buf raw = {0};
    assert_true(chunkstore_get(cs, sk, &raw));
    assert_memory_equal(raw.data, kept, LEN);
    buf_free(&raw);
    store_close(repo, cs);
}

/*
 * A damaged index costs its pack only (invariant 8, issue 16): the store
 * opens, the pack's chunks are absent, other packs' chunks read, a chunk put
 * again is stored again, and gc removes the pack. Failed before: the open
 * failed (exit 10) for every command.
 */
static void test_damaged_index(void **state)
{
    (void)state;
    Repo *repo;
    ChunkStore *cs;
    store_open(&repo, &cs);
    uint8_t sa[SHA256_LEN], sb[SHA256_LEN];
    uint64_t stored;
    put_chunk(cs, 7100, sa, &stored);
    assert_true(chunkstore_flush(cs));
    put_chunk(cs, 7200, sb, &stored);
    assert_true(chunkstore_flush(cs));
    size_t pb = chunkstore_npacks(cs) - 1;
    char *bname = xstrdup(chunkstore_pack_name(cs, pb));
    chunkstore_close(cs);
    char *idx = xasprintf("%s/packs/%s.index", cfg.repo_path, bname);
    char *pack = xasprintf("%s/packs/%s.pack", cfg.repo_path, bname);
    assert_true(testrepo_flip(idx, 70, 0x01));
    assert_true(chunkstore_open(repo, &cs));
    assert_true(chunkstore_has(cs, sa));
    assert_false(chunkstore_has(cs, sb));
    size_t found = SIZE_MAX;
    for (size_t i = 0; i < chunkstore_npacks(cs); i++)
        if (strcmp(chunkstore_pack_name(cs, i), bname) == 0)
            found = i;
    assert_true(found != SIZE_MAX && chunkstore_pack_damaged(cs, found));
    Buf raw = {0};
    assert_true(chunkstore_get(cs, sa, &raw));
    buf_free(&raw);
    put_chunk(cs, 7200, sb, &stored);
    assert_true(stored > 0); /* stored again */
    assert_true(chunkstore_flush(cs));
    ChunkGcStats gs;
    assert_true(chunkstore_gc(cs, live_none, NULL, &gs));
    chunkstore_close(cs);
    assert_int_equal(access(idx, F_OK), -1);
    assert_int_equal(access(pack, F_OK), -1);
    free(idx);
    free(pack);
    free(bname);
    assert_true(chunkstore_open(repo, &cs));
    store_close(repo, cs);
}

/* A delta whose base's pack is gone (a kill in gc) is treated as absent and stored again. */
static void test_orphan_delta(void **state)
{
    (void)state;
    Repo *repo;
    ChunkStore *cs;
    store_open(&repo, &cs);
    enum { LEN = 4 * 8192 };
    static uint8_t base[LEN], next[LEN];
    for (size_t i = 0; i < LEN; i++)
        base[i] = (uint8_t)(i * 17 + (i >> 10) + 99);
    memcpy(next, base, LEN);
    next[8192 + 5] ^= 0x77;
    uint8_t sb[SHA256_LEN], sn[SHA256_LEN];
    sha256(base, LEN, sb);
    sha256(next, LEN, sn);
    uint64_t stored;
    assert_true(chunkstore_put(cs, sb, base, LEN, &stored));
    assert_true(chunkstore_flush(cs));
    size_t base_pack = chunkstore_npacks(cs) - 1;
    char *bname = xstrdup(chunkstore_pack_name(cs, base_pack));
    assert_true(chunkstore_put_delta(cs, sn, next, LEN, sb, &stored));
    assert_true(chunkstore_flush(cs));
    chunkstore_close(cs);
    char *cmd = xasprintf("rm %s/packs/%s.index %s/packs/%s.pack", cfg.repo_path, bname,
                          cfg.repo_path, bname);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(bname);
    assert_true(chunkstore_open(repo, &cs));
    assert_false(chunkstore_has(cs, sn));
    Buf raw = {0};
    assert_false(chunkstore_get(cs, sn, &raw));
    assert_true(chunkstore_put_delta(cs, sn, next, LEN, sb, &stored));
    assert_true(stored > 0); /* stored again, whole: its base is gone */
    assert_true(chunkstore_flush(cs));
    assert_true(chunkstore_has(cs, sn));
    assert_true(chunkstore_get(cs, sn, &raw));
    assert_memory_equal(raw.data, next, LEN);
    buf_free(&raw);
    chunkstore_close(cs);
    assert_true(chunkstore_open(repo, &cs));
    assert_true(chunkstore_get(cs, sn, &raw)); /* the new copy wins after a reopen too */
    buf_free(&raw);
    store_close(repo, cs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_missing_chunk),
        cmocka_unit_test(test_concurrent_puts),
        cmocka_unit_test(test_corruption_detected),
        cmocka_unit_test(test_gc),
        cmocka_unit_test(test_delta),
        cmocka_unit_test(test_orphan_delta),
        cmocka_unit_test(test_gc_dead_delta_frees_base),
        cmocka_unit_test(test_damaged_index),
        cmocka_unit_test(test_reader_cache),
        cmocka_unit_test(test_reader_damage),
        cmocka_unit_test(test_reader_threads),
        cmocka_unit_test(test_delta_bases_through_reader),
    };
    return cmocka_run_group_tests(tests, testrepo_setup, testrepo_teardown);
}
