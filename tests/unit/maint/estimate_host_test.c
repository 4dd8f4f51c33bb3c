/*
 * estimate_host_test.c - the host's dirty-page budget from /proc/meminfo and
 * the vm.dirty_* sysctls (the ratios, the byte settings that override them,
 * a background threshold not below the limit, the kernel's defaults), and
 * the disk counters of one device in /proc/diskstats.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maint/estimate_host.h"

#define GB 1e9

static const char *meminfo(double available)
{
    static char text[256];
    snprintf(text, sizeof(text),
             "MemTotal:       24684092 kB\nMemFree:        23243892 kB\n"
             "MemAvailable:   %.0f kB\nCached:          1133172 kB\n"
             "Dirty:             36484 kB\nWriteback:            12 kB\n",
             available / 1024);
    return text;
}

static void test_budget(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        double available;
        const char *ratio, *bg_ratio, *bytes, *bg_bytes;
        double budget;
    } cases[] = {
        /* limit 4.8 GB, background 2.4 GB: free until halfway, 3.6 GB */
        {"ratios", 24 * GB, "20\n", "10\n", "0\n", "0\n", 3.6 * GB},
        {"defaults when the sysctls are absent", 24 * GB, NULL, NULL, NULL, NULL, 3.6 * GB},
        {"other ratios", 10 * GB, "40", "5", "0", "0", 2.25 * GB},
        /* dirty_bytes overrides the ratio; the background of 2.4 GB is not below it: half */
        {"dirty_bytes", 24 * GB, "20", "10", "1000000000", "0", 0.75 * GB},
        {"both bytes", 24 * GB, "20", "10", "2000000000", "1000000000", 1.5 * GB},
        {"background bytes only", 24 * GB, "20", "10", "0", "400000000", 2.6 * GB},
        {"a garbled sysctl: its default", 24 * GB, "x", "10", "0", "0", 3.6 * GB},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        HostVm vm;
        if (!host_vm_parse(meminfo(cases[i].available), cases[i].ratio, cases[i].bg_ratio,
                           cases[i].bytes, cases[i].bg_bytes, &vm))
            fail_msg("%s: not parsed", cases[i].name);
        double b = host_dirty_budget(&vm);
        if (!(fabs(b - cases[i].budget) < 1e6))
            fail_msg("%s: budget %.0f, expected %.0f", cases[i].name, b, cases[i].budget);
    }
    HostVm vm;
    assert_true(host_vm_parse(meminfo(24 * GB), "20", "10", "0", "0", &vm));
    assert_true(vm.dirty == 36484.0 * 1024 && vm.writeback == 12.0 * 1024);
    /* No MemAvailable (a kernel before 3.14, not Linux): no budget at all. */
    assert_false(host_vm_parse("MemTotal: 1000 kB\n", "20", "10", "0", "0", &vm));
    assert_false(host_vm_parse(NULL, "20", "10", "0", "0", &vm));
}

static void test_diskstats(void **state)
{
    (void)state;
    const char *text = "   7       0 loop0 10 0 20 0 0 0 0 0 0 4 4 0 0 0 0\n"
                       " 253       0 vda 1000 5 20000 500 3000 7 40000 900 0 1200 1400 0 0 0 0\n"
                       " 253       1 vda1 10 0 200 5 30 0 400 9 0 12 14\n";
    static const struct {
        unsigned major, minor;
        bool ok;
        double written, busy_s;
    } cases[] = {
        {253, 0, true, 40000.0 * 512, 1.2},
        {253, 1, true, 400.0 * 512, 0.012},
        {253, 2, false, 0, 0},
        {8, 0, false, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        DiskStat d;
        assert_int_equal(host_diskstat_parse(text, cases[i].major, cases[i].minor, &d),
                         cases[i].ok);
        assert_int_equal(d.ok, cases[i].ok);
        assert_true(d.written == cases[i].written);
        assert_true(fabs(d.busy_s - cases[i].busy_s) < 1e-9);
    }
    DiskStat d;
    assert_false(host_diskstat_parse(NULL, 253, 0, &d));
    /* A real file: its device, or nothing for tmpfs and overlays; never a failure. */
    host_diskstat_read("/proc/self/status", &d);
    assert_false(d.ok);
    /* A directory a copy has yet to create: the device of its nearest existing parent. */
    unsigned ma = 1, mi = 1, cma = 2, cmi = 2;
    bool here = host_disk_of(".", &ma, &mi);
    assert_int_equal(host_disk_of("./not-yet/created/dir", &cma, &cmi), here);
    assert_true(cma == ma && cmi == mi);
    assert_false(host_disk_of("/proc/self/status", &ma, &mi)); /* procfs: no device */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_diskstats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
