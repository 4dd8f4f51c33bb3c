/*
 * walrecvstat.c - see walrecvstat.h.
 */
#include "repo/walrecvstat.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "pg/conn.h"

char *walrecvstat_default_spool(const Config *cfg)
{
    char *state = config_state_dir(cfg);
    char *spool = xasprintf("%s/wal-receive", state);
    free(state);
    return spool;
}

void walrecvstat_format(const WalRecvStat *s, Buf *out)
{
    char w[24], f[24], v[24];
    pg_lsn_format(s->write, w, sizeof(w));
    pg_lsn_format(s->flush, f, sizeof(f));
    pg_lsn_format(s->server, v, sizeof(v));
    buf_printf(out,
               "pid %ld\nstate %s\nsynchronous %s\nslot %s\ntimeline %" PRIu32
               "\nwrite %s\nflush %s\nserver %s\narchived %s\nupdated %.3f\n",
               s->pid, s->state, s->synchronous ? "yes" : "no", s->slot, s->timeline, w, f, v,
               s->archived[0] ? s->archived : "-", s->updated);
}

/* One "key value" line into s; false when the value does not fit the key. */
static bool parse_line(const char *key, const char *val, WalRecvStat *s)
{
    char *end = NULL;
    errno = 0;
    if (strcmp(key, "pid") == 0) {
        s->pid = strtol(val, &end, 10);
        return errno == 0 && *end == '\0' && s->pid > 0;
    }
    if (strcmp(key, "timeline") == 0) {
        unsigned long t = strtoul(val, &end, 10);
        s->timeline = (uint32_t)t;
        return errno == 0 && *end == '\0' && t <= UINT32_MAX; /* 0: none yet */
    }
    if (strcmp(key, "updated") == 0) {
        s->updated = strtod(val, &end);
        return errno == 0 && *end == '\0';
    }
    if (strcmp(key, "write") == 0)
        return pg_lsn_parse(val, &s->write);
    if (strcmp(key, "flush") == 0)
        return pg_lsn_parse(val, &s->flush);
    if (strcmp(key, "server") == 0)
        return pg_lsn_parse(val, &s->server);
    if (strcmp(key, "synchronous") == 0) {
        s->synchronous = strcmp(val, "yes") == 0;
        return s->synchronous || strcmp(val, "no") == 0;
    }
    if (strcmp(key, "state") == 0)
        return snprintf(s->state, sizeof(s->state), "%s", val) < (int)sizeof(s->state);
    if (strcmp(key, "slot") == 0)
        return snprintf(s->slot, sizeof(s->slot), "%s", val) < (int)sizeof(s->slot);
    if (strcmp(key, "archived") == 0)
        return snprintf(s->archived, sizeof(s->archived), "%s", strcmp(val, "-") ? val : "") <
               (int)sizeof(s->archived);
    return true; /* unknown keys: a newer writer */
}

bool walrecvstat_parse(const char *text, size_t len, WalRecvStat *out)
{
    *out = (WalRecvStat){0};
    char *copy = xstrndup(text, len);
    bool ok = true;
    int lineno = 0;
    for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line && ok;
         line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        char *sp = strchr(line, ' ');
        if (!sp || !parse_line((*sp = '\0', line), sp + 1, out))
            ok = err_set(DD_EXIT_CORRUPT, "wal-receive status file: line %d is not understood",
                         lineno);
    }
    free(copy);
    if (ok && (out->pid == 0 || out->state[0] == '\0'))
        ok = err_set(DD_EXIT_CORRUPT, "wal-receive status file has no pid or state");
    return ok;
}

bool walrecvstat_write(const char *spool, const WalRecvStat *s)
{
    Buf b = {0};
    walrecvstat_format(s, &b);
    char *path = xasprintf("%s/status", spool);
    bool ok = fs_replace_file(path, b.data, b.len, 0644, false);
    free(path);
    buf_free(&b);
    return ok;
}

bool walrecvstat_read(const char *spool, WalRecvStat *out, bool *found)
{
    char *path = xasprintf("%s/status", spool);
    Buf b = {0};
    bool ok = fs_read_file(path, &b, found);
    if (ok && *found)
        ok = walrecvstat_parse((const char *)b.data, b.len, out) || err_context("\"%s\"", path);
    buf_free(&b);
    free(path);
    return ok;
}

bool walrecvstat_running(const WalRecvStat *s)
{
    if (strcmp(s->state, "stopped") == 0 || s->pid <= 0)
        return false;
    return kill((pid_t)s->pid, 0) == 0 || errno == EPERM;
}

static uint64_t lag_bytes(const WalRecvStat *s)
{
    return s->server > s->flush ? s->server - s->flush : 0;
}

void walrecvstat_render_text(const WalRecvStat *s, double now, Buf *out)
{
    char f[24], v[24];
    pg_lsn_format(s->flush, f, sizeof(f));
    pg_lsn_format(s->server, v, sizeof(v));
    bool running = walrecvstat_running(s);
    buf_printf(out,
               "\nwal-receive: %s%s, timeline %" PRIu32 ", flushed to %s, %" PRIu64
               " bytes behind the server (at %s), status %.0f s old\n"
               "  slot %s, last archived %s\n",
               running ? s->state : "not running",
               running && s->synchronous ? " (synchronous)" : "", s->timeline, f, lag_bytes(s), v,
               now > s->updated ? now - s->updated : 0, s->slot,
               s->archived[0] ? s->archived : "none yet");
}

json_t *walrecvstat_to_json(const WalRecvStat *s, double now)
{
    char w[24], f[24], v[24];
    pg_lsn_format(s->write, w, sizeof(w));
    pg_lsn_format(s->flush, f, sizeof(f));
    pg_lsn_format(s->server, v, sizeof(v));
    return json_pack("{s:b, s:s, s:b, s:s, s:I, s:s, s:s, s:s, s:I, s:s?, s:f, s:I}", "running",
                     walrecvstat_running(s), "state", s->state, "synchronous", s->synchronous,
                     "slot", s->slot, "timeline", (json_int_t)s->timeline, "write_lsn", w,
                     "flush_lsn", f, "server_lsn", v, "lag_bytes", (json_int_t)lag_bytes(s),
                     "last_archived", s->archived[0] ? s->archived : NULL, "status_age_seconds",
                     now > s->updated ? now - s->updated : 0.0, "pid", (json_int_t)s->pid);
}

static void metric(Buf *out, const char *name, const char *help, double value)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %.17g\n", name, help, name, name, value);
}

void walrecvstat_render_prometheus(const WalRecvStat *s, double now, Buf *out)
{
    metric(out, "drydock_wal_receive_up", "1 when drydock wal-receive runs.",
           walrecvstat_running(s) ? 1 : 0);
    metric(out, "drydock_wal_receive_streaming", "1 when wal-receive is streaming.",
           walrecvstat_running(s) && strcmp(s->state, "streaming") == 0 ? 1 : 0);
    metric(out, "drydock_wal_receive_flush_lsn_bytes",
           "WAL position wal-receive has made durable (LSN as a byte count).", (double)s->flush);
    metric(out, "drydock_wal_receive_lag_bytes",
           "WAL bytes the server has sent or written that wal-receive has not made durable.",
           (double)lag_bytes(s));
    metric(out, "drydock_wal_receive_status_age_seconds",
           "Seconds since wal-receive last wrote its status.",
           now > s->updated ? now - s->updated : 0);
}
