/*
 * inifile.h - the INI syntax of drydock's configuration file (config.c gives
 * the keys their meaning).
 *
 * Replaces inih, whose fixed 200-byte line buffer split a realistic conninfo
 * line (sslrootcert, sslcert and sslkey paths) into a second, bogus line, and
 * which went on after the first error so that its line number and the last
 * error's key ended up in one message. The syntax is inih's, as Debian builds
 * it:
 *
 *   - lines end in LF (a CR before it is dropped); a UTF-8 BOM may start the file;
 *   - blank lines, and lines whose first non-blank byte is ';' or '#', are comments;
 *   - "[section]" starts a section (blanks around the name are dropped);
 *   - "key = value" or "key: value" (the first '=' or ':' splits) sets a key,
 *     blanks around key and value dropped, and " ;..." (a ';' after a
 *     blank) ends the value as a comment;
 *   - leading blanks are allowed (inih's continuation lines are not: an
 *     indented line is a line of its own).
 *
 * Limits: a line holds at most INIFILE_MAX_LINE bytes ("line too long"
 * beyond); a line with a control byte (other than tab; DEL too) is "not text", so a
 * binary file is refused at its first such line and never echoed. Parsing
 * stops at the first error, the handler's or the syntax's, and reports it.
 */
#ifndef DD_CONFIG_INIFILE_H
#define DD_CONFIG_INIFILE_H

#include <stdbool.h>
#include <stddef.h>

#define INIFILE_MAX_LINE 16384

/*
 * Called once per key line; a false return stops the parse (the handler
 * keeps its own message). section is "" before the first header.
 */
typedef bool (*InifileHandler)(void *user, const char *section, const char *key, const char *value);

/*
 * Parse text (len bytes, NULs included). Returns 0 when every line passed,
 * else the 1-based number of the first failing line, with *syntax set when
 * the syntax failed there (why then holds the reason) and false when the
 * handler refused the line.
 */
int inifile_parse(const char *text, size_t len, InifileHandler handler, void *user, bool *syntax,
                  char *why, size_t why_len);

/*
 * The same syntax, for a reader that needs more (the maintenance file,
 * maint/mfile.c): each key line's number, a shorter line limit of its own,
 * and, with continuation, inih's multi-line values: a non-blank,
 * non-comment line with leading blanks that follows a key line of the same
 * section continues that key; the handler gets the previous key, the line's
 * text (blanks and a " ;..." comment dropped) and line->continuation set.
 */
typedef struct {
    size_t max_line;   /* bytes of a line at most; 0: INIFILE_MAX_LINE */
    bool continuation; /* inih's multi-line values */
} InifileOptions;

typedef struct {
    int lineno;        /* 1-based */
    bool continuation; /* value continues key's value (InifileOptions.continuation) */
} InifileLine;

typedef bool (*InifileLineHandler)(void *user, const char *section, const char *key,
                                   const char *value, const InifileLine *line);

typedef enum {
    INIFILE_OK,       /* every line passed */
    INIFILE_HANDLER,  /* the handler refused the line */
    INIFILE_SYNTAX,   /* the syntax failed (why says how) */
    INIFILE_TOO_LONG, /* the line is longer than max_line (why says so) */
} InifileStatus;

typedef struct {
    InifileStatus status;
    int lineno; /* the failing line; 0 with INIFILE_OK */
    char why[256];
} InifileResult;

void inifile_parse_with(const char *text, size_t len, const InifileOptions *opts,
                        InifileLineHandler handler, void *user, InifileResult *out);

/*
 * Copy s into out (len bytes, always terminated) with what a terminal must
 * not receive raw escaped as \xNN: C0 controls, DEL, C1 controls and bytes
 * that are not UTF-8; longer than max bytes of input is cut with "...".
 */
void inifile_escape(const char *s, size_t max, char *out, size_t len);

#endif
