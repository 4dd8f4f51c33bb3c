/*
 * info.c - see info.h.
 */
#include "restore/info.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/timeutil.h"
#include "pg/wal.h"
#include "restore/target.h"

void info_format_bytes(uint64_t bytes, char *out, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double)bytes;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(out, len, "%" PRIu64 " B", bytes);
    else
        snprintf(out, len, "%.*f %s", v < 10.0 ? 2 : v < 100.0 ? 1 : 0, v, units[u]);
}

static void lsn_text(uint64_t lsn, char *out, size_t len)
{
    target_format_lsn(lsn, out, len);
}

/* "  read     ..." : guided or full, and the files read whole and why. */
static void text_read_mode(const CatalogBackup *b, Buf *out)
{
    const char *why = b->full_read_reason ? b->full_read_reason : "";
    if (!b->guided) {
        buf_printf(out, "  read     every file whole%s%s%s\n", why[0] ? " (" : "", why,
                   why[0] ? ")" : "");
        return;
    }
    if (b->files_guided == 0 && b->nread_whole == 0) { /* a manifest that does not say more */
        buf_append_str(out, "  read     guided by the WAL\n");
        return;
    }
    buf_printf(out,
               "  read     guided by the WAL: %" PRIu64
               " relation files read where changed, %" PRIu64 " read whole",
               b->files_guided, b->files_read_whole);
    for (size_t k = 0; k < b->nread_whole; k++)
        buf_printf(out, "%s%s %" PRIu64, k == 0 ? " (" : ", ", b->read_whole[k].name,
                   b->read_whole[k].n);
    buf_append_str(out, b->nread_whole ? ")\n" : "\n");
}

static void text_backup(const Catalog *c, size_t i, Buf *out)
{
    const CatalogBackup *b = &c->backups[i];
    const WindowReach *r = &c->window.reach[i];
    char t0[64], t1[64], l0[32], l1[32], sz[3][32];
    time_format(b->start_time, t0, sizeof(t0));
    time_format(b->stop_time, t1, sizeof(t1));
    lsn_text(b->start_lsn, l0, sizeof(l0));
    lsn_text(b->stop_lsn, l1, sizeof(l1));
    info_format_bytes(b->bytes_logical, sz[0], sizeof(sz[0]));
    info_format_bytes(b->bytes_new, sz[1], sizeof(sz[1]));
    info_format_bytes(b->bytes_stored, sz[2], sizeof(sz[2]));
    buf_printf(out, "backup %s  from %s, timeline %" PRIu32 "\n", b->id, b->source_node, b->tli);
    buf_printf(out, "  start    %s  LSN %s\n", t0, l0);
    buf_printf(out, "  stop     %s  LSN %s\n", t1, l1);
    buf_printf(out, "  size     %s logical, %s new, %s stored; %zu files; took %.1f s\n", sz[0],
               sz[1], sz[2], b->nfiles, b->duration);
    text_read_mode(b, out);
    if (r->restorable) {
        char t2[64], l2[32];
        time_format(r->reach_time, t2, sizeof(t2));
        lsn_text(r->reach_lsn, l2, sizeof(l2));
        buf_printf(out, "  reaches  %s  LSN %s (timeline %" PRIu32 ")\n", t2, l2, r->reach_tli);
    } else {
        char seg[32];
        wal_segment_name(b->tli, r->missing_segno, c->window.seg_size, seg);
        buf_printf(out, "  NOT RESTORABLE: WAL segment %s is missing from the archive\n", seg);
    }
}

void info_render_text(const Catalog *c, Buf *out)
{
    const Window *w = &c->window;
    if (c->nbackups == 0)
        buf_append_str(out, "no backups\n");
    for (size_t i = 0; i < c->damaged.len; i++)
        buf_printf(out, "backup %s  DAMAGED: its manifest does not load (drydock verify)\n\n",
                   c->damaged.items[i]);
    for (size_t i = 0; i < c->nbackups; i++) {
        text_backup(c, i, out);
        buf_append_str(out, "\n");
    }
    if (w->any) {
        char t0[64], t1[64], l0[32], l1[32];
        time_format(w->earliest_time, t0, sizeof(t0));
        time_format(w->latest_time, t1, sizeof(t1));
        lsn_text(w->earliest_lsn, l0, sizeof(l0));
        lsn_text(w->latest_lsn, l1, sizeof(l1));
        buf_printf(out, "recoverable window\n  from     %s  LSN %s\n  to       %s  LSN %s\n", t0,
                   l0, t1, l1);
    } else {
        buf_append_str(out, "recoverable window: none (no backup can be restored)\n");
    }
    buf_printf(out, "archived WAL: %zu segment%s", c->nsegments, c->nsegments == 1 ? "" : "s");
    for (size_t i = 0; i < w->nruns; i++) {
        char a[32], z[32];
        wal_segment_name(w->runs[i].tli, w->runs[i].first, w->seg_size, a);
        wal_segment_name(w->runs[i].tli, w->runs[i].last, w->seg_size, z);
        buf_printf(out, "%s %s..%s", i == 0 ? ":" : ",", a, z);
    }
    buf_append_str(out, "\n");
    for (size_t i = 0; i < w->ngaps; i++) {
        char a[32], z[32];
        wal_segment_name(w->gaps[i].tli, w->gaps[i].first, w->seg_size, a);
        wal_segment_name(w->gaps[i].tli, w->gaps[i].last, w->seg_size, z);
        buf_printf(out, "WAL GAP: %s..%s missing (%" PRIu64 " segment%s)\n", a, z,
                   w->gaps[i].last - w->gaps[i].first + 1,
                   w->gaps[i].last == w->gaps[i].first ? "" : "s");
    }
}

static json_t *j_time(double t)
{
    char s[64];
    time_format(t, s, sizeof(s));
    return json_string(s);
}

static json_t *j_lsn(uint64_t lsn)
{
    char s[32];
    lsn_text(lsn, s, sizeof(s));
    return json_string(s);
}

static json_t *j_seg(uint32_t tli, uint64_t segno, uint32_t seg_size)
{
    char s[32];
    wal_segment_name(tli, segno, seg_size, s);
    return json_string(s);
}

static json_t *json_backup(const Catalog *c, size_t i)
{
    const CatalogBackup *b = &c->backups[i];
    const WindowReach *r = &c->window.reach[i];
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(b->id));
    json_object_set_new(o, "source", json_string(b->source_node));
    json_object_set_new(o, "timeline", json_integer(b->tli));
    json_object_set_new(o, "start_time", j_time(b->start_time));
    json_object_set_new(o, "stop_time", j_time(b->stop_time));
    json_object_set_new(o, "start_lsn", j_lsn(b->start_lsn));
    json_object_set_new(o, "stop_lsn", j_lsn(b->stop_lsn));
    json_object_set_new(o, "bytes_logical", json_integer((json_int_t)b->bytes_logical));
    json_object_set_new(o, "bytes_new", json_integer((json_int_t)b->bytes_new));
    json_object_set_new(o, "bytes_stored", json_integer((json_int_t)b->bytes_stored));
    json_object_set_new(o, "duration", json_real(b->duration));
    json_object_set_new(o, "files", json_integer((json_int_t)b->nfiles));
    json_object_set_new(o, "tablespaces", json_integer((json_int_t)b->ntablespaces));
    json_object_set_new(o, "read", json_string(b->guided ? "guided" : "full"));
    json_object_set_new(o, "full_read_reason",
                        b->guided ? json_null()
                                  : json_string(b->full_read_reason ? b->full_read_reason : ""));
    json_object_set_new(o, "files_guided", json_integer((json_int_t)b->files_guided));
    json_object_set_new(o, "files_read_whole", json_integer((json_int_t)b->files_read_whole));
    json_t *why = json_object();
    for (size_t k = 0; k < b->nread_whole; k++)
        json_object_set_new(why, b->read_whole[k].name,
                            json_integer((json_int_t)b->read_whole[k].n));
    json_object_set_new(o, "read_whole_because", why);
    json_object_set_new(o, "restorable", json_boolean(r->restorable));
    json_object_set_new(o, "reach_time", r->restorable ? j_time(r->reach_time) : json_null());
    json_object_set_new(o, "reach_lsn", r->restorable ? j_lsn(r->reach_lsn) : json_null());
    json_object_set_new(o, "missing_segment",
                        r->restorable ? json_null()
                                      : j_seg(b->tli, r->missing_segno, c->window.seg_size));
    return o;
}

static json_t *json_window(const Window *w)
{
    if (!w->any)
        return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "earliest_time", j_time(w->earliest_time));
    json_object_set_new(o, "earliest_lsn", j_lsn(w->earliest_lsn));
    json_object_set_new(o, "earliest_timeline", json_integer(w->earliest_tli));
    json_object_set_new(o, "latest_time", j_time(w->latest_time));
    json_object_set_new(o, "latest_lsn", j_lsn(w->latest_lsn));
    json_object_set_new(o, "latest_timeline", json_integer(w->latest_tli));
    return o;
}

static json_t *json_ranges(const Window *w, bool gaps)
{
    json_t *a = json_array();
    size_t n = gaps ? w->ngaps : w->nruns;
    for (size_t i = 0; i < n; i++) {
        uint32_t tli = gaps ? w->gaps[i].tli : w->runs[i].tli;
        uint64_t first = gaps ? w->gaps[i].first : w->runs[i].first;
        uint64_t last = gaps ? w->gaps[i].last : w->runs[i].last;
        json_t *o = json_object();
        json_object_set_new(o, "timeline", json_integer(tli));
        json_object_set_new(o, "first", j_seg(tli, first, w->seg_size));
        json_object_set_new(o, "last", j_seg(tli, last, w->seg_size));
        json_array_append_new(a, o);
    }
    return a;
}

void info_render_json(const Catalog *c, Buf *out)
{
    info_render_json_with(c, NULL, out);
}

void info_render_json_with(const Catalog *c, json_t *health, Buf *out)
{
    json_t *root = json_object();
    json_t *backups = json_array();
    for (size_t i = 0; i < c->nbackups; i++)
        json_array_append_new(backups, json_backup(c, i));
    json_object_set_new(root, "backups", backups);
    json_t *damaged = json_array();
    for (size_t i = 0; i < c->damaged.len; i++)
        json_array_append_new(damaged, json_string(c->damaged.items[i]));
    json_object_set_new(root, "damaged", damaged);
    json_object_set_new(root, "window", json_window(&c->window));
    json_t *wal = json_object();
    json_object_set_new(wal, "segments", json_integer((json_int_t)c->nsegments));
    json_object_set_new(wal, "runs", json_ranges(&c->window, false));
    json_object_set_new(wal, "gaps", json_ranges(&c->window, true));
    json_object_set_new(root, "wal", wal);
    if (health)
        json_object_set_new(root, "health", health);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    buf_append_str(out, text);
    buf_append_str(out, "\n");
    free(text);
    json_decref(root);
}
