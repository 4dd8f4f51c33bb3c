/*
 * config_fuzz.c - libFuzzer target for the INI configuration parser.
 *
 * Any text must give either a valid Config or a false with one message; the
 * parser must never crash, leak or read out of bounds. The bytes go in whole
 * (NULs included, as a binary file would), and a message must be one line of
 * printable text (issue 16: raw bytes were echoed to the terminal).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Config cfg;
    if (config_parse_bytes((const char *)data, size, "fuzz.conf", &cfg)) {
        config_free(&cfg);
    } else {
        for (const unsigned char *m = (const unsigned char *)err_message(); *m; m++)
            if (*m < 0x20 || *m == 0x7F)
                abort(); /* a control byte reached the message */
    }
    err_clear();
    /* The same bytes as one long line (a line past the limit is refused, never split). */
    char *line = xmalloc(size + 16);
    memcpy(line, "[cluster]\nx=", 12);
    for (size_t i = 0; i < size; i++)
        line[12 + i] = data[i] == '\n' ? ' ' : (char)data[i];
    if (config_parse_bytes(line, 12 + size, "fuzz.conf", &cfg))
        config_free(&cfg);
    err_clear();
    free(line);
    return 0;
}
