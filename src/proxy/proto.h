/*
 * proto.h - PostgreSQL frontend/backend protocol (3.0): framing and the few
 * messages the proxy builds itself. Pure functions, no I/O.
 *
 * Framing. After the startup phase every message is
 *
 *     type:1 byte | length:int32 big-endian (counts itself, not the type) | payload
 *
 * so a frame is 1 + length bytes and length >= 4. The startup phase has no
 * type byte: length:int32 | code:int32 | body, where code is the protocol
 * version (3.0 = 196608) or one of the special request codes below.
 *
 * Limits (invariants the parser enforces):
 *   1. a startup packet is 8..PROTO_MAX_STARTUP bytes (10000, as PostgreSQL);
 *   2. a regular frame has length 4..PROTO_MAX_FRAME (1 GiB, as PostgreSQL's
 *      largest datum); anything else is garbage and drops the peer;
 *   3. a startup packet's parameters are NUL-terminated name/value pairs
 *      ending with an empty name, and "user" is required.
 */
#ifndef DD_PROXY_PROTO_H
#define DD_PROXY_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/mem.h"

#define PROTO_MAX_STARTUP 10000
#define PROTO_MAX_FRAME   (1u << 30)
#define PROTO_HEADER_LEN  5

#define PROTO_VERSION_3   196608u /* 3.0 */
#define PROTO_CODE_CANCEL 80877102u
#define PROTO_CODE_SSL    80877103u
#define PROTO_CODE_GSSENC 80877104u
#define PROTO_MAX_PARAMS  64

/* Result of looking at the head of a byte stream. */
typedef enum {
    PROTO_OK = 0,         /* a complete header (frame) or packet is there */
    PROTO_INCOMPLETE = 1, /* need more bytes */
    PROTO_BAD = 2         /* garbage: error set (DD_EXIT_PROTOCOL) */
} ProtoStatus;

/* The header of a regular frame. */
typedef struct {
    uint8_t type;
    uint32_t length; /* as on the wire: payload + 4 */
} ProtoHeader;

/*
 * Read a frame header from data. PROTO_OK when 5 bytes are there and valid;
 * max_len bounds the length field (PROTO_MAX_FRAME for data).
 */
ProtoStatus proto_header(const uint8_t *data, size_t len, uint32_t max_len, ProtoHeader *out);

typedef enum {
    PROTO_STARTUP_NORMAL = 0,
    PROTO_STARTUP_SSL = 1,
    PROTO_STARTUP_GSSENC = 2,
    PROTO_STARTUP_CANCEL = 3
} ProtoStartupKind;

/* A parsed startup packet; names/values point into the caller's bytes. */
typedef struct {
    ProtoStartupKind kind;
    uint32_t cancel_pid, cancel_key; /* PROTO_STARTUP_CANCEL */
    size_t nparams;
    const char *names[PROTO_MAX_PARAMS];
    const char *values[PROTO_MAX_PARAMS];
    const char *user;     /* "user" parameter */
    const char *database; /* "database", defaults to user */
} ProtoStartup;

/* Length of the startup packet at the head of data (PROTO_INCOMPLETE under 4 bytes). */
ProtoStatus proto_startup_length(const uint8_t *data, size_t len, uint32_t *out);

/*
 * Parse one whole startup packet (exactly len bytes, as proto_startup_length
 * said). The packet must stay alive and unchanged while out is used.
 */
DD_MUST_CHECK bool proto_startup_parse(const uint8_t *data, size_t len, ProtoStartup *out);

/* Big-endian helpers. */
uint32_t proto_get32(const uint8_t *p);
void proto_put32(uint8_t *p, uint32_t v);

/*
 * A reader over one message payload: every get fails (returns false) past
 * the end instead of reading it.
 */
typedef struct {
    const uint8_t *p;
    size_t len, pos;
} ProtoReader;

bool proto_read_u8(ProtoReader *r, uint8_t *out);
bool proto_read_i32(ProtoReader *r, int32_t *out);
/* A NUL-terminated string inside the payload. */
bool proto_read_str(ProtoReader *r, const char **out);
bool proto_read_bytes(ProtoReader *r, size_t n, const uint8_t **out);

/* --- building messages (appended to b) --------------------------------- */

/* Start a message of the given type; returns the offset to pass to proto_end(). */
size_t proto_begin(Buf *b, uint8_t type);
/* Fill in the length of the message started at off. */
void proto_end(Buf *b, size_t off);
void proto_add_u8(Buf *b, uint8_t v);
void proto_add_i16(Buf *b, uint16_t v);
void proto_add_i32(Buf *b, uint32_t v);
void proto_add_str(Buf *b, const char *s); /* with its NUL */

/* ErrorResponse (or NoticeResponse with type 'N'): severity, SQLSTATE, message. */
void proto_error(Buf *b, const char *severity, const char *sqlstate, const char *message);
/* 'R' AuthenticationXXX with a code and optional data. */
void proto_auth(Buf *b, uint32_t code, const void *data, size_t len);
void proto_ready(Buf *b, uint8_t status);
void proto_backend_key(Buf *b, uint32_t pid, uint32_t key);
void proto_param_status(Buf *b, const char *name, const char *value);
/* A 3.0 StartupMessage from name/value pairs. */
void proto_startup_message(Buf *b, size_t n, const char *const *names, const char *const *values);
void proto_cancel_request(Buf *b, uint32_t pid, uint32_t key);

/*
 * The fields of an ErrorResponse/NoticeResponse payload: severity (S),
 * SQLSTATE (C) and message (M), each "" when absent. Copies into out buffers.
 */
void proto_error_fields(const uint8_t *payload, size_t len, char *sqlstate, size_t sqlstate_len,
                        char *message, size_t message_len);

#endif
