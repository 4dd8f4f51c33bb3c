/*
 * replmsg.c - see replmsg.h.
 */
#include "pg/replmsg.h"

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

bool replmsg_parse(const uint8_t *buf, size_t len, ReplMsg *out)
{
    *out = (ReplMsg){0};
    if (len == 0)
        return err_set(DD_EXIT_PROTOCOL, "replication message is empty");
    if (buf[0] == 'w') {
        if (len < REPLMSG_XLOGDATA_HEADER)
            return err_set(DD_EXIT_PROTOCOL,
                           "replication message 'w' (XLogData) is %zu bytes, expected at least %d",
                           len, REPLMSG_XLOGDATA_HEADER);
        out->kind = REPLMSG_XLOGDATA;
        out->data_start = get64(buf + 1);
        out->wal_end = get64(buf + 9);
        out->send_time = (int64_t)get64(buf + 17);
        out->data = buf + REPLMSG_XLOGDATA_HEADER;
        out->len = len - REPLMSG_XLOGDATA_HEADER;
        if (out->data_start + out->len < out->data_start) /* invariant 2 */
            return err_set(DD_EXIT_PROTOCOL, "replication message 'w' (XLogData) runs past the "
                                             "end of the WAL address space");
        return true;
    }
    if (buf[0] == 'k') {
        if (len != REPLMSG_KEEPALIVE_LEN)
            return err_set(DD_EXIT_PROTOCOL,
                           "replication message 'k' (keepalive) is %zu bytes, expected %d", len,
                           REPLMSG_KEEPALIVE_LEN);
        out->kind = REPLMSG_KEEPALIVE;
        out->wal_end = get64(buf + 1);
        out->send_time = (int64_t)get64(buf + 9);
        out->reply_requested = buf[17] != 0;
        return true;
    }
    if (buf[0] >= 0x20 && buf[0] < 0x7f)
        return err_set(DD_EXIT_PROTOCOL, "unknown replication message '%c' (%zu bytes)", buf[0],
                       len);
    return err_set(DD_EXIT_PROTOCOL, "unknown replication message 0x%02x (%zu bytes)", buf[0], len);
}

void replmsg_status(uint8_t out[REPLMSG_STATUS_LEN], uint64_t write, uint64_t flush, uint64_t apply,
                    int64_t now, bool reply_requested)
{
    out[0] = 'r';
    put64(out + 1, write);
    put64(out + 9, flush);
    put64(out + 17, apply);
    put64(out + 25, (uint64_t)now);
    out[33] = reply_requested ? 1 : 0;
}

int64_t replmsg_pg_time(double unix_seconds)
{
    return (int64_t)((unix_seconds - REPLMSG_PG_EPOCH_OFFSET) * 1e6);
}

double replmsg_unix_time(int64_t pg_time)
{
    return (double)pg_time / 1e6 + REPLMSG_PG_EPOCH_OFFSET;
}
