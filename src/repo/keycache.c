/*
 * keycache.c - see keycache.h.
 */
#include "repo/keycache.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/mem.h"

#define KEYCACHE_MAX (1u << 20) /* a cache larger than this is damaged */
#define MAGIC        "drydock-keycache 1\n"

char *keycache_path(const char *state_dir, const char *root)
{
    uint8_t h[SHA256_LEN];
    sha256(root, strlen(root), h);
    char hex[2 * SHA256_LEN + 1];
    sha256_hex(h, hex);
    return xasprintf("%s/keycache/%.16s", state_dir, hex);
}

const char *keycache_result_name(KeyCacheResult r)
{
    static const char *const names[] = {"hit", "miss", "stale", "refused", "damaged"};
    return r <= KEYCACHE_DAMAGED ? names[r] : "?";
}

static void hex_of(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* A lowercase hex digit's value (what keycache_store writes), else -1. */
static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Exactly 2n hex digits into out; no sscanf: a cache of many keys is parsed by every push. */
static bool hex_to(const char *s, size_t slen, uint8_t *out, size_t n)
{
    if (slen != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static void mac_of(const uint8_t kek[OBJ_KEY_LEN], const void *data, size_t len,
                   uint8_t out[SHA256_LEN])
{
    unsigned n = SHA256_LEN;
    HMAC(EVP_sha256(), kek, OBJ_KEY_LEN, data, len, out, &n);
}

/* Append a data key, the array growing by doubling (no search: see keycache_add). */
static void append(KeyCache *kc, const uint8_t id[OBJ_KEY_ID_LEN], const uint8_t key[OBJ_KEY_LEN])
{
    if (kc->nkeys == kc->cap) {
        size_t cap = kc->cap ? 2 * kc->cap : 8;
        KeyCacheEntry *keys = xcalloc(cap, sizeof(*keys));
        if (kc->nkeys) /* moved, and the old copy wiped, rather than left behind by realloc */
            memcpy(keys, kc->keys, kc->nkeys * sizeof(*keys));
        if (kc->keys)
            OPENSSL_cleanse(kc->keys, kc->cap * sizeof(*kc->keys));
        free(kc->keys);
        kc->keys = keys;
        kc->cap = cap;
    }
    memcpy(kc->keys[kc->nkeys].id, id, OBJ_KEY_ID_LEN);
    memcpy(kc->keys[kc->nkeys].key, key, OBJ_KEY_LEN);
    kc->nkeys++;
}

void keycache_add(KeyCache *kc, const uint8_t id[OBJ_KEY_ID_LEN], const uint8_t key[OBJ_KEY_LEN])
{
    for (size_t i = 0; i < kc->nkeys; i++)
        if (memcmp(kc->keys[i].id, id, OBJ_KEY_ID_LEN) == 0) {
            memcpy(kc->keys[i].key, key, OBJ_KEY_LEN);
            return;
        }
    append(kc, id, key);
}

void keycache_clear(KeyCache *kc)
{
    if (kc->keys)
        OPENSSL_cleanse(kc->keys, kc->cap * sizeof(*kc->keys));
    free(kc->keys);
    OPENSSL_cleanse(kc, sizeof(*kc));
}

/* ---- reading ---- */

/* The file's bytes, or a result other than HIT: invariant 2's owner and mode. */
static KeyCacheResult read_checked(const char *path, Buf *out)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        /* Absent, or another user's directory: none of ours. ELOOP: a symlink. */
        return errno == ENOENT || errno == EACCES ? KEYCACHE_MISS : KEYCACHE_REFUSED;
    struct stat st;
    KeyCacheResult r = KEYCACHE_HIT;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 07777 & ~(mode_t)0600) != 0)
        r = KEYCACHE_REFUSED;
    else if (st.st_size <= 0 || (uint64_t)st.st_size > KEYCACHE_MAX)
        r = KEYCACHE_DAMAGED;
    if (r == KEYCACHE_HIT) {
        buf_reserve(out, (size_t)st.st_size + 1);
        size_t got = 0;
        r = fs_pread_full(fd, out->data, (size_t)st.st_size, 0, &got, path) &&
                    got == (size_t)st.st_size
                ? KEYCACHE_HIT
                : KEYCACHE_DAMAGED;
        if (r != KEYCACHE_HIT)
            err_clear(); /* invariant 3: the caller derives the keys instead */
        out->len = got;
        out->data[got] = '\0';
    }
    close(fd);
    return r;
}

/* One "word hex" line into out; false if the line is not that. */
static bool field(const char *line, size_t len, const char *word, uint8_t *out, size_t n)
{
    size_t w = strlen(word);
    return len > w + 1 && strncmp(line, word, w) == 0 && line[w] == ' ' &&
           hex_to(line + w + 1, len - w - 1, out, n);
}

static bool parse_line(const char *line, size_t len, KeyCache *kc, unsigned *seen)
{
    KeyCacheEntry e;
    if (field(line, len, "current", kc->current, SHA256_LEN))
        *seen |= 1;
    else if (field(line, len, "kek", kc->kek, OBJ_KEY_LEN))
        *seen |= 2;
    else if (field(line, len, "name", kc->name, OBJ_KEY_LEN))
        *seen |= 4;
    else if (len > 11 && strncmp(line, "generation ", 11) == 0) {
        kc->generation = atoi(line + 11);
        *seen |= kc->generation > 0 ? 8 : 0;
    } else if (len == 4 + 2 * OBJ_KEY_ID_LEN + 1 + 2 * OBJ_KEY_LEN &&
               strncmp(line, "key ", 4) == 0 && line[4 + 2 * OBJ_KEY_ID_LEN] == ' ' &&
               hex_to(line + 4, 2 * OBJ_KEY_ID_LEN, e.id, OBJ_KEY_ID_LEN) &&
               hex_to(line + 5 + 2 * OBJ_KEY_ID_LEN, 2 * OBJ_KEY_LEN, e.key, OBJ_KEY_LEN))
        append(kc, e.id, e.key); /* the file's ids are distinct (keycache_store), and MACed */
    else
        return false;
    return true;
}

/* The fields of text[0, body) into kc; false if any line is not one. */
static bool parse_body(const char *text, size_t body, KeyCache *kc)
{
    size_t m = strlen(MAGIC);
    if (body < m || memcmp(text, MAGIC, m) != 0)
        return false;
    unsigned seen = 0;
    for (size_t at = m; at < body;) {
        const char *nl = memchr(text + at, '\n', body - at);
        if (!nl || !parse_line(text + at, (size_t)(nl - text - at), kc, &seen))
            return false;
        at = (size_t)(nl - text) + 1;
    }
    return seen == 15;
}

KeyCacheResult keycache_load(const char *path, const uint8_t current[SHA256_LEN], KeyCache *out)
{
    memset(out, 0, sizeof(*out));
    Buf b = {0};
    KeyCacheResult r = read_checked(path, &b);
    if (r != KEYCACHE_HIT) {
        buf_free(&b);
        return r;
    }
    const char *text = (const char *)b.data;
    /* The MAC is the last line: "mac <64 hex>\n". */
    size_t tail = 4 + 2 * SHA256_LEN + 1;
    uint8_t want[SHA256_LEN], got[SHA256_LEN];
    bool ok = b.len > tail && text[b.len - 1] == '\n' &&
              field(text + b.len - tail, tail - 1, "mac", want, SHA256_LEN) &&
              parse_body(text, b.len - tail, out);
    if (ok) {
        mac_of(out->kek, text, b.len - tail, got);
        ok = CRYPTO_memcmp(want, got, SHA256_LEN) == 0;
    }
    r = !ok ? KEYCACHE_DAMAGED
            : (CRYPTO_memcmp(out->current, current, SHA256_LEN) != 0 ? KEYCACHE_STALE
                                                                     : KEYCACHE_HIT);
    OPENSSL_cleanse(b.data, b.cap);
    buf_free(&b);
    if (r != KEYCACHE_HIT)
        keycache_clear(out);
    return r;
}

/* ---- writing ---- */

/* mkdir dir 0700 unless it exists. */
static bool make_dir(const char *dir)
{
    if (mkdir(dir, 0700) == 0 || errno == EEXIST)
        return true;
    return err_errno("could not create directory \"%s\"", dir);
}

static bool make_parents(const char *path)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    bool ok = true;
    if (slash && slash != dir) {
        *slash = '\0';
        char *up = strrchr(dir, '/');
        if (up && up != dir) {
            *up = '\0';
            ok = make_dir(dir);
            *up = '/';
        }
        ok = ok && make_dir(dir);
    }
    free(dir);
    return ok;
}

static void put_hex_line(Buf *b, const char *word, const uint8_t *v, size_t n)
{
    char hex[2 * SHA256_LEN + 1];
    hex_of(v, n, hex);
    buf_printf(b, "%s %s\n", word, hex);
}

bool keycache_store(const char *path, const KeyCache *kc)
{
    Buf b = {0};
    buf_printf(&b, "%s", MAGIC);
    put_hex_line(&b, "current", kc->current, SHA256_LEN);
    buf_printf(&b, "generation %d\n", kc->generation);
    put_hex_line(&b, "kek", kc->kek, OBJ_KEY_LEN);
    put_hex_line(&b, "name", kc->name, OBJ_KEY_LEN);
    for (size_t i = 0; i < kc->nkeys; i++) {
        char id[2 * OBJ_KEY_ID_LEN + 1], key[2 * OBJ_KEY_LEN + 1];
        hex_of(kc->keys[i].id, OBJ_KEY_ID_LEN, id);
        hex_of(kc->keys[i].key, OBJ_KEY_LEN, key);
        buf_printf(&b, "key %s %s\n", id, key);
        OPENSSL_cleanse(key, sizeof(key));
    }
    uint8_t mac[SHA256_LEN];
    mac_of(kc->kek, b.data, b.len, mac);
    put_hex_line(&b, "mac", mac, SHA256_LEN);
    bool ok = make_parents(path) && fs_replace_file(path, b.data, b.len, 0600, false);
    OPENSSL_cleanse(b.data, b.cap);
    buf_free(&b);
    return ok;
}
