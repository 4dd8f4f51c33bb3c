/*
 * escape.h - text made safe for where it is shown: HTML and XML text and
 * attributes, and iCalendar TEXT values with their line folding. Every
 * title and update text that reaches a page or a feed goes through one of
 * these (JSON escaping is jansson's).
 */
#ifndef DD_STATUS_ESCAPE_H
#define DD_STATUS_ESCAPE_H

#include "common/mem.h"

/* Append s with & < > " ' escaped (valid in HTML and XML text and quoted attributes). */
void esc_xml(Buf *b, const char *s);

/*
 * Append s as iCalendar TEXT (RFC 5545 3.3.11): backslash, semicolon and
 * comma escaped, newlines as \n, other control characters dropped.
 */
void esc_ics_text(Buf *b, const char *s);

/*
 * Append one content line "NAME:VALUE" (value already escaped) folded at
 * 75 octets (RFC 5545 3.1): CRLF then a space before each continuation,
 * never inside a UTF-8 sequence; ends with CRLF.
 */
void esc_ics_line(Buf *b, const char *name, const char *value);

#endif
