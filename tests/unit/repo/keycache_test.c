/*
 * keycache_test.c - the host-side key cache (repo/keycache.h), the file on
 * its own and under the keyring:
 *   - a stored cache loads whole; against another keys/current it is stale;
 *   - a file not 0600, a symlink, a damaged or truncated file are refused or
 *     damaged, never a hit (table);
 *   - the keyring opens from the cache without the passphrase and without
 *     the key files, re-derives when the cache is stale, refused or damaged,
 *     and after a rotation elsewhere an old passphrase fails (fail closed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "repo/keycache.h"
#include "repo/keyring.h"
#include "unit/testdir.h"

static char root[64];
static char kid[KEYRING_ID_LEN + 1];

static int setup(void **state)
{
    (void)state;
    return testdir_make(root, sizeof(root), "keycache");
}

static int teardown(void **state)
{
    (void)state;
    return testdir_remove(root);
}

static void sample(KeyCache *kc, uint8_t seed)
{
    memset(kc, 0, sizeof(*kc));
    memset(kc->current, seed, SHA256_LEN);
    kc->generation = 3;
    memset(kc->kek, seed + 1, OBJ_KEY_LEN);
    memset(kc->name, seed + 2, OBJ_KEY_LEN);
    uint8_t id[OBJ_KEY_ID_LEN], key[OBJ_KEY_LEN];
    for (uint8_t i = 0; i < 3; i++) {
        memset(id, i + 10, sizeof(id));
        memset(key, i + 20, sizeof(key));
        keycache_add(kc, id, key);
    }
    keycache_add(kc, id, key); /* the same id again: replaced, not added */
}

static void test_round_trip_and_stale(void **state)
{
    (void)state;
    char *path = keycache_path(root, "s3://bucket/prefix");
    KeyCache kc, back;
    sample(&kc, 1);
    assert_true(keycache_store(path, &kc));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    char dir[256];
    snprintf(dir, sizeof(dir), "%s/keycache", root);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);

    assert_int_equal(keycache_load(path, kc.current, &back), KEYCACHE_HIT);
    assert_int_equal(back.generation, 3);
    assert_memory_equal(back.kek, kc.kek, OBJ_KEY_LEN);
    assert_memory_equal(back.name, kc.name, OBJ_KEY_LEN);
    assert_int_equal(back.nkeys, 3);
    assert_memory_equal(back.keys, kc.keys, 3 * sizeof(KeyCacheEntry));
    keycache_clear(&back);

    uint8_t other[SHA256_LEN];
    memset(other, 9, sizeof(other));
    assert_int_equal(keycache_load(path, other, &back), KEYCACHE_STALE);
    assert_int_equal(back.nkeys, 0);
    assert_null(back.keys);
    char *none = keycache_path(root, "s3://bucket/other");
    assert_int_equal(keycache_load(none, kc.current, &back), KEYCACHE_MISS);
    keycache_clear(&kc);
    free(none);
    free(path);
}

/* A cache of many keys (a busy primary's WAL periods) reads back whole and in order. */
static void test_many_keys(void **state)
{
    (void)state;
    char *path = keycache_path(root, "s3://bucket/many");
    KeyCache kc, back;
    sample(&kc, 5);
    for (unsigned i = 0; i < 2000; i++) {
        uint8_t id[OBJ_KEY_ID_LEN] = {0}, key[OBJ_KEY_LEN];
        memcpy(id, &i, sizeof(i));
        id[7] = 0xab; /* not one of sample()'s ids */
        for (size_t b = 0; b < OBJ_KEY_LEN; b++)
            key[b] = (uint8_t)(i * 7 + b * 13); /* every hex digit, both cases of nibble */
        keycache_add(&kc, id, key);
    }
    assert_int_equal(kc.nkeys, 2003);
    assert_true(keycache_store(path, &kc));
    assert_int_equal(keycache_load(path, kc.current, &back), KEYCACHE_HIT);
    assert_int_equal(back.nkeys, kc.nkeys);
    assert_memory_equal(back.keys, kc.keys, kc.nkeys * sizeof(KeyCacheEntry));
    /* Adding to a loaded cache replaces by id, or appends. */
    keycache_add(&back, kc.keys[1000].id, kc.keys[0].key);
    assert_int_equal(back.nkeys, kc.nkeys);
    assert_memory_equal(back.keys[1000].key, kc.keys[0].key, OBJ_KEY_LEN);
    keycache_clear(&back);
    keycache_clear(&kc);
    free(path);
}

/* What is done to a stored cache, and what loading it then gives. */
typedef struct {
    const char *title;
    mode_t mode;      /* chmod to this */
    long flip_at;     /* >= 0: xor one byte at this offset (< 0: from the end) */
    long truncate_to; /* >= 0: cut the file there */
    bool symlink;     /* replace the file by a symlink to a good copy */
    KeyCacheResult want;
} Case;

static const Case cases[] = {
    {"as stored", 0600, -9999, -1, false, KEYCACHE_HIT},
    {"read-only to its owner", 0400, -9999, -1, false, KEYCACHE_HIT},
    {"group-readable", 0640, -9999, -1, false, KEYCACHE_REFUSED},
    {"world-readable", 0644, -9999, -1, false, KEYCACHE_REFUSED},
    {"executable", 0700, -9999, -1, false, KEYCACHE_REFUSED},
    {"a symlink to a good copy", 0600, -9999, -1, true, KEYCACHE_REFUSED},
    {"a flipped byte in the magic", 0600, 3, -1, false, KEYCACHE_DAMAGED},
    {"a flipped byte in the KEK", 0600, 120, -1, false, KEYCACHE_DAMAGED},
    {"a flipped byte in the MAC", 0600, -5, -1, false, KEYCACHE_DAMAGED},
    {"truncated to half", 0600, -9999, 200, false, KEYCACHE_DAMAGED},
    {"empty", 0600, -9999, 0, false, KEYCACHE_DAMAGED},
};

static void apply(const Case *c, const char *path)
{
    Buf b = {0};
    bool found = false;
    assert_true(fs_read_file(path, &b, &found) && found);
    if (c->flip_at != -9999) {
        size_t at = c->flip_at >= 0 ? (size_t)c->flip_at : b.len - (size_t)(-c->flip_at);
        b.data[at] ^= 0x01;
    }
    if (c->truncate_to >= 0)
        b.len = (size_t)c->truncate_to;
    if (c->symlink) {
        char good[300];
        snprintf(good, sizeof(good), "%s.good", path);
        assert_int_equal(rename(path, good), 0);
        assert_int_equal(symlink(good, path), 0);
    } else {
        assert_true(fs_replace_file(path, b.data, b.len, 0600, false));
        assert_int_equal(chmod(path, c->mode), 0);
    }
    buf_free(&b);
}

static void test_refused_and_damaged(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const Case *c = &cases[i];
        char name[64];
        snprintf(name, sizeof(name), "case-%zu", i);
        char *path = keycache_path(root, name);
        KeyCache kc, back;
        sample(&kc, (uint8_t)(i + 1));
        assert_true(keycache_store(path, &kc));
        apply(c, path);
        KeyCacheResult got = keycache_load(path, kc.current, &back);
        if (got != c->want)
            fail_msg("%s: got %s, want %s", c->title, keycache_result_name(got),
                     keycache_result_name(c->want));
        if (got == KEYCACHE_HIT)
            assert_memory_equal(back.kek, kc.kek, OBJ_KEY_LEN);
        keycache_clear(&back);
        keycache_clear(&kc);
        free(path);
    }
}

/* ---- under the keyring ---- */

static void write_pass(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, 0600), 0);
}

static Storage *open_dir(const char *name)
{
    return testdir_storage(root, name);
}

/* An object under the data key "wal-1", written with kr. */
static void encode(Keyring *kr, Buf *obj)
{
    const ObjKeys *keys = NULL;
    assert_true(keyring_use(kr, "wal-1") && keyring_obj_keys(kr, true, &keys));
    assert_true(obj_encode_keyed(CODEC_NONE, 0, "segment", 7, NULL, NULL, keys, obj));
}

static void decodes(Keyring *kr, const Buf *obj)
{
    const ObjKeys *keys = NULL;
    Buf out = {0};
    assert_true(keyring_obj_keys(kr, false, &keys));
    if (!obj_decode_keyed(obj->data, obj->len, keys, &out, NULL))
        fail_msg("%s", err_message());
    assert_int_equal(out.len, 7);
    buf_free(&out);
}

/* Hide (or bring back) the key files of generation 1: an open that still works used the cache. */
static void hide_keys(bool hide)
{
    char keys[160], away[160];
    snprintf(keys, sizeof(keys), "%s/kr1/keys/g1", root);
    snprintf(away, sizeof(away), "%s/kr1-keys-away", root);
    assert_int_equal(hide ? rename(keys, away) : rename(away, keys), 0);
}

static void test_keyring_uses_cache(void **state)
{
    (void)state;
    char pass[160], pass_b[160], cache[160];
    snprintf(pass, sizeof(pass), "%s/pass", root);
    snprintf(pass_b, sizeof(pass_b), "%s/pass-b", root);
    snprintf(cache, sizeof(cache), "%s/state/keycache/r1", root);
    write_pass(pass, "cache me if you can\n");
    write_pass(pass_b, "cache me if you can\n");
    Storage *s = open_dir("kr1");
    KeySource src = {.pass_file = pass}, same_text = {.pass_file = pass_b};
    Keyring *kr = NULL;
    Buf obj = {0}, again = {0}, b = {0};
    assert_true(keyring_create(s, &src, kid));
    assert_true(keyring_open_cached(s, &src, cache, NULL, &kr));
    encode(kr, &obj); /* creates the data key, adds it to the cache */
    keyring_close(kr);

    /* No kdf, name or data key file read: everything comes from the cache. */
    hide_keys(true);
    assert_true(keyring_open_cached(s, &src, cache, NULL, &kr));
    decodes(kr, &obj);
    encode(kr, &again); /* the period's key, from the cache */
    decodes(kr, &again);
    keyring_close(kr);
    /* Another pass file, even with the same passphrase: not answered from the cache. */
    assert_false(keyring_open_cached(s, &same_text, cache, NULL, &kr));
    assert_int_equal(err_code(), DD_EXIT_REPO); /* it needed keys/g1/kdf */
    err_clear();

    /* Loose, then damaged: not used (the hidden key files prove it), then replaced whole. */
    assert_int_equal(chmod(cache, 0644), 0);
    assert_false(keyring_open_cached(s, &src, cache, NULL, &kr));
    err_clear();
    hide_keys(false);
    assert_true(keyring_open_cached(s, &src, cache, NULL, &kr));
    keyring_close(kr);
    struct stat st;
    assert_int_equal(stat(cache, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    bool found = false;
    assert_true(fs_read_file(cache, &b, &found) && found);
    b.data[b.len / 2] ^= 0x20;
    assert_true(fs_replace_file(cache, b.data, b.len, 0600, false));
    hide_keys(true);
    assert_false(keyring_open_cached(s, &src, cache, NULL, &kr));
    err_clear();
    hide_keys(false);
    assert_true(keyring_open_cached(s, &src, cache, NULL, &kr));
    decodes(kr, &obj); /* reads the data key again, into the new cache */
    keyring_close(kr);
    hide_keys(true);
    assert_true(keyring_open_cached(s, &src, cache, NULL, &kr)); /* whole again: a hit */
    decodes(kr, &obj);
    keyring_close(kr);
    hide_keys(false);

    /* A rotation from another host (no cache there): this host's cache is stale, and the
     * old passphrase it stood for is refused (fail closed). */
    KeySource two = {.pass_command = "echo the new passphrase"};
    size_t n = 0;
    int gen = 0;
    assert_true(keyring_open(s, &src, &kr));
    assert_true(keyring_rekey(kr, &two, &n, &gen));
    keyring_close(kr);
    assert_false(keyring_open_cached(s, &src, cache, NULL, &kr));
    assert_int_equal(err_code(), DD_EXIT_CONFIG);
    assert_non_null(strstr(err_message(), "does not unlock"));
    err_clear();
    assert_true(keyring_open_cached(s, &two, cache, NULL, &kr));
    decodes(kr, &obj);
    keyring_close(kr);

    /* A rotation on this host removes its cache at once. */
    assert_true(keyring_open_cached(s, &two, cache, NULL, &kr));
    assert_true(keyring_rekey(kr, &src, &n, &gen));
    keyring_close(kr);
    assert_int_equal(access(cache, F_OK), -1);
    buf_free(&b);
    buf_free(&obj);
    buf_free(&again);
    storage_free(s);
}

/* Move a repository file away and back (the hint path must not read it). */
static void hide(const char *rel, bool away)
{
    char a[200], b[200];
    snprintf(a, sizeof(a), "%s/kr2/%s", root, rel);
    snprintf(b, sizeof(b), "%s/kr2-away", root);
    assert_int_equal(away ? rename(a, b) : rename(b, a), 0);
}

static void test_keyring_hint(void **state)
{
    (void)state;
    char pass[160], cache[160];
    snprintf(pass, sizeof(pass), "%s/pass2", root);
    snprintf(cache, sizeof(cache), "%s/state/keycache/r2", root);
    write_pass(pass, "hinted\n");
    Storage *s = open_dir("kr2");
    KeySource src = {.pass_file = pass}, two = {.pass_command = "echo rotated"};
    char id[KEYRING_ID_LEN + 1];
    Keyring *kr = NULL;
    Buf obj = {0}, b = {0};
    assert_true(keyring_create(s, &src, id));
    assert_int_equal(strlen(id), KEYRING_ID_LEN);
    assert_true(keyring_open_cached(s, &src, cache, id, &kr)); /* a miss: derives, writes */
    assert_string_equal(keyring_id(kr), id);
    encode(kr, &obj);
    keyring_close(kr);

    /* With the hint and a warm cache, not even keys/current is read. */
    hide("keys", true);
    assert_true(keyring_open_cached(s, &src, cache, id, &kr));
    decodes(kr, &obj);
    encode(kr, &b); /* the cached period key */
    /* A data key the cache lacks needs the KEK: keys/current is read first (here: gone). */
    assert_false(keyring_use(kr, "wal-2"));
    assert_int_equal(err_code(), DD_EXIT_REPO);
    assert_non_null(strstr(err_message(), "keys/current"));
    err_clear();
    keyring_close(kr);
    hide("keys", false);

    /* A stale hint (drydock.repo not yet rewritten after a rotation elsewhere): the
     * cached data keys still read, but the next KEK use finds keys/current changed and
     * derives again, which the old passphrase cannot: fail closed. */
    size_t n = 0;
    int gen = 0;
    assert_true(keyring_open(s, &src, &kr));
    assert_true(keyring_rekey(kr, &two, &n, &gen));
    char id2[KEYRING_ID_LEN + 1];
    snprintf(id2, sizeof(id2), "%s", keyring_id(kr));
    assert_string_not_equal(id, id2);
    keyring_close(kr);
    assert_true(keyring_open_cached(s, &src, cache, id, &kr));
    decodes(kr, &obj);
    assert_false(keyring_use(kr, "wal-3"));
    assert_int_equal(err_code(), DD_EXIT_CONFIG);
    assert_non_null(strstr(err_message(), "does not unlock"));
    err_clear();
    keyring_close(kr);
    /* The new hint misses the old cache: derived from the new passphrase, then a hit. */
    assert_false(keyring_open_cached(s, &src, cache, id2, &kr));
    err_clear();
    assert_true(keyring_open_cached(s, &two, cache, id2, &kr));
    assert_true(keyring_use(kr, "wal-3"));
    decodes(kr, &obj); /* the derivation dropped the cached data keys: read again */
    keyring_close(kr);
    hide("keys", true);
    assert_true(keyring_open_cached(s, &two, cache, id2, &kr));
    decodes(kr, &obj);
    keyring_close(kr);
    hide("keys", false);
    buf_free(&obj);
    buf_free(&b);
    storage_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_and_stale), cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_refused_and_damaged),  cmocka_unit_test(test_keyring_uses_cache),
        cmocka_unit_test(test_keyring_hint),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
