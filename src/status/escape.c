/*
 * escape.c - escaping for HTML, XML and iCalendar (escape.h).
 */
#include "status/escape.h"

#include <string.h>

void esc_xml(Buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '&':
            buf_append_str(b, "&amp;");
            break;
        case '<':
            buf_append_str(b, "&lt;");
            break;
        case '>':
            buf_append_str(b, "&gt;");
            break;
        case '"':
            buf_append_str(b, "&quot;");
            break;
        case '\'':
            buf_append_str(b, "&#39;");
            break;
        default:
            /* XML 1.0 forbids most control characters even escaped: drop them. */
            if (*p >= 0x20 || *p == '\n' || *p == '\t')
                buf_append(b, p, 1);
            else if (*p == '\r')
                break;
        }
    }
}

void esc_ics_text(Buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '\\' || *p == ';' || *p == ',') {
            char e[2] = {'\\', (char)*p};
            buf_append(b, e, 2);
        } else if (*p == '\n') {
            buf_append_str(b, "\\n");
        } else if (*p >= 0x20 && *p != 0x7f) {
            buf_append(b, p, 1);
        }
    }
}

void esc_ics_line(Buf *b, const char *name, const char *value)
{
    Buf line = {0};
    buf_printf(&line, "%s:%s", name, value);
    size_t used = 0; /* octets on the current physical line */
    for (size_t i = 0; i < line.len;) {
        size_t n = 1; /* the length of the UTF-8 sequence starting at i */
        unsigned char c = line.data[i];
        if (c >= 0xF0)
            n = 4;
        else if (c >= 0xE0)
            n = 3;
        else if (c >= 0xC0)
            n = 2;
        if (i + n > line.len)
            n = line.len - i;
        if (used + n > 75) {
            buf_append_str(b, "\r\n ");
            used = 1;
        }
        buf_append(b, line.data + i, n);
        used += n;
        i += n;
    }
    buf_append_str(b, "\r\n");
    buf_free(&line);
}
