/*
 * replconn.h - a physical replication session (replication=true) driven
 * through libpq: the walsender commands drydock wal-receive uses, then the
 * CopyBoth stream whose messages pg/replmsg.h parses.
 *
 *   replconn_open ─► IDENTIFY_SYSTEM ─► READ_REPLICATION_SLOT / CREATE_REPLICATION_SLOT
 *        ─► [TIMELINE_HISTORY] ─► START_REPLICATION ─► receive / send status ...
 *        ─► end of stream (the server's timeline ended: next timeline and its start)
 *
 * Walsender commands run on the simple query protocol only; slot names are
 * checked (replconn_slot_name_valid) before they are put in a command.
 * Errors are DD_EXIT_PG naming the server and the command; a conninfo is
 * never printed unredacted.
 */
#ifndef DD_PG_REPLCONN_H
#define DD_PG_REPLCONN_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "common/mem.h"
#include "pg/libpq.h"

typedef struct {
    uint64_t system_id;
    uint32_t timeline;
    uint64_t xlogpos; /* the server's current flush position */
} ReplIdentity;

/* Open a replication=true session with that application_name; NULL + DD_EXIT_PG. */
PGconn *replconn_open(const char *conninfo, const char *app_name);

/* A slot name PostgreSQL accepts: 1-63 of [a-z0-9_]. */
bool replconn_slot_name_valid(const char *name);

DD_MUST_CHECK bool replconn_identify(PGconn *conn, ReplIdentity *out);

/*
 * The physical slot: *exists false when there is none; else its restart_lsn
 * (0 when it holds no WAL yet). A logical slot of that name is an error.
 */
DD_MUST_CHECK bool replconn_slot_read(PGconn *conn, const char *slot, bool *exists,
                                      uint64_t *restart_lsn);
/* CREATE_REPLICATION_SLOT slot PHYSICAL RESERVE_WAL. */
DD_MUST_CHECK bool replconn_slot_create(PGconn *conn, const char *slot);

/* TIMELINE_HISTORY tli: the history file's name and content. */
DD_MUST_CHECK bool replconn_timeline_history(PGconn *conn, uint32_t tli, char **name, Buf *content);

/* START_REPLICATION SLOT slot PHYSICAL lsn TIMELINE tli: the session is in CopyBoth. */
DD_MUST_CHECK bool replconn_start(PGconn *conn, const char *slot, uint64_t lsn, uint32_t tli);

typedef enum {
    REPLCONN_DATA,    /* *buf (PQfreemem it) holds *len bytes of one CopyData */
    REPLCONN_TIMEOUT, /* nothing arrived before the timeout (or a signal came) */
    REPLCONN_END,     /* the server ended the stream: see replconn_end() */
} ReplRecv;

/*
 * Wait up to timeout seconds (0: do not wait) for one message; false +
 * DD_EXIT_PG when the session broke.
 */
DD_MUST_CHECK bool replconn_receive(PGconn *conn, double timeout, char **buf, int *len,
                                    ReplRecv *what);

/* Send a standby status update (replmsg_status) and flush it. */
DD_MUST_CHECK bool replconn_send_status(PGconn *conn, uint64_t write, uint64_t flush,
                                        bool reply_requested);

/*
 * After REPLCONN_END: answer with CopyDone and read the end of the stream.
 * *switched is true when the server's timeline ended there, with the next
 * timeline and the LSN where it starts; false when the server just stopped.
 */
DD_MUST_CHECK bool replconn_end(PGconn *conn, bool *switched, uint32_t *next_tli,
                                uint64_t *next_start);

#endif
