/*
 * estimate_host.h - what the host says about writes, for the write model of
 * estimate.c: how many bytes a writer may dirty before the kernel throttles
 * it to the disk's pace (the dirty-page budget), and how fast the disk under
 * a directory takes writes while it is busy (/proc/diskstats).
 *
 * The budget, as Linux computes it (mm/page-writeback.c): the limit is
 * vm.dirty_bytes, or else vm.dirty_ratio % of the dirtyable memory (taken as
 * MemAvailable); the background threshold likewise from
 * vm.dirty_background_bytes / _ratio (half the limit when it is not below
 * it). A writer runs free, at memory speed, until the dirty pages reach
 * halfway between the two ("freerun"); past it, it is paced to the disk's
 * writeback. The budget is that point. (Dirty and Writeback are read for
 * the tests and the debug log; a step starts after the last one synced.)
 */
#ifndef DD_MAINT_ESTIMATE_HOST_H
#define DD_MAINT_ESTIMATE_HOST_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    double ratio, background_ratio;         /* percent (vm.dirty_ratio, ..._background_ratio) */
    double bytes, background_bytes;         /* 0: the ratio applies */
    double mem_available, dirty, writeback; /* bytes, from /proc/meminfo */
} HostVm;

/* From the texts of /proc/meminfo and the four sysctls (NULL: absent, the
 * kernel's defaults 20 and 10 % apply); false when meminfo has no MemAvailable. */
bool host_vm_parse(const char *meminfo, const char *ratio, const char *background_ratio,
                   const char *bytes, const char *background_bytes, HostVm *vm);
/* The same from /proc; false when it cannot be read (not Linux). */
bool host_vm_read(HostVm *vm);
/* The bytes a writer can dirty before it is paced to the disk, on a host with
 * no dirty pages: the budget of a step, since each step that writes syncs
 * what it wrote before it ends (restore, pg_checksums, pg_basebackup). */
double host_dirty_budget(const HostVm *vm);

/* The counters of the block device holding a path. */
typedef struct {
    bool ok;
    double written; /* bytes written */
    double busy_s;  /* seconds the device had I/O in flight (io_ticks) */
} DiskStat;

/* Parse the line of /proc/diskstats for major:minor from its text. */
bool host_diskstat_parse(const char *diskstats, unsigned major, unsigned minor, DiskStat *out);
/* The device under path (or its nearest existing parent); false when there is none to
 * count (tmpfs, overlay) or no such path. */
bool host_disk_of(const char *path, unsigned *major, unsigned *minor);
/* The counters of device major:minor; out->ok false when unknown. */
void host_diskstat_dev(unsigned major, unsigned minor, DiskStat *out);
/* Both: the counters of the device under path. */
void host_diskstat_read(const char *path, DiskStat *out);

/* A write measured from its start: time, budget, and the disk's counters. */
typedef struct {
    double t0;
    double budget; /* host_dirty_budget() at the start; 0: unknown */
    DiskStat disk0;
    const char *path;
} WriteWatch;

void write_watch_start(WriteWatch *w, const char *path);

#endif
