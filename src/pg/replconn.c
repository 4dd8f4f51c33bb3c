/*
 * replconn.c - see replconn.h.
 */
#include "pg/replconn.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "pg/conn.h"
#include "pg/replmsg.h"
#include "common/timeutil.h"

static const char *first_line(const char *msg, char *out, size_t len)
{
    snprintf(out, len, "%s", msg ? msg : "");
    out[strcspn(out, "\n")] = '\0';
    return out;
}

/* The session failed: DD_EXIT_PG naming the server and what was being done. */
static bool repl_fail(PGconn *conn, const PGresult *res, const char *doing)
{
    char line[512];
    const char *host = PQhost(conn), *port = PQport(conn);
    err_set(DD_EXIT_PG, "replication from \"%s:%s\" failed (%s): %s", host ? host : "?",
            port ? port : "?", doing,
            first_line(res ? PQresultErrorMessage(res) : PQerrorMessage(conn), line, sizeof(line)));
    return false;
}

static void notice_to_debug(void *arg, const char *message)
{
    (void)arg;
    char line[512];
    log_debug("server notice: %s", first_line(message, line, sizeof(line)));
}

PGconn *replconn_open(const char *conninfo, const char *app_name)
{
    if (!pg_conninfo_check(conninfo, "primary"))
        return NULL;
    /* As pg_connect (conn.h): defaults before "dbname", overrides after it. */
    const char *keys[] = {"keepalives",          "keepalives_idle",
                          "keepalives_interval", "keepalives_count",
                          "tcp_user_timeout",    "dbname",
                          "connect_timeout",     "replication",
                          "application_name",    NULL};
    const char *vals[] = {"1", "10", "5", "3", "30000", conninfo, "10", "true", app_name, NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        char *red = pg_conninfo_redact(conninfo);
        char line[512];
        err_set(DD_EXIT_PG, "could not open a replication connection to (%s): %s", red,
                first_line(PQerrorMessage(conn), line, sizeof(line)));
        err_hint("pg_hba.conf must allow \"replication\" for this user, and max_wal_senders "
                 "must leave a sender free");
        free(red);
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, notice_to_debug, NULL);
    return conn;
}

bool replconn_slot_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '_'))
            return false;
    return true;
}

/* Run a walsender command that returns rows (or none when rows is 0). */
static PGresult *repl_command(PGconn *conn, const char *sql, int min_fields, const char *doing)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        repl_fail(conn, res, doing);
        PQclear(res);
        return NULL;
    }
    if (min_fields > 0 &&
        (st != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQnfields(res) < min_fields)) {
        err_set(DD_EXIT_PROTOCOL, "%s returned %d rows of %d fields, expected 1 row of %d", doing,
                PQntuples(res), PQnfields(res), min_fields);
        PQclear(res);
        return NULL;
    }
    return res;
}

bool replconn_identify(PGconn *conn, ReplIdentity *out)
{
    PGresult *res = repl_command(conn, "IDENTIFY_SYSTEM", 3, "IDENTIFY_SYSTEM");
    if (!res)
        return false;
    char *end = NULL;
    errno = 0;
    out->system_id = strtoull(PQgetvalue(res, 0, 0), &end, 10);
    bool ok = errno == 0 && end && *end == '\0';
    long tli = strtol(PQgetvalue(res, 0, 1), &end, 10);
    ok = ok && *end == '\0' && tli > 0 && tli <= UINT32_MAX;
    out->timeline = (uint32_t)tli;
    ok = ok && pg_lsn_parse(PQgetvalue(res, 0, 2), &out->xlogpos);
    PQclear(res);
    if (!ok)
        return err_set(DD_EXIT_PROTOCOL, "IDENTIFY_SYSTEM returned a row drydock cannot read");
    return true;
}

bool replconn_slot_read(PGconn *conn, const char *slot, bool *exists, uint64_t *restart_lsn)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "READ_REPLICATION_SLOT %s", slot);
    PGresult *res = repl_command(conn, sql, 3, "READ_REPLICATION_SLOT");
    if (!res)
        return false;
    bool ok = true;
    *exists = !PQgetisnull(res, 0, 0);
    *restart_lsn = 0;
    if (*exists && strcmp(PQgetvalue(res, 0, 0), "physical") != 0) {
        ok = err_set(DD_EXIT_PG, "replication slot \"%s\" is a %s slot, expected a physical one",
                     slot, PQgetvalue(res, 0, 0));
        err_hint("give wal-receive a slot name of its own (--slot)");
    } else if (*exists && !PQgetisnull(res, 0, 1)) {
        ok = pg_lsn_parse(PQgetvalue(res, 0, 1), restart_lsn) ||
             err_set(DD_EXIT_PROTOCOL, "READ_REPLICATION_SLOT returned a bad restart_lsn");
    }
    PQclear(res);
    return ok;
}

bool replconn_slot_create(PGconn *conn, const char *slot)
{
    char sql[160];
    snprintf(sql, sizeof(sql), "CREATE_REPLICATION_SLOT %s PHYSICAL RESERVE_WAL", slot);
    PGresult *res = repl_command(conn, sql, 0, "CREATE_REPLICATION_SLOT");
    PQclear(res);
    return res != NULL;
}

bool replconn_timeline_history(PGconn *conn, uint32_t tli, char **name, Buf *content)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "TIMELINE_HISTORY %" PRIu32, tli);
    PGresult *res = repl_command(conn, sql, 2, "TIMELINE_HISTORY");
    if (!res)
        return false;
    *name = xstrdup(PQgetvalue(res, 0, 0));
    buf_reset(content);
    buf_append_str(content, PQgetvalue(res, 0, 1));
    PQclear(res);
    return true;
}

bool replconn_start(PGconn *conn, const char *slot, uint64_t lsn, uint32_t tli)
{
    char sql[192], at[24];
    pg_lsn_format(lsn, at, sizeof(at));
    snprintf(sql, sizeof(sql), "START_REPLICATION SLOT %s PHYSICAL %s TIMELINE %" PRIu32, slot, at,
             tli);
    PGresult *res = PQexec(conn, sql);
    bool ok = PQresultStatus(res) == PGRES_COPY_BOTH;
    if (!ok)
        repl_fail(conn, res, "START_REPLICATION");
    PQclear(res);
    return ok;
}

bool replconn_receive(PGconn *conn, double timeout, char **buf, int *len, ReplRecv *what)
{
    double deadline = time_mono() + timeout;
    for (;;) {
        int n = PQgetCopyData(conn, buf, 1);
        if (n > 0) {
            *len = n;
            *what = REPLCONN_DATA;
            return true;
        }
        if (n == -1) {
            *what = REPLCONN_END;
            return true;
        }
        if (n < -1)
            return repl_fail(conn, NULL, "receiving WAL");
        double left = deadline - time_mono();
        if (left <= 0) {
            *what = REPLCONN_TIMEOUT;
            return true;
        }
        struct pollfd p = {.fd = PQsocket(conn), .events = POLLIN};
        int r = poll(&p, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR) {
            *what = REPLCONN_TIMEOUT; /* a signal: the caller looks at its flag */
            return true;
        }
        if (r < 0)
            return err_errno("could not wait for the replication connection");
        if (r > 0 && !PQconsumeInput(conn))
            return repl_fail(conn, NULL, "receiving WAL");
    }
}

bool replconn_send_status(PGconn *conn, uint64_t write, uint64_t flush, bool reply_requested)
{
    uint8_t msg[REPLMSG_STATUS_LEN];
    /* apply stays 0 (InvalidXLogRecPtr) as pg_receivewal sends: nothing replays here. */
    replmsg_status(msg, write, flush, 0, replmsg_pg_time(time_wall()), reply_requested);
    if (PQputCopyData(conn, (const char *)msg, (int)sizeof(msg)) <= 0 || PQflush(conn) != 0)
        return repl_fail(conn, NULL, "sending the standby status");
    return true;
}

bool replconn_end(PGconn *conn, bool *switched, uint32_t *next_tli, uint64_t *next_start)
{
    *switched = false;
    if (PQputCopyEnd(conn, NULL) <= 0 || PQflush(conn) != 0)
        return repl_fail(conn, NULL, "ending the stream");
    bool ok = true;
    PGresult *res;
    while ((res = PQgetResult(conn)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_TUPLES_OK && PQntuples(res) == 1 && PQnfields(res) >= 2) {
            long tli = strtol(PQgetvalue(res, 0, 0), NULL, 10);
            *switched =
                tli > 0 && tli <= UINT32_MAX && pg_lsn_parse(PQgetvalue(res, 0, 1), next_start);
            *next_tli = (uint32_t)tli;
            if (!*switched)
                ok = err_set(DD_EXIT_PROTOCOL, "the end of the stream names no next timeline");
        } else if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && ok) {
            ok = repl_fail(conn, res, "ending the stream");
        }
        PQclear(res);
        if (PQstatus(conn) == CONNECTION_BAD)
            break;
    }
    return ok;
}
