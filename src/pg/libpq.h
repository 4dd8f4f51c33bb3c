/*
 * libpq.h - libpq, opened the first time drydock connects (common/dynlib.h
 * says why). Include this instead of <libpq-fe.h> and call libpq as usual:
 * each function drydock uses is a macro that resolves it on first use. A
 * libpq function missing from the list below does not link, which keeps
 * the list complete.
 */
#ifndef DD_PG_LIBPQ_H
#define DD_PG_LIBPQ_H

#include <libpq-fe.h>

#define LIBPQ_FUNCTIONS(X)                                                                         \
    X(PQclear)                                                                                     \
    X(PQconndefaults)                                                                              \
    X(PQconnectdbParams)                                                                           \
    X(PQconsumeInput)                                                                              \
    X(PQconnectPoll)                                                                               \
    X(PQconnectStartParams)                                                                        \
    X(PQconninfoFree)                                                                              \
    X(PQconninfoParse)                                                                             \
    X(PQerrorMessage)                                                                              \
    X(PQexec)                                                                                      \
    X(PQexecParams)                                                                                \
    X(PQfinish)                                                                                    \
    X(PQflush)                                                                                     \
    X(PQfreemem)                                                                                   \
    X(PQgetCopyData)                                                                               \
    X(PQgetResult)                                                                                 \
    X(PQgetisnull)                                                                                 \
    X(PQgetvalue)                                                                                  \
    X(PQisBusy)                                                                                    \
    X(PQhost)                                                                                      \
    X(PQnfields)                                                                                   \
    X(PQntuples)                                                                                   \
    X(PQparameterStatus)                                                                           \
    X(PQport)                                                                                      \
    X(PQputCopyData)                                                                               \
    X(PQputCopyEnd)                                                                                \
    X(PQresultErrorMessage)                                                                        \
    X(PQresultStatus)                                                                              \
    X(PQsendQueryParams)                                                                           \
    X(PQsetNoticeProcessor)                                                                        \
    X(PQsocket)                                                                                    \
    X(PQstatus)

enum {
#define LIBPQ_INDEX(f) LIBPQ_##f,
    LIBPQ_FUNCTIONS(LIBPQ_INDEX)
#undef LIBPQ_INDEX
        LIBPQ_COUNT
};

/* The address of function i, opening libpq.so.5 on the first call (common/dynlib.h). */
void *libpq_fn(int i);

#define LIBPQ_CALL(f)        ((__typeof__(f) *)libpq_fn(LIBPQ_##f))
#define PQclear              LIBPQ_CALL(PQclear)
#define PQconndefaults       LIBPQ_CALL(PQconndefaults)
#define PQconnectdbParams    LIBPQ_CALL(PQconnectdbParams)
#define PQconsumeInput       LIBPQ_CALL(PQconsumeInput)
#define PQconnectPoll        LIBPQ_CALL(PQconnectPoll)
#define PQconnectStartParams LIBPQ_CALL(PQconnectStartParams)
#define PQconninfoFree       LIBPQ_CALL(PQconninfoFree)
#define PQconninfoParse      LIBPQ_CALL(PQconninfoParse)
#define PQerrorMessage       LIBPQ_CALL(PQerrorMessage)
#define PQexec               LIBPQ_CALL(PQexec)
#define PQexecParams         LIBPQ_CALL(PQexecParams)
#define PQfinish             LIBPQ_CALL(PQfinish)
#define PQflush              LIBPQ_CALL(PQflush)
#define PQfreemem            LIBPQ_CALL(PQfreemem)
#define PQgetCopyData        LIBPQ_CALL(PQgetCopyData)
#define PQgetResult          LIBPQ_CALL(PQgetResult)
#define PQgetisnull          LIBPQ_CALL(PQgetisnull)
#define PQgetvalue           LIBPQ_CALL(PQgetvalue)
#define PQisBusy             LIBPQ_CALL(PQisBusy)
#define PQhost               LIBPQ_CALL(PQhost)
#define PQnfields            LIBPQ_CALL(PQnfields)
#define PQntuples            LIBPQ_CALL(PQntuples)
#define PQparameterStatus    LIBPQ_CALL(PQparameterStatus)
#define PQport               LIBPQ_CALL(PQport)
#define PQputCopyData        LIBPQ_CALL(PQputCopyData)
#define PQputCopyEnd         LIBPQ_CALL(PQputCopyEnd)
#define PQresultErrorMessage LIBPQ_CALL(PQresultErrorMessage)
#define PQresultStatus       LIBPQ_CALL(PQresultStatus)
#define PQsendQueryParams    LIBPQ_CALL(PQsendQueryParams)
#define PQsetNoticeProcessor LIBPQ_CALL(PQsetNoticeProcessor)
#define PQsocket             LIBPQ_CALL(PQsocket)
#define PQstatus             LIBPQ_CALL(PQstatus)

#endif
