/*
 * s3xml_test.c - the strict XML reader of S3 replies: real reply shapes
 * parse; every malformed or out-of-subset input is refused with its reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "storage/s3xml.h"

static void test_list_reply(void **state)
{
    (void)state;
    const char *xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                      "<Name>b</Name><IsTruncated>true</IsTruncated>"
                      "<NextContinuationToken>t&amp;1</NextContinuationToken>"
                      "<Contents><Key>p/a&lt;b&#x41;&#233;</Key><Size>5</Size></Contents>"
                      "<Contents><Key>p/c</Key><Size>0</Size></Contents>"
                      "<CommonPrefixes><Prefix>p/d/</Prefix></CommonPrefixes>"
                      "<Empty/></ListBucketResult>";
    XmlNode *x = NULL;
    assert_true(s3xml_parse(xml, strlen(xml), &x));
    assert_string_equal(x->name, "ListBucketResult");
    assert_string_equal(s3xml_text(x, "NextContinuationToken"), "t&1");
    const XmlNode *c = s3xml_child(x, "Contents");
    assert_string_equal(s3xml_text(c, "Key"), "p/a<bA\xc3\xa9");
    c = s3xml_next(c, "Contents");
    assert_string_equal(s3xml_text(c, "Key"), "p/c");
    assert_null(s3xml_next(c, "Contents"));
    assert_string_equal(s3xml_text(x, "Empty"), "");
    assert_null(s3xml_text(x, "Missing"));
    s3xml_free(x);
}

static void test_refused(void **state)
{
    (void)state;
    static const struct {
        const char *title, *xml, *why;
    } cases[] = {
        {"empty", "", "text where an element was expected"},
        {"text only", "hello", "text where an element was expected"},
        {"unclosed", "<a><b>x</b>", "an element that does not end"},
        {"mismatched", "<a><b>x</c></a>", "an end tag that does not match its start tag"},
        {"two roots", "<a/><b/>", "content after the root element"},
        {"doctype", "<!DOCTYPE a><a/>", "a declaration, CDATA or instruction inside the document"},
        {"cdata", "<a><![CDATA[x]]></a>",
         "a declaration, CDATA or instruction inside the document"},
        {"unknown entity", "<a>&foo;</a>", "an unknown entity"},
        {"entity without end", "<a>&amp</a>", "an unterminated entity"},
        {"bad char ref", "<a>&#xZZ;</a>", "a malformed character reference"},
        {"nul char ref", "<a>&#0;</a>", "a character reference out of range"},
        {"surrogate", "<a>&#xD800;</a>", "a character reference out of range"},
        {"unquoted attr", "<a x=1/>", "an attribute value without quotes"},
        {"gt in text", "<a>x>y</a>", "a '>' in text"},
        {"nameless tag", "<>", "a tag without a name"},
        {"too deep",
         "<a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a><a></a></a></a></a></a></a>"
         "</a></a></a></a></a></a></a></a></a></a></a>",
         "elements nested too deep"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        XmlNode *x = NULL;
        bool ok = s3xml_parse(cases[i].xml, strlen(cases[i].xml), &x);
        if (ok)
            fail_msg("case \"%s\" parsed", cases[i].title);
        assert_null(x);
        assert_int_equal(err_code(), DD_EXIT_IO);
        if (!strstr(err_message(), cases[i].why))
            fail_msg("case \"%s\": got \"%s\"", cases[i].title, err_message());
        err_clear();
    }
}

/*
 * The largest shapes a reply takes, and large malformed ones: each parses
 * (or is refused) in one pass over the input. (A CI run once reported the
 * s3xml fuzz target at "3 runs": that was tests/fuzz/run reading "#3" out of
 * libFuzzer's dictionary; it made 1.6 M runs.)
 */
static void test_large(void **state)
{
    (void)state;
    Buf b = {0};
    buf_append_str(&b, "<ListBucketResult>");
    for (int i = 0; i < 1000; i++) /* S3's max-keys */
        buf_printf(&b, "<Contents><Key>k&amp;%d</Key><Size>%d</Size></Contents>", i, i);
    buf_append_str(&b, "<Name>");
    for (int i = 0; i < 200000; i++)
        buf_append_str(&b, "&lt;");
    buf_append_str(&b, "</Name></ListBucketResult>");
    XmlNode *x = NULL;
    assert_true(s3xml_parse((const char *)b.data, b.len, &x));
    int n = 0;
    for (const XmlNode *c = s3xml_child(x, "Contents"); c; c = s3xml_next(c, "Contents"))
        n++;
    assert_int_equal(n, 1000);
    assert_int_equal(strlen(s3xml_text(x, "Name")), 200000);
    s3xml_free(x);

    static const char *const open_ends[] = {"<a><!--", "<a x=\"", "<?xml ", "<a>&#"};
    for (size_t i = 0; i < sizeof(open_ends) / sizeof(open_ends[0]); i++) {
        b.len = 0;
        buf_append_str(&b, open_ends[i]);
        for (int j = 0; j < 100000; j++)
            buf_append_str(&b, "--&-?-<");
        x = NULL;
        assert_false(s3xml_parse((const char *)b.data, b.len, &x));
        assert_null(x);
        err_clear();
    }
    free(b.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_reply),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
