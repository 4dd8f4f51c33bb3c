/*
 * walside.c - see walside.h.
 */
#include "pg/walside.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WALSIDE_MAX_LEN (1u << 20) /* a history file of a million bytes is not one */

/* Text only: no NUL and no control byte other than tab, CR and LF. */
static bool walside_text(const char *what, const uint8_t *d, size_t len)
{
    if (len > WALSIDE_MAX_LEN)
        return err_set(DD_EXIT_CORRUPT, "%s is %zu bytes, more than a text file of its kind", what,
                       len);
    for (size_t i = 0; i < len; i++)
        if (d[i] < 0x20 && d[i] != '\t' && d[i] != '\n' && d[i] != '\r')
            return err_set(DD_EXIT_CORRUPT, "%s is not text: byte 0x%02x at offset %zu", what, d[i],
                           i);
    return true;
}

/* Parse "X/Y" at *p (hex, as PostgreSQL prints LSNs); advance *p past it. */
static bool walside_lsn(const char **p, uint64_t *lsn)
{
    char *end;
    const char *s = *p;
    if (!((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'F') || (*s >= 'a' && *s <= 'f')))
        return false;
    unsigned long hi = strtoul(s, &end, 16);
    if (*end != '/' || hi > UINT32_MAX)
        return false;
    s = end + 1;
    if (!((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'F') || (*s >= 'a' && *s <= 'f')))
        return false;
    unsigned long lo = strtoul(s, &end, 16);
    if (lo > UINT32_MAX)
        return false;
    *lsn = (uint64_t)hi << 32 | lo;
    *p = end;
    return true;
}

/* One history line (NUL-terminated, blanks skipped); *prev is the last parent timeline. */
static bool walside_history_line(uint32_t tli, const char *line, size_t lineno, uint32_t *prev)
{
    const char *p = line;
    char *end;
    if (*p < '0' || *p > '9')
        return err_set(DD_EXIT_CORRUPT,
                       "history file of timeline %u, line %zu: expected a numeric timeline ID", tli,
                       lineno);
    unsigned long parent = strtoul(p, &end, 10);
    p = end;
    while (*p == ' ' || *p == '\t')
        p++;
    uint64_t lsn;
    if (parent > UINT32_MAX || !walside_lsn(&p, &lsn))
        return err_set(DD_EXIT_CORRUPT,
                       "history file of timeline %u, line %zu: expected a timeline ID and a "
                       "switch point X/Y",
                       tli, lineno);
    if (parent == 0 || parent <= *prev || parent >= tli)
        return err_set(DD_EXIT_CORRUPT,
                       "history file of timeline %u, line %zu: timeline %lu is not after %u and "
                       "before %u",
                       tli, lineno, parent, *prev, tli);
    *prev = (uint32_t)parent;
    return true;
}

bool walside_history_check(uint32_t tli, const void *data, size_t len)
{
    char what[64];
    snprintf(what, sizeof(what), "history file of timeline %u", tli);
    if (!walside_text(what, data, len))
        return false;
    char *text = strndup(data, len);
    uint32_t prev = 0;
    size_t lineno = 0, entries = 0;
    bool ok = true;
    for (char *line = text, *next; ok && line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        while (*line == ' ' || *line == '\t' || *line == '\r')
            line++;
        if (*line == '\0' || *line == '#')
            continue;
        ok = walside_history_line(tli, line, lineno, &prev);
        entries++;
    }
    free(text);
    if (ok && entries == 0)
        ok = err_set(DD_EXIT_CORRUPT, "%s has no entry: expected one line per parent timeline",
                     what);
    return ok;
}

bool walside_backup_check(const char *name, uint32_t seg_size, const void *data, size_t len)
{
    char what[96];
    snprintf(what, sizeof(what), "backup history file \"%.60s\"", name);
    if (!walside_text(what, data, len))
        return false;
    char *text = strndup(data, len);
    const char *p = text;
    uint64_t lsn = 0;
    char file[25] = "";
    bool ok = strncmp(p, "START WAL LOCATION: ", 20) == 0;
    if (ok) {
        p += 20;
        ok = walside_lsn(&p, &lsn) && sscanf(p, " (file %24[0-9A-F])", file) == 1;
    }
    if (!ok) {
        free(text);
        return err_set(DD_EXIT_CORRUPT,
                       "%s does not start with \"START WAL LOCATION: X/Y (file <segment>)\"", what);
    }
    char expect[48];
    snprintf(expect, sizeof(expect), "%.24s.%08X.backup", file, (unsigned)(lsn % seg_size));
    if (strcmp(expect, name) != 0)
        ok = err_set(DD_EXIT_CORRUPT, "%s says it starts at %s, which would be named \"%s\"", what,
                     file, expect);
    else if (!strstr(text, "\nSTOP WAL LOCATION: "))
        ok = err_set(DD_EXIT_CORRUPT, "%s has no \"STOP WAL LOCATION\" line", what);
    free(text);
    return ok;
}
