/*
 * repo.c - see repo.h.
 */
#include "repo/repo.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "pg/wal.h"
#include "repo/keycache.h"
#include "repo/metacache.h"
#include "repo/object.h"

struct Repo {
    Storage *storage;
    char *path;
    uint64_t system_id;
    uint32_t wal_seg_size;
    uint32_t pg_version;
    Codec codec;
    int level;
    Keyring *keyring; /* encrypted repositories only */
};

static bool cipher_on(const Config *cfg)
{
    return cfg->cipher && strcmp(cfg->cipher, "aes-256-gcm") == 0;
}

KeySource repo_key_source(const Config *cfg)
{
    return (KeySource){cfg->cipher_pass_file, cfg->cipher_pass_command};
}

/* cipher = aes-256-gcm needs exactly one passphrase source. */
static bool cipher_config_check(const Config *cfg)
{
    if (!cipher_on(cfg))
        return true;
    if (!cfg->cipher_pass_file == !cfg->cipher_pass_command) {
        err_set(DD_EXIT_CONFIG,
                "configuration file \"%s\": [repository] cipher = aes-256-gcm "
                "needs one of cipher-pass-file and cipher-pass-command",
                cfg->file);
        err_hint("a 0600 file holding the passphrase, or a command that prints it");
        return false;
    }
    return true;
}

bool repo_storage_config(const Config *cfg, StorageConfig *out)
{
    memset(out, 0, sizeof(*out));
    if (!cfg->repo_type || strcmp(cfg->repo_type, "s3") != 0) {
        if (!config_require(cfg, "repository", "path", cfg->repo_path))
            return false;
        out->type = STORAGE_POSIX;
        out->path = cfg->repo_path;
        return true;
    }
    if (!config_require(cfg, "repository", "s3-endpoint", cfg->s3_endpoint) ||
        !config_require(cfg, "repository", "s3-bucket", cfg->s3_bucket))
        return false;
    out->type = STORAGE_S3;
    out->s3.endpoint = cfg->s3_endpoint;
    out->s3.bucket = cfg->s3_bucket;
    out->s3.region = cfg->s3_region;
    out->s3.prefix = cfg->s3_prefix ? cfg->s3_prefix : "";
    out->s3.host_style = cfg->s3_uri_style && strcmp(cfg->s3_uri_style, "host") == 0;
    out->s3.credentials_file = cfg->s3_credentials_file;
    out->s3.ca_file = cfg->s3_ca_file;
    out->s3.no_verify_tls = cfg->s3_verify_tls && strcmp(cfg->s3_verify_tls, "no") == 0;
    out->s3.retry_timeout = cfg->s3_retry_timeout;
    out->s3.lock_lease = cfg->s3_lock_lease;
    /* config_state_dir()'s answer for a bucket, without allocating it */
    out->s3.state_dir = cfg->state_dir ? cfg->state_dir : "/var/lib/drydock/state";
    return true;
}

static bool repo_storage_open(const Config *cfg, Storage **out)
{
    StorageConfig sc;
    return repo_storage_config(cfg, &sc) && storage_open(&sc, out);
}

bool repo_create(const Config *cfg, RepoCreateOpts opts)
{
    Storage *s = NULL;
    bool exists, empty;
    if (!repo_storage_open(cfg, &s) || !storage_root_state(s, &exists, &empty)) {
        storage_free(s);
        return false;
    }
    if (exists && !empty) {
        err_set(DD_EXIT_REPO, "repository \"%s\" is not empty", storage_root(s));
        err_hint("give an empty or new directory or prefix; drydock never overwrites a repository");
        storage_free(s);
        return false;
    }
    char created[64];
    time_format(time_wall(), created, sizeof(created));
    char sysid[32];
    snprintf(sysid, sizeof(sysid), "%" PRIu64, opts.system_id);
    json_t *meta =
        json_pack("{s:i, s:s, s:i, s:i, s:s}", "format", REPO_FORMAT, "system-identifier", sysid,
                  "wal-segment-size", (json_int_t)opts.wal_seg_size, "pg-version",
                  (json_int_t)opts.pg_version, "created", created);
    KeySource src = repo_key_source(cfg);
    char keys_id[KEYRING_ID_LEN + 1] = "";
    /* The keys first: a repository exists once its metadata does. */
    bool ok = cipher_config_check(cfg) && storage_root_create(s) &&
              (!cipher_on(cfg) || keyring_create(s, &src, keys_id));
    if (cipher_on(cfg)) {
        json_object_set_new(meta, "cipher", json_string("aes-256-gcm"));
        json_object_set_new(meta, "keys", json_string(keys_id));
    }
    char *text = json_dumps(meta, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(meta);
    Buf obj = {0};
    ok = ok && obj_encode(CODEC_NONE, 0, text, strlen(text), NULL, NULL, &obj) &&
         storage_put(s, REPO_META_FILE, obj.data, obj.len, (StoragePutOpts){.exclusive = true});
    free(text);
    storage_free(s);
    buf_free(&obj);
    return ok;
}

/* The metadata's cipher against the configuration's; opens the keyring (hint: its "keys"). */
static bool repo_cipher_open(Repo *repo, const Config *cfg, const char *cipher, const char *hint)
{
    bool encrypted = cipher && strcmp(cipher, "aes-256-gcm") == 0;
    if (cipher && !encrypted)
        return err_set(DD_EXIT_REPO,
                       "repository \"%s\" uses cipher \"%s\", which this drydock "
                       "does not know",
                       repo->path, cipher);
    if (encrypted != cipher_on(cfg)) {
        err_set(DD_EXIT_CONFIG, "repository \"%s\" is %s, but [repository] cipher is %s in \"%s\"",
                repo->path, encrypted ? "encrypted (aes-256-gcm)" : "not encrypted",
                cfg->cipher ? cfg->cipher : "none", cfg->file);
        err_hint("the cipher is chosen at repo-create; set cipher to what the repository uses");
        return false;
    }
    if (!encrypted)
        return true;
    KeySource src = repo_key_source(cfg);
    char *cache = NULL;
    if (!cfg->cipher_key_cache || strcmp(cfg->cipher_key_cache, "off") != 0) {
        char *dir = config_state_dir(cfg);
        cache = keycache_path(dir, repo->path);
        free(dir);
    }
    bool ok = cipher_config_check(cfg) &&
              keyring_open_cached(repo->storage, &src, cache, hint, &repo->keyring);
    free(cache);
    return ok;
}

static bool repo_meta_parse(Repo *repo, const Config *cfg, const Buf *raw)
{
    json_error_t jerr;
    json_t *meta = json_loadb((const char *)raw->data, raw->len, 0, &jerr);
    if (!meta)
        return err_set(DD_EXIT_CORRUPT, "repository metadata \"%s/%s\" is not JSON: %s", repo->path,
                       REPO_META_FILE, jerr.text);
    json_int_t format = 0, seg = 0, ver = 0;
    const char *sysid = NULL;
    bool ok = json_unpack(meta, "{s:I, s:s, s:I, s:I}", "format", &format, "system-identifier",
                          &sysid, "wal-segment-size", &seg, "pg-version", &ver) == 0;
    if (!ok) {
        json_decref(meta);
        return err_set(DD_EXIT_CORRUPT, "repository metadata \"%s/%s\" lacks a required field",
                       repo->path, REPO_META_FILE);
    }
    if (format != REPO_FORMAT) {
        json_decref(meta);
        err_set(DD_EXIT_REPO, "repository \"%s\" has format %lld, this drydock uses format %d",
                repo->path, (long long)format, REPO_FORMAT);
        err_hint("use the drydock version that created it");
        return false;
    }
    char *end = NULL;
    repo->system_id = strtoull(sysid, &end, 10);
    ok = end && *end == '\0' && wal_seg_size_valid((uint64_t)seg);
    repo->wal_seg_size = (uint32_t)seg;
    repo->pg_version = (uint32_t)ver;
    if (!ok) {
        json_decref(meta);
        return err_set(DD_EXIT_CORRUPT, "repository metadata \"%s/%s\" has invalid values",
                       repo->path, REPO_META_FILE);
    }
    const char *cipher = json_string_value(json_object_get(meta, "cipher"));
    ok = repo_cipher_open(repo, cfg, cipher, json_string_value(json_object_get(meta, "keys")));
    json_decref(meta);
    return ok;
}

static bool repo_open_with(const Config *cfg, double meta_age, Repo **out);

bool repo_open(const Config *cfg, Repo **out)
{
    return repo_open_with(cfg, 0, out);
}

bool repo_open_for_push(const Config *cfg, Repo **out)
{
    return repo_open_with(cfg, METACACHE_MAX_AGE, out);
}

/* The metadata's bytes: from this host's copy (metacache.h) when allowed, else read (and kept). */
static bool meta_read(Repo *repo, const Config *cfg, double meta_age, Buf *raw, bool *found)
{
    bool cached = meta_age > 0 && storage_remote(repo->storage);
    if (cached && metacache_get(cfg, repo->path, meta_age, raw))
        return *found = true;
    if (!repo_object_get(repo, REPO_META_FILE, raw, found))
        return false;
    if (cached && *found)
        metacache_put(cfg, repo->path, raw);
    return true;
}

static bool repo_open_with(const Config *cfg, double meta_age, Repo **out)
{
    Storage *storage = NULL;
    if (!repo_storage_open(cfg, &storage))
        return false;
    Repo *repo = xcalloc(1, sizeof(*repo));
    repo->path = xstrdup(storage_root(storage));
    repo->storage = storage;
    repo->codec = cfg->compress;
    repo->level = cfg->compress_level;
    Buf raw = {0};
    bool found = false;
    bool ok = meta_read(repo, cfg, meta_age, &raw, &found);
    bool exists = true, empty;
    if (ok && !found && storage_root_state(repo->storage, &exists, &empty)) {
        if (!exists)
            err_set(DD_EXIT_REPO, "repository \"%s\" does not exist", repo->path);
        else
            err_set(DD_EXIT_REPO, "\"%s\" is not a drydock repository (no %s)", repo->path,
                    REPO_META_FILE);
        err_hint("create it with \"drydock repo-create\", or fix [repository] in \"%s\"",
                 cfg->file);
    }
    ok = ok && found;
    if (ok)
        ok = repo_meta_parse(repo, cfg, &raw);
    buf_free(&raw);
    if (!ok) {
        repo_close(repo);
        return false;
    }
    *out = repo;
    return true;
}

void repo_close(Repo *repo)
{
    if (!repo)
        return;
    keyring_close(repo->keyring);
    storage_free(repo->storage);
    free(repo->path);
    free(repo);
}

Storage *repo_storage(Repo *repo)
{
    return repo->storage;
}

const char *repo_path(const Repo *repo)
{
    return repo->path;
}

uint64_t repo_system_id(const Repo *repo)
{
    return repo->system_id;
}

uint32_t repo_wal_seg_size(const Repo *repo)
{
    return repo->wal_seg_size;
}

Codec repo_codec(const Repo *repo)
{
    return repo->codec;
}

int repo_compress_level(const Repo *repo)
{
    return repo->level;
}

bool repo_obj_keys(Repo *repo, bool for_write, const ObjKeys **out)
{
    *out = NULL;
    return !repo->keyring || keyring_obj_keys(repo->keyring, for_write, out);
}

bool repo_use_key(Repo *repo, const char *name)
{
    return !repo->keyring || keyring_use(repo->keyring, name);
}

bool repo_key_needs_storage(Repo *repo, const char *name)
{
    return repo->keyring && !keyring_has(repo->keyring, name);
}

Keyring *repo_keyring(Repo *repo)
{
    return repo->keyring;
}

/* Invariant 1: drydock.repo again, with "keys" the keyring's id now. */
static bool repo_meta_set_keys(Repo *repo)
{
    Buf raw = {0}, obj = {0};
    bool found = false;
    json_t *meta = NULL;
    bool ok = repo_object_get(repo, REPO_META_FILE, &raw, &found);
    if (ok && !(found && (meta = json_loadb((const char *)raw.data, raw.len, 0, NULL))))
        ok = err_set(DD_EXIT_CORRUPT, "repository metadata \"%s/%s\" is missing or not JSON",
                     repo->path, REPO_META_FILE);
    char *text = NULL;
    if (ok) {
        json_object_set_new(meta, "keys", json_string(keyring_id(repo->keyring)));
        text = json_dumps(meta, JSON_INDENT(2) | JSON_SORT_KEYS);
        ok = obj_encode(CODEC_NONE, 0, text, strlen(text), NULL, NULL, &obj) &&
             storage_put(repo->storage, REPO_META_FILE, obj.data, obj.len, (StoragePutOpts){0});
    }
    free(text);
    json_decref(meta);
    buf_free(&raw);
    buf_free(&obj);
    return ok;
}

bool repo_rekey(Repo *repo, const KeySource *src, size_t *rewrapped, int *generation)
{
    return keyring_rekey(repo->keyring, src, rewrapped, generation) && repo_meta_set_keys(repo);
}

bool repo_object_get(Repo *repo, const char *path, Buf *raw, bool *found)
{
    const ObjKeys *keys;
    if (!repo_obj_keys(repo, false, &keys))
        return false;
    Buf stored = {0};
    if (!storage_get(repo->storage, path, &stored, found)) {
        buf_free(&stored);
        return false;
    }
    bool ok = true;
    /* The metadata is never encrypted (invariant 4). */
    if (*found && !obj_decode_keyed(stored.data, stored.len,
                                    strcmp(path, REPO_META_FILE) == 0 ? NULL : keys, raw, NULL))
        ok = err_context("repository object \"%s/%s\"", repo->path, path);
    buf_free(&stored);
    return ok;
}

bool repo_object_put(Repo *repo, const char *path, const void *raw, size_t len, StoragePutOpts opts)
{
    const ObjKeys *keys;
    if (!repo_obj_keys(repo, true, &keys))
        return false;
    Buf obj = {0};
    bool ok = obj_encode_keyed(repo->codec, repo->level, raw, len, NULL, NULL, keys, &obj) &&
              storage_put(repo->storage, path, obj.data, obj.len, opts);
    buf_free(&obj);
    return ok;
}
