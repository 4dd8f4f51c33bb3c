/*
 * estimate_host.c - the host's dirty-page budget and its disks' counters
 * (see estimate_host.h for the rule).
 *
 * /proc/diskstats, one line a device: major minor name, then reads
 * completed, merged, sectors read, ms reading, writes completed, merged,
 * sectors written (field 10 of the line), ms writing, I/Os in flight,
 * ms doing I/O (io_ticks, field 13), ...; a sector is 512 bytes.
 */
#include "maint/estimate_host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common/fsutil.h"
#include "common/mem.h"
#include "common/timeutil.h"

/* "Name:   1234 kB" in meminfo, in bytes; -1 when absent. */
static double meminfo_field(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, name, n) == 0 && p[n] == ':')
            return strtod(p + n + 1, NULL) * 1024;
    }
    return -1;
}

static double sysctl_value(const char *text, double dflt)
{
    if (!text)
        return dflt;
    char *end;
    double v = strtod(text, &end);
    return end != text && v >= 0 ? v : dflt;
}

bool host_vm_parse(const char *meminfo, const char *ratio, const char *background_ratio,
                   const char *bytes, const char *background_bytes, HostVm *vm)
{
    memset(vm, 0, sizeof(*vm));
    vm->mem_available = meminfo ? meminfo_field(meminfo, "MemAvailable") : -1;
    if (!(vm->mem_available > 0))
        return false;
    vm->dirty = meminfo_field(meminfo, "Dirty");
    vm->writeback = meminfo_field(meminfo, "Writeback");
    vm->ratio = sysctl_value(ratio, 20);
    vm->background_ratio = sysctl_value(background_ratio, 10);
    vm->bytes = sysctl_value(bytes, 0);
    vm->background_bytes = sysctl_value(background_bytes, 0);
    return true;
}

static char *read_text(const char *path)
{
    Buf b = {0};
    bool found = false;
    if (!fs_read_file(path, &b, &found) || !found) {
        buf_free(&b);
        err_clear();
        return NULL;
    }
    buf_append(&b, "", 1);
    return (char *)b.data;
}

bool host_vm_read(HostVm *vm)
{
    char *t[5] = {read_text("/proc/meminfo"), read_text("/proc/sys/vm/dirty_ratio"),
                  read_text("/proc/sys/vm/dirty_background_ratio"),
                  read_text("/proc/sys/vm/dirty_bytes"),
                  read_text("/proc/sys/vm/dirty_background_bytes")};
    bool ok = host_vm_parse(t[0], t[1], t[2], t[3], t[4], vm);
    for (int i = 0; i < 5; i++)
        free(t[i]);
    return ok;
}

double host_dirty_budget(const HostVm *vm)
{
    double limit = vm->bytes > 0 ? vm->bytes : vm->ratio / 100 * vm->mem_available;
    double bg = vm->background_bytes > 0 ? vm->background_bytes
                                         : vm->background_ratio / 100 * vm->mem_available;
    if (bg >= limit)
        bg = limit / 2;
    return (limit + bg) / 2;
}

bool host_diskstat_parse(const char *diskstats, unsigned major, unsigned minor, DiskStat *out)
{
    memset(out, 0, sizeof(*out));
    for (const char *p = diskstats; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        unsigned ma, mi;
        double f[11];
        char name[64];
        if (sscanf(p, "%u %u %63s %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf", &ma, &mi, name,
                   &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9],
                   &f[10]) != 14 ||
            ma != major || mi != minor)
            continue;
        out->written = f[6] * 512;
        out->busy_s = f[9] / 1000;
        out->ok = true;
        return true;
    }
    return false;
}

bool host_disk_of(const char *path, unsigned *major_out, unsigned *minor_out)
{
    char *p = xstrdup(path);
    struct stat st;
    while (stat(p, &st) != 0) {
        char *slash = strrchr(p, '/');
        if (!slash || slash == p) {
            free(p);
            return false;
        }
        *slash = '\0';
    }
    free(p);
    *major_out = major(st.st_dev);
    *minor_out = minor(st.st_dev);
    return *major_out != 0; /* 0: tmpfs, overlay: no device to count */
}

void host_diskstat_dev(unsigned maj, unsigned min, DiskStat *out)
{
    memset(out, 0, sizeof(*out));
    char *text = read_text("/proc/diskstats");
    host_diskstat_parse(text, maj, min, out);
    free(text);
}

void host_diskstat_read(const char *path, DiskStat *out)
{
    unsigned maj, min;
    memset(out, 0, sizeof(*out));
    if (host_disk_of(path, &maj, &min))
        host_diskstat_dev(maj, min, out);
}

void write_watch_start(WriteWatch *w, const char *path)
{
    memset(w, 0, sizeof(*w));
    w->path = path;
    HostVm vm;
    if (host_vm_read(&vm))
        w->budget = host_dirty_budget(&vm);
    host_diskstat_read(path, &w->disk0);
    w->t0 = time_mono();
}
