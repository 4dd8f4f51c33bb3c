/*
 * debug.c - "drydock debug WHAT": a support tool that shows the repository's
 * formats as drydock reads them (as pgBackRest's and PostgreSQL's own
 * inspection tools do), so that a person, or a test, never re-implements
 * object.h, manifest.c or chunkstore.c to look inside a repository.
 *
 *   debug object PATH            the object's content, verified and decoded
 *   debug object PATH --header   its header (object.h) as JSON, not verified
 *   debug object PATH --put      store stdin at PATH as an object (repository
 *                                codec and keys) without checking what it is
 *   debug manifest ID [--json]   a backup's manifest: a summary, or the document
 *   debug index [PACK] [--json]  the entries of the pack indexes
 *
 * It takes no lock: it reads what is there, like "cat". Not in "drydock
 * --help"; README "Support tools" documents it. Its output is for people and
 * tests of this version, not a contract.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/hash.h"
#include "common/log.h"
#include "repo/chunkstore.h"
#include "repo/manifest.h"

static const char debug_help[] =
    "usage: drydock debug object PATH [--header | --put]\n"
    "       drydock debug manifest ID [--json]\n"
    "       drydock debug index [PACK] [--json]\n\n"
    "A support tool: shows the repository's formats as drydock reads them.\n"
    "  object PATH           the object at PATH (relative to the repository),\n"
    "                        verified and decoded, to stdout\n"
    "      --header          its header fields as JSON instead, not verified\n"
    "      --put             store stdin as the object PATH (the repository's codec\n"
    "                        and keys; never over an existing one), unchecked: for tests\n"
    "  manifest ID           a backup's manifest: a summary; --json: the document\n"
    "  index [PACK]          every pack index entry (or PACK's): pack, offset,\n"
    "                        stored and raw length, kind, depth, chunk, base;\n"
    "                        --json: a JSON array of objects with those members\n"
    "It takes no lock, and its output may change between versions.\n";

typedef struct {
    bool json, header, put;
} DebugFlags;

/* Parse the flags after WHAT; the remaining operands are argv[optind..argc). */
static int debug_options(int argc, char **argv, DebugFlags *f)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"header", no_argument, NULL, 'H'},
                                             {"put", no_argument, NULL, 'p'},
                                             {0}};
    CliOpts cli = {.command = "debug", .shortopts = "h", .longopts = longopts, .help = debug_help};
    int c;
    while ((c = cli_opt_next(&cli, argc, argv)) != 0) {
        if (c == 'j')
            f->json = true;
        else if (c == 'H')
            f->header = true;
        else if (c == 'p')
            f->put = true;
    }
    return cli.rc;
}

static int debug_write(const void *data, size_t len)
{
    return fwrite(data, 1, len, stdout) == len && fflush(stdout) == 0 ? DD_EXIT_OK : DD_EXIT_IO;
}

static int debug_print_json(json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(j);
    int rc = debug_write(text, strlen(text));
    free(text);
    return rc == DD_EXIT_OK ? debug_write("\n", 1) : rc;
}

static json_t *debug_header_json(const char *path, const ObjHeader *h)
{
    char sha[SHA256_LEN * 2 + 1];
    sha256_hex(h->sha256, sha);
    return json_pack(
        "{s:s,s:s,s:i,s:b,s:b,s:I,s:I,s:I,s:s}", "path", path, "codec", codec_name(h->codec),
        "flags", (int)h->flags, "encrypted", (h->flags & OBJ_FLAG_ENCRYPTED) != 0, "payload_sum",
        (h->flags & OBJ_FLAG_PAYLOAD_SUM) != 0, "header_len", (json_int_t)h->header_len, "raw_len",
        (json_int_t)h->raw_len, "stored_len", (json_int_t)h->stored_len, "sha256", sha);
}

static bool debug_read_stdin(Buf *in)
{
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
        buf_append(in, chunk, n);
    if (ferror(stdin))
        return err_errno("could not read standard input");
    return true;
}

static int debug_object(Repo *repo, const char *path, const DebugFlags *f)
{
    Buf data = {0};
    bool found = true, ok;
    ObjHeader h;
    if (f->put)
        ok = debug_read_stdin(&data) &&
             repo_object_put(repo, path, data.data, data.len, (StoragePutOpts){.exclusive = true});
    else if (f->header)
        ok = storage_get(repo_storage(repo), path, &data, &found) && found &&
             obj_header_parse(data.data, data.len, &h);
    else
        ok = repo_object_get(repo, path, &data, &found) && found;
    if (!found) {
        err_set(DD_EXIT_USAGE, "no object \"%s\" in the repository", path);
        err_hint("PATH is relative to the repository, e.g. backups/ID.manifest");
    }
    int rc = !ok         ? cli_fail()
             : f->put    ? DD_EXIT_OK
             : f->header ? debug_print_json(debug_header_json(path, &h))
                         : debug_write(data.data, data.len);
    buf_free(&data);
    return rc;
}

/* A binary (format 2) manifest's content replaced by its format 1 JSON; JSON left as is. */
static bool debug_manifest_as_json(Buf *raw, const char *id)
{
    if (raw->len > 0 && raw->data[0] == '{')
        return true;
    Manifest *m = NULL;
    if (!manifest_parse((const char *)raw->data, raw->len, 0, &m))
        return err_context("the manifest of backup \"%s\"", id);
    char *text = manifest_json(m);
    manifest_free(m);
    if (!text)
        return false;
    raw->len = 0;
    buf_append(raw, text, strlen(text));
    free(text);
    return true;
}

static int debug_manifest(Repo *repo, const char *id, const DebugFlags *f)
{
    char *path = xasprintf("%s/%s.manifest", MANIFEST_DIR, id);
    Buf raw = {0};
    bool found = true;
    int rc = DD_EXIT_OK;
    json_error_t jerr;
    json_t *m = NULL;
    if (!repo_object_get(repo, path, &raw, &found) || !found) {
        if (!found)
            err_set(DD_EXIT_USAGE, "backup \"%s\" does not exist", id);
        if (!found)
            err_hint("\"drydock info\" lists the backups");
        rc = cli_fail();
    } else if (!debug_manifest_as_json(&raw, id)) {
        rc = cli_fail();
    } else if (f->json) {
        rc = debug_write(raw.data, raw.len);
        rc = rc == DD_EXIT_OK ? debug_write("\n", 1) : rc;
    } else if (!(m = json_loadb((const char *)raw.data, raw.len, 0, &jerr))) {
        log_error("the manifest of backup \"%s\" is not JSON: %s", id, jerr.text);
        rc = DD_EXIT_CORRUPT;
    } else {
        size_t i, chunks = 0;
        json_t *file;
        json_array_foreach(json_object_get(m, "files"), i, file) chunks +=
            json_array_size(json_object_get(file, "chunks"));
        printf("id %s\nsource %s\ntimeline %lld\nstart-lsn %s\nstop-lsn %s\nfiles %zu\n"
               "chunks %zu\nbytes-logical %lld\n",
               json_string_value(json_object_get(m, "id")),
               json_string_value(json_object_get(m, "source-node")),
               json_integer_value(json_object_get(m, "timeline")),
               json_string_value(json_object_get(m, "start-lsn")),
               json_string_value(json_object_get(m, "stop-lsn")),
               json_array_size(json_object_get(m, "files")), chunks,
               json_integer_value(json_object_get(m, "bytes-logical")));
        rc = fflush(stdout) == 0 ? DD_EXIT_OK : DD_EXIT_IO;
    }
    json_decref(m);
    buf_free(&raw);
    free(path);
    return rc;
}

static json_t *debug_entry_json(const char *pack, const ChunkIndexEntry *e)
{
    char sha[SHA256_LEN * 2 + 1], base[SHA256_LEN * 2 + 1];
    sha256_hex(e->sha256, sha);
    sha256_hex(e->base, base);
    json_t *o = json_pack("{s:s,s:s,s:I,s:I,s:I,s:s,s:i}", "pack", pack, "sha256", sha, "offset",
                          (json_int_t)e->offset, "stored_len", (json_int_t)e->stored_len, "raw_len",
                          (json_int_t)e->raw_len, "kind", e->kind == CHUNK_DELTA ? "delta" : "full",
                          "depth", (int)e->depth);
    if (e->kind == CHUNK_DELTA)
        json_object_set_new(o, "base", json_string(base));
    return o;
}

static int debug_index(Repo *repo, const char *only, const DebugFlags *f)
{
    ChunkStore *cs = NULL;
    StrList damaged = {0};
    if (!chunkstore_open_lenient(repo, &cs, &damaged))
        return cli_fail();
    for (size_t i = 0; i < damaged.len; i++)
        log_warn("%s", damaged.items[i]);
    json_t *all = json_array();
    bool seen = false;
    for (size_t p = 0; p < chunkstore_npacks(cs); p++) {
        const char *name = chunkstore_pack_name(cs, p);
        if (only && strcmp(only, name) != 0)
            continue;
        seen = true;
        size_t n;
        const ChunkIndexEntry *e = chunkstore_pack_entries(cs, p, &n);
        for (size_t i = 0; i < n; i++)
            json_array_append_new(all, debug_entry_json(name, &e[i]));
    }
    int rc = DD_EXIT_OK;
    if (only && !seen) {
        log_error("no pack \"%s\" with an index in the repository. HINT: \"drydock debug index\" "
                  "lists them all",
                  only);
        rc = DD_EXIT_USAGE;
    } else if (f->json) {
        rc = debug_print_json(json_incref(all));
    } else {
        size_t i;
        json_t *e;
        json_array_foreach(all, i, e)
        {
            const char *base = json_string_value(json_object_get(e, "base"));
            printf(
                "%s %lld %lld %lld %s %lld %s%s%s\n", json_string_value(json_object_get(e, "pack")),
                json_integer_value(json_object_get(e, "offset")),
                json_integer_value(json_object_get(e, "stored_len")),
                json_integer_value(json_object_get(e, "raw_len")),
                json_string_value(json_object_get(e, "kind")),
                json_integer_value(json_object_get(e, "depth")),
                json_string_value(json_object_get(e, "sha256")), base ? " " : "", base ? base : "");
        }
        rc = fflush(stdout) == 0 ? DD_EXIT_OK : DD_EXIT_IO;
    }
    json_decref(all);
    strlist_free(&damaged);
    chunkstore_close(cs);
    return rc;
}

/* WHAT, how many operands it takes, and whether --json, --header, --put go with it. */
static const struct {
    const char *what;
    int min_args, max_args;
    bool json, object_flags;
} debug_whats[] = {
    {"object", 1, 1, false, true},
    {"manifest", 1, 1, true, false},
    {"index", 0, 1, true, false},
};

int cli_cmd_debug(CliContext *ctx, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(debug_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? DD_EXIT_USAGE : DD_EXIT_OK;
    }
    size_t w = 0;
    while (w < sizeof(debug_whats) / sizeof(debug_whats[0]) &&
           strcmp(argv[1], debug_whats[w].what) != 0)
        w++;
    if (w == sizeof(debug_whats) / sizeof(debug_whats[0]))
        return cli_usage("debug", "unknown debug subject \"%s\"", argv[1]);
    DebugFlags f = {0};
    int rc = debug_options(argc - 1, argv + 1, &f);
    if (rc != DD_EXIT_OK)
        return cli_exit(rc);
    int nargs = argc - 1 - optind;
    char **args = argv + 1 + optind;
    if (nargs < debug_whats[w].min_args || nargs > debug_whats[w].max_args)
        return cli_usage("debug", "\"debug %s\" takes %s", argv[1],
                         w == 0   ? "one PATH"
                         : w == 1 ? "one backup ID"
                                  : "at most one PACK");
    const char *stray = f.json && !debug_whats[w].json                        ? "--json"
                        : f.header && !debug_whats[w].object_flags            ? "--header"
                        : f.put && (!debug_whats[w].object_flags || f.header) ? "--put"
                                                                              : NULL;
    if (stray)
        return cli_usage("debug", "option \"%s\" does not go with \"debug %s%s\"", stray, argv[1],
                         f.header && f.put ? " --header" : "");
    const Config *cfg = cli_config(ctx);
    if (!cfg)
        return DD_EXIT_CONFIG;
    Repo *repo = NULL;
    if (!repo_open(cfg, &repo))
        return cli_fail();
    if (w == 0)
        rc = debug_object(repo, args[0], &f);
    else if (w == 1)
        rc = debug_manifest(repo, args[0], &f);
    else
        rc = debug_index(repo, nargs ? args[0] : NULL, &f);
    repo_close(repo);
    return rc;
}
