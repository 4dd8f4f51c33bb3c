/*
 * inifile.c - see inifile.h.
 */
#include "config/inifile.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static bool ini_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Trim blanks at both ends of [*s, *e). */
static void ini_trim(const char **s, const char **e)
{
    while (*s < *e && ini_blank(**s))
        (*s)++;
    while (*e > *s && ini_blank((*e)[-1]))
        (*e)--;
}

/* The parse's state across lines. */
typedef struct {
    const InifileOptions *opts;
    InifileLineHandler handler;
    void *user;
    char section[256];
    char prev_key[256]; /* the last key of this section, for continuations; "" none */
    InifileLine line;
    char *why;
    size_t why_len;
} IniParse;

/* One line [s, e) of the file: 1 passed, 0 the handler refused it, -1 syntax (why set). */
static int ini_line(IniParse *ip, const char *s, const char *e)
{
    for (const char *p = s; p < e; p++)
        if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7F) {
            snprintf(ip->why, ip->why_len, "not text: byte 0x%02x at column %zu", (unsigned char)*p,
                     (size_t)(p - s) + 1);
            return -1;
        }
    bool indented = s < e && ini_blank(*s);
    ini_trim(&s, &e);
    if (s == e || *s == ';' || *s == '#')
        return 1;
    ip->line.continuation = ip->opts->continuation && indented && ip->prev_key[0];
    if (ip->line.continuation) {
        const char *ve = e;
        for (const char *p = s; p < ve; p++)
            if (*p == ';' && p > s && ini_blank(p[-1])) {
                ve = p;
                break;
            }
        ini_trim(&s, &ve);
        char value[INIFILE_MAX_LINE + 1];
        snprintf(value, sizeof(value), "%.*s", (int)(ve - s), s);
        return ip->handler(ip->user, ip->section, ip->prev_key, value, &ip->line) ? 1 : 0;
    }
    if (*s == '[') {
        const char *close = memchr(s, ']', (size_t)(e - s));
        const char *n = s + 1, *ne = close;
        if (close)
            ini_trim(&n, &ne);
        if (!close || (size_t)(ne - n) >= sizeof(ip->section)) {
            snprintf(ip->why, ip->why_len, "expected \"[section]\" or \"key = value\"");
            return -1;
        }
        snprintf(ip->section, sizeof(ip->section), "%.*s", (int)(ne - n), n);
        ip->prev_key[0] = '\0';
        return 1;
    }
    const char *sep = s;
    while (sep < e && *sep != '=' && *sep != ':')
        sep++;
    if (sep == e) {
        snprintf(ip->why, ip->why_len, "expected \"[section]\" or \"key = value\"");
        return -1;
    }
    const char *ks = s, *ke = sep, *vs = sep + 1, *ve = e;
    for (const char *p = vs; p < ve; p++)
        if (*p == ';' && p > vs && ini_blank(p[-1])) {
            ve = p;
            break;
        }
    ini_trim(&ks, &ke);
    ini_trim(&vs, &ve);
    char value[INIFILE_MAX_LINE + 1];
    if ((size_t)(ke - ks) >= sizeof(ip->prev_key)) {
        snprintf(ip->why, ip->why_len, "a key of %zu bytes is too long", (size_t)(ke - ks));
        return -1;
    }
    snprintf(ip->prev_key, sizeof(ip->prev_key), "%.*s", (int)(ke - ks), ks);
    memcpy(value, vs, (size_t)(ve - vs));
    value[ve - vs] = '\0';
    return ip->handler(ip->user, ip->section, ip->prev_key, value, &ip->line) ? 1 : 0;
}

void inifile_parse_with(const char *text, size_t len, const InifileOptions *opts,
                        InifileLineHandler handler, void *user, InifileResult *out)
{
    IniParse ip = {.opts = opts,
                   .handler = handler,
                   .user = user,
                   .why = out->why,
                   .why_len = sizeof(out->why)};
    size_t max =
        opts->max_line && opts->max_line < INIFILE_MAX_LINE ? opts->max_line : INIFILE_MAX_LINE;
    const char *p = text, *end = text + len;
    *out = (InifileResult){.status = INIFILE_OK};
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    for (int lineno = 1; p < end; lineno++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        if (e > p && e[-1] == '\r')
            e--;
        out->lineno = lineno;
        if ((size_t)(e - p) > max) {
            snprintf(out->why, sizeof(out->why), "line too long: %zu bytes, at most %zu",
                     (size_t)(e - p), max);
            out->status = INIFILE_TOO_LONG;
            return;
        }
        ip.line.lineno = lineno;
        int r = ini_line(&ip, p, e);
        if (r <= 0) {
            out->status = r < 0 ? INIFILE_SYNTAX : INIFILE_HANDLER;
            return;
        }
        p = nl ? nl + 1 : end;
    }
    out->lineno = 0;
}

/* inifile_parse's handler over inifile_parse_with's. */
typedef struct {
    InifileHandler handler;
    void *user;
} IniPlain;

static bool ini_plain(void *user, const char *section, const char *key, const char *value,
                      const InifileLine *line)
{
    (void)line;
    const IniPlain *pl = user;
    return pl->handler(pl->user, section, key, value);
}

int inifile_parse(const char *text, size_t len, InifileHandler handler, void *user, bool *syntax,
                  char *why, size_t why_len)
{
    IniPlain pl = {handler, user};
    InifileResult r;
    inifile_parse_with(text, len, &(InifileOptions){0}, ini_plain, &pl, &r);
    *syntax = r.status == INIFILE_SYNTAX || r.status == INIFILE_TOO_LONG;
    snprintf(why, why_len, "%s", r.why);
    return r.lineno;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), its code point in *cp; 0 if invalid. */
static size_t ini_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t need = s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (need == 0 || need > n || s[0] >= 0xF5)
        return 0;
    uint32_t v = s[0] & (0x7F >> need);
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[need] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return need;
}

void inifile_escape(const char *s, size_t max, char *out, size_t len)
{
    size_t n = strlen(s), w = 0;
    bool cut = n > max;
    if (cut)
        n = max;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n && w + 5 < len;) {
        uint32_t cp = 0;
        size_t k = u[i] >= 0x80 ? ini_utf8(u + i, n - i, &cp) : 1;
        bool raw = u[i] < 0x80 ? u[i] >= 0x20 && u[i] != 0x7F : k > 0 && (cp < 0x80 || cp > 0x9F);
        if (raw && w + k < len) {
            memcpy(out + w, u + i, k);
            w += k;
            i += k;
        } else {
            w += (size_t)snprintf(out + w, len - w, "\\x%02X", u[i]);
            i++;
        }
    }
    if (cut && w + 4 < len) {
        memcpy(out + w, "...", 3);
        w += 3;
    }
    out[w < len ? w : len - 1] = '\0';
}
