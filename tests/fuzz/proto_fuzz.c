/*
 * proto_fuzz.c - libFuzzer target over the proxy's parsers of outside input:
 * the frame header, the startup packet (length and body), the fields of an
 * ErrorResponse, and the Parse/Close tracking of a session. Built by
 * `make fuzz` (clang, -fsanitize=fuzzer,address,undefined); run
 *   build/fuzz/proto_fuzz -max_total_time=60
 * The input is read as a stream of frames, as the proxy reads a client.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proxy/proto.h"
#include "proxy/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_frames(const uint8_t *data, size_t size)
{
    Session s = {.tx = 'I'};
    size_t pos = 0;
    while (pos < size) {
        ProtoHeader h;
        if (proto_header(data + pos, size - pos, PROTO_MAX_FRAME, &h) != PROTO_OK)
            break;
        size_t total = 1 + (size_t)h.length;
        if (total > size - pos)
            break;
        const uint8_t *msg = data + pos;
        session_track_client(&s, h.type);
        if (h.type == 'P')
            session_stmt_parse(&s, msg, total);
        else if (h.type == 'C')
            session_stmt_close(&s, msg, total);
        else if (h.type == 'E') {
            char state[8], text[64];
            proto_error_fields(msg + PROTO_HEADER_LEN, total - PROTO_HEADER_LEN, state,
                               sizeof(state), text, sizeof(text));
        } else if (h.type == 'S' && total > PROTO_HEADER_LEN) {
            /* a ParameterStatus, as the proxy tracks the server's */
            ProtoReader r = {msg, total, PROTO_HEADER_LEN};
            const char *name, *value;
            if (proto_read_str(&r, &name) && proto_read_str(&r, &value)) {
                (void)session_param_set(&s, name, value);
                (void)session_param_get(&s, name);
            }
        } else if (h.type == 'Z' && total == 6)
            session_track_ready(&s, msg[5]);
        (void)session_at_boundary(&s);
        pos += total;
    }
    session_free_tracking(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t len;
    if (proto_startup_length(data, size, &len) == PROTO_OK && len <= size) {
        ProtoStartup st;
        if (proto_startup_parse(data, len, &st) && st.kind == PROTO_STARTUP_NORMAL) {
            for (size_t i = 0; i < st.nparams; i++)
                (void)strlen(st.names[i]);
        }
        fuzz_frames(data + len, size - len);
    }
    fuzz_frames(data, size);
    return 0;
}
