/*
 * stats.c -- vmem_get_stats (vmem_get_stats_sized), vmem_print_stats and the VMEM_REPORT printout
 * at exit: the counters of every layer gathered into struct vmem_stats, and
 * this process's block (pid, command, exit status) in the report's format.
 */
#include "api/stats.h"
#include "api/init.h"
#include "core/log.h"
#include "core/runtime.h"
#include "core/stats.h"
#include "core/vmem_internal.h"
#include "os/fd.h"
#include "os/process.h"
#include "api/publish.h"
#include "os/procinfo.h"
#include "pagefile/pagefile.h"
#include "paging/cap.h"
#include "paging/standby.h"
#include <vmem.h>
#include <vmemstat.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LOAD(f) __atomic_load_n(&vmem_ctr.f, __ATOMIC_RELAXED)

VMEM_API int vmem_get_stats_sized(struct vmem_stats *st, size_t size)
{
    /* a caller's struct from an older vmem.h: a whole number of counters,
     * fewer than ours; nothing past it is written */
    if (!st || size == 0 || size % sizeof(uint64_t) || size > sizeof(struct vmem_stats))
        return EINVAL;
    struct vmem_stats s;
    int err = runtime_ensure();
    if (err)
        return err;
    /* A fault's install wakes the faulting thread before the fault thread
     * counts it; taking as_lock exclusive waits for that count, so a thread
     * reads counters that include its own faults. */
    as_lock_exclusive();
    as_unlock();
    s.demand_zero_faults = LOAD(demand_zero_faults);
    s.demand_zero_pages = LOAD(demand_zero_pages);
    s.transition_faults = LOAD(transition_faults);
    s.hard_faults = LOAD(hard_faults);
    s.pages_read = LOAD(pages_read);
    s.pages_written = LOAD(pages_written);
    s.read_ios = LOAD(read_ios);
    s.write_ios = LOAD(write_ios);
    s.write_watch_faults = LOAD(write_watch_faults);
    s.guard_faults = LOAD(guard_faults);
    s.working_set = LOAD(working_set);
    s.peak_working_set = LOAD(peak_working_set);
    s.commit_charge = LOAD(commit_charge);
    s.peak_commit_charge = LOAD(peak_commit_charge);
    s.reserved_pages = LOAD(reserved_pages);
    s.regions = LOAD(regions);
    s.prefetched_pages = LOAD(prefetched_pages);
    s.prefetch_used = LOAD(prefetch_used);
    s.prefetch_unused = LOAD(prefetch_unused);
    s.trimmed_pages = LOAD(trimmed_pages);
    s.trimmed_by_move = LOAD(trimmed_by_move);
    s.standby_pages = standby_count();
    s.pagefile_pages = paging_enabled() ? pagefile_used() : 0;
    s.peak_pagefile_pages = paging_enabled() ? pagefile_peak() : 0;
    s.cap_pages = paging_cap();
    s.checksum_errors = LOAD(checksum_errors);
    s.write_errors = LOAD(write_errors);
    s.inpage_errors = LOAD(inpage_errors);
    s.view_prefetched_pages = LOAD(view_prefetched_pages);
    s.view_slot_writes = LOAD(view_slot_writes);
    s.compressed_pages = LOAD(compress_pages);
    s.compressed_bytes = LOAD(compress_bytes);
    s.compress_store_bytes = round_up(LOAD(compress_charged), PAGE_SZ);
    s.compress_stored = LOAD(compress_stored);
    s.compress_same_filled = LOAD(compress_same);
    s.compress_rejects = LOAD(compress_rejects);
    s.compress_hits = LOAD(compress_hits);
    s.compress_evicted = LOAD(compress_evicted);
    s.compress_ns = LOAD(compress_ns);
    s.decompress_ns = LOAD(decompress_ns);
    s.cap_overruns = LOAD(cap_overruns);
    s.as_lock_shared = LOAD(as_lock_shared);
    s.as_lock_exclusive = LOAD(as_lock_exclusive);
    s.as_lock_waits = LOAD(as_lock_waits);
    s.as_lock_wait_ns = LOAD(as_lock_wait_ns);
    s.as_lock_exclusive_ns = LOAD(as_lock_exclusive_ns);
    s.fault_thread_wakeups = LOAD(fault_thread_wakeups);
    s.fault_thread_empty_wakeups = LOAD(fault_thread_empty_wakeups);
    s.fault_thread_events = LOAD(fault_thread_events);
    s.compress_share_bytes = LOAD(compress_share);
    s.compress_share_pages = s.compress_share_bytes / PAGE_SZ;
    s.compress_share_shrinks = LOAD(compress_share_shrinks);
    s.compress_share_grows = LOAD(compress_share_grows);
    memcpy(st, &s, size);
    return 0;
}

/* This process's block: its pid, command, how it ended, its counters. */
static int self_report(struct vmem_proc_report *r, enum vmem_proc_end end, int code)
{
    memset(r, 0, sizeof(*r));
    if (vmem_get_stats(&r->st))
        return -1;
    r->pid = (long)os_pid();
    os_self_cmdline(r->cmd, sizeof(r->cmd));
    r->end = end;
    r->end_code = code;
    r->prefetch_install = (unsigned)vmem_rt.cfg.prefetch_install;
    return 0;
}

VMEM_API void vmem_print_stats(int fd)
{
    struct vmem_proc_report r;
    if (self_report(&r, VMEM_END_RUNNING, 0) == 0)
        (void)vmem_report_write(fd, VMEM_REPORT_TEXT, &r, 1, 0); /* nowhere to report a failure */
}

static void report_at_exit(int status);

void stats_at_exit(int status, void *arg)
{
    (void)arg;
    /* a `vmem run` collecting this process reports it with the others */
    if (runtime_ready() && vmem_rt.cfg.report && !publish_collected())
        report_at_exit(status);
    publish_exit(status); /* after vmem_shutdown too */
}

static void report_at_exit(int status)
{
    enum vmem_report_format f = (enum vmem_report_format)publish_cfg.report_format;
    struct vmem_proc_report r;
    if (self_report(&r, VMEM_END_EXITED, status))
        return;
    if (!vmem_rt.cfg.report_file[0]) {
        /* stderr as it was at start-up (core/log.h): a program may close
         * its fd 2 before it exits (sort -o), or reuse the number for a
         * file of its own */
        int fd = log_stderr_fd();
        if (fd >= 0)
            (void)vmem_report_write(fd, f, &r, 1, 0);
        return;
    }
    /* Appended: with LD_PRELOAD every program a command runs reports into
     * the same file (a CSV header only at its top). */
    int fd, err = os_fd_open_append(vmem_rt.cfg.report_file, &fd);
    if (err) {
        vmem_log("cannot open the report file %s: %s", vmem_rt.cfg.report_file,
                 strerror(err));
        return;
    }
    (void)vmem_report_write(fd, f, &r, 1, os_fd_is_empty_file(fd) ? 0 : VMEM_REPORT_NO_HEADER);
    os_fd_close(fd);
}
