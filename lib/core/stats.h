/*
 * stats.h -- the runtime's counters, which every layer adds to.  Lock-free:
 * relaxed atomic adds; the peaks are raised with a compare-and-swap loop.
 * api/stats.c gathers them (and the other layers' figures) for the API.
 *
 * They live where vmem_ctr_live points: in the process's published
 * statistics area once api/publish.c has made it (so a reader sees every
 * count as it happens, and still after a kill -9), else in this layer's
 * own copy.
 */
#ifndef VMEM_STATS_H
#define VMEM_STATS_H

#include <stdint.h>

struct vmem_counters {
    uint64_t demand_zero_faults, demand_zero_pages;
    uint64_t transition_faults, hard_faults;
    uint64_t pages_read, pages_written, read_ios, write_ios;
    uint64_t write_watch_faults, guard_faults;
    uint64_t working_set, peak_working_set;
    uint64_t commit_charge, peak_commit_charge;
    uint64_t reserved_pages, regions;
    uint64_t prefetched_pages, prefetch_used, prefetch_unused;
    uint64_t trimmed_pages, trimmed_by_move;
    uint64_t checksum_errors, write_errors, inpage_errors;
    /* the compressed store (compress/store.c) */
    uint64_t compress_stored, compress_pages, compress_bytes, compress_same;
    uint64_t compress_rejects, compress_hits, compress_evicted;
    uint64_t compress_ns, decompress_ns;
    /* pages installed over the cap: nothing could leave RAM (paging/reclaim.c) */
    uint64_t cap_overruns;
    /* as_lock (core/runtime.h): acquisitions, those that had to wait, the
     * time waited and the time held exclusive */
    uint64_t as_lock_shared, as_lock_exclusive, as_lock_waits;
    uint64_t as_lock_wait_ns, as_lock_exclusive_ns;
    /* the fault threads (fault/fault_thread.c): wake-ups, those that found
     * no event to read, events read */
    uint64_t fault_thread_wakeups, fault_thread_empty_wakeups, fault_thread_events;
    /* pages of paged views read in beside a faulting one (section/vpage.c) */
    uint64_t view_prefetched_pages;
    /* view pages written to their slot as they left RAM (section/vpage.c) */
    uint64_t view_slot_writes;
    /* the compressed store's RAM charged to the cap and its adaptive share,
     * both in bytes (gauges, compress/store.c and share.c), and the share's
     * changes each way */
    uint64_t compress_charged, compress_share;
    uint64_t compress_share_shrinks, compress_share_grows;
};

extern struct vmem_counters *vmem_ctr_live;
#define vmem_ctr (*vmem_ctr_live)

/* Copies the counters to *to and counts there from now on (to NULL: back
 * to the layer's own copy).  Only while no other thread of the library
 * runs: at start-up, in a forked child, at shutdown. */
void ctr_move(struct vmem_counters *to);

static inline void ctr_add(uint64_t *c, uint64_t n)
{
    __atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}
static inline void ctr_sub(uint64_t *c, uint64_t n)
{
    __atomic_fetch_sub(c, n, __ATOMIC_RELAXED);
}

/* Adds n to a gauge and raises its peak. */
void ctr_gauge_add(uint64_t *gauge, uint64_t *peak, uint64_t n);

#endif
