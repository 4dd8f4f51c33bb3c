/*
 * pagecheck_test.c - the page checksum against values PostgreSQL 15 computed
 * for the same bytes (pageinspect's page_checksum()), and the backup's rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "pg/pagecheck.h"

/* byte i = (i * 7 + i / 13) % 256, as built in SQL with generate_series */
static void make_page(uint8_t *page)
{
    for (int i = 0; i < 8192; i++)
        page[i] = (uint8_t)((i * 7 + i / 13) % 256);
}

static void test_known_values(void **state)
{
    (void)state;
    uint8_t page[8192];
    make_page(page);
    /* select page_checksum(<page>, 5), page_checksum(<page>, 131077) -> 6719, 6721;
     * blkno 0 -> 6724 */
    assert_int_equal(pg_page_checksum(page, 5), 6719);
    assert_int_equal(pg_page_checksum(page, 131077), 6721);
    assert_int_equal(pg_page_checksum(page, 0), 6724);
    /* the stored checksum does not take part */
    page[8] ^= 0xff;
    page[9] ^= 0x0f;
    assert_int_equal(pg_page_checksum(page, 5), 6719);
}

static void test_check_rules(void **state)
{
    (void)state;
    uint8_t page[8192];
    make_page(page);
    uint16_t stored = 0, computed = 0;
    uint16_t sum = pg_page_checksum(page, 7);
    memcpy(page + 8, &sum, 2);
    uint64_t lsn = pg_page_lsn(page);
    assert_int_equal(pg_page_check(page, 7, lsn + 1, &stored, &computed), PAGE_CHECK_OK);
    assert_int_equal(pg_page_check(page, 7, lsn, &stored, &computed), PAGE_CHECK_TOO_NEW);
    assert_int_equal(pg_page_check(page, 8, lsn + 1, &stored, &computed), PAGE_CHECK_MISMATCH);
    assert_int_equal(stored, sum);
    page[100] ^= 1;
    assert_int_equal(pg_page_check(page, 7, lsn + 1, &stored, &computed), PAGE_CHECK_MISMATCH);
    memset(page, 0, sizeof(page));
    assert_int_equal(pg_page_check(page, 7, 1, &stored, &computed), PAGE_CHECK_NEW);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_check_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
