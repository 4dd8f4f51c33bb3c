/*
 * walrecvstat.h - the status file of drydock wal-receive, which info and
 * metrics read to show the receiver's position and lag.
 *
 * <spool>/status, replaced atomically (temporary file + rename, not fsynced:
 * it is a report, rewritten at least every status interval) by the receiver.
 * Text, one "key value" a line, in this order; readers ignore unknown keys:
 *
 *   pid 12345                   the receiver's process
 *   state streaming             streaming | connecting | stopped
 *   synchronous yes             yes | no (--synchronous)
 *   slot drydock                the replication slot
 *   timeline 1                  the timeline being received (0: not known yet)
 *   write 0/3000148             LSN written to the spool
 *   flush 0/3000148             LSN fsynced in the spool (reported to the server)
 *   server 0/3000148            the server's end of WAL, as last heard
 *   archived 000000010000000000000002   the last segment it pushed ("-": none yet)
 *   updated 1732970000.123      Unix time of this write
 *
 * Lag = server - flush, in bytes: what the primary has and drydock could
 * lose with it.
 */
#ifndef DD_REPO_WALRECVSTAT_H
#define DD_REPO_WALRECVSTAT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "common/mem.h"
#include "config/config.h"

typedef struct {
    long pid;
    char state[16];
    bool synchronous;
    char slot[64];
    uint32_t timeline;
    uint64_t write, flush, server;
    char archived[64];
    double updated;
} WalRecvStat;

/* The default spool directory: <state directory>/wal-receive (caller frees). */
char *walrecvstat_default_spool(const Config *cfg);

/* Format a status file into out. */
void walrecvstat_format(const WalRecvStat *s, Buf *out);
/* Parse status text; false + DD_EXIT_CORRUPT naming the bad line. */
DD_MUST_CHECK bool walrecvstat_parse(const char *text, size_t len, WalRecvStat *out);

/* Write <spool>/status atomically. */
DD_MUST_CHECK bool walrecvstat_write(const char *spool, const WalRecvStat *s);
/* Read <spool>/status; *found false (and true) when there is none. */
DD_MUST_CHECK bool walrecvstat_read(const char *spool, WalRecvStat *out, bool *found);

/* Whether the process the status names still runs. */
bool walrecvstat_running(const WalRecvStat *s);

/* For info: one paragraph of text, and a JSON object. now: time_wall(). */
void walrecvstat_render_text(const WalRecvStat *s, double now, Buf *out);
json_t *walrecvstat_to_json(const WalRecvStat *s, double now);
/* For metrics: drydock_wal_receive_* in Prometheus' text format. */
void walrecvstat_render_prometheus(const WalRecvStat *s, double now, Buf *out);

#endif
