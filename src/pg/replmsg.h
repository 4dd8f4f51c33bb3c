/*
 * replmsg.h - the messages of PostgreSQL's streaming replication protocol
 * that travel inside CopyData once START_REPLICATION has switched the
 * session to CopyBoth (PostgreSQL 15, "Streaming Replication Protocol").
 * Pure: no I/O, so that the parser is unit-tested and fuzzed.
 *
 * All integers are big-endian (network order); times are microseconds
 * since 2000-01-01 00:00:00 UTC (PostgreSQL's epoch).
 *
 * Server to client:
 *   XLogData            'w'  int64 data_start  int64 wal_end  int64 send_time  bytes...
 *   Primary keepalive   'k'  int64 wal_end     int64 send_time  byte reply_requested
 * Client to server:
 *   Standby status      'r'  int64 write  int64 flush  int64 apply  int64 send_time
 *                            byte reply_requested                         (34 bytes)
 *
 * Invariants the parser keeps:
 *  1. A message is accepted only when its length is exactly what its kind
 *     needs (XLogData: at least its 25-byte header); anything else is
 *     DD_EXIT_PROTOCOL with the kind and length named.
 *  2. XLogData's payload (data, len) points into the caller's buffer; the
 *     range [data_start, data_start + len) must not wrap around 2^64.
 */
#ifndef DD_PG_REPLMSG_H
#define DD_PG_REPLMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define REPLMSG_XLOGDATA_HEADER 25
#define REPLMSG_KEEPALIVE_LEN   18
#define REPLMSG_STATUS_LEN      34
#define REPLMSG_PG_EPOCH_OFFSET 946684800.0 /* Unix time of 2000-01-01 */

typedef enum { REPLMSG_XLOGDATA, REPLMSG_KEEPALIVE } ReplMsgKind;

typedef struct {
    ReplMsgKind kind;
    uint64_t data_start;  /* XLogData: LSN of data[0] */
    uint64_t wal_end;     /* both: the server's end of WAL */
    int64_t send_time;    /* both: server clock, PostgreSQL microseconds */
    bool reply_requested; /* keepalive */
    const uint8_t *data;  /* XLogData payload, inside the parsed buffer */
    size_t len;
} ReplMsg;

/* Parse one CopyData payload from the server; false + DD_EXIT_PROTOCOL when malformed. */
DD_MUST_CHECK bool replmsg_parse(const uint8_t *buf, size_t len, ReplMsg *out);

/* Build a standby status update ('r', REPLMSG_STATUS_LEN bytes) into out. */
void replmsg_status(uint8_t out[REPLMSG_STATUS_LEN], uint64_t write, uint64_t flush, uint64_t apply,
                    int64_t now, bool reply_requested);

/* Unix seconds (time_wall()) as PostgreSQL microseconds, and back. */
int64_t replmsg_pg_time(double unix_seconds);
double replmsg_unix_time(int64_t pg_time);

#endif
