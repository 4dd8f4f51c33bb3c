/*
 * status_text_fuzz.c - libFuzzer target for what the status page takes from
 * outside and shows: a time as the write API and the CLI read it
 * (tz_parse), and a title or text escaped for HTML/XML and iCalendar. It
 * checks the promises of escape.h: no raw '<' or '"' survives XML escaping,
 * and an iCalendar line is folded at 75 octets and unfolds to what went in.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "status/escape.h"
#include "status/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_xml(const char *text)
{
    Buf b = {0};
    esc_xml(&b, text);
    for (size_t i = 0; i < b.len; i++)
        if (b.data[i] == '<' || b.data[i] == '>' || b.data[i] == '"' || b.data[i] == '\'')
            abort();
    buf_free(&b);
}

static void check_ics(const char *text)
{
    Buf v = {0}, b = {0}, unfolded = {0};
    esc_ics_text(&v, text);
    buf_append(&v, "", 1);
    esc_ics_line(&b, "SUMMARY", (const char *)v.data);
    const char *p = (const char *)b.data, *end = p + b.len;
    bool first = true;
    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!eol || eol - p > 75 || (!first && *p != ' '))
            abort();
        buf_append(&unfolded, p + (first ? 0 : 1), (size_t)(eol - p) - (first ? 0 : 1));
        first = false;
        p = eol + 2;
    }
    if (unfolded.len != 8 + strlen((const char *)v.data) ||
        memcmp(unfolded.data + 8, v.data, unfolded.len - 8) != 0)
        abort();
    buf_free(&v);
    buf_free(&b);
    buf_free(&unfolded);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = xstrndup((const char *)data, size);
    int64_t t;
    (void)tz_parse(text, 1800000000, &t);
    check_xml(text);
    check_ics(text);
    free(text);
    return 0;
}
