/*
 * conn.h - libpq sessions with drydock's error convention.
 *
 * Connection strings may carry a password; they are never printed. Messages
 * name the node ("primary", "standby") and the redacted conninfo.
 */
#ifndef DD_PG_CONN_H
#define DD_PG_CONN_H

#include "pg/libpq.h"
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

/* Connect; what names the node in messages. NULL + error (DD_EXIT_PG) on failure. */
PGconn *pg_connect(const char *conninfo, const char *what);
void pg_disconnect(PGconn *conn);

/* Run a statement that returns no rows. */
DD_MUST_CHECK bool pg_exec(PGconn *conn, const char *sql);
/* Run a query; returns the result (caller PQclear()s), NULL + error on failure. */
PGresult *pg_query(PGconn *conn, const char *sql, int nparams, const char *const *params);
/* First column of the first row as a new string (NULL + error when no row). */
char *pg_query_value(PGconn *conn, const char *sql, int nparams, const char *const *params);

/*
 * The conninfo as libpq parses it (key=value, rebuilt from its fields), with
 * password and sslpassword replaced by "********", as a new string. Works on
 * "key=value" strings and postgresql:// URIs (percent-encoding included); a
 * string libpq cannot parse gives "(unparsable connection string)".
 */
char *pg_conninfo_redact(const char *conninfo);

/*
 * libpq's parse error, first line only, with every quoted part that is not a
 * connection keyword replaced by "..." (libpq quotes values and whole URIs,
 * passwords included), into out.
 */
void pg_conninfo_error(const char *libpq_msg, char *out, size_t len);

/* Whether libpq parses conninfo; else false + DD_EXIT_CONFIG naming what, secret-free. */
DD_MUST_CHECK bool pg_conninfo_check(const char *conninfo, const char *what);

/* Parse "X/Y" LSN text. */
bool pg_lsn_parse(const char *s, uint64_t *lsn);
/* Format an LSN as "X/Y" into out (>= 20 bytes). */
void pg_lsn_format(uint64_t lsn, char *out, size_t len);

#endif
