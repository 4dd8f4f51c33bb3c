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

/* One line [s, e) of the file; section is the current section (updated). */
static int ini_line(const char *s, const char *e, char *section, size_t section_len,
                    InifileHandler handler, void *user, char *why, size_t why_len)
{
    for (const char *p = s; p < e; p++)
        if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7F) {
            snprintf(why, why_len, "not text: byte 0x%02x at column %zu", (unsigned char)*p,
                     (size_t)(p - s) + 1);
            return -1;
        }
    ini_trim(&s, &e);
    if (s == e || *s == ';' || *s == '#')
        return 1;
    if (*s == '[') {
        const char *close = memchr(s, ']', (size_t)(e - s));
        const char *n = s + 1, *ne = close;
        if (close)
            ini_trim(&n, &ne);
        if (!close || (size_t)(ne - n) >= section_len) {
            snprintf(why, why_len, "expected \"[section]\" or \"key = value\"");
            return -1;
        }
        snprintf(section, section_len, "%.*s", (int)(ne - n), n);
        return 1;
    }
    const char *sep = s;
    while (sep < e && *sep != '=' && *sep != ':')
        sep++;
    if (sep == e) {
        snprintf(why, why_len, "expected \"[section]\" or \"key = value\"");
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
    char key[256], value[INIFILE_MAX_LINE + 1];
    if ((size_t)(ke - ks) >= sizeof(key)) {
        snprintf(why, why_len, "a key of %zu bytes is too long", (size_t)(ke - ks));
        return -1;
    }
    snprintf(key, sizeof(key), "%.*s", (int)(ke - ks), ks);
    memcpy(value, vs, (size_t)(ve - vs));
    value[ve - vs] = '\0';
    return handler(user, section, key, value) ? 1 : 0;
}

int inifile_parse(const char *text, size_t len, InifileHandler handler, void *user, bool *syntax,
                  char *why, size_t why_len)
{
    char section[256] = "";
    const char *p = text, *end = text + len;
    *syntax = false;
    why[0] = '\0';
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    for (int lineno = 1; p < end; lineno++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        if (e > p && e[-1] == '\r')
            e--;
        if ((size_t)(e - p) > INIFILE_MAX_LINE) {
            snprintf(why, why_len, "line too long: %zu bytes, at most %d", (size_t)(e - p),
                     INIFILE_MAX_LINE);
            *syntax = true;
            return lineno;
        }
        int r = ini_line(p, e, section, sizeof(section), handler, user, why, why_len);
        if (r <= 0) {
            *syntax = r < 0;
            return lineno;
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
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
