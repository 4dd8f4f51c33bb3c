/*
 * node.c - see node.h.
 */
#include "pg/node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pg_config.h>
#include <pg_config_manual.h>

#include "common/mem.h"
#include "common/timeutil.h"
#include "pg/conn.h"

/* One round trip; the columns in PgNode's order. */
static const char node_sql[] =
    "SELECT system_identifier::text, current_setting('server_version_num'), "
    "pg_is_in_recovery(), (SELECT timeline_id FROM pg_control_checkpoint()), "
    "(SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'), "
    "current_setting('data_checksums'), "
    "CASE WHEN pg_has_role('pg_read_all_settings', 'MEMBER') "
    "THEN current_setting('data_directory') ELSE '' END "
    "FROM pg_control_system()";

bool pg_node_identify(PGconn *conn, PgNode *out)
{
    memset(out, 0, sizeof(*out));
    PGresult *res = pg_query_row(conn, node_sql, 0, NULL);
    if (!res)
        return false;
    out->system_id = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    out->version_num = (uint32_t)strtoul(PQgetvalue(res, 0, 1), NULL, 10);
    out->in_recovery = PQgetvalue(res, 0, 2)[0] == 't';
    out->timeline = (uint32_t)strtoul(PQgetvalue(res, 0, 3), NULL, 10);
    out->wal_seg_size = (uint32_t)strtoul(PQgetvalue(res, 0, 4), NULL, 10);
    out->data_checksums = strcmp(PQgetvalue(res, 0, 5), "on") == 0;
    snprintf(out->data_directory, sizeof(out->data_directory), "%s", PQgetvalue(res, 0, 6));
    PQclear(res);
    return true;
}

char *pg_node_setting(PGconn *conn, const char *name)
{
    const char *params[] = {name};
    return pg_query_value(conn, "SELECT current_setting($1)", 1, params);
}

PGresult *pg_query_row(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = pg_query(conn, sql, nparams, params);
    if (res && PQntuples(res) != 1) {
        int n = PQntuples(res);
        PQclear(res);
        err_set(DD_EXIT_PG, "query returned %d rows, expected one", n);
        return NULL;
    }
    return res;
}

/* The first entry of a comma-separated list. */
static void endpoint_first(char *dst, size_t len, const char *val)
{
    snprintf(dst, len, "%.*s", (int)strcspn(val, ","), val);
}

bool pg_endpoint_parse(const char *conninfo, PgEndpoint *out)
{
    /* libpq's parse error may quote a password: pg_conninfo_check() shows it without. */
    if (!pg_conninfo_check(conninfo, "server"))
        return false;
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    if (!opts)
        return err_set(DD_EXIT_CONFIG, "invalid connection string for the server: out of memory");
    /* libpq's defaults (PGHOST, PGPORT, then compiled in); no host at all is its socket dir. */
    PQconninfoOption *defs = PQconndefaults();
    const char *host = NULL, *hostaddr = NULL, *port = NULL;
    for (int pass = 0; pass < 2; pass++) {
        for (PQconninfoOption *o = pass == 0 ? defs : opts; o && o->keyword; o++) {
            if (!o->val || !o->val[0])
                continue;
            if (strcmp(o->keyword, "host") == 0)
                host = o->val;
            else if (strcmp(o->keyword, "hostaddr") == 0)
                hostaddr = o->val;
            else if (strcmp(o->keyword, "port") == 0)
                port = o->val;
        }
    }
    endpoint_first(out->host, sizeof(out->host),
                   hostaddr ? hostaddr
                   : host   ? host
                            : DEFAULT_PGSOCKET_DIR);
    endpoint_first(out->port, sizeof(out->port), port ? port : DEF_PGPORT_STR);
    PQconninfoFree(opts);
    if (defs)
        PQconninfoFree(defs);
    return true;
}

static bool endpoint_local(const char *host)
{
    return host[0] == '/' || strcmp(host, "localhost") == 0 || strcmp(host, "127.0.0.1") == 0 ||
           strcmp(host, "::1") == 0;
}

bool pg_endpoint_same(const PgEndpoint *a, const PgEndpoint *b)
{
    if (atoi(a->port) != atoi(b->port))
        return false;
    if (endpoint_local(a->host) && endpoint_local(b->host))
        return true;
    return strcmp(a->host, b->host) == 0;
}

bool pg_node_wait_streaming(const char *conninfo, const char *what, double timeout,
                            const volatile sig_atomic_t *stop)
{
    double deadline = time_mono() + timeout;
    for (;;) {
        PGconn *c = pg_connect(conninfo, what);
        char *st = c ? pg_query_value(c,
                                      "SELECT coalesce((SELECT status FROM pg_stat_wal_receiver), "
                                      "'none')",
                                      0, NULL)
                     : NULL;
        bool streaming = st && strcmp(st, "streaming") == 0;
        free(st);
        pg_disconnect(c);
        err_clear(); /* a server restarting answers nothing for a while */
        if (streaming)
            return true;
        if (time_mono() > deadline || (stop && *stop))
            return false;
        time_sleep(0.2);
    }
}
