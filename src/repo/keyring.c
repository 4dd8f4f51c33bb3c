/*
 * keyring.c - see keyring.h.
 */
#include "repo/keyring.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/rand.h"
#include "common/timeutil.h"
#include "repo/keycache.h"

#define KEY_LEN  OBJ_KEY_LEN
#define WRAP_LEN (OBJ_NONCE_LEN + KEY_LEN + OBJ_TAG_LEN)
#define PASS_MAX 1024
#define SALT_LEN 16

struct Keyring {
    Storage *s;
    int gen;
    uint8_t kek[KEY_LEN];
    char source[300];
    ObjKeys keys;
    pthread_mutex_t mu;             /* guards kc */
    KeyCache kc;                    /* the data keys unwrapped so far (kc.keys) */
    size_t last;                    /* kc.keys index of the last key found: tried first */
    char *cache_path;               /* keycache.h; NULL: no host-side cache */
    uint8_t current[SHA256_LEN];    /* the cache's key: SHA-256 of the source and the id */
    bool cacheable;                 /* keys/current has an id (keycache.h invariant 1) */
    char id[KEYRING_ID_LEN + 1];    /* keys/current's id as this keyring knows it */
    bool verified;                  /* id and gen were read from keys/current, not a hint */
    char *pass_file, *pass_command; /* the source, to derive again (see verify_current) */
};

void keysource_describe(const KeySource *src, char *out, size_t len)
{
    if (src->pass_file)
        snprintf(out, len, "cipher-pass-file \"%s\"", src->pass_file);
    else
        snprintf(out, len, "cipher-pass-command \"%s\"",
                 src->pass_command ? src->pass_command : "");
}

/* ---- the passphrase and the KEK ---- */

static bool first_line(FILE *f, char *pass, const char *what)
{
    if (!fgets(pass, PASS_MAX, f))
        pass[0] = '\0';
    pass[strcspn(pass, "\r\n")] = '\0';
    if (!pass[0]) {
        err_set(DD_EXIT_CONFIG, "%s gave an empty passphrase", what);
        err_hint("the passphrase is the first line of the file or of the command's output");
        return false;
    }
    return true;
}

static bool read_pass(const KeySource *src, char *pass)
{
    char what[320];
    keysource_describe(src, what, sizeof(what));
    if (src->pass_file) {
        struct stat st;
        if (stat(src->pass_file, &st) != 0)
            return err_errno("could not read %s", what);
        if (st.st_mode & 077) {
            err_set(DD_EXIT_CONFIG, "%s has mode %04o, expected 0600", what,
                    (unsigned)(st.st_mode & 07777));
            err_hint("chmod 600 \"%s\"", src->pass_file);
            return false;
        }
        FILE *f = fopen(src->pass_file, "r");
        if (!f)
            return err_errno("could not read %s", what);
        bool ok = first_line(f, pass, what);
        fclose(f);
        return ok;
    }
    if (!src->pass_command) {
        err_set(DD_EXIT_CONFIG, "the repository is encrypted and no passphrase is configured");
        err_hint("set [repository] cipher-pass-file or cipher-pass-command");
        return false;
    }
    fflush(NULL);
    FILE *f = popen(src->pass_command, "r");
    if (!f)
        return err_errno("could not run %s", what);
    bool ok = first_line(f, pass, what);
    int status = pclose(f);
    if (ok && status != 0)
        ok = err_set(DD_EXIT_CONFIG, "%s failed (status %d)", what, status);
    return ok;
}

static bool derive_kek(const KeySource *src, const uint8_t *salt, uint64_t n, uint64_t r,
                       uint64_t p, uint8_t kek[KEY_LEN])
{
    char pass[PASS_MAX];
    if (!read_pass(src, pass))
        return false;
    bool ok =
        EVP_PBE_scrypt(pass, strlen(pass), salt, SALT_LEN, n, r, p, 256u << 20, kek, KEY_LEN) == 1;
    memset(pass, 0, sizeof(pass));
    return ok ? true : err_set(DD_EXIT_FAIL, "could not derive the key (scrypt, OpenSSL)");
}

/* ---- wrapping ---- */

static void to_hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static bool from_hex(const char *s, uint8_t *out, size_t n)
{
    if (!s || strlen(s) != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return false;
        out[i] = (uint8_t)v;
    }
    return true;
}

static bool gcm(bool enc, const uint8_t kek[KEY_LEN], const char *aad, const uint8_t *nonce,
                const uint8_t *in, uint8_t *out, uint8_t *tag)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n;
    bool ok = c && (enc ? EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, kek, nonce)
                        : EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, kek, nonce));
    if (enc)
        ok = ok && EVP_EncryptUpdate(c, NULL, &n, (const uint8_t *)aad, (int)strlen(aad)) &&
             EVP_EncryptUpdate(c, out, &n, in, KEY_LEN) && EVP_EncryptFinal_ex(c, out + n, &n) &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, OBJ_TAG_LEN, tag);
    else
        ok = ok && EVP_DecryptUpdate(c, NULL, &n, (const uint8_t *)aad, (int)strlen(aad)) &&
             EVP_DecryptUpdate(c, out, &n, in, KEY_LEN) &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, OBJ_TAG_LEN, tag) &&
             EVP_DecryptFinal_ex(c, out + n, &n) > 0;
    EVP_CIPHER_CTX_free(c);
    return ok;
}

/* hex(nonce | ciphertext | tag) of key, under kek, bound to aad. out: 2 * WRAP_LEN + 1. */
static void wrap(const uint8_t kek[KEY_LEN], const char *aad, const uint8_t key[KEY_LEN], char *out)
{
    uint8_t w[WRAP_LEN];
    rand_bytes(w, OBJ_NONCE_LEN);
    if (!gcm(true, kek, aad, w, key, w + OBJ_NONCE_LEN, w + OBJ_NONCE_LEN + KEY_LEN))
        abort(); /* AES-GCM with valid arguments cannot fail */
    to_hex(w, WRAP_LEN, out);
}

static bool unwrap(const uint8_t kek[KEY_LEN], const char *aad, const char *hex,
                   uint8_t key[KEY_LEN])
{
    uint8_t w[WRAP_LEN];
    if (!from_hex(hex, w, WRAP_LEN))
        return false;
    uint8_t tag[OBJ_TAG_LEN];
    memcpy(tag, w + OBJ_NONCE_LEN + KEY_LEN, OBJ_TAG_LEN);
    return gcm(false, kek, aad, w, w + OBJ_NONCE_LEN, key, tag);
}

/* ---- objects ---- */

static bool put_text(Storage *s, const char *path, const char *text)
{
    return storage_put(s, path, text, strlen(text), (StoragePutOpts){0});
}

static bool get_text(Storage *s, const char *path, char **out, bool *found)
{
    Buf b = {0};
    if (!storage_get(s, path, &b, found)) {
        buf_free(&b);
        return false;
    }
    buf_append(&b, "", 1);
    *out = (char *)b.data;
    return true;
}

static json_t *get_json(Storage *s, const char *path)
{
    char *text = NULL;
    bool found = false;
    if (!get_text(s, path, &text, &found))
        return NULL;
    json_t *j = found ? json_loads(text, 0, NULL) : NULL;
    free(text);
    if (!j)
        err_set(found ? DD_EXIT_CORRUPT : DD_EXIT_REPO, "key file \"%s/%s\" is %s", storage_root(s),
                path, found ? "not JSON" : "missing");
    return j;
}

/* A new generation's kdf file for src: salt, parameters, check. Returns the KEK. */
static bool write_kdf(Storage *s, int gen, const KeySource *src, uint8_t kek[KEY_LEN])
{
    uint8_t salt[SALT_LEN], zero[KEY_LEN] = {0};
    rand_bytes(salt, sizeof(salt));
    if (!derive_kek(src, salt, KEYRING_SCRYPT_N, KEYRING_SCRYPT_R, KEYRING_SCRYPT_P, kek))
        return false;
    char salt_hex[2 * SALT_LEN + 1], check[2 * WRAP_LEN + 1];
    to_hex(salt, SALT_LEN, salt_hex);
    wrap(kek, "check", zero, check);
    json_t *j =
        json_pack("{s:s, s:i, s:i, s:i, s:s, s:s}", "kdf", "scrypt", "n", KEYRING_SCRYPT_N, "r",
                  KEYRING_SCRYPT_R, "p", KEYRING_SCRYPT_P, "salt", salt_hex, "check", check);
    char *text = json_dumps(j, JSON_SORT_KEYS);
    char *path = xasprintf("keys/g%d/kdf", gen);
    bool ok = put_text(s, path, text);
    free(path);
    free(text);
    json_decref(j);
    return ok;
}

/* keys/current for generation gen, with a new random id (out: KEYRING_ID_LEN + 1). */
static bool write_current(Storage *s, int gen, json_t *rotations, char *id)
{
    char at[64];
    time_format(time_wall(), at, sizeof(at));
    rand_hex(id, KEYRING_ID_LEN / 2); /* keycache.h invariant 1: new with each generation */
    json_array_append_new(rotations, json_pack("{s:i, s:s}", "generation", gen, "at", at));
    json_t *j = json_pack("{s:i, s:s, s:O}", "generation", gen, "id", id, "rotations", rotations);
    char *text = json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(1));
    bool ok = put_text(s, "keys/current", text);
    free(text);
    json_decref(j);
    return ok;
}

static bool put_wrapped(Storage *s, int gen, const uint8_t kek[KEY_LEN], const char *file,
                        const uint8_t key[KEY_LEN])
{
    char hex[2 * WRAP_LEN + 1];
    wrap(kek, file, key, hex);
    char *path = xasprintf("keys/g%d/%s", gen, file);
    bool ok = put_text(s, path, hex);
    free(path);
    return ok;
}

bool keyring_create(Storage *s, const KeySource *src, char *id)
{
    uint8_t kek[KEY_LEN], name[KEY_LEN];
    rand_bytes(name, sizeof(name));
    json_t *rot = json_array();
    bool ok = write_kdf(s, 1, src, kek) && put_wrapped(s, 1, kek, "name", name) &&
              write_current(s, 1, rot, id);
    json_decref(rot);
    memset(kek, 0, sizeof(kek));
    memset(name, 0, sizeof(name));
    return ok;
}

/* ---- key files ---- */

static bool wrong_pass(Keyring *kr)
{
    err_set(DD_EXIT_CONFIG, "the passphrase from %s does not unlock repository \"%s\"", kr->source,
            storage_root(kr->s));
    err_hint("give the passphrase the repository was created or last rekeyed with");
    return false;
}

/* A data key by file name ("<16 hex>" or "name"); *found false when there is none. */
static bool load_wrapped(Keyring *kr, const char *file, uint8_t key[KEY_LEN], bool *found)
{
    char *path = xasprintf("keys/g%d/%s", kr->gen, file);
    char *text = NULL;
    bool ok = get_text(kr->s, path, &text, found);
    if (ok && *found && !unwrap(kr->kek, file, text, key))
        ok = err_set(DD_EXIT_CORRUPT, "key \"%s/%s\" is damaged: it does not unwrap",
                     storage_root(kr->s), path);
    free(text);
    free(path);
    return ok;
}

/* ---- the host-side cache (keycache.h) ---- */

/* Write the cache again with what kr holds now; a failure is only logged (invariant 3). */
static void cache_save(Keyring *kr)
{
    if (!kr->cache_path || !kr->cacheable)
        return;
    memcpy(kr->kc.current, kr->current, SHA256_LEN);
    kr->kc.generation = kr->gen;
    memcpy(kr->kc.kek, kr->kek, KEY_LEN);
    memcpy(kr->kc.name, kr->keys.name_key, KEY_LEN);
    if (!keycache_store(kr->cache_path, &kr->kc)) {
        log_debug("key cache not written: %s", err_message());
        err_clear();
    }
}

/* The KEK, name key and data keys from the cache, when it matches keys/current. */
static bool cache_open(Keyring *kr)
{
    if (!kr->cache_path || !kr->cacheable)
        return false;
    KeyCache kc;
    KeyCacheResult r = keycache_load(kr->cache_path, kr->current, &kc);
    if (r == KEYCACHE_REFUSED)
        log_warn("key cache \"%s\" is not a 0600 file of this user: not used, replaced",
                 kr->cache_path);
    else if (r == KEYCACHE_DAMAGED)
        log_warn("key cache \"%s\" is damaged: not used, replaced", kr->cache_path);
    else
        log_debug("key cache \"%s\": %s", kr->cache_path, keycache_result_name(r));
    if (r != KEYCACHE_HIT || (kr->verified && kc.generation != kr->gen)) {
        keycache_clear(&kc);
        return false;
    }
    kr->gen = kc.generation;
    memcpy(kr->kek, kc.kek, KEY_LEN);
    memcpy(kr->keys.name_key, kc.name, KEY_LEN);
    kr->kc = kc;
    return true;
}

/*
 * A data key by id. The cache of a busy primary holds a key per WAL period
 * ever pushed, and a restore looks one up per chunk, nearly always the
 * last one found: that one is tried first.
 */
static bool cache_find(Keyring *kr, const uint8_t id[OBJ_KEY_ID_LEN], uint8_t key[KEY_LEN])
{
    const KeyCache *kc = &kr->kc;
    if (kr->last < kc->nkeys && memcmp(kc->keys[kr->last].id, id, OBJ_KEY_ID_LEN) == 0) {
        memcpy(key, kc->keys[kr->last].key, KEY_LEN);
        return true;
    }
    for (size_t i = 0; i < kc->nkeys; i++)
        if (memcmp(kc->keys[i].id, id, OBJ_KEY_ID_LEN) == 0) {
            memcpy(key, kc->keys[i].key, KEY_LEN);
            kr->last = i;
            return true;
        }
    return false;
}

static void cache_add(Keyring *kr, const uint8_t id[OBJ_KEY_ID_LEN], const uint8_t key[KEY_LEN])
{
    keycache_add(&kr->kc, id, key);
    cache_save(kr);
}

/* ---- open, keys ---- */

static bool verify_current(Keyring *kr);

static bool lookup(void *ctx, const uint8_t id[OBJ_KEY_ID_LEN], uint8_t key[KEY_LEN])
{
    Keyring *kr = ctx;
    pthread_mutex_lock(&kr->mu);
    if (cache_find(kr, id, key)) {
        pthread_mutex_unlock(&kr->mu);
        return true;
    }
    char file[2 * OBJ_KEY_ID_LEN + 1];
    to_hex(id, OBJ_KEY_ID_LEN, file);
    bool found = false;
    bool ok = verify_current(kr) && load_wrapped(kr, file, key, &found);
    if (ok && !found)
        ok = err_set(DD_EXIT_CORRUPT, "data key %s of an object is not in \"%s/keys/g%d\"", file,
                     storage_root(kr->s), kr->gen);
    if (ok)
        cache_add(kr, id, key);
    pthread_mutex_unlock(&kr->mu);
    return ok;
}

/*
 * The passphrase source as the cache is bound to it (keycache.h invariant
 * 1): a file's path, identity, size, mode and change time (so that another
 * file, an edited or a loosened one makes the cache miss and the usual
 * checks run), a command's text. False when the file cannot be stat'ed.
 */
static bool source_fingerprint(const KeySource *src, Buf *out)
{
    struct stat st;
    if (!src->pass_file) {
        buf_printf(out, "command %s", src->pass_command ? src->pass_command : "");
        return true;
    }
    if (stat(src->pass_file, &st) != 0)
        return false;
    buf_printf(out, "file %s %ju %ju %jd %o %jd.%09ld %jd.%09ld", src->pass_file,
               (uintmax_t)st.st_dev, (uintmax_t)st.st_ino, (intmax_t)st.st_size,
               (unsigned)st.st_mode, (intmax_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
               (intmax_t)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
    return true;
}

/* Derive the KEK of the current generation from the passphrase, check it, unwrap the name key. */
static bool derive(Keyring *kr, const KeySource *src)
{
    json_t *kdf = NULL;
    json_int_t n = 0, r = 0, p = 0;
    const char *salt_hex = NULL, *check = NULL;
    uint8_t salt[SALT_LEN], zero[KEY_LEN];
    char *path = xasprintf("keys/g%d/kdf", kr->gen);
    bool ok = (kdf = get_json(kr->s, path)) != NULL;
    if (ok && (json_unpack(kdf, "{s:I, s:I, s:I, s:s, s:s}", "n", &n, "r", &r, "p", &p, "salt",
                           &salt_hex, "check", &check) != 0 ||
               !from_hex(salt_hex, salt, SALT_LEN) || n < 2 || n > (1 << 22) || r < 1 || r > 64 ||
               p < 1 || p > 16))
        ok = err_set(DD_EXIT_CORRUPT, "key file \"%s/%s\" is damaged", storage_root(kr->s), path);
    ok = ok && derive_kek(src, salt, (uint64_t)n, (uint64_t)r, (uint64_t)p, kr->kek);
    if (ok && !unwrap(kr->kek, "check", check, zero))
        ok = wrong_pass(kr);
    bool found = false;
    ok = ok && load_wrapped(kr, "name", kr->keys.name_key, &found);
    if (ok && !found)
        ok = err_set(DD_EXIT_CORRUPT, "the name key of \"%s\" is missing", storage_root(kr->s));
    free(path);
    json_decref(kdf);
    return ok;
}

/* kr->current from the source's fingerprint and id; false (no cache) when the file is gone. */
static bool cache_key(Keyring *kr, const char *id)
{
    KeySource src = {kr->pass_file, kr->pass_command};
    Buf b = {0};
    kr->cacheable = kr->cache_path && id && id[0] && source_fingerprint(&src, &b);
    if (kr->cacheable) {
        buf_printf(&b, "\n%s", id);
        sha256(b.data, b.len, kr->current);
    }
    buf_free(&b);
    return kr->cacheable;
}

/* Read keys/current: kr->gen, kr->id; the keyring is then verified. */
static bool read_current(Keyring *kr)
{
    json_t *cur = get_json(kr->s, "keys/current");
    json_int_t gen = 0;
    const char *id = NULL;
    bool ok = cur && json_unpack(cur, "{s:I}", "generation", &gen) == 0 && gen > 0;
    if (cur && !ok)
        err_set(DD_EXIT_CORRUPT, "key file \"%s/keys/current\" lacks its generation",
                storage_root(kr->s));
    if (ok) {
        kr->gen = (int)gen;
        id = json_string_value(json_object_get(cur, "id"));
        snprintf(kr->id, sizeof(kr->id), "%s", id && strlen(id) == KEYRING_ID_LEN ? id : "");
        kr->verified = true;
    }
    json_decref(cur);
    return ok;
}

/* Derive the keys from the passphrase, forget the data keys of before, write the cache. */
static bool derive_fresh(Keyring *kr)
{
    KeySource src = {kr->pass_file, kr->pass_command};
    keycache_clear(&kr->kc);
    if (!derive(kr, &src))
        return false;
    if (cache_key(kr, kr->id))
        cache_save(kr);
    return true;
}

/*
 * Before the KEK is used (a data key read from or added to the bucket, a
 * rotation), a keyring opened on a hint reads keys/current: if another
 * generation is current, the cached keys are dropped and derived again from
 * the passphrase, which fails if it is the rotated-out one (keycache.h
 * invariant 1). Called with kr->mu held or before threads start.
 */
static bool verify_current(Keyring *kr)
{
    if (kr->verified)
        return true;
    int gen = kr->gen;
    char id[KEYRING_ID_LEN + 1];
    memcpy(id, kr->id, sizeof(id));
    if (!read_current(kr))
        return false;
    if (kr->gen == gen && strcmp(kr->id, id) == 0)
        return true;
    log_debug("keys/current changed since the key cache was written: deriving the keys again");
    return derive_fresh(kr);
}

bool keyring_open_cached(Storage *s, const KeySource *src, const char *cache_path, const char *hint,
                         Keyring **out)
{
    Keyring *kr = xcalloc(1, sizeof(*kr));
    kr->s = s;
    pthread_mutex_init(&kr->mu, NULL);
    kr->cache_path = cache_path ? xstrdup(cache_path) : NULL;
    kr->pass_file = src->pass_file ? xstrdup(src->pass_file) : NULL;
    kr->pass_command = src->pass_command ? xstrdup(src->pass_command) : NULL;
    keysource_describe(src, kr->source, sizeof(kr->source));
    bool ok = true;
    /* The repository's metadata names the current id: on a hit no key object is read. */
    if (hint && strlen(hint) == KEYRING_ID_LEN && cache_key(kr, hint) && cache_open(kr)) {
        snprintf(kr->id, sizeof(kr->id), "%s", hint);
    } else {
        ok = read_current(kr);
        if (ok && (!cache_key(kr, kr->id) || !cache_open(kr)))
            ok = derive_fresh(kr);
    }
    kr->keys.lookup = lookup;
    kr->keys.ctx = kr;
    if (!ok) {
        keyring_close(kr);
        return false;
    }
    *out = kr;
    return true;
}

const char *keyring_id(const Keyring *kr)
{
    return kr->id;
}

bool keyring_open(Storage *s, const KeySource *src, Keyring **out)
{
    return keyring_open_cached(s, src, NULL, NULL, out);
}

void keyring_close(Keyring *kr)
{
    if (!kr)
        return;
    keycache_clear(&kr->kc);
    free(kr->cache_path);
    free(kr->pass_file);
    free(kr->pass_command);
    pthread_mutex_destroy(&kr->mu);
    OPENSSL_cleanse(kr, sizeof(*kr));
    free(kr);
}

static void key_id(const char *name, uint8_t id[OBJ_KEY_ID_LEN])
{
    uint8_t h[SHA256_LEN];
    char *text = xasprintf("drydock key %s", name);
    sha256(text, strlen(text), h);
    free(text);
    memcpy(id, h, OBJ_KEY_ID_LEN);
}

/* The data key of file: from the bucket, or new (invariant 1) and stored exclusively. */
static bool load_or_create(Keyring *kr, const char *file, uint8_t key[KEY_LEN])
{
    bool found = false;
    if (!load_wrapped(kr, file, key, &found))
        return false;
    if (found)
        return true;
    rand_bytes(key, KEY_LEN);
    char hex[2 * WRAP_LEN + 1];
    wrap(kr->kek, file, key, hex);
    char *path = xasprintf("keys/g%d/%s", kr->gen, file);
    bool ok = storage_put(kr->s, path, hex, strlen(hex), (StoragePutOpts){.exclusive = true});
    free(path);
    if (!ok && err_code() == DD_EXIT_CONFLICT) {
        /* Another process made it first: that one is the key. */
        err_clear();
        ok = load_wrapped(kr, file, key, &found);
        if (ok && !found)
            ok = err_set(DD_EXIT_REPO, "data key \"%s\" vanished while it was created", file);
    }
    return ok;
}

bool keyring_has(Keyring *kr, const char *name)
{
    uint8_t id[OBJ_KEY_ID_LEN], key[KEY_LEN];
    key_id(name, id);
    pthread_mutex_lock(&kr->mu);
    bool hit = cache_find(kr, id, key);
    pthread_mutex_unlock(&kr->mu);
    OPENSSL_cleanse(key, sizeof(key));
    return hit;
}

bool keyring_use(Keyring *kr, const char *name)
{
    uint8_t id[OBJ_KEY_ID_LEN], key[KEY_LEN];
    char file[2 * OBJ_KEY_ID_LEN + 1];
    key_id(name, id);
    to_hex(id, OBJ_KEY_ID_LEN, file);
    pthread_mutex_lock(&kr->mu);
    bool ok = cache_find(kr, id, key);
    if (!ok && (ok = verify_current(kr) && load_or_create(kr, file, key)))
        cache_add(kr, id, key);
    pthread_mutex_unlock(&kr->mu);
    if (ok) {
        memcpy(kr->keys.write_id, id, OBJ_KEY_ID_LEN);
        memcpy(kr->keys.write_key, key, KEY_LEN);
        kr->keys.have_write = true;
    }
    OPENSSL_cleanse(key, sizeof(key));
    return ok;
}

bool keyring_obj_keys(Keyring *kr, bool for_write, const ObjKeys **out)
{
    if (for_write && !kr->keys.have_write) {
        char name[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(name, sizeof(name), "default-%Y%m", &tm);
        if (!keyring_use(kr, name))
            return false;
    }
    *out = &kr->keys;
    return true;
}

/* ---- rotation ---- */

bool keyring_rekey(Keyring *kr, const KeySource *new_src, size_t *rewrapped, int *generation)
{
    if (!verify_current(kr))
        return false;
    int next = kr->gen + 1;
    uint8_t kek[KEY_LEN], key[KEY_LEN];
    char *dir = xasprintf("keys/g%d", kr->gen);
    StrList files = {0}, old = {0};
    json_t *cur = get_json(kr->s, "keys/current");
    json_t *rot = cur ? json_object_get(cur, "rotations") : NULL;
    bool ok = rot && json_is_array(rot) && storage_list(kr->s, dir, &files) &&
              write_kdf(kr->s, next, new_src, kek);
    *rewrapped = 0;
    for (size_t i = 0; ok && i < files.len; i++) {
        char *path = xasprintf("%s/%s", dir, files.items[i]);
        strlist_push(&old, path);
        free(path);
        if (strcmp(files.items[i], "kdf") == 0)
            continue;
        bool found = false;
        ok = load_wrapped(kr, files.items[i], key, &found) &&
             (!found || put_wrapped(kr->s, next, kek, files.items[i], key));
        *rewrapped += found;
    }
    /* Invariant 2: the switch, then the old generation goes. */
    char id[KEYRING_ID_LEN + 1];
    ok = ok && write_current(kr->s, next, rot, id) && storage_remove_many(kr->s, &old);
    if (ok) {
        memcpy(kr->kek, kek, KEY_LEN);
        kr->gen = next;
        memcpy(kr->id, id, sizeof(id));
        *generation = next;
        /* This host's cache is of the old generation: gone now, and on other hosts it
         * misses, keys/current having changed (keycache.h invariant 1). */
        kr->cacheable = false;
        if (kr->cache_path && !fs_remove(kr->cache_path)) {
            log_warn("%s", err_message());
            err_clear();
        }
    }
    memset(kek, 0, sizeof(kek));
    memset(key, 0, sizeof(key));
    json_decref(cur);
    strlist_free(&files);
    strlist_free(&old);
    free(dir);
    return ok;
}
