/*
 * proto.c - protocol framing and message building (see proto.h for the
 * formats and the limits enforced).
 */
#include "proxy/proto.h"

#include <string.h>

#include "common/endian.h"

uint32_t proto_get32(const uint8_t *p)
{
    return be_get32(p);
}

void proto_put32(uint8_t *p, uint32_t v)
{
    be_put32(p, v);
}

ProtoStatus proto_header(const uint8_t *data, size_t len, uint32_t max_len, ProtoHeader *out)
{
    if (len < PROTO_HEADER_LEN)
        return PROTO_INCOMPLETE;
    uint32_t n = proto_get32(data + 1);
    if (n < 4 || n > max_len) {
        err_set(DD_EXIT_PROTOCOL, "invalid message length %u for message type 0x%02x", n, data[0]);
        err_hint("the peer does not speak the PostgreSQL protocol 3.0, or sent a packet over "
                 "%u bytes",
                 max_len);
        return PROTO_BAD;
    }
    out->type = data[0];
    out->length = n;
    return PROTO_OK;
}

ProtoStatus proto_startup_length(const uint8_t *data, size_t len, uint32_t *out)
{
    if (len < 4)
        return PROTO_INCOMPLETE;
    uint32_t n = proto_get32(data);
    if (n < 8 || n > PROTO_MAX_STARTUP) {
        err_set(DD_EXIT_PROTOCOL, "invalid length of startup packet: %u bytes", n);
        err_hint("a startup packet has 8 to %d bytes; is the client speaking PostgreSQL?",
                 PROTO_MAX_STARTUP);
        return PROTO_BAD;
    }
    *out = n;
    return PROTO_OK;
}

static bool startup_params(const uint8_t *data, size_t len, ProtoStartup *out)
{
    ProtoReader r = {data, len, 8};
    for (;;) {
        const char *name, *value;
        if (!proto_read_str(&r, &name))
            return err_set(DD_EXIT_PROTOCOL, "invalid startup packet layout: expected terminator "
                                             "as last byte");
        if (name[0] == '\0')
            break;
        if (!proto_read_str(&r, &value))
            return err_set(DD_EXIT_PROTOCOL,
                           "invalid startup packet layout: parameter \"%.64s\" has no value", name);
        if (out->nparams == PROTO_MAX_PARAMS)
            return err_set(DD_EXIT_PROTOCOL, "too many startup parameters (more than %d)",
                           PROTO_MAX_PARAMS);
        out->names[out->nparams] = name;
        out->values[out->nparams] = value;
        out->nparams++;
        if (strcmp(name, "user") == 0)
            out->user = value;
        else if (strcmp(name, "database") == 0)
            out->database = value;
        else if (strcmp(name, "replication") == 0)
            return err_set(DD_EXIT_PROTOCOL, "replication connections are not supported by the "
                                             "proxy");
    }
    if (r.pos != len)
        return err_set(DD_EXIT_PROTOCOL, "invalid startup packet layout: expected terminator as "
                                         "last byte");
    if (!out->user || !out->user[0])
        return err_set(DD_EXIT_PROTOCOL, "no PostgreSQL user name specified in startup packet");
    if (!out->database || !out->database[0])
        out->database = out->user;
    return true;
}

bool proto_startup_parse(const uint8_t *data, size_t len, ProtoStartup *out)
{
    memset(out, 0, sizeof(*out));
    if (len < 8 || len > PROTO_MAX_STARTUP || proto_get32(data) != len)
        return err_set(DD_EXIT_PROTOCOL, "invalid length of startup packet");
    uint32_t code = proto_get32(data + 4);
    switch (code) {
    case PROTO_CODE_SSL:
    case PROTO_CODE_GSSENC:
        if (len != 8)
            return err_set(DD_EXIT_PROTOCOL, "invalid length of encryption request");
        out->kind = code == PROTO_CODE_SSL ? PROTO_STARTUP_SSL : PROTO_STARTUP_GSSENC;
        return true;
    case PROTO_CODE_CANCEL:
        if (len != 16)
            return err_set(DD_EXIT_PROTOCOL, "invalid length of cancel request");
        out->kind = PROTO_STARTUP_CANCEL;
        out->cancel_pid = proto_get32(data + 8);
        out->cancel_key = proto_get32(data + 12);
        return true;
    case PROTO_VERSION_3:
        out->kind = PROTO_STARTUP_NORMAL;
        return startup_params(data, len, out);
    default:
        err_set(DD_EXIT_PROTOCOL, "unsupported frontend protocol %u.%u: server supports 3.0",
                code >> 16, code & 0xffff);
        err_hint("use a client speaking protocol 3.0 (PostgreSQL 7.4 and later)");
        return false;
    }
}

bool proto_read_u8(ProtoReader *r, uint8_t *out)
{
    if (r->pos + 1 > r->len)
        return false;
    *out = r->p[r->pos++];
    return true;
}

bool proto_read_i32(ProtoReader *r, int32_t *out)
{
    if (r->len - r->pos < 4 || r->pos > r->len)
        return false;
    *out = (int32_t)proto_get32(r->p + r->pos);
    r->pos += 4;
    return true;
}

bool proto_read_str(ProtoReader *r, const char **out)
{
    if (r->pos >= r->len)
        return false;
    const uint8_t *nul = memchr(r->p + r->pos, 0, r->len - r->pos);
    if (!nul)
        return false;
    *out = (const char *)(r->p + r->pos);
    r->pos = (size_t)(nul - r->p) + 1;
    return true;
}

bool proto_read_bytes(ProtoReader *r, size_t n, const uint8_t **out)
{
    if (r->pos > r->len || r->len - r->pos < n)
        return false;
    *out = r->p + r->pos;
    r->pos += n;
    return true;
}

size_t proto_begin(Buf *b, uint8_t type)
{
    buf_append(b, &type, 1);
    size_t off = b->len;
    uint8_t zero[4] = {0};
    buf_append(b, zero, 4);
    return off;
}

void proto_end(Buf *b, size_t off)
{
    proto_put32(b->data + off, (uint32_t)(b->len - off));
}

void proto_add_u8(Buf *b, uint8_t v)
{
    buf_append(b, &v, 1);
}

void proto_add_i16(Buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    buf_append(b, x, 2);
}

void proto_add_i32(Buf *b, uint32_t v)
{
    uint8_t x[4];
    proto_put32(x, v);
    buf_append(b, x, 4);
}

void proto_add_str(Buf *b, const char *s)
{
    buf_append(b, s, strlen(s) + 1);
}

void proto_error(Buf *b, const char *severity, const char *sqlstate, const char *message)
{
    size_t off = proto_begin(b, 'E');
    proto_add_u8(b, 'S');
    proto_add_str(b, severity);
    proto_add_u8(b, 'V');
    proto_add_str(b, severity);
    proto_add_u8(b, 'C');
    proto_add_str(b, sqlstate);
    proto_add_u8(b, 'M');
    proto_add_str(b, message);
    proto_add_u8(b, 0);
    proto_end(b, off);
}

void proto_auth(Buf *b, uint32_t code, const void *data, size_t len)
{
    size_t off = proto_begin(b, 'R');
    proto_add_i32(b, code);
    if (len)
        buf_append(b, data, len);
    proto_end(b, off);
}

void proto_ready(Buf *b, uint8_t status)
{
    size_t off = proto_begin(b, 'Z');
    proto_add_u8(b, status);
    proto_end(b, off);
}

void proto_backend_key(Buf *b, uint32_t pid, uint32_t key)
{
    size_t off = proto_begin(b, 'K');
    proto_add_i32(b, pid);
    proto_add_i32(b, key);
    proto_end(b, off);
}

void proto_param_status(Buf *b, const char *name, const char *value)
{
    size_t off = proto_begin(b, 'S');
    proto_add_str(b, name);
    proto_add_str(b, value);
    proto_end(b, off);
}

void proto_startup_message(Buf *b, size_t n, const char *const *names, const char *const *values)
{
    size_t off = b->len;
    proto_add_i32(b, 0);
    proto_add_i32(b, PROTO_VERSION_3);
    for (size_t i = 0; i < n; i++) {
        proto_add_str(b, names[i]);
        proto_add_str(b, values[i]);
    }
    proto_add_u8(b, 0);
    proto_put32(b->data + off, (uint32_t)(b->len - off));
}

void proto_cancel_request(Buf *b, uint32_t pid, uint32_t key)
{
    proto_add_i32(b, 16);
    proto_add_i32(b, PROTO_CODE_CANCEL);
    proto_add_i32(b, pid);
    proto_add_i32(b, key);
}

static void copy_field(const char *s, char *out, size_t out_len)
{
    if (out_len == 0)
        return;
    size_t n = strlen(s);
    if (n >= out_len)
        n = out_len - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

void proto_error_fields(const uint8_t *payload, size_t len, char *sqlstate, size_t sqlstate_len,
                        char *message, size_t message_len)
{
    ProtoReader r = {payload, len, 0};
    copy_field("", sqlstate, sqlstate_len);
    copy_field("", message, message_len);
    uint8_t code;
    const char *value;
    while (proto_read_u8(&r, &code) && code != 0 && proto_read_str(&r, &value)) {
        if (code == 'C')
            copy_field(value, sqlstate, sqlstate_len);
        else if (code == 'M')
            copy_field(value, message, message_len);
    }
}
