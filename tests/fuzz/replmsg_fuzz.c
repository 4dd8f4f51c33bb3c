/*
 * replmsg_fuzz.c - libFuzzer target for the replication stream's messages
 * (pg/replmsg.h: XLogData, keepalive) and the wal-receive status file
 * (repo/walrecvstat.h), the two things wal-receive and info read from outside.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pg/replmsg.h"
#include "repo/walrecvstat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ReplMsg m;
    if (replmsg_parse(data, size, &m)) {
        /* The payload lies inside the input (invariant 2). */
        if (m.kind == REPLMSG_XLOGDATA &&
            (m.data != data + REPLMSG_XLOGDATA_HEADER || m.len != size - REPLMSG_XLOGDATA_HEADER))
            abort();
        if (m.kind == REPLMSG_KEEPALIVE && size != REPLMSG_KEEPALIVE_LEN)
            abort();
    } else {
        err_clear();
    }
    WalRecvStat s;
    if (!walrecvstat_parse((const char *)data, size, &s))
        err_clear();
    return 0;
}
