/*
 * mfile_fuzz.c - libFuzzer target for the maintenance-file parser.
 *
 * Any text must give either a valid MaintFile or a false with one message;
 * the parser must never crash, leak, read out of bounds or leave TZ changed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "maint/mfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = xstrndup((const char *)data, size);
    MaintFile m;
    if (mfile_parse_string(text, "fuzz.ini", &m))
        mfile_free(&m);
    if (getenv("TZ"))
        abort();
    err_clear();
    free(text);
    return 0;
}
