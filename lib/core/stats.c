/*
 * stats.c -- counters, vmem_get_stats and the VMEM_REPORT printout.
 */
#include "core/stats.h"
#include "paging/cap.h"
#include "pagefile/pagefile.h"
#include "core/runtime.h"
#include "paging/standby.h"
#include "core/vmem_internal.h"
#include <vmem.h>

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

struct vmem_counters vmem_ctr;

void ctr_gauge_add(uint64_t *gauge, uint64_t *peak, uint64_t n)
{
    uint64_t now = __atomic_add_fetch(gauge, n, __ATOMIC_RELAXED);
    uint64_t p = __atomic_load_n(peak, __ATOMIC_RELAXED);
    while (now > p && !__atomic_compare_exchange_n(peak, &p, now, 1, __ATOMIC_RELAXED,
                                                   __ATOMIC_RELAXED))
        ;
}

#define LOAD(f) __atomic_load_n(&vmem_ctr.f, __ATOMIC_RELAXED)

VMEM_API int vmem_get_stats(struct vmem_stats *st)
{
    if (!st)
        return EINVAL;
    int err = runtime_ensure();
    if (err)
        return err;
    /* A fault's install wakes the faulting thread before the fault thread
     * counts it; taking as_lock exclusive waits for that count, so a thread
     * reads counters that include its own faults. */
    as_lock_exclusive();
    as_unlock();
    st->demand_zero_faults = LOAD(demand_zero_faults);
    st->demand_zero_pages = LOAD(demand_zero_pages);
    st->transition_faults = LOAD(transition_faults);
    st->hard_faults = LOAD(hard_faults);
    st->pages_read = LOAD(pages_read);
    st->pages_written = LOAD(pages_written);
    st->read_ios = LOAD(read_ios);
    st->write_ios = LOAD(write_ios);
    st->write_watch_faults = LOAD(write_watch_faults);
    st->guard_faults = LOAD(guard_faults);
    st->working_set = LOAD(working_set);
    st->peak_working_set = LOAD(peak_working_set);
    st->commit_charge = LOAD(commit_charge);
    st->peak_commit_charge = LOAD(peak_commit_charge);
    st->reserved_pages = LOAD(reserved_pages);
    st->regions = LOAD(regions);
    st->prefetched_pages = LOAD(prefetched_pages);
    st->prefetch_used = LOAD(prefetch_used);
    st->prefetch_unused = LOAD(prefetch_unused);
    st->trimmed_pages = LOAD(trimmed_pages);
    st->trimmed_by_move = LOAD(trimmed_by_move);
    st->standby_pages = standby_count();
    st->pagefile_pages = paging_enabled() ? pagefile_used() : 0;
    st->peak_pagefile_pages = paging_enabled() ? pagefile_peak() : 0;
    st->cap_pages = paging_cap();
    st->checksum_errors = LOAD(checksum_errors);
    st->write_errors = LOAD(write_errors);
    st->inpage_errors = LOAD(inpage_errors);
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
    if (n > 0 && write(fd, buf, (size_t)n) < 0)
        return;
}
