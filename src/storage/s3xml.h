/*
 * s3xml.h - the small, strict XML reader for S3 replies.
 *
 * S3 answers in a tiny subset of XML: a prolog, elements (the root one with
 * an xmlns attribute), text with the five predefined entities and numeric
 * character references. This reads exactly that into a tree and refuses
 * everything else (DOCTYPE, CDATA, processing instructions after the
 * prolog, unbalanced tags, text outside the root, more than S3XML_MAX_DEPTH
 * levels, more than S3XML_MAX_LEN bytes): a reply from a broken or hostile
 * endpoint is an error naming what was wrong, never a guess.
 * Mixed content (text beside child elements) keeps only the children.
 */
#ifndef DD_STORAGE_S3XML_H
#define DD_STORAGE_S3XML_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

#define S3XML_MAX_DEPTH 16
#define S3XML_MAX_LEN   (64u << 20)

typedef struct XmlNode XmlNode;
struct XmlNode {
    char *name; /* without a namespace prefix */
    char *text; /* decoded text content; "" when none */
    XmlNode *child, *next;
};

/* Parse data; DD_EXIT_IO with "... is not well-formed XML ..." when it is not. */
DD_MUST_CHECK bool s3xml_parse(const char *data, size_t len, XmlNode **out);
void s3xml_free(XmlNode *node);

/* The first child of node called name, or the next sibling of node called name; NULL if none. */
const XmlNode *s3xml_child(const XmlNode *node, const char *name);
const XmlNode *s3xml_next(const XmlNode *node, const char *name);
/* The text of node's first child called name, or NULL. */
const char *s3xml_text(const XmlNode *node, const char *name);

#endif
