/*
 * manifest.c - backup manifests (see manifest.h).
 *
 * backups/<id>.manifest is an object (object.h envelope, repository codec).
 * Format 2 (written since issue 14's second session: a guided backup loads
 * the previous manifest and saves its own, and JSON for ten thousands of
 * chunks cost a tenth of its time) is binary, little-endian:
 *
 *   offset size field
 *   0      4    magic       "DDMF"
 *   4      4    format      2
 *   8      4    header_len  H
 *   12     H    header      the JSON object of format 1 below without
 *                           "files", with "format": 2
 *   12+H   8    nfiles
 *   then nfiles file records, sorted by path, back to back:
 *          4    path_len    1..4096
 *          .    path        path_len bytes, no NUL
 *          4    mode        st_mode
 *          8    size
 *          8    mtime       IEEE-754 binary64
 *          4    nchunks     0 for a directory
 *          36*n chunks      32 bytes SHA-256 (the chunk's name), 4 bytes raw length
 *   nothing after the last record.
 *
 * Format 1 (still read; "drydock debug manifest --json" prints any manifest
 * in it) is one JSON object:
 *
 *   {"format": 1, "id": "20261125T090000Z", "source-node": "standby",
 *    "system-identifier": "7311...",        (a string: u64 exceeds JSON's doubles)
 *    "pg-version": 150004, "timeline": 1,
 *    "start-lsn": "0/5000028", "stop-lsn": "0/5000138",
 *    "start-time": 1795597200.12, "stop-time": 1795597203.4,   (epoch seconds)
 *    "backup-label": "...", "tablespace-map": "",
 *    "chunk-size": 131072, "bytes-logical": N, "bytes-new": N, "bytes-stored": N,
 *    "duration": 3.3,
 *    "read": "guided", "guided-since-full": 2, "full-read-time": 1795590000.0,
 *    "data-checksums": true,             (these four optional: absent = a full
 *                                         read, checksums unknown)
 *    "full-read-reason": "--full",       (optional, a full read: why)
 *    "files-guided": 553, "read-whole": {"new file": 3, ...},
 *                                        (optional, a guided read: relation files
 *                                         read where changed, and read whole by reason)
 *    "tablespaces": [{"oid": 16384, "location": "/srv/ts1"}],
 *    "files": [{"path": "base/1/1259", "mode": 33152, "size": 8192,
 *               "mtime": 1795597100.0, "chunks": [["<64 hex>", 8192], ...]},
 *              {"path": "pg_wal", "mode": 16832, "size": 0, "mtime": ...}]}
 *
 * Invariants checked on load, beyond manifest.h's: format is 1 or 2; the id is
 * well-formed and matches the object's name; every path is relative, without
 * "." or ".." components; files are sorted by path with no duplicate; a
 * directory has no chunks; and what a restore relies on (manifest_check):
 * timeline > 0, 0 < start LSN <= stop LSN, the repository's system
 * identifier, at least one file, a backup_label, absolute tablespace
 * locations, nothing listed under a regular file.
 */
#include "repo/manifest.h"

#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/endian.h"
#include "pg/conn.h"

#define MANIFEST_FORMAT     1 /* JSON */
#define MANIFEST_FORMAT_BIN 2
#define MANIFEST_MAGIC      "DDMF"
#define MANIFEST_PATH_MAX   4096
#define MANIFEST_EXT        ".manifest"

static bool manifest_id_valid(const char *id)
{
    static const char pattern[] = "ddddddddTddddddZ";
    if (strlen(id) != sizeof(pattern) - 1)
        return false;
    for (size_t i = 0; pattern[i]; i++)
        if (pattern[i] == 'd' ? !isdigit((unsigned char)id[i]) : id[i] != pattern[i])
            return false;
    return true;
}

static char *manifest_path(const char *id)
{
    return xasprintf("%s/%s%s", MANIFEST_DIR, id, MANIFEST_EXT);
}

bool manifest_list(Repo *repo, StrList *ids)
{
    StrList names = {0};
    if (!storage_list(repo_storage(repo), MANIFEST_DIR, &names))
        return false;
    size_t el = strlen(MANIFEST_EXT);
    for (size_t i = 0; i < names.len; i++) {
        size_t l = strlen(names.items[i]);
        if (l <= el || strcmp(names.items[i] + l - el, MANIFEST_EXT) != 0)
            continue;
        char *id = xstrndup(names.items[i], l - el);
        if (manifest_id_valid(id))
            strlist_push_owned(ids, id);
        else
            free(id);
    }
    strlist_free(&names);
    strlist_sort(ids);
    return true;
}

/* ---- save ---- */

static json_t *file_to_json(const ManifestFile *f)
{
    json_t *o = json_object();
    json_object_set_new(o, "path", json_string(f->path));
    json_object_set_new(o, "mode", json_integer(f->mode));
    json_object_set_new(o, "size", json_integer((json_int_t)f->size));
    json_object_set_new(o, "mtime", json_real(f->mtime));
    if (S_ISREG(f->mode)) {
        json_t *chunks = json_array();
        char hex[SHA256_HEX_LEN + 1];
        for (size_t i = 0; i < f->nchunks; i++) {
            sha256_hex(f->chunks[i].sha256, hex);
            json_array_append_new(chunks, json_pack("[s,I]", hex, (json_int_t)f->chunks[i].len));
        }
        json_object_set_new(o, "chunks", chunks);
    }
    return o;
}

static json_t *manifest_to_json(const Manifest *m, int format)
{
    char sysid[24], start[24], stop[24];
    snprintf(sysid, sizeof(sysid), "%" PRIu64, m->system_id);
    pg_lsn_format(m->start_lsn, start, sizeof(start));
    pg_lsn_format(m->stop_lsn, stop, sizeof(stop));
    json_t *o = json_object();
    json_object_set_new(o, "format", json_integer(format));
    json_object_set_new(o, "id", json_string(m->id));
    json_object_set_new(o, "source-node", json_string(m->source_node));
    json_object_set_new(o, "system-identifier", json_string(sysid));
    json_object_set_new(o, "pg-version", json_integer(m->pg_version));
    json_object_set_new(o, "timeline", json_integer(m->tli));
    json_object_set_new(o, "start-lsn", json_string(start));
    json_object_set_new(o, "stop-lsn", json_string(stop));
    json_object_set_new(o, "start-time", json_real(m->start_time));
    json_object_set_new(o, "stop-time", json_real(m->stop_time));
    json_object_set_new(o, "backup-label", json_string(m->backup_label ? m->backup_label : ""));
    json_object_set_new(o, "tablespace-map",
                        json_string(m->tablespace_map ? m->tablespace_map : ""));
    json_object_set_new(o, "chunk-size", json_integer(m->chunk_size));
    json_object_set_new(o, "bytes-logical", json_integer((json_int_t)m->bytes_logical));
    json_object_set_new(o, "bytes-new", json_integer((json_int_t)m->bytes_new));
    json_object_set_new(o, "bytes-stored", json_integer((json_int_t)m->bytes_stored));
    json_object_set_new(o, "duration", json_real(m->duration));
    json_object_set_new(o, "read", json_string(m->guided ? "guided" : "full"));
    json_object_set_new(o, "guided-since-full", json_integer(m->guided_since_full));
    json_object_set_new(o, "full-read-time", json_real(m->full_read_time));
    if (m->data_checksums >= 0)
        json_object_set_new(o, "data-checksums", json_boolean(m->data_checksums));
    if (!m->guided && m->full_read_reason)
        json_object_set_new(o, "full-read-reason", json_string(m->full_read_reason));
    if (m->guided) {
        json_object_set_new(o, "files-guided", json_integer((json_int_t)m->files_guided));
        json_t *rw = json_object();
        for (size_t i = 0; i < m->nread_whole; i++)
            json_object_set_new(rw, m->read_whole[i].name,
                                json_integer((json_int_t)m->read_whole[i].n));
        json_object_set_new(o, "read-whole", rw);
    }
    json_t *ts = json_array();
    for (size_t i = 0; i < m->ntablespaces; i++)
        json_array_append_new(ts, json_pack("{s:I,s:s}", "oid", (json_int_t)m->tablespaces[i].oid,
                                            "location", m->tablespaces[i].location));
    json_object_set_new(o, "tablespaces", ts);
    if (format != MANIFEST_FORMAT)
        return o;
    json_t *files = json_array();
    for (size_t i = 0; i < m->nfiles; i++)
        json_array_append_new(files, file_to_json(&m->files[i]));
    json_object_set_new(o, "files", files);
    return o;
}

char *manifest_json(const Manifest *m)
{
    json_t *o = manifest_to_json(m, MANIFEST_FORMAT);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text)
        err_set(DD_EXIT_FAIL, "could not serialise the manifest of backup \"%s\"", m->id);
    return text;
}

static void put32(Buf *b, uint32_t v)
{
    uint8_t x[4];
    le_put32(x, v);
    buf_append(b, x, 4);
}

static void put64(Buf *b, uint64_t v)
{
    uint8_t x[8];
    le_put64(x, v);
    buf_append(b, x, 8);
}

/* The format 2 content of m into out; false when the header does not serialise. */
static bool manifest_to_bin(const Manifest *m, Buf *out)
{
    json_t *o = manifest_to_json(m, MANIFEST_FORMAT_BIN);
    char *head = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!head)
        return err_set(DD_EXIT_FAIL, "could not serialise the manifest of backup \"%s\"", m->id);
    size_t hlen = strlen(head), need = 24 + hlen;
    for (size_t i = 0; i < m->nfiles; i++)
        need += 28 + strlen(m->files[i].path) + 36 * m->files[i].nchunks;
    buf_reserve(out, need);
    buf_append(out, MANIFEST_MAGIC, 4);
    put32(out, MANIFEST_FORMAT_BIN);
    put32(out, (uint32_t)hlen);
    buf_append(out, head, hlen);
    free(head);
    put64(out, m->nfiles);
    for (size_t i = 0; i < m->nfiles; i++) {
        const ManifestFile *f = &m->files[i];
        size_t plen = strlen(f->path);
        uint64_t mt;
        memcpy(&mt, &f->mtime, 8);
        put32(out, (uint32_t)plen);
        buf_append(out, f->path, plen);
        put32(out, f->mode);
        put64(out, f->size);
        put64(out, mt);
        uint32_t n = S_ISREG(f->mode) ? (uint32_t)f->nchunks : 0;
        put32(out, n);
        for (uint32_t c = 0; c < n; c++) {
            buf_append(out, f->chunks[c].sha256, SHA256_LEN);
            put32(out, f->chunks[c].len);
        }
    }
    return true;
}

bool manifest_save(Repo *repo, const Manifest *m)
{
    if (!m->id || !manifest_id_valid(m->id))
        return err_set(DD_EXIT_FAIL, "invalid backup id \"%s\"", m->id ? m->id : "");
    Buf bin = {0};
    if (!manifest_to_bin(m, &bin))
        return false;
    char *path = manifest_path(m->id);
    bool ok = repo_object_put(repo, path, bin.data, bin.len, (StoragePutOpts){.exclusive = true});
    if (!ok)
        err_context("writing the manifest of backup \"%s\"", m->id);
    free(path);
    buf_free(&bin);
    return ok;
}

bool manifest_remove(Repo *repo, const char *id)
{
    if (!manifest_id_valid(id))
        return err_set(DD_EXIT_USAGE, "invalid backup id \"%s\"", id);
    char *path = manifest_path(id);
    bool ok = storage_remove(repo_storage(repo), path);
    free(path);
    return ok;
}

/* ---- load ---- */

static bool path_valid(const char *p)
{
    if (!p[0] || p[0] == '/')
        return false;
    const char *c = p;
    while (*c) {
        const char *e = strchr(c, '/');
        size_t l = e ? (size_t)(e - c) : strlen(c);
        if (l == 0 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
            return false;
        c += l + (e ? 1 : 0);
        if (e && !*c)
            return false;
    }
    return true;
}

static bool get_u64(json_t *o, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return err_set(DD_EXIT_CORRUPT, "\"%s\" is not a non-negative integer", key);
    *out = (uint64_t)json_integer_value(v);
    return true;
}

static bool get_u32(json_t *o, const char *key, uint32_t *out)
{
    uint64_t v;
    if (!get_u64(o, key, &v))
        return false;
    if (v > UINT32_MAX)
        return err_set(DD_EXIT_CORRUPT, "\"%s\" is out of range", key);
    *out = (uint32_t)v;
    return true;
}

static bool get_num(json_t *o, const char *key, double *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        return err_set(DD_EXIT_CORRUPT, "\"%s\" is not a number", key);
    *out = json_number_value(v);
    return true;
}

static bool get_str(json_t *o, const char *key, char **out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        return err_set(DD_EXIT_CORRUPT, "\"%s\" is not a string", key);
    *out = xstrdup(json_string_value(v));
    return true;
}

static bool get_lsn(json_t *o, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v) || !pg_lsn_parse(json_string_value(v), out))
        return err_set(DD_EXIT_CORRUPT, "\"%s\" is not an LSN", key);
    return true;
}

static bool chunks_from_json(json_t *arr, ManifestFile *f)
{
    if (!json_is_array(arr))
        return err_set(DD_EXIT_CORRUPT, "file \"%s\" has no chunk list", f->path);
    f->nchunks = json_array_size(arr);
    f->chunks = xcalloc(f->nchunks ? f->nchunks : 1, sizeof(ManifestChunk));
    for (size_t i = 0; i < f->nchunks; i++) {
        json_t *c = json_array_get(arr, i);
        json_t *h = json_array_get(c, 0), *l = json_array_get(c, 1);
        if (!json_is_array(c) || json_array_size(c) != 2 || !json_is_string(h) ||
            !sha256_from_hex(json_string_value(h), f->chunks[i].sha256) || !json_is_integer(l) ||
            json_integer_value(l) <= 0 || json_integer_value(l) > UINT32_MAX)
            return err_set(DD_EXIT_CORRUPT, "chunk %zu of file \"%s\" is malformed", i, f->path);
        f->chunks[i].len = (uint32_t)json_integer_value(l);
    }
    return true;
}

/* What every file entry must hold, in either format; f->path set. */
static bool file_check_path(const ManifestFile *f, const char *prev)
{
    if (!path_valid(f->path))
        return err_set(DD_EXIT_CORRUPT, "file path \"%s\" is not a relative path", f->path);
    if (prev && strcmp(prev, f->path) >= 0)
        return err_set(DD_EXIT_CORRUPT, "file \"%s\" is out of order or listed twice", f->path);
    return true;
}

static bool file_check_kind(const ManifestFile *f)
{
    if (!S_ISREG(f->mode) && !S_ISDIR(f->mode))
        return err_set(DD_EXIT_CORRUPT, "file \"%s\" is neither a file nor a directory", f->path);
    return true;
}

static bool file_check_sum(const ManifestFile *f)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < f->nchunks; i++)
        sum += f->chunks[i].len;
    if (sum != f->size) /* manifest.h invariant 2 */
        return err_set(DD_EXIT_CORRUPT, "the chunks of file \"%s\" add up to %llu bytes, not %llu",
                       f->path, (unsigned long long)sum, (unsigned long long)f->size);
    return true;
}

static bool file_from_json(json_t *o, ManifestFile *f, const char *prev)
{
    if (!json_is_object(o) || !get_str(o, "path", &f->path))
        return err_set(DD_EXIT_CORRUPT, "a file entry has no path");
    if (!file_check_path(f, prev))
        return false;
    if (!get_u32(o, "mode", &f->mode) || !get_u64(o, "size", &f->size) ||
        !get_num(o, "mtime", &f->mtime))
        return err_context("file \"%s\"", f->path);
    if (S_ISREG(f->mode))
        return chunks_from_json(json_object_get(o, "chunks"), f) && file_check_sum(f);
    return file_check_kind(f);
}

/* The optional read-mode keys (backup/guide.h); absent: a full read, checksums unknown. */
static void read_mode_from_json(json_t *o, Manifest *m)
{
    json_t *v = json_object_get(o, "read");
    m->guided = json_is_string(v) && strcmp(json_string_value(v), "guided") == 0;
    v = json_object_get(o, "guided-since-full");
    m->guided_since_full =
        json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= UINT32_MAX
            ? (uint32_t)json_integer_value(v)
            : 0;
    v = json_object_get(o, "full-read-time");
    m->full_read_time = json_is_number(v) ? json_number_value(v) : m->start_time;
    v = json_object_get(o, "data-checksums");
    m->data_checksums = json_is_boolean(v) ? json_is_true(v) : -1;
    v = json_object_get(o, "full-read-reason");
    m->full_read_reason = json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
    v = json_object_get(o, "files-guided");
    m->files_guided =
        json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
    v = json_object_get(o, "read-whole");
    if (!json_is_object(v) || json_object_size(v) == 0)
        return;
    m->read_whole = xcalloc(json_object_size(v), sizeof(ManifestCount));
    const char *key;
    json_t *n;
    json_object_foreach(v, key, n)
    {
        if (json_is_integer(n) && json_integer_value(n) > 0)
            m->read_whole[m->nread_whole++] =
                (ManifestCount){xstrdup(key), (uint64_t)json_integer_value(n)};
    }
}

/* Everything but the files, from a format 1 document or a format 2 header. */
static bool header_from_json(json_t *o, Manifest *m, int want_format)
{
    uint64_t format = 0;
    char *sysid = NULL;
    if (!json_is_object(o) || !get_u64(o, "format", &format))
        return err_set(DD_EXIT_CORRUPT, "not a manifest");
    if (format != (uint64_t)want_format)
        return err_set(DD_EXIT_REPO, "manifest format %llu is not supported (expected %d)",
                       (unsigned long long)format, want_format);
    bool ok =
        get_str(o, "id", &m->id) && get_str(o, "source-node", &m->source_node) &&
        get_str(o, "system-identifier", &sysid) && get_u32(o, "pg-version", &m->pg_version) &&
        get_u32(o, "timeline", &m->tli) && get_lsn(o, "start-lsn", &m->start_lsn) &&
        get_lsn(o, "stop-lsn", &m->stop_lsn) && get_num(o, "start-time", &m->start_time) &&
        get_num(o, "stop-time", &m->stop_time) && get_str(o, "backup-label", &m->backup_label) &&
        get_str(o, "tablespace-map", &m->tablespace_map) &&
        get_u32(o, "chunk-size", &m->chunk_size) &&
        get_u64(o, "bytes-logical", &m->bytes_logical) && get_u64(o, "bytes-new", &m->bytes_new) &&
        get_u64(o, "bytes-stored", &m->bytes_stored) && get_num(o, "duration", &m->duration);
    if (ok)
        read_mode_from_json(o, m);
    if (ok) {
        char *end = NULL;
        m->system_id = strtoull(sysid, &end, 10);
        if (!sysid[0] || *end)
            ok = err_set(DD_EXIT_CORRUPT, "\"system-identifier\" is not a number");
    }
    free(sysid);
    json_t *ts = json_object_get(o, "tablespaces");
    if (ok && !json_is_array(ts))
        ok = err_set(DD_EXIT_CORRUPT, "\"tablespaces\" or \"files\" is not a list");
    if (ok) {
        m->ntablespaces = json_array_size(ts);
        m->tablespaces = xcalloc(m->ntablespaces + 1, sizeof(ManifestTablespace));
    }
    for (size_t i = 0; ok && i < m->ntablespaces; i++)
        ok = get_u32(json_array_get(ts, i), "oid", &m->tablespaces[i].oid) &&
             get_str(json_array_get(ts, i), "location", &m->tablespaces[i].location);
    return ok;
}

static bool manifest_from_json(json_t *o, Manifest *m)
{
    bool ok = header_from_json(o, m, MANIFEST_FORMAT);
    json_t *files = json_object_get(o, "files");
    if (ok && !json_is_array(files))
        ok = err_set(DD_EXIT_CORRUPT, "\"tablespaces\" or \"files\" is not a list");
    if (ok) {
        m->nfiles = json_array_size(files);
        m->files = xcalloc(m->nfiles + 1, sizeof(ManifestFile));
    }
    for (size_t i = 0; ok && i < m->nfiles; i++)
        ok =
            file_from_json(json_array_get(files, i), &m->files[i], i ? m->files[i - 1].path : NULL);
    return ok;
}

/* ---- format 2 ---- */

typedef struct {
    const uint8_t *p;
    size_t left;
} Rd;

static bool rd_take(Rd *r, size_t n, const uint8_t **at)
{
    if (r->left < n)
        return err_set(DD_EXIT_CORRUPT, "it ends in the middle of its file list");
    *at = r->p;
    r->p += n;
    r->left -= n;
    return true;
}

static bool rd32(Rd *r, uint32_t *v)
{
    const uint8_t *at = NULL;
    if (!rd_take(r, 4, &at))
        return false;
    *v = le_get32(at);
    return true;
}

static bool rd64(Rd *r, uint64_t *v)
{
    const uint8_t *at = NULL;
    if (!rd_take(r, 8, &at))
        return false;
    *v = le_get64(at);
    return true;
}

/* One file record (format at the top). */
static bool file_from_bin(Rd *r, ManifestFile *f, const char *prev)
{
    uint32_t plen = 0, n = 0;
    uint64_t mt = 0;
    const uint8_t *at = NULL;
    if (!rd32(r, &plen) || plen == 0 || plen > MANIFEST_PATH_MAX || !rd_take(r, plen, &at) ||
        memchr(at, '\0', plen))
        return err_set(DD_EXIT_CORRUPT, "a file entry has no path");
    f->path = xstrndup((const char *)at, plen);
    if (!file_check_path(f, prev) || !rd32(r, &f->mode) || !rd64(r, &f->size) || !rd64(r, &mt) ||
        !rd32(r, &n) || !file_check_kind(f))
        return false;
    memcpy(&f->mtime, &mt, 8);
    if (S_ISDIR(f->mode) && n > 0)
        return err_set(DD_EXIT_CORRUPT, "directory \"%s\" has chunks", f->path);
    if ((uint64_t)n * 36 > r->left)
        return err_set(DD_EXIT_CORRUPT, "it ends in the middle of its file list");
    f->nchunks = n;
    f->chunks = xcalloc(n ? n : 1, sizeof(ManifestChunk));
    for (uint32_t i = 0; i < n; i++) {
        rd_take(r, 36, &at); /* length checked above */
        memcpy(f->chunks[i].sha256, at, SHA256_LEN);
        f->chunks[i].len = le_get32(at + SHA256_LEN);
        if (f->chunks[i].len == 0)
            return err_set(DD_EXIT_CORRUPT, "chunk %u of file \"%s\" is malformed", i, f->path);
    }
    return S_ISDIR(f->mode) || file_check_sum(f);
}

static bool manifest_from_bin(const uint8_t *data, size_t len, Manifest *m)
{
    Rd r = {data + 8, len - 8};
    uint32_t format = le_get32(data + 4), hlen = 0;
    const uint8_t *head = NULL;
    if (format != MANIFEST_FORMAT_BIN)
        return err_set(DD_EXIT_REPO, "manifest format %u is not supported (expected %d)", format,
                       MANIFEST_FORMAT_BIN);
    if (!rd32(&r, &hlen) || !rd_take(&r, hlen, &head))
        return err_set(DD_EXIT_CORRUPT, "not a manifest");
    json_error_t jerr;
    json_t *o = json_loadb((const char *)head, hlen, 0, &jerr);
    if (!o)
        return err_set(DD_EXIT_CORRUPT, "invalid JSON at line %d: %s", jerr.line, jerr.text);
    bool ok = header_from_json(o, m, MANIFEST_FORMAT_BIN);
    json_decref(o);
    uint64_t n = 0;
    if (ok && (!rd64(&r, &n) || n > r.left / 28))
        ok = err_set(DD_EXIT_CORRUPT, "it ends in the middle of its file list");
    if (ok) {
        m->nfiles = (size_t)n;
        m->files = xcalloc(m->nfiles + 1, sizeof(ManifestFile));
    }
    for (size_t i = 0; ok && i < m->nfiles; i++)
        ok = file_from_bin(&r, &m->files[i], i ? m->files[i - 1].path : NULL);
    if (ok && r.left > 0)
        ok = err_set(DD_EXIT_CORRUPT, "%zu bytes follow its file list", r.left);
    return ok;
}

static int manifest_file_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const ManifestFile *)elem)->path);
}

/* Whether some ancestor directory of path is listed as a regular file. */
static const ManifestFile *manifest_file_parent(const Manifest *m, const char *path)
{
    char *copy = xstrdup(path);
    const ManifestFile *hit = NULL;
    for (char *slash = strchr(copy, '/'); slash && !hit; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        const ManifestFile *f = bsearch(copy, m->files, m->nfiles, sizeof(*f), manifest_file_cmp);
        if (f && S_ISREG(f->mode))
            hit = f;
        *slash = '/';
    }
    free(copy);
    return hit;
}

/*
 * What a restore relies on beyond the syntax (invariant 4): the LSN range,
 * the cluster, a file list that makes a data directory, absolute tablespace
 * locations. verify and restore both load through here, so verify passes
 * only what restore accepts.
 */
static bool manifest_check(const Manifest *m, uint64_t repo_sysid)
{
    char a[24], b[24];
    if (m->tli == 0)
        return err_set(DD_EXIT_CORRUPT, "its timeline is 0");
    if (m->start_lsn == 0 || m->stop_lsn < m->start_lsn) {
        pg_lsn_format(m->start_lsn, a, sizeof(a));
        pg_lsn_format(m->stop_lsn, b, sizeof(b));
        return err_set(DD_EXIT_CORRUPT, "its WAL range %s to %s is not a range", a, b);
    }
    if (repo_sysid && m->system_id != repo_sysid)
        return err_set(DD_EXIT_CORRUPT,
                       "it is of the cluster with system identifier %" PRIu64
                       ", the repository's is %" PRIu64,
                       m->system_id, repo_sysid);
    if (m->nfiles == 0)
        return err_set(DD_EXIT_CORRUPT, "it lists no file");
    if (!m->backup_label[0])
        return err_set(DD_EXIT_CORRUPT, "it has no backup_label");
    for (size_t i = 0; i < m->ntablespaces; i++)
        if (m->tablespaces[i].location[0] != '/' || m->tablespaces[i].oid == 0)
            return err_set(DD_EXIT_CORRUPT,
                           "tablespace %" PRIu32 " has location \"%s\", not an absolute path",
                           m->tablespaces[i].oid, m->tablespaces[i].location);
    for (size_t i = 0; i < m->nfiles; i++) {
        const ManifestFile *parent = manifest_file_parent(m, m->files[i].path);
        if (parent)
            return err_set(DD_EXIT_CORRUPT, "\"%s\" is listed under \"%s\", which is a file",
                           m->files[i].path, parent->path);
    }
    return true;
}

bool manifest_load(Repo *repo, const char *id, Manifest **out)
{
    if (!manifest_id_valid(id)) {
        err_set(DD_EXIT_USAGE, "\"%s\" is not a backup id (expected YYYYMMDDTHHMMSSZ)", id);
        err_hint("\"drydock info\" lists the backups");
        return false;
    }
    char *path = manifest_path(id);
    Buf raw = {0};
    bool found = false;
    bool ok = repo_object_get(repo, path, &raw, &found);
    if (ok && !found) {
        ok = err_set(DD_EXIT_USAGE, "backup \"%s\" does not exist in repository \"%s\"", id,
                     repo_path(repo));
        err_hint("\"drydock info\" lists the backups");
    }
    Manifest *m = NULL;
    if (ok && found) {
        ok = manifest_parse((const char *)raw.data, raw.len, repo_system_id(repo), &m);
        if (ok && strcmp(m->id, id) != 0)
            ok = err_set(DD_EXIT_CORRUPT, "it holds backup \"%s\"", m->id);
        if (!ok) {
            err_context("manifest \"%s/%s\"", repo_path(repo), path);
            err_hint("the manifest was damaged or edited: run \"drydock verify\"");
        }
    }
    buf_free(&raw);
    free(path);
    if (!ok) {
        manifest_free(m);
        return false;
    }
    *out = m;
    return true;
}

bool manifest_parse(const char *data, size_t len, uint64_t system_id, Manifest **out)
{
    Manifest *m = xcalloc(1, sizeof(*m));
    bool ok;
    if (len >= 8 && memcmp(data, MANIFEST_MAGIC, 4) == 0) {
        ok = manifest_from_bin((const uint8_t *)data, len, m) && manifest_check(m, system_id);
    } else {
        json_error_t jerr;
        json_t *o = json_loadb(data, len, 0, &jerr);
        ok = o != NULL;
        if (!o)
            err_set(DD_EXIT_CORRUPT, "invalid JSON at line %d: %s", jerr.line, jerr.text);
        else
            ok = manifest_from_json(o, m) && manifest_check(m, system_id);
        json_decref(o);
    }
    if (!ok) {
        manifest_free(m);
        return false;
    }
    *out = m;
    return true;
}

void manifest_free(Manifest *m)
{
    if (!m)
        return;
    free(m->id);
    free(m->source_node);
    free(m->backup_label);
    free(m->tablespace_map);
    free(m->full_read_reason);
    for (size_t i = 0; i < m->nread_whole; i++)
        free(m->read_whole[i].name);
    free(m->read_whole);
    for (size_t i = 0; i < m->ntablespaces; i++)
        free(m->tablespaces[i].location);
    free(m->tablespaces);
    for (size_t i = 0; i < m->nfiles; i++) {
        free(m->files[i].path);
        free(m->files[i].chunks);
    }
    free(m->files);
    free(m);
}
