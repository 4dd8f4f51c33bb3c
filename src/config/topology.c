/*
 * topology.c - see topology.h for the file and the overlay's rule.
 */
#include "config/topology.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fsutil.h"
#include "common/mem.h"
#include "common/timeutil.h"

static char *tp_str(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? xstrdup(v) : NULL;
}

static void tp_node_get(json_t *o, TopologyNode *n)
{
    n->conninfo = json_is_object(o) ? tp_str(o, "conninfo") : NULL;
    n->data = json_is_object(o) ? tp_str(o, "data") : NULL;
}

static json_t *tp_node_json(const TopologyNode *n)
{
    if (!n || !n->conninfo)
        return json_null();
    return json_pack("{s:s,s:s?}", "conninfo", n->conninfo, "data", n->data);
}

void topology_free(Topology *t)
{
    free(t->seen_primary);
    free(t->seen_standby);
    free(t->primary.conninfo);
    free(t->primary.data);
    free(t->standby.conninfo);
    free(t->standby.data);
    for (size_t i = 0; i < t->nretired; i++) {
        free(t->retired[i].conninfo);
        free(t->retired[i].data);
    }
    free(t->retired);
    for (size_t i = 0; i < t->nhistory; i++) {
        free(t->history[i].event);
        free(t->history[i].primary);
        free(t->history[i].standby);
    }
    free(t->history);
    memset(t, 0, sizeof(*t));
}

bool topology_load(const char *dir, Topology *out, bool *found)
{
    memset(out, 0, sizeof(*out));
    char *path = xasprintf("%s/topology.json", dir);
    Buf text = {0};
    bool ok = fs_read_file(path, &text, found);
    if (!ok || !*found) {
        free(path);
        buf_free(&text);
        return ok;
    }
    json_error_t jerr;
    json_t *root = json_loadb((const char *)text.data, text.len, 0, &jerr);
    buf_free(&text);
    json_t *pri = root ? json_object_get(root, "primary") : NULL;
    if (!root || json_integer_value(json_object_get(root, "version")) != 1 ||
        !json_is_object(pri) || !json_is_string(json_object_get(pri, "conninfo"))) {
        err_set(DD_EXIT_CONFIG,
                "the topology file \"%s\" is not drydock's (version 1 JSON with a "
                "primary): %s",
                path, root ? "missing or wrong keys" : jerr.text);
        err_hint("move it aside: the configuration file's roles apply again");
        json_decref(root);
        free(path);
        return false;
    }
    free(path);
    out->seen_primary = tp_str(json_object_get(root, "seen"), "primary");
    out->seen_standby = tp_str(json_object_get(root, "seen"), "standby");
    tp_node_get(pri, &out->primary);
    tp_node_get(json_object_get(root, "standby"), &out->standby);
    json_t *arr = json_object_get(root, "retired"), *v;
    size_t i;
    out->retired = xcalloc(json_array_size(arr) + 1, sizeof(*out->retired));
    json_array_foreach(arr, i, v) tp_node_get(v, &out->retired[out->nretired++]);
    arr = json_object_get(root, "history");
    out->history = xcalloc(json_array_size(arr) + 1, sizeof(*out->history));
    json_array_foreach(arr, i, v)
    {
        TopologyEvent *e = &out->history[out->nhistory++];
        e->at = json_number_value(json_object_get(v, "at"));
        e->event = tp_str(v, "event");
        e->primary = tp_str(v, "primary");
        e->standby = tp_str(v, "standby");
    }
    json_decref(root);
    return true;
}

/* The whole file from t plus the new event. */
static json_t *tp_json(const Topology *t)
{
    json_t *retired = json_array(), *history = json_array();
    for (size_t i = 0; i < t->nretired; i++)
        json_array_append_new(retired, tp_node_json(&t->retired[i]));
    for (size_t i = 0; i < t->nhistory; i++) {
        const TopologyEvent *e = &t->history[i];
        json_array_append_new(
            history, json_pack("{s:f,s:s,s:s,s:s?}", "at", e->at, "event", e->event ? e->event : "",
                               "primary", e->primary ? e->primary : "", "standby", e->standby));
    }
    return json_pack("{s:i,s:{s:s?,s:s?},s:o,s:o,s:o,s:o}", "version", 1, "seen", "primary",
                     t->seen_primary, "standby", t->seen_standby, "primary",
                     tp_node_json(&t->primary), "standby", tp_node_json(&t->standby), "retired",
                     retired, "history", history);
}

static void tp_replace(char **field, const char *value)
{
    free(*field);
    *field = value ? xstrdup(value) : NULL;
}

static bool tp_same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void tp_node_set(TopologyNode *dst, const TopologyNode *src)
{
    free(dst->conninfo);
    free(dst->data);
    dst->conninfo = src && src->conninfo ? xstrdup(src->conninfo) : NULL;
    dst->data = src && src->data ? xstrdup(src->data) : NULL;
}

/* Whether a and b name one node: the same data directory, or the same conninfo without one. */
static bool tp_same_node(const TopologyNode *a, const TopologyNode *b)
{
    if (!a || !b || !a->conninfo || !b->conninfo)
        return false;
    if (a->data && b->data)
        return strcmp(a->data, b->data) == 0;
    return strcmp(a->conninfo, b->conninfo) == 0;
}

/* A retired node that holds a role again (a rollback switched back to it) is no longer retired. */
static void tp_unretire(Topology *t)
{
    size_t keep = 0;
    for (size_t i = 0; i < t->nretired; i++) {
        if (tp_same_node(&t->retired[i], &t->primary) ||
            tp_same_node(&t->retired[i], &t->standby)) {
            free(t->retired[i].conninfo);
            free(t->retired[i].data);
            continue;
        }
        t->retired[keep++] = t->retired[i];
    }
    t->nretired = keep;
}

/* Write t as dir/topology.json, atomically and durably. */
static bool tp_save(const char *dir, const Topology *t)
{
    json_t *root = tp_json(t);
    char *text = json_dumps(root, JSON_INDENT(1));
    json_decref(root);
    char *path = xasprintf("%s/topology.json", dir);
    bool ok = fs_replace_file(path, text, strlen(text), 0600, true);
    free(path);
    free(text);
    return ok;
}

bool topology_record(const Config *cfg, const char *event, const TopologyNode *primary,
                     const TopologyNode *standby, const TopologyNode *retired)
{
    Topology t;
    bool found;
    char *dir = config_state_dir(cfg);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        err_errno("could not create the state directory \"%s\"", dir);
        free(dir);
        return false;
    }
    if (!topology_load(dir, &t, &found)) {
        free(dir);
        return false;
    }
    tp_replace(&t.seen_primary, cfg->file_primary);
    tp_replace(&t.seen_standby, cfg->file_standby);
    tp_node_set(&t.primary, primary);
    tp_node_set(&t.standby, standby);
    tp_unretire(&t);
    if (retired && retired->conninfo) {
        t.retired = xrealloc(t.retired, (t.nretired + 1) * sizeof(*t.retired));
        memset(&t.retired[t.nretired], 0, sizeof(t.retired[0]));
        tp_node_set(&t.retired[t.nretired++], retired);
    }
    t.history = xrealloc(t.history, (t.nhistory + 1) * sizeof(*t.history));
    t.history[t.nhistory++] = (TopologyEvent){
        .at = time_wall(),
        .event = xstrdup(event),
        .primary = xstrdup(primary->conninfo),
        .standby = standby && standby->conninfo ? xstrdup(standby->conninfo) : NULL,
    };
    bool ok = tp_save(dir, &t);
    free(dir);
    topology_free(&t);
    return ok;
}

bool topology_forget_retired(const Config *cfg, const char *data)
{
    Topology t;
    bool found;
    char *dir = config_state_dir(cfg);
    if (!topology_load(dir, &t, &found)) {
        free(dir);
        return false;
    }
    size_t keep = 0;
    for (size_t i = 0; i < t.nretired; i++) {
        if (t.retired[i].data && strcmp(t.retired[i].data, data) == 0) {
            free(t.retired[i].conninfo);
            free(t.retired[i].data);
            continue;
        }
        t.retired[keep++] = t.retired[i];
    }
    bool changed = keep != t.nretired;
    t.nretired = keep;
    bool ok = !changed || tp_save(dir, &t);
    free(dir);
    topology_free(&t);
    return ok;
}

bool topology_apply(Config *cfg, bool *applied)
{
    *applied = false;
    tp_replace(&cfg->file_primary, cfg->primary);
    tp_replace(&cfg->file_standby, cfg->standby);
    char *dir = config_state_dir(cfg);
    Topology t;
    bool found;
    bool ok = topology_load(dir, &t, &found);
    free(dir);
    if (!ok || !found)
        return ok;
    /* [cluster] is as it was at the last record: nobody edited it since. */
    if (tp_same(cfg->primary, t.seen_primary) && tp_same(cfg->standby, t.seen_standby)) {
        /* [proxy] server defaults to the primary: it follows it unless set apart. */
        bool follows = tp_same(cfg->proxy_server, cfg->primary);
        tp_replace(&cfg->primary, t.primary.conninfo);
        if (follows)
            tp_replace(&cfg->proxy_server, cfg->primary);
        tp_replace(&cfg->primary_data, t.primary.data);
        tp_replace(&cfg->standby, t.standby.conninfo);
        tp_replace(&cfg->standby_data, t.standby.data);
        *applied = true;
    }
    topology_free(&t);
    return true;
}
