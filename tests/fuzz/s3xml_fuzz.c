/*
 * s3xml_fuzz.c - libFuzzer target for the XML reader of S3 replies
 * (storage/s3xml.h): whatever an endpoint answers must parse or be refused,
 * never crash, hang or leak.
 */
#include <stdint.h>
#include <stdlib.h>

#include "storage/s3xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    XmlNode *x = NULL;
    if (s3xml_parse((const char *)data, size, &x)) {
        (void)s3xml_text(x, "Key");
        for (const XmlNode *c = s3xml_child(x, "Contents"); c; c = s3xml_next(c, "Contents"))
            (void)s3xml_text(c, "Size");
        s3xml_free(x);
    } else {
        err_clear();
    }
    return 0;
}
