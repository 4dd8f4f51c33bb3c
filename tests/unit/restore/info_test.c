/*
 * info_test.c - "drydock info" rendering: text and JSON, over a catalog of
 * two backups (one restorable, one not) and a WAL archive with a gap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/mem.h"
#include "restore/catalog.h"
#include "restore/info.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define SEG   0x1000000ull
#define T0    1795586400.0 /* 2026-11-25 06:00:00 UTC */
#define AT(n) (T0 + 60.0 * (double)(n))

/* Segments 1-5 and 8-9 on timeline 1 (6 and 7 missing); backups in 2-3 and 6-7. */
static ManifestCount whole[] = {{"free space or visibility map", 238}, {"created", 3}};

static void build(Catalog *c)
{
    memset(c, 0, sizeof(*c));
    c->backups = xcalloc(2, sizeof(*c->backups));
    c->nbackups = 2;
    c->backups[0] = (CatalogBackup){"20261125T060110Z",
                                    "standby",
                                    1,
                                    2 * SEG + 0x28,
                                    3 * SEG + 0x100,
                                    AT(1) + 10,
                                    AT(3) - 5,
                                    1610612736,
                                    1610612736,
                                    402653184,
                                    4.5,
                                    1200,
                                    1};
    c->backups[1] = (CatalogBackup){"20261125T060510Z",
                                    "primary",
                                    1,
                                    6 * SEG + 0x28,
                                    7 * SEG + 0x100,
                                    AT(5) + 10,
                                    AT(7) - 5,
                                    1610612736,
                                    52428800,
                                    13107200,
                                    1.25,
                                    1201,
                                    0,
                                    true,
                                    NULL,
                                    553,
                                    241,
                                    whole,
                                    2};
    c->backups[0].full_read_reason = "no previous backup";
    WindowSegment segs[7];
    size_t n = 0;
    for (unsigned s = 1; s <= 9; s++)
        if (s != 6 && s != 7)
            segs[n++] = (WindowSegment){1, s, AT(s)};
    catalog_compute(c, segs, n, (uint32_t)SEG);
}

static void free_catalog(Catalog *c)
{
    free(c->backups);
    free(c->wb);
    window_free(&c->window);
    strlist_free(&c->damaged);
}

static const char expected_text[] =
    "backup 20261125T060110Z  from standby, timeline 1\n"
    "  start    2026-11-25 06:01:10.000+00  LSN 0/2000028\n"
    "  stop     2026-11-25 06:02:55.000+00  LSN 0/3000100\n"
    "  size     1.50 GiB logical, 1.50 GiB new, 384 MiB stored; 1200 files; took 4.5 s\n"
    "  read     every file whole (no previous backup)\n"
    "  reaches  2026-11-25 06:05:00.000+00  LSN 0/6000000 (timeline 1)\n"
    "\n"
    "backup 20261125T060510Z  from primary, timeline 1\n"
    "  start    2026-11-25 06:05:10.000+00  LSN 0/6000028\n"
    "  stop     2026-11-25 06:06:55.000+00  LSN 0/7000100\n"
    "  size     1.50 GiB logical, 50.0 MiB new, 12.5 MiB stored; 1201 files; took 1.2 s\n"
    "  read     guided by the WAL: 553 relation files read where changed, 241 read whole "
    "(free space or visibility map 238, created 3)\n"
    "  NOT RESTORABLE: WAL segment 000000010000000000000006 is missing from the archive\n"
    "\n"
    "recoverable window\n"
    "  from     2026-11-25 06:02:55.000+00  LSN 0/3000100\n"
    "  to       2026-11-25 06:05:00.000+00  LSN 0/6000000\n"
    "archived WAL: 7 segments: 000000010000000000000001..000000010000000000000005, "
    "000000010000000000000008..000000010000000000000009\n"
    "WAL GAP: 000000010000000000000006..000000010000000000000007 missing (2 segments)\n";

static void test_text(void **state)
{
    (void)state;
    Catalog c;
    build(&c);
    Buf b = {0};
    info_render_text(&c, &b);
    buf_append(&b, "", 1);
    if (strcmp((char *)b.data, expected_text) != 0)
        fail_msg("got:\n%s", (char *)b.data);
    buf_free(&b);
    free_catalog(&c);
}

static void test_json(void **state)
{
    (void)state;
    Catalog c;
    build(&c);
    Buf b = {0};
    info_render_json(&c, &b);
    json_error_t e;
    json_t *root = json_loadb((char *)b.data, b.len, 0, &e);
    assert_non_null(root);
    json_t *bk = json_object_get(root, "backups");
    assert_int_equal(json_array_size(bk), 2);
    json_t *b0 = json_array_get(bk, 0), *b1 = json_array_get(bk, 1);
    assert_string_equal(json_string_value(json_object_get(b0, "id")), "20261125T060110Z");
    assert_string_equal(json_string_value(json_object_get(b0, "stop_lsn")), "0/3000100");
    assert_string_equal(json_string_value(json_object_get(b0, "stop_time")),
                        "2026-11-25 06:02:55.000+00");
    assert_int_equal(json_integer_value(json_object_get(b0, "bytes_stored")), 402653184);
    assert_true(json_is_true(json_object_get(b0, "restorable")));
    assert_true(json_is_null(json_object_get(b0, "missing_segment")));
    assert_true(json_is_false(json_object_get(b1, "restorable")));
    assert_true(json_is_null(json_object_get(b1, "reach_lsn")));
    assert_string_equal(json_string_value(json_object_get(b1, "missing_segment")),
                        "000000010000000000000006");
    assert_string_equal(json_string_value(json_object_get(b0, "read")), "full");
    assert_string_equal(json_string_value(json_object_get(b0, "full_read_reason")),
                        "no previous backup");
    assert_string_equal(json_string_value(json_object_get(b1, "read")), "guided");
    assert_true(json_is_null(json_object_get(b1, "full_read_reason")));
    assert_int_equal(json_integer_value(json_object_get(b1, "files_guided")), 553);
    assert_int_equal(json_integer_value(json_object_get(b1, "files_read_whole")), 241);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(b1, "read_whole_because"), "created")),
        3);
    json_t *w = json_object_get(root, "window");
    assert_string_equal(json_string_value(json_object_get(w, "earliest_lsn")), "0/3000100");
    assert_string_equal(json_string_value(json_object_get(w, "latest_lsn")), "0/6000000");
    json_t *wal = json_object_get(root, "wal");
    assert_int_equal(json_integer_value(json_object_get(wal, "segments")), 7);
    json_t *gap = json_array_get(json_object_get(wal, "gaps"), 0);
    assert_string_equal(json_string_value(json_object_get(gap, "first")),
                        "000000010000000000000006");
    assert_string_equal(json_string_value(json_object_get(gap, "last")),
                        "000000010000000000000007");
    json_decref(root);
    buf_free(&b);
    free_catalog(&c);
}

static void test_empty(void **state)
{
    (void)state;
    Catalog c = {0};
    catalog_compute(&c, NULL, 0, (uint32_t)SEG);
    Buf b = {0};
    info_render_text(&c, &b);
    buf_append(&b, "", 1);
    assert_string_equal((char *)b.data, "no backups\n"
                                        "recoverable window: none (no backup can be restored)\n"
                                        "archived WAL: 0 segments\n");
    buf_reset(&b);
    info_render_json(&c, &b);
    buf_append(&b, "", 1);
    assert_non_null(strstr((char *)b.data, "\"window\": null"));
    buf_free(&b);
    free(c.wb);
    window_free(&c.window);
}

static void test_damaged(void **state)
{
    (void)state;
    Catalog c = {0};
    strlist_push(&c.damaged, "20261125T070000Z");
    catalog_compute(&c, NULL, 0, (uint32_t)SEG);
    Buf b = {0};
    info_render_text(&c, &b);
    buf_append(&b, "", 1);
    assert_string_equal((char *)b.data,
                        "no backups\n"
                        "backup 20261125T070000Z  DAMAGED: its manifest does not load (drydock "
                        "verify)\n\n"
                        "recoverable window: none (no backup can be restored)\n"
                        "archived WAL: 0 segments\n");
    buf_reset(&b);
    info_render_json(&c, &b);
    json_t *root = json_loadb((char *)b.data, b.len, 0, NULL);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_array_get(json_object_get(root, "damaged"), 0)),
                        "20261125T070000Z");
    json_decref(root);
    buf_free(&b);
    free_catalog(&c);
}

static void test_bytes(void **state)
{
    (void)state;
    char s[32];
    info_format_bytes(0, s, sizeof(s));
    assert_string_equal(s, "0 B");
    info_format_bytes(1023, s, sizeof(s));
    assert_string_equal(s, "1023 B");
    info_format_bytes(1536, s, sizeof(s));
    assert_string_equal(s, "1.50 KiB");
    info_format_bytes(150ull << 20, s, sizeof(s));
    assert_string_equal(s, "150 MiB");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),    cmocka_unit_test(test_json),  cmocka_unit_test(test_empty),
        cmocka_unit_test(test_damaged), cmocka_unit_test(test_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
