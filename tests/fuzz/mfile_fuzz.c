/*
 * mfile_fuzz.c - libFuzzer target for the maintenance-file parser.
 *
 * Any text must give either a valid MaintFile or a false with one message;
 * the parser must never crash, leak, read out of bounds or leave TZ changed,
 * and a message must be one line of printable text (the file's bytes are
 * shown escaped).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/mem.h"
#include "maint/mfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = xstrndup((const char *)data, size);
    MaintFile m;
    if (mfile_parse_string(text, "fuzz.ini", &m)) {
        mfile_free(&m);
    } else {
        for (const unsigned char *c = (const unsigned char *)err_message(); *c; c++)
            if (*c < 0x20 || *c == 0x7F)
                abort(); /* a control byte reached the message */
    }
    if (getenv("TZ"))
        abort();
    err_clear();
    free(text);
    return 0;
}
