/*
 * bench_result.h -- what one `vmem bench` worker (one policy on one
 * workload) reports to the parent through a pipe.  Both ends are the same
 * binary, so the struct is sent as it is.
 */
#ifndef VMEM_BENCH_RESULT_H
#define VMEM_BENCH_RESULT_H

#include <stdint.h>

/* A touch slower than this took a fault: the latency columns describe these
 * touches only (a touch that hits costs well under a microsecond: checking,
 * and for writes rewriting, one 4 KiB page). */
#define BENCH_SLOW_TOUCH_NS 2000u

struct bench_result {
    int ok;              /* 0: the run failed, see error */
    char error[512];
    /* libvmem's counters over the workload phase (populate excluded) */
    uint64_t hard_faults, transition_faults, demand_zero_faults;
    uint64_t pages_read, pages_written, prefetched_pages, prefetch_used, prefetch_unused;
    uint64_t trimmed_pages, peak_working_set, cap_pages;
    /* the compressed store (VMEM_COMPRESS): faults it served, pages it
     * refused (they did not compress enough) */
    uint64_t store_hits, store_rejects;
    /* the same counters over populate + workload, for comparisons with a
     * replay of the whole trace */
    uint64_t total_faults;
    uint64_t refs, bad_pages; /* references made; pages that failed their check */
    uint64_t slow_touches;    /* touches slower than BENCH_SLOW_TOUCH_NS */
    double secs, populate_secs;
    double p50_us, p99_us, max_us; /* over the slow touches; 0 if none */
};

#endif
