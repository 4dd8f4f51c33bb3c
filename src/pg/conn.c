/*
 * conn.c - see conn.h.
 */
#include "pg/conn.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/timeutil.h"

char *pg_conninfo_redact(const char *conninfo)
{
    if (!conninfo)
        return xstrdup("(none)");
    Buf out = {0};
    if (strncmp(conninfo, "postgres://", 11) == 0 || strncmp(conninfo, "postgresql://", 13) == 0) {
        /* scheme://user:password@host... : hide what is between ':' and '@'. */
        const char *at = strchr(conninfo, '@');
        const char *scheme_end = strstr(conninfo, "://") + 3;
        const char *colon = at ? memchr(scheme_end, ':', (size_t)(at - scheme_end)) : NULL;
        if (colon) {
            buf_append(&out, conninfo, (size_t)(colon - conninfo) + 1);
            buf_append_str(&out, "********");
            buf_append_str(&out, at);
        } else {
            buf_append_str(&out, conninfo);
        }
        /* A password= query parameter too. */
        char *s = xstrndup((char *)out.data, out.len);
        char *pw = strstr(s, "password=");
        if (pw) {
            char *end = strchr(pw, '&');
            char *red = xasprintf("%.*spassword=********%s", (int)(pw - s), s, end ? end : "");
            free(s);
            s = red;
        }
        buf_free(&out);
        return s;
    }
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    if (!opts)
        return xstrdup("(unparsable connection string)");
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        if (out.len)
            buf_append_str(&out, " ");
        if (strcmp(o->keyword, "password") == 0)
            buf_printf(&out, "%s=********", o->keyword);
        else
            buf_printf(&out, "%s=%s", o->keyword, o->val);
    }
    PQconninfoFree(opts);
    buf_append(&out, "", 1);
    return (char *)out.data;
}

/* libpq's messages end in a newline and may span lines: keep the first line. */
static const char *pg_first_line(const char *msg, char *out, size_t len)
{
    snprintf(out, len, "%s", msg ? msg : "");
    out[strcspn(out, "\n")] = '\0';
    return out;
}

PGconn *pg_connect(const char *conninfo, const char *what)
{
    char *errmsg = NULL;
    PQconninfoOption *check = PQconninfoParse(conninfo, &errmsg);
    if (!check) {
        char line[512];
        err_set(DD_EXIT_CONFIG, "invalid connection string for the %s: %s", what,
                pg_first_line(errmsg, line, sizeof(line)));
        err_hint("use libpq's \"key=value\" form, e.g. \"host=127.0.0.1 port=5432 user=postgres\"");
        PQfreemem(errmsg);
        return NULL;
    }
    PQconninfoFree(check);
    /*
     * Keep connection attempts bounded even when the conninfo does not say.
     * Keys before "dbname" are defaults the conninfo may override; keys after
     * it override the conninfo (the last occurrence wins).
     */
    const char *keys[] = {"keepalives",       "keepalives_idle",  "keepalives_interval",
                          "keepalives_count", "tcp_user_timeout", "dbname",
                          "connect_timeout",  "application_name", NULL};
    const char *vals[] = {"1", "10", "5", "3", "30000", conninfo, "10", "drydock", NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        char *red = pg_conninfo_redact(conninfo);
        char line[512];
        err_set(DD_EXIT_PG, "could not connect to the %s (%s): %s", what, red,
                pg_first_line(PQerrorMessage(conn), line, sizeof(line)));
        err_hint("check that the %s is running and that the connection string in the "
                 "configuration is right",
                 what);
        free(red);
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

void pg_disconnect(PGconn *conn)
{
    if (conn)
        PQfinish(conn);
}

PGresult *pg_query(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        char line[512];
        err_set(DD_EXIT_PG, "query failed: %s",
                pg_first_line(PQresultErrorMessage(res), line, sizeof(line)));
        PQclear(res);
        return NULL;
    }
    return res;
}

bool pg_exec(PGconn *conn, const char *sql)
{
    PGresult *res = pg_query(conn, sql, 0, NULL);
    if (!res)
        return false;
    PQclear(res);
    return true;
}

/* Wait until the socket of conn is readable or deadline passes; false at the deadline. */
static bool pg_wait_readable(PGconn *conn, double deadline)
{
    for (;;) {
        double left = deadline - time_mono();
        if (left <= 0)
            return false;
        struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};
        int n = poll(&pfd, 1, (int)(left * 1000.0) + 1);
        if (n > 0 || (n < 0 && errno != EINTR))
            return true; /* readable, or an error PQconsumeInput will report */
    }
}

PGresult *pg_query_until(PGconn *conn, const char *what, double deadline, const char *sql,
                         int nparams, const char *const *params)
{
    char line[512];
    if (!PQsendQueryParams(conn, sql, nparams, NULL, params, NULL, NULL, 0)) {
        err_set(DD_EXIT_PG, "query on the %s failed: %s", what,
                pg_first_line(PQerrorMessage(conn), line, sizeof(line)));
        return NULL;
    }
    PGresult *last = NULL;
    for (;;) {
        while (!PQisBusy(conn)) {
            PGresult *res = PQgetResult(conn);
            if (!res)
                goto done;
            PQclear(last);
            last = res;
        }
        if (!pg_wait_readable(conn, deadline)) {
            PQclear(last);
            err_set(DD_EXIT_TIMEOUT, "the %s did not answer before the deadline", what);
            err_hint("the server may hang (a stopped process, a full disk, a network "
                     "partition): check it and its log");
            return NULL;
        }
        if (!PQconsumeInput(conn)) {
            PQclear(last);
            err_set(DD_EXIT_PG, "query on the %s failed: %s", what,
                    pg_first_line(PQerrorMessage(conn), line, sizeof(line)));
            return NULL;
        }
    }
done:;
    ExecStatusType st = PQresultStatus(last);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        err_set(DD_EXIT_PG, "query on the %s failed: %s", what,
                pg_first_line(last ? PQresultErrorMessage(last) : PQerrorMessage(conn), line,
                              sizeof(line)));
        PQclear(last);
        return NULL;
    }
    return last;
}

char *pg_query_value_until(PGconn *conn, const char *what, double deadline, const char *sql,
                           int nparams, const char *const *params)
{
    PGresult *res = pg_query_until(conn, what, deadline, sql, nparams, params);
    if (!res)
        return NULL;
    if (PQntuples(res) < 1 || PQnfields(res) < 1) {
        PQclear(res);
        err_set(DD_EXIT_PG, "query on the %s returned no rows: %s", what, sql);
        return NULL;
    }
    char *v = xstrdup(PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0));
    PQclear(res);
    return v;
}

char *pg_query_value(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = pg_query(conn, sql, nparams, params);
    if (!res)
        return NULL;
    if (PQntuples(res) < 1 || PQnfields(res) < 1) {
        PQclear(res);
        err_set(DD_EXIT_PG, "query returned no rows: %s", sql);
        return NULL;
    }
    char *v = xstrdup(PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0));
    PQclear(res);
    return v;
}

bool pg_lsn_parse(const char *s, uint64_t *lsn)
{
    unsigned int hi, lo;
    char tail;
    if (sscanf(s, "%X/%X%c", &hi, &lo, &tail) != 2)
        return false;
    *lsn = (uint64_t)hi << 32 | lo;
    return true;
}

void pg_lsn_format(uint64_t lsn, char *out, size_t len)
{
    snprintf(out, len, "%X/%X", (unsigned)(lsn >> 32), (unsigned)(lsn & 0xffffffffu));
}
