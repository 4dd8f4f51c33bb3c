/*
 * config_fuzz.c - libFuzzer target for the INI configuration parser.
 *
 * Any text must give either a valid Config or a false with one message; the
 * parser must never crash, leak or read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = xstrndup((const char *)data, size);
    Config cfg;
    if (config_parse_string(text, "fuzz.conf", &cfg))
        config_free(&cfg);
    err_clear();
    free(text);
    return 0;
}
