/*
 * vmemstat.h -- libvmem's published statistics: the area each libvmem
 * process keeps in a file of the statistics directory (VMEM_PUBLISH_DIR,
 * default /dev/shm), named vmem-stat.PID, and the reports made from it.
 *
 * The process's counters live in the area (every fault and I/O is counted
 * there directly), so a reader sees them as they are, even after the
 * process was killed.  The figures other layers keep (standby pages, the
 * page file in use) and the map of reservations are written there by the
 * library's publisher thread when a reader asks (vmem_statarea_request),
 * and at exit.  `vmem stat`, `vmem top`, `vmem map` and `vmem run --report`
 * read it; docs/vmem.md describes them.
 */
#ifndef VMEMSTAT_H
#define VMEMSTAT_H

#include <stddef.h>
#include <stdint.h>
#include <vmem.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VMEM_STATAREA_MAGIC   0x314154534d454d56ull /* "VMEMSTA1" */
#define VMEM_STATAREA_VERSION 2u
#define VMEM_STATAREA_PREFIX  "vmem-stat."
#define VMEM_STATAREA_MAX_REGIONS 1024u

/* How the process ended (vmem_statarea.state). */
enum vmem_proc_end {
    VMEM_END_RUNNING = 0,  /* still running, or died without exiting */
    VMEM_END_EXITED = 1,   /* exit(): end_code is the status */
    VMEM_END_SIGNALED = 2, /* killed: end_code is the signal (known to a collector) */
    VMEM_END_EXECED = 3,   /* the program exec'd another (a new area follows) */
    VMEM_END_VANISHED = 4, /* dead without exiting, signal not known */
};

/* One reservation's pages by state. */
struct vmem_statarea_region {
    uint64_t base, pages;
    uint64_t reserved, committed, resident, standby, pagedout, other;
};

/* The area.  Every field is read with relaxed atomic loads (the process
 * writes it while it runs); the counters are struct vmem_counters of
 * lib/core/stats.h (vmem_statarea_read turns them into vmem_stats). */
struct vmem_statarea {
    uint64_t magic;
    uint32_t version, size;      /* sizeof(struct vmem_statarea) */
    int64_t pid;
    uint32_t uid;
    int32_t collector;           /* pid of the `vmem run` that collects it, or 0 */
    uint64_t start_ticks;        /* the process's start time (/proc/PID/stat) */
    char cmd[256];               /* its command line, spaces between arguments */
    uint32_t state;              /* enum vmem_proc_end */
    int32_t end_code;
    uint32_t prefetch_install;   /* enum vmem_prefetch_install */
    uint32_t fault_mode;         /* enum vmem_fault_mode in use */
    uint64_t counters[48];       /* live: struct vmem_counters */
    /* refreshed by the publisher thread on request and at exit */
    uint64_t standby_pages, pagefile_pages, peak_pagefile_pages, cap_pages;
    uint64_t refreshed_ns;       /* CLOCK_MONOTONIC of the last refresh */
    uint32_t request;            /* futex word: a reader adds 1 and wakes it */
    uint32_t answered;           /* the request last answered */
    uint32_t map_seq;            /* odd while the map is being written */
    uint32_t nregions;           /* in regions[] */
    uint64_t regions_total;      /* reservations (more than nregions: cut) */
    struct vmem_statarea_region regions[VMEM_STATAREA_MAX_REGIONS];
};

/* ---- reports ------------------------------------------------------------ */
enum vmem_report_format { VMEM_REPORT_TEXT = 0, VMEM_REPORT_JSON = 1, VMEM_REPORT_CSV = 2 };

/* "text", "json" or "csv": 0, else EINVAL. */
int vmem_report_format_parse(const char *s, enum vmem_report_format *out);

/* One process's block of a report. */
struct vmem_proc_report {
    long pid;
    char cmd[256];
    enum vmem_proc_end end;
    int end_code;                /* exit status or signal number */
    unsigned prefetch_install;   /* enum vmem_prefetch_install */
    struct vmem_stats st;
};

#define VMEM_REPORT_SUMMARY   0x1u /* a summary across the processes follows them */
#define VMEM_REPORT_NO_HEADER 0x2u /* csv: no header line (appending to a file that has one) */

/* Writes the blocks of n processes to fd in format f: text blocks, one
 * JSON document ({"processes": [...], "summary": {...}}) or CSV with a
 * header line.  The summary sums the counters and takes the maximum of the
 * peaks.  0 or an errno value from write(2). */
int vmem_report_write(int fd, enum vmem_report_format f, const struct vmem_proc_report *p,
                      size_t n, unsigned flags);

/* ---- reading areas ------------------------------------------------------- */
/* The statistics directory: VMEM_PUBLISH_DIR, else /dev/shm. */
const char *vmem_statarea_dir(void);

/* Opens the area of process pid in dir: read-only, a private copy of the
 * file taken now (a file that shrinks meanwhile is ENOENT, never SIGBUS);
 * or read-write, mapped shared, to make requests (only a file of this
 * user's, else EACCES).  A file is accepted if this user owns it, or if its
 * owner is the real owner of the process it names (/proc/PID/status):
 * another's forged file is EACCES, for root too.  Symbolic links are not
 * followed; the file's size must be the area's.  0, ENOENT (no area),
 * EACCES, EPROTO (not an area of this version), or another errno value. */
int vmem_statarea_open(const char *dir, long pid, int writable, const struct vmem_statarea **out);
/* The same by file name in dir (vmem_statarea_list's names). */
int vmem_statarea_open_name(const char *dir, const char *name, int writable,
                            const struct vmem_statarea **out);
void vmem_statarea_close(const struct vmem_statarea *a);

/* Copies the area's labels and counters into *r (its end as recorded). */
void vmem_statarea_read(const struct vmem_statarea *a, struct vmem_proc_report *r);

/* Asks the process to refresh its figures and map and waits at most
 * timeout_ms for the answer: 0, ETIMEDOUT (the process did not answer: it
 * is stopped, exiting, or a forked child without the publisher thread) or
 * EBADF (the area is mapped read-only). */
int vmem_statarea_request(const struct vmem_statarea *a, unsigned timeout_ms);

/* Calls fn(name, arg) for every area file in dir; 0 or an errno value. */
int vmem_statarea_list(const char *dir, void (*fn)(const char *name, void *arg), void *arg);

/* 1 if process pid exists (any user's), else 0. */
int vmem_proc_alive(long pid);

/* Removes this user's areas in dir whose process is dead and that no live
 * `vmem run` waits to collect; the number removed. */
unsigned vmem_statarea_clean(const char *dir);

/* Removes the area file name in dir if it is one (magic checked, this
 * user's); 0 or an errno value. */
int vmem_statarea_remove(const char *dir, const char *name);

#ifdef __cplusplus
}
#endif
#endif
