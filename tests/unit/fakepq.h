/*
 * fakepq.h - a scripted libpq for unit tests of the code that drives a
 * server through pg/libpq.h. Header-only: a test program includes it once.
 *
 * How: every libpq call drydock makes goes through libpq_fn(i) (pg/libpq.h).
 * This header defines libpq_fn itself, so the test program's definition is
 * linked and pg/libpq.o is never taken from libdrydock.a (a link seam: no
 * production code knows about it). The functions that talk to a server are
 * answered from the script in `fakepq`; the others (PQconninfoParse and the
 * rest of the connection-string helpers) are the real libpq's.
 *
 * The script, one connection at a time (fakepq_reset() between cases):
 *   status, error, host, port   PQstatus, PQerrorMessage, PQhost, PQport
 *   exec[]                      the results of PQexec and PQexecParams, in order
 *                               (FAKEPQ_NULL_RESULT:
 *                               PQexec returns NULL, as libpq does out of memory);
 *                               past the end, a PGRES_FATAL_ERROR result
 *   copy[]                      what PQgetCopyData returns, in order: data
 *                               (len > 0), -1 (end of copy), -2 (error), 0
 *                               (nothing yet); past the end, 0
 *   results[]                   what PQgetResult returns, in order, then NULL
 *   send_ok, busy               PQsendQueryParams's answer; how many times PQisBusy
 *                               says busy before it says not (-1: always)
 *   consume_ok                  PQconsumeInput's answer
 *   put_rc, flush_rc, end_rc    PQputCopyData, PQflush, PQputCopyEnd answers
 *   bad_after_result            PQstatus turns CONNECTION_BAD after the first
 *                               PQgetResult
 * and what the code did: the SQL it ran (sql[], with " | param" for each
 * parameter of PQexecParams and PQsendQueryParams), the parameters it connected
 * with, the bytes it sent with PQputCopyData, the notice processor it set,
 * and how many results and connections it left unfreed (open_results,
 * open_conns: both 0 at the end of a correct run).
 * PQsocket is the read end of a pipe: fakepq_readable() makes it readable.
 */
#ifndef DD_TESTS_FAKEPQ_H
#define DD_TESTS_FAKEPQ_H

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pg/libpq.h"

#define FAKEPQ_MAX 16

typedef struct {
    ExecStatusType status;
    int ntuples, nfields;
    const char *values[8]; /* row 0; NULL is SQL NULL */
    const char *error;     /* PQresultErrorMessage */
} FakeResult;

typedef struct {
    int rc; /* PQgetCopyData's return: > 0 is the length of data */
    const char *data;
} FakeCopy;

/* An exec[] entry for which PQexec returns NULL. */
#define FAKEPQ_NULL_RESULT ((ExecStatusType)-1)

static struct {
    ConnStatusType status;
    const char *error, *host, *port;
    FakeResult exec[FAKEPQ_MAX];
    int n_exec, next_exec;
    FakeCopy copy[FAKEPQ_MAX];
    int n_copy, next_copy;
    FakeResult results[FAKEPQ_MAX];
    int n_results, next_result;
    int consume_ok, put_rc, flush_rc, end_rc, send_ok, busy;
    int bad_after_result;
    /* what the code did */
    char sql[FAKEPQ_MAX][256];
    int n_sql;
    char conn_params[512]; /* "key=value " for each PQconnectdbParams parameter */
    unsigned char sent[64];
    int sent_len;
    PQnoticeProcessor notice;
    int open_results, open_conns, results_taken;
    int pipe[2];
} fakepq;

static struct {
    char dummy;
} fakepq_conn_token;

#define FAKEPQ_CONN ((PGconn *)&fakepq_conn_token)

static inline void fakepq_reset(void)
{
    if (fakepq.pipe[0] > 0) {
        close(fakepq.pipe[0]);
        close(fakepq.pipe[1]);
    }
    memset(&fakepq, 0, sizeof(fakepq));
    fakepq.status = CONNECTION_OK;
    fakepq.error = "";
    fakepq.host = "db1";
    fakepq.port = "5432";
    fakepq.consume_ok = 1;
    fakepq.put_rc = 1;
    fakepq.end_rc = 1;
    fakepq.send_ok = 1;
    if (pipe(fakepq.pipe) != 0)
        abort();
}

static inline void fakepq_readable(void)
{
    if (write(fakepq.pipe[1], "x", 1) != 1)
        abort();
}

static PGresult *fakepq_result(const FakeResult *r)
{
    FakeResult *copy = malloc(sizeof(*copy));
    *copy = *r;
    fakepq.open_results++;
    return (PGresult *)copy;
}

static PGconn *fake_PQconnectdbParams(const char *const *keys, const char *const *vals, int expand)
{
    (void)expand;
    fakepq.conn_params[0] = '\0';
    for (int i = 0; keys[i]; i++) {
        size_t used = strlen(fakepq.conn_params);
        snprintf(fakepq.conn_params + used, sizeof(fakepq.conn_params) - used, "%s=%s ", keys[i],
                 vals[i]);
    }
    fakepq.open_conns++;
    return FAKEPQ_CONN;
}

static void fake_PQfinish(PGconn *c)
{
    if (c == FAKEPQ_CONN)
        fakepq.open_conns--;
}

static ConnStatusType fake_PQstatus(const PGconn *c)
{
    (void)c;
    return fakepq.status;
}

static char *fake_PQerrorMessage(const PGconn *c)
{
    (void)c;
    return (char *)fakepq.error;
}

static char *fake_PQhost(const PGconn *c)
{
    (void)c;
    return (char *)fakepq.host;
}

static char *fake_PQport(const PGconn *c)
{
    (void)c;
    return (char *)fakepq.port;
}

static PQnoticeProcessor fake_PQsetNoticeProcessor(PGconn *c, PQnoticeProcessor p, void *arg)
{
    (void)c;
    (void)arg;
    PQnoticeProcessor old = fakepq.notice;
    fakepq.notice = p;
    return old;
}

static void fakepq_record(const char *sql, int nparams, const char *const *params)
{
    if (fakepq.n_sql >= FAKEPQ_MAX)
        return;
    char *q = fakepq.sql[fakepq.n_sql++];
    snprintf(q, sizeof(fakepq.sql[0]), "%s", sql);
    for (int i = 0; i < nparams; i++) {
        size_t used = strlen(q);
        snprintf(q + used, sizeof(fakepq.sql[0]) - used, " | %s", params[i] ? params[i] : "NULL");
    }
}

/* The next scripted result of PQexec or PQexecParams. */
static PGresult *fakepq_next_exec(void)
{
    if (fakepq.next_exec >= fakepq.n_exec)
        return fakepq_result(&(FakeResult){PGRES_FATAL_ERROR, 0, 0, {0}, "no more script\n"});
    const FakeResult *r = &fakepq.exec[fakepq.next_exec++];
    return r->status == FAKEPQ_NULL_RESULT ? NULL : fakepq_result(r);
}

static PGresult *fake_PQexec(PGconn *c, const char *sql)
{
    (void)c;
    fakepq_record(sql, 0, NULL);
    return fakepq_next_exec();
}

static PGresult *fake_PQexecParams(PGconn *c, const char *sql, int nparams, const Oid *types,
                                   const char *const *params, const int *lengths,
                                   const int *formats, int result_format)
{
    (void)c;
    (void)types;
    (void)lengths;
    (void)formats;
    (void)result_format;
    fakepq_record(sql, nparams, params);
    return fakepq_next_exec();
}

static int fake_PQsendQueryParams(PGconn *c, const char *sql, int nparams, const Oid *types,
                                  const char *const *params, const int *lengths, const int *formats,
                                  int result_format)
{
    (void)c;
    (void)types;
    (void)lengths;
    (void)formats;
    (void)result_format;
    fakepq_record(sql, nparams, params);
    return fakepq.send_ok;
}

static int fake_PQisBusy(PGconn *c)
{
    (void)c;
    if (fakepq.busy == 0)
        return 0;
    if (fakepq.busy > 0)
        fakepq.busy--;
    return 1;
}

static void fake_PQclear(PGresult *res)
{
    if (res) {
        fakepq.open_results--;
        free(res);
    }
}

static ExecStatusType fake_PQresultStatus(const PGresult *res)
{
    return res ? ((const FakeResult *)res)->status : PGRES_FATAL_ERROR;
}

static char *fake_PQresultErrorMessage(const PGresult *res)
{
    const char *e = res ? ((const FakeResult *)res)->error : NULL;
    return (char *)(e ? e : "");
}

static int fake_PQntuples(const PGresult *res)
{
    return ((const FakeResult *)res)->ntuples;
}

static int fake_PQnfields(const PGresult *res)
{
    return ((const FakeResult *)res)->nfields;
}

static char *fake_PQgetvalue(const PGresult *res, int row, int col)
{
    const FakeResult *r = (const FakeResult *)res;
    if (row != 0 || col < 0 || col >= 8 || col >= r->nfields)
        abort(); /* the code read outside the row it was given */
    return (char *)(r->values[col] ? r->values[col] : "");
}

static int fake_PQgetisnull(const PGresult *res, int row, int col)
{
    const FakeResult *r = (const FakeResult *)res;
    if (row != 0 || col < 0 || col >= 8 || col >= r->nfields)
        abort();
    return r->values[col] == NULL;
}

static int fake_PQgetCopyData(PGconn *c, char **buf, int async)
{
    (void)c;
    (void)async;
    if (fakepq.next_copy >= fakepq.n_copy)
        return 0;
    const FakeCopy *k = &fakepq.copy[fakepq.next_copy++];
    if (k->rc > 0) {
        *buf = malloc((size_t)k->rc);
        memcpy(*buf, k->data, (size_t)k->rc);
    }
    return k->rc;
}

static void fake_PQfreemem(void *p)
{
    free(p);
}

static int fake_PQsocket(const PGconn *c)
{
    (void)c;
    return fakepq.pipe[0];
}

static int fake_PQconsumeInput(PGconn *c)
{
    (void)c;
    char b;
    if (read(fakepq.pipe[0], &b, 1) != 1)
        abort(); /* consumed without anything to read */
    return fakepq.consume_ok;
}

static int fake_PQputCopyData(PGconn *c, const char *data, int n)
{
    (void)c;
    if (fakepq.put_rc > 0 && n <= (int)sizeof(fakepq.sent)) {
        memcpy(fakepq.sent, data, (size_t)n);
        fakepq.sent_len = n;
    }
    return fakepq.put_rc;
}

static int fake_PQflush(PGconn *c)
{
    (void)c;
    return fakepq.flush_rc;
}

static int fake_PQputCopyEnd(PGconn *c, const char *msg)
{
    (void)c;
    (void)msg;
    return fakepq.end_rc;
}

static PGresult *fake_PQgetResult(PGconn *c)
{
    (void)c;
    if (fakepq.next_result >= fakepq.n_results)
        return NULL;
    if (fakepq.bad_after_result && fakepq.next_result == 0)
        fakepq.status = CONNECTION_BAD;
    fakepq.results_taken++;
    return fakepq_result(&fakepq.results[fakepq.next_result++]);
}

#define FAKEPQ_NAME(f) #f,
static const char *const fakepq_names[] = {LIBPQ_FUNCTIONS(FAKEPQ_NAME) NULL};
#undef FAKEPQ_NAME

/* The real libpq's function i, for what the script does not answer. */
static void *fakepq_real(int i)
{
    static void *handle;
    if (!handle && !(handle = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL)))
        abort();
    return dlsym(handle, fakepq_names[i]);
}

/* The link seam: replaces pg/libpq.c's libpq_fn in this test program. */
void *libpq_fn(int i)
{
    switch (i) {
#define FAKEPQ_CASE(f)                                                                             \
    case LIBPQ_##f:                                                                                \
        return (void *)fake_##f;
        FAKEPQ_CASE(PQconnectdbParams)
        FAKEPQ_CASE(PQfinish)
        FAKEPQ_CASE(PQstatus)
        FAKEPQ_CASE(PQerrorMessage)
        FAKEPQ_CASE(PQhost)
        FAKEPQ_CASE(PQport)
        FAKEPQ_CASE(PQsetNoticeProcessor)
        FAKEPQ_CASE(PQexec)
        FAKEPQ_CASE(PQexecParams)
        FAKEPQ_CASE(PQsendQueryParams)
        FAKEPQ_CASE(PQisBusy)
        FAKEPQ_CASE(PQclear)
        FAKEPQ_CASE(PQresultStatus)
        FAKEPQ_CASE(PQresultErrorMessage)
        FAKEPQ_CASE(PQntuples)
        FAKEPQ_CASE(PQnfields)
        FAKEPQ_CASE(PQgetvalue)
        FAKEPQ_CASE(PQgetisnull)
        FAKEPQ_CASE(PQgetCopyData)
        FAKEPQ_CASE(PQfreemem)
        FAKEPQ_CASE(PQsocket)
        FAKEPQ_CASE(PQconsumeInput)
        FAKEPQ_CASE(PQputCopyData)
        FAKEPQ_CASE(PQflush)
        FAKEPQ_CASE(PQputCopyEnd)
        FAKEPQ_CASE(PQgetResult)
#undef FAKEPQ_CASE
    default:
        return fakepq_real(i);
    }
}

/*
 * For a cmocka test that included <cmocka.h> first: a scripted row of n
 * values or a failure with its message; fixtures that start each test with
 * a fresh script and check that it left nothing open; an expected error.
 */
#ifdef cmocka_unit_test
#define FAKEPQ_ROW(n, ...)                                                                         \
    {                                                                                              \
        PGRES_TUPLES_OK, 1, (n), {__VA_ARGS__}, NULL                                               \
    }
#define FAKEPQ_FAIL(msg)                                                                           \
    {                                                                                              \
        PGRES_FATAL_ERROR, 0, 0, {0}, (msg)                                                        \
    }

static inline int fakepq_setup(void **state)
{
    (void)state;
    fakepq_reset();
    err_clear();
    return 0;
}

static inline int fakepq_teardown(void **state)
{
    (void)state;
    assert_int_equal(fakepq.open_results, 0);
    assert_int_equal(fakepq.open_conns, 0);
    return 0;
}

static inline void fakepq_expect_error(bool ok, DdExit code, const char *message)
{
    assert_false(ok);
    if (err_code() != code || strcmp(err_message(), message) != 0)
        fail_msg("error %d [%s], expected %d [%s]", err_code(), err_message(), code, message);
    err_clear();
}
#endif

#endif
