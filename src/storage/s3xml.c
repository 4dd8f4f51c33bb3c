/*
 * s3xml.c - see s3xml.h.
 */
#include "storage/s3xml.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

typedef struct {
    const char *p, *end;
    const char *why; /* the first problem found */
} XmlIn;

static bool xml_fail(XmlIn *in, const char *why)
{
    if (!in->why)
        in->why = why;
    return false;
}

static void skip_space(XmlIn *in)
{
    while (in->p < in->end && (*in->p == ' ' || *in->p == '\t' || *in->p == '\n' || *in->p == '\r'))
        in->p++;
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == ':';
}

/* A name; the namespace prefix (up to the last ':') is dropped. */
static char *read_name(XmlIn *in)
{
    const char *start = in->p;
    while (in->p < in->end && name_char(*in->p))
        in->p++;
    if (in->p == start)
        return xml_fail(in, "a tag without a name"), NULL;
    const char *local = start;
    for (const char *q = start; q < in->p; q++)
        if (*q == ':')
            local = q + 1;
    if (local == in->p)
        return xml_fail(in, "a tag without a name"), NULL;
    return xstrndup(local, (size_t)(in->p - local));
}

static void put_utf8(Buf *b, uint32_t cp)
{
    uint8_t u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (uint8_t)(0xC0 | cp >> 6);
        u[1] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (uint8_t)(0xE0 | cp >> 12);
        u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (uint8_t)(0xF0 | cp >> 18);
        u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 4;
    }
    buf_append(b, u, n);
}

/* An entity after '&' up to its ';'. */
static bool read_entity(XmlIn *in, Buf *b)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
    const char *semi = memchr(in->p, ';', (size_t)(in->end - in->p));
    if (!semi || semi - in->p > 10)
        return xml_fail(in, "an unterminated entity");
    size_t n = (size_t)(semi - in->p);
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        if (strlen(named[i].name) == n && memcmp(in->p, named[i].name, n) == 0) {
            buf_append(b, &named[i].c, 1);
            in->p = semi + 1;
            return true;
        }
    if (n < 2 || in->p[0] != '#')
        return xml_fail(in, "an unknown entity");
    bool hex = in->p[1] == 'x';
    uint32_t cp = 0;
    const char *q = in->p + (hex ? 2 : 1);
    if (q == semi)
        return xml_fail(in, "an empty character reference");
    for (; q < semi; q++) {
        int d = *q >= '0' && *q <= '9'          ? *q - '0'
                : hex && *q >= 'a' && *q <= 'f' ? *q - 'a' + 10
                : hex && *q >= 'A' && *q <= 'F' ? *q - 'A' + 10
                                                : -1;
        if (d < 0)
            return xml_fail(in, "a malformed character reference");
        cp = cp * (hex ? 16u : 10u) + (uint32_t)d;
        if (cp > 0x10FFFF)
            return xml_fail(in, "a character reference out of range");
    }
    if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
        return xml_fail(in, "a character reference out of range");
    put_utf8(b, cp);
    in->p = semi + 1;
    return true;
}

/* Text up to the next '<', decoded. */
static bool read_text(XmlIn *in, Buf *b)
{
    while (in->p < in->end && *in->p != '<') {
        if (*in->p == '&') {
            in->p++;
            if (!read_entity(in, b))
                return false;
            continue;
        }
        if (*in->p == '>')
            return xml_fail(in, "a '>' in text");
        buf_append(b, in->p, 1);
        in->p++;
    }
    return true;
}

/* Attributes up to '>' or '/>': checked for shape, then dropped. */
static bool skip_attributes(XmlIn *in)
{
    for (;;) {
        skip_space(in);
        if (in->p >= in->end)
            return xml_fail(in, "a tag that does not end");
        if (*in->p == '>' || *in->p == '/')
            return true;
        char *n = read_name(in);
        if (!n)
            return false;
        free(n);
        skip_space(in);
        if (in->p + 1 >= in->end || *in->p != '=')
            return xml_fail(in, "an attribute without a value");
        in->p++;
        skip_space(in);
        char quote = in->p < in->end ? *in->p : 0;
        if (quote != '"' && quote != '\'')
            return xml_fail(in, "an attribute value without quotes");
        const char *close = memchr(in->p + 1, quote, (size_t)(in->end - in->p - 1));
        if (!close || memchr(in->p + 1, '<', (size_t)(close - in->p - 1)))
            return xml_fail(in, "an attribute value that does not end");
        in->p = close + 1;
    }
}

static bool starts(const XmlIn *in, const char *s)
{
    size_t n = strlen(s);
    return (size_t)(in->end - in->p) >= n && memcmp(in->p, s, n) == 0;
}

/* Skip a comment at "<!--". */
static bool skip_comment(XmlIn *in)
{
    in->p += 4;
    while (in->p + 2 < in->end && !starts(in, "-->"))
        in->p++;
    if (!starts(in, "-->"))
        return xml_fail(in, "a comment that does not end");
    in->p += 3;
    return true;
}

static XmlNode *read_element(XmlIn *in, int depth);

/* The content of an element after its start tag, through its end tag. */
static bool read_content(XmlIn *in, XmlNode *node, int depth)
{
    Buf text = {0};
    XmlNode **tail = &node->child;
    bool ok = true;
    for (;;) {
        if (!(ok = read_text(in, &text)))
            break;
        if (in->p >= in->end) {
            ok = xml_fail(in, "an element that does not end");
            break;
        }
        if (starts(in, "<!--")) {
            if (!(ok = skip_comment(in)))
                break;
            continue;
        }
        if (starts(in, "</")) {
            in->p += 2;
            char *n = read_name(in);
            skip_space(in);
            ok = n && strcmp(n, node->name) == 0 && in->p < in->end && *in->p == '>';
            free(n);
            if (!ok)
                xml_fail(in, "an end tag that does not match its start tag");
            in->p++;
            break;
        }
        XmlNode *c = read_element(in, depth + 1);
        if (!c) {
            ok = false;
            break;
        }
        *tail = c;
        tail = &c->next;
    }
    buf_append(&text, "", 1);
    node->text = (char *)text.data;
    return ok;
}

static XmlNode *read_element(XmlIn *in, int depth)
{
    if (depth > S3XML_MAX_DEPTH)
        return xml_fail(in, "elements nested too deep"), NULL;
    if (in->p >= in->end || *in->p != '<')
        return xml_fail(in, "text where an element was expected"), NULL;
    in->p++;
    if (in->p < in->end && (*in->p == '!' || *in->p == '?'))
        return xml_fail(in, "a declaration, CDATA or instruction inside the document"), NULL;
    XmlNode *node = xcalloc(1, sizeof(*node));
    node->name = read_name(in);
    bool ok = node->name && skip_attributes(in);
    if (ok && *in->p == '/') {
        ok = in->p + 1 < in->end && in->p[1] == '>';
        if (!ok)
            xml_fail(in, "a malformed empty-element tag");
        in->p += 2;
        node->text = xstrdup("");
    } else if (ok) {
        in->p++;
        ok = read_content(in, node, depth);
    }
    if (!ok) {
        s3xml_free(node);
        return NULL;
    }
    return node;
}

/* Prolog: an optional <?xml ...?> and comments or space. */
static bool skip_misc(XmlIn *in, bool prolog)
{
    for (;;) {
        skip_space(in);
        if (prolog && starts(in, "<?xml")) {
            const char *close = NULL;
            for (const char *q = in->p; q + 1 < in->end; q++)
                if (q[0] == '?' && q[1] == '>') {
                    close = q;
                    break;
                }
            if (!close)
                return xml_fail(in, "a declaration that does not end");
            in->p = close + 2;
            prolog = false;
            continue;
        }
        if (starts(in, "<!--")) {
            if (!skip_comment(in))
                return false;
            continue;
        }
        return true;
    }
}

bool s3xml_parse(const char *data, size_t len, XmlNode **out)
{
    *out = NULL;
    if (len > S3XML_MAX_LEN)
        return err_set(DD_EXIT_IO, "S3 reply is too large to be XML the driver reads (%zu bytes)",
                       len);
    XmlIn in = {data, data + len, NULL};
    XmlNode *root = NULL;
    if (skip_misc(&in, true))
        root = read_element(&in, 1);
    if (root && skip_misc(&in, false) && in.p != in.end) {
        xml_fail(&in, "content after the root element");
        s3xml_free(root);
        root = NULL;
    }
    if (!root) {
        err_set(DD_EXIT_IO, "S3 reply is not well-formed XML: %s at byte %zu",
                in.why ? in.why : "no element", (size_t)(in.p - data));
        return false;
    }
    *out = root;
    return true;
}

void s3xml_free(XmlNode *node)
{
    while (node) {
        XmlNode *next = node->next;
        s3xml_free(node->child);
        free(node->name);
        free(node->text);
        free(node);
        node = next;
    }
}

const XmlNode *s3xml_child(const XmlNode *node, const char *name)
{
    for (const XmlNode *c = node ? node->child : NULL; c; c = c->next)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

const XmlNode *s3xml_next(const XmlNode *node, const char *name)
{
    for (const XmlNode *c = node ? node->next : NULL; c; c = c->next)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

const char *s3xml_text(const XmlNode *node, const char *name)
{
    const XmlNode *c = s3xml_child(node, name);
    return c ? c->text : NULL;
}
