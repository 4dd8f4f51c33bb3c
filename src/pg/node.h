/*
 * node.h - a PostgreSQL server identified once, one "one row" query, and
 * where a conninfo points.
 *
 * pg_node_identify() asks a server, in one query, what every command needs
 * to know before it trusts it: which cluster (system identifier), which
 * version, primary or standby, its timeline, its WAL segment size, whether
 * it checksums pages, and its data directory (when the role may read it).
 * Commands compare these with the repository or with each other; nothing
 * else queries pg_control_system() for them.
 *
 * pg_endpoint_parse() is the one reading of a conninfo's host and port,
 * with libpq's own defaults (PQconndefaults: PGHOST/PGPORT from the
 * environment, else the socket directory and 5432), so that "the same
 * server" (switchover) and "where the proxy connects" agree. hostaddr wins
 * over host, as in libpq; of a list ("a,b") the first entry counts.
 */
#ifndef DD_PG_NODE_H
#define DD_PG_NODE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "pg/libpq.h"

typedef struct {
    uint64_t system_id;
    uint32_t version_num;  /* server_version_num, e.g. 150004 */
    bool in_recovery;      /* a standby (or a server in crash/archive recovery) */
    uint32_t timeline;     /* of its latest checkpoint (restartpoint on a standby) */
    uint32_t wal_seg_size; /* bytes */
    bool data_checksums;
    char data_directory[1024]; /* "" when the role is not in pg_read_all_settings */
} PgNode;

/* Identify the server behind conn; false + error (the server's, DD_EXIT_PG). */
DD_MUST_CHECK bool pg_node_identify(PGconn *conn, PgNode *out);

/*
 * Wait until the server at conninfo is a standby whose WAL receiver streams
 * (pg_stat_wal_receiver.status), asking it every 0.2 s on a connection of
 * its own (what names it in a connection error) for at most timeout
 * seconds, or until *stop is set (stop NULL: never). true once it streams;
 * false when the time is up or stop was set, with the error slot clear: the
 * caller says what it waited for.
 */
bool pg_node_wait_streaming(const char *conninfo, const char *what, double timeout,
                            const volatile sig_atomic_t *stop);

/* current_setting(name) as a new string; NULL + error. */
char *pg_node_setting(PGconn *conn, const char *name);

/*
 * Run a query that must return exactly one row; the caller PQclear()s.
 * NULL + error otherwise ("query returned N rows, expected one").
 */
PGresult *pg_query_row(PGconn *conn, const char *sql, int nparams, const char *const *params);

typedef struct {
    char host[256]; /* a host name, an IP address, or a socket directory (starts with '/') */
    char port[16];
} PgEndpoint;

/* Where conninfo connects; false + DD_EXIT_CONFIG when it does not parse. */
DD_MUST_CHECK bool pg_endpoint_parse(const char *conninfo, PgEndpoint *out);

/*
 * Whether two endpoints are one server: the same port, and the same host,
 * where every local form (localhost, 127.0.0.1, ::1, a socket directory)
 * is one host.
 */
bool pg_endpoint_same(const PgEndpoint *a, const PgEndpoint *b);

#endif
