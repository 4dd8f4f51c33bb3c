/*
 * manifest_fuzz.c - libFuzzer target for the manifest loader (issue 16:
 * hand-edited manifests that verify passed and restore refused, and a stop
 * LSN that made verify loop).
 *
 * Any bytes must give either a manifest that holds the loader's invariants
 * (manifest.c: files sorted and unique, relative paths, chunk lengths adding
 * up, nothing under a regular file, a sane LSN range) or a false with one
 * message; never a crash, a leak or an out-of-bounds read. The input is also
 * tried as the value of "files" and "stop-lsn" in an otherwise valid manifest,
 * where most mutations would otherwise die at the JSON syntax, and as the
 * binary file list of a format 2 manifest (manifest.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/mem.h"
#include "repo/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char manifest_head[] =
    "{\"format\": 1, \"id\": \"20261125T090000Z\", \"source-node\": \"standby\", "
    "\"system-identifier\": \"42\", \"pg-version\": 150004, \"timeline\": 1, "
    "\"start-lsn\": \"0/5000028\", \"stop-lsn\": \"0/5000138\", \"start-time\": 1.0, "
    "\"stop-time\": 2.0, \"backup-label\": \"x\", \"tablespace-map\": \"\", "
    "\"chunk-size\": 131072, \"bytes-logical\": 0, \"bytes-new\": 0, \"bytes-stored\": 0, "
    "\"duration\": 1.0, \"tablespaces\": [], \"files\": ";

/* The loader's invariants, checked on what it accepted. */
static void manifest_fuzz_check(const Manifest *m)
{
    if (m->nfiles == 0 || m->stop_lsn < m->start_lsn || m->system_id != 42)
        abort();
    for (size_t i = 0; i < m->nfiles; i++) {
        const ManifestFile *f = &m->files[i];
        if (f->path[0] == '/' || (i > 0 && strcmp(m->files[i - 1].path, f->path) >= 0))
            abort();
        uint64_t sum = 0;
        for (size_t c = 0; c < f->nchunks; c++)
            sum += f->chunks[c].len;
        if (S_ISREG(f->mode) && sum != f->size)
            abort();
        if (i > 0 && S_ISREG(m->files[i - 1].mode) &&
            strncmp(f->path, m->files[i - 1].path, strlen(m->files[i - 1].path)) == 0 &&
            f->path[strlen(m->files[i - 1].path)] == '/')
            abort(); /* listed under a file */
    }
}

static void manifest_fuzz_one(const char *json, size_t len)
{
    Manifest *m = NULL;
    if (manifest_parse(json, len, 42, &m)) {
        manifest_fuzz_check(m);
        manifest_free(m);
    }
    err_clear();
}

/* The input as the file records of a format 2 manifest with a valid header. */
static void manifest_fuzz_binary(const uint8_t *data, size_t size)
{
    static const char head[] =
        "{\"format\": 2, \"id\": \"20261125T090000Z\", \"source-node\": \"standby\", "
        "\"system-identifier\": \"42\", \"pg-version\": 150004, \"timeline\": 1, "
        "\"start-lsn\": \"0/5000028\", \"stop-lsn\": \"0/5000138\", \"start-time\": 1.0, "
        "\"stop-time\": 2.0, \"backup-label\": \"x\", \"tablespace-map\": \"\", "
        "\"chunk-size\": 131072, \"bytes-logical\": 0, \"bytes-new\": 0, \"bytes-stored\": 0, "
        "\"duration\": 1.0, \"tablespaces\": []}";
    size_t hlen = sizeof(head) - 1, n = 12 + hlen + size;
    uint8_t *doc = xmalloc(n);
    memcpy(doc, "DDMF\2\0\0\0", 8);
    for (int i = 0; i < 4; i++)
        doc[8 + i] = (uint8_t)(hlen >> (8 * i));
    memcpy(doc + 12, head, hlen);
    if (size)
        memcpy(doc + 12 + hlen, data, size);
    manifest_fuzz_one((const char *)doc, n);
    free(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    manifest_fuzz_one((const char *)data, size);
    manifest_fuzz_binary(data, size);
    /* the input as the file list */
    char *doc = xasprintf("%s%.*s}", manifest_head, (int)size, (const char *)data);
    manifest_fuzz_one(doc, strlen(doc));
    free(doc);
    /* the input as the stop LSN of a one-file manifest */
    doc = xasprintf("%s[{\"path\": \"PG_VERSION\", \"mode\": 33152, \"size\": 0, \"mtime\": 0, "
                    "\"chunks\": []}], \"stop-lsn\": \"%.*s\"}",
                    manifest_head, (int)(size > 40 ? 40 : size), (const char *)data);
    manifest_fuzz_one(doc, strlen(doc));
    free(doc);
    return 0;
}
