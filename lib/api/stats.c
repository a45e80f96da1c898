/*
 * stats.c -- vmem_get_stats (vmem_get_stats_sized), vmem_print_stats and the VMEM_REPORT printout
 * at exit: the counters of every layer gathered into struct vmem_stats.
 */
#include "api/stats.h"
#include "api/init.h"
#include "core/runtime.h"
#include "core/stats.h"
#include "core/vmem_internal.h"
#include "compress/store.h"
#include "os/fd.h"
#include "os/process.h"
#include "pagefile/pagefile.h"
#include "paging/cap.h"
#include "paging/standby.h"
#include <vmem.h>

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
    s.compressed_pages = LOAD(compress_pages);
    s.compressed_bytes = LOAD(compress_bytes);
    s.compress_store_bytes = store_charged_pages() * PAGE_SZ;
    s.compress_stored = LOAD(compress_stored);
    s.compress_same_filled = LOAD(compress_same);
    s.compress_rejects = LOAD(compress_rejects);
    s.compress_hits = LOAD(compress_hits);
    s.compress_evicted = LOAD(compress_evicted);
    s.compress_ns = LOAD(compress_ns);
    s.decompress_ns = LOAD(decompress_ns);
    memcpy(st, &s, size);
    return 0;
}

VMEM_API void vmem_print_stats(int fd)
{
    struct vmem_stats s;
    if (vmem_get_stats(&s))
        return;
    char buf[2048];
    int n = snprintf(buf, sizeof(buf),
        "libvmem counters (pages of 4 KiB)\n"
        "  demand-zero faults   %llu (%llu pages)\n"
        "  transition faults    %llu\n"
        "  hard faults          %llu\n"
        "  pages read/written   %llu / %llu (%llu / %llu I/Os)\n"
        "  write-watch faults   %llu\n"
        "  guard-page faults    %llu\n"
        "  working set          %llu (peak %llu)\n"
        "  commit charge        %llu (peak %llu)\n"
        "  reserved             %llu in %llu regions\n"
        "  prefetched pages     %llu (used %llu, unused %llu)\n"
        "  trimmed pages        %llu (%llu moved)\n"
        "  standby              %llu\n"
        "  page file            %llu (peak %llu)\n"
        "  cap                  %llu\n"
        "  checksum errors      %llu\n"
        "  write errors         %llu\n"
        "  in-page errors       %llu\n",
        (unsigned long long)s.demand_zero_faults, (unsigned long long)s.demand_zero_pages,
        (unsigned long long)s.transition_faults, (unsigned long long)s.hard_faults,
        (unsigned long long)s.pages_read, (unsigned long long)s.pages_written,
        (unsigned long long)s.read_ios, (unsigned long long)s.write_ios,
        (unsigned long long)s.write_watch_faults, (unsigned long long)s.guard_faults,
        (unsigned long long)s.working_set, (unsigned long long)s.peak_working_set,
        (unsigned long long)s.commit_charge, (unsigned long long)s.peak_commit_charge,
        (unsigned long long)s.reserved_pages, (unsigned long long)s.regions,
        (unsigned long long)s.prefetched_pages, (unsigned long long)s.prefetch_used,
        (unsigned long long)s.prefetch_unused, (unsigned long long)s.trimmed_pages,
        (unsigned long long)s.trimmed_by_move, (unsigned long long)s.standby_pages,
        (unsigned long long)s.pagefile_pages, (unsigned long long)s.peak_pagefile_pages,
        (unsigned long long)s.cap_pages, (unsigned long long)s.checksum_errors,
        (unsigned long long)s.write_errors, (unsigned long long)s.inpage_errors);
    if (n > 0 && (size_t)n < sizeof(buf) && (s.compress_stored || store_on())) {
        /* ratio: the pages' bytes over the RAM the store takes for them */
        double ratio = s.compress_store_bytes
                           ? (double)s.compressed_pages * PAGE_SZ / (double)s.compress_store_bytes
                           : 0;
        int m = snprintf(buf + n, sizeof(buf) - (size_t)n,
            "  compressed store     %llu pages in %llu KiB (%llu KiB of data), ratio %.2f\n"
            "  compressed in/out    %llu stored (%llu same-filled), %llu rejects, %llu hits, "
            "%llu evicted\n"
            "  compress time        %.3f ms compressing, %.3f ms decompressing\n",
            (unsigned long long)s.compressed_pages,
            (unsigned long long)(s.compress_store_bytes / 1024),
            (unsigned long long)(s.compressed_bytes / 1024), ratio,
            (unsigned long long)s.compress_stored, (unsigned long long)s.compress_same_filled,
            (unsigned long long)s.compress_rejects, (unsigned long long)s.compress_hits,
            (unsigned long long)s.compress_evicted, (double)s.compress_ns / 1e6,
            (double)s.decompress_ns / 1e6);
        if (m > 0 && (size_t)m < sizeof(buf) - (size_t)n)
            n += m;
    }
    if (n > 0)
        (void)os_fd_write(fd, buf, (size_t)n); /* nowhere to report a failure */
}

void stats_report_at_exit(void)
{
    if (!runtime_ready())
        return;
    if (!vmem_rt.cfg.report_file[0]) {
        vmem_print_stats(2);
        return;
    }
    /* Appended, headed by the process id: with LD_PRELOAD every program
     * a command runs reports into the same file. */
    int fd, err = os_fd_open_append(vmem_rt.cfg.report_file, &fd);
    if (err) {
        vmem_log("cannot open the report file %s: %s", vmem_rt.cfg.report_file,
                 strerror(err));
        return;
    }
    char head[64];
    int n = snprintf(head, sizeof(head), "pid %ld\n", (long)os_pid());
    if (n > 0 && os_fd_write(fd, head, (size_t)n) == 0)
        vmem_print_stats(fd);
    os_fd_close(fd);
}
