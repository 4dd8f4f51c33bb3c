/*
 * conn.c - see conn.h.
 */
#include "pg/conn.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"

/* Keywords whose value is a secret: shown as "********". */
static bool pg_conninfo_secret(const char *keyword)
{
    return strcmp(keyword, "password") == 0 || strcmp(keyword, "sslpassword") == 0;
}

/* Append a value as libpq reads it back: quoted when empty or holding a space, ' or \. */
static void pg_conninfo_append_value(Buf *out, const char *v)
{
    if (v[0] && !v[strcspn(v, " \t\n\r\f\v'\\")]) {
        buf_append_str(out, v);
        return;
    }
    buf_append_str(out, "'");
    for (const char *c = v; *c; c++) {
        if (*c == '\'' || *c == '\\')
            buf_append_str(out, "\\");
        buf_append(out, c, 1);
    }
    buf_append_str(out, "'");
}

/*
 * Rebuilt from libpq's own parse (PQconninfoParse: URIs and key=value alike,
 * percent-encoding decoded, so no spelling of a key escapes), never from the
 * text: a string libpq cannot parse is not shown at all.
 */
char *pg_conninfo_redact(const char *conninfo)
{
    if (!conninfo)
        return xstrdup("(none)");
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    if (!opts)
        return xstrdup("(unparsable connection string)");
    Buf out = {0};
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        if (out.len)
            buf_append_str(&out, " ");
        buf_printf(&out, "%s=", o->keyword);
        if (pg_conninfo_secret(o->keyword))
            buf_append_str(&out, "********");
        else
            pg_conninfo_append_value(&out, o->val);
    }
    PQconninfoFree(opts);
    buf_append(&out, "", 1);
    return (char *)out.data;
}

/* Whether a quoted part of libpq's message may be shown: punctuation ("=") or a keyword. */
static bool pg_conninfo_harmless(const char *word, size_t len)
{
    bool punct = true;
    for (size_t i = 0; i < len && punct; i++)
        punct = ispunct((unsigned char)word[i]) != 0;
    if (punct && len <= 2)
        return true;
    PQconninfoOption *defs = PQconndefaults();
    bool found = false;
    for (PQconninfoOption *o = defs; o && o->keyword && !found; o++)
        found = strlen(o->keyword) == len && strncmp(o->keyword, word, len) == 0;
    if (defs)
        PQconninfoFree(defs);
    return found;
}

void pg_conninfo_error(const char *libpq_msg, char *out, size_t len)
{
    Buf b = {0};
    const char *m = libpq_msg ? libpq_msg : "out of memory";
    size_t end = strcspn(m, "\n");
    for (size_t i = 0; i < end;) {
        const char *q = memchr(m + i, '"', end - i);
        const char *close = q ? memchr(q + 1, '"', end - (size_t)(q + 1 - m)) : NULL;
        if (!close) {
            buf_append(&b, m + i, end - i);
            break;
        }
        buf_append(&b, m + i, (size_t)(q - (m + i)) + 1);
        if (pg_conninfo_harmless(q + 1, (size_t)(close - q - 1)))
            buf_append(&b, q + 1, (size_t)(close - q - 1));
        else
            buf_append_str(&b, "...");
        buf_append_str(&b, "\"");
        i = (size_t)(close - m) + 1;
    }
    snprintf(out, len, "%.*s", (int)b.len, b.len ? (const char *)b.data : "");
    buf_free(&b);
}

bool pg_conninfo_check(const char *conninfo, const char *what)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo ? conninfo : "", &errmsg);
    if (opts) {
        PQconninfoFree(opts);
        return true;
    }
    char line[512];
    pg_conninfo_error(errmsg, line, sizeof(line));
    if (errmsg)
        PQfreemem(errmsg);
    err_set(DD_EXIT_CONFIG, "invalid connection string for the %s: %s", what, line);
    err_hint("use libpq's \"key=value\" form, e.g. \"host=127.0.0.1 port=5432 user=postgres\", "
             "quoting a value with spaces as 'my value'");
    return false;
}

/* libpq's messages end in a newline and may span lines: keep the first line. */
static const char *pg_first_line(const char *msg, char *out, size_t len)
{
    snprintf(out, len, "%s", msg ? msg : "");
    out[strcspn(out, "\n")] = '\0';
    return out;
}

/*
 * Server notices (a WARNING such as "terminating connection due to immediate
 * shutdown") go to the debug log, one line each: libpq's default printed
 * them raw on stderr, before drydock's own one-line error.
 */
static void pg_notice(void *arg, const char *message)
{
    (void)arg;
    char line[512];
    log_debug("server notice: %s", pg_first_line(message, line, sizeof(line)));
}

PGconn *pg_connect(const char *conninfo, const char *what)
{
    if (!pg_conninfo_check(conninfo, what))
        return NULL;
    /* Keep connection attempts bounded even when the conninfo does not say. */
    const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *vals[] = {conninfo, "10", "drydock", NULL};
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
    PQsetNoticeProcessor(conn, pg_notice, NULL);
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
        const char *host = PQhost(conn), *port = PQport(conn);
        err_set(DD_EXIT_PG, "query failed on server \"%s:%s\": %s", host ? host : "?",
                port ? port : "?",
                pg_first_line(res ? PQresultErrorMessage(res) : PQerrorMessage(conn), line,
                              sizeof(line)));
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
