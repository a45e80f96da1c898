/*
 * sim.h -- the paging simulator: replays a page reference trace against a
 * replacement policy (policy.h) with a fixed number of frames, optionally
 * with a prefetcher, and counts faults.  OPT (Belady) is here too: it needs
 * the future, which only a trace has.
 */
#ifndef VMEM_SIM_H
#define VMEM_SIM_H

#include "policy/policy.h"
#include "trace.h"

#include <stddef.h>
#include <stdint.h>

/* A trace renumbered densely: page ranks 0..universe-1 in the order of the
 * original page numbers, so neighbouring pages stay neighbours (prefetch
 * windows are computed on original numbers). */
struct sim_trace {
    uint32_t *ref;     /* n references, as ranks */
    size_t n;
    size_t universe;   /* ranks, = distinct pages, unless identity */
    uint64_t *orig;    /* rank -> original page; NULL: identity */
    size_t distinct;   /* distinct pages referenced */
};

/* 0, or -1 (out of memory, or more than 2^32-1 distinct pages) */
int sim_prepare(struct sim_trace *st, const struct trace *t);
void sim_trace_free(struct sim_trace *st);

struct sim_result {
    const char *policy;
    size_t frames;
    uint64_t refs;
    uint64_t faults;
    uint64_t prefetched;    /* pages brought in by prefetch */
    uint64_t pf_used;       /* of those, referenced before eviction */
    uint64_t pf_unused;     /* evicted unreferenced */
    uint64_t store_hits;    /* misses served by the compressed tier (sim_set_store) */
    size_t store_frames;    /* frames the compressed tier takes from `frames` */
    double seconds;         /* replay CPU time of the thread (OPT: with its
                             * next-use pass), so other load on the machine
                             * does not count */
};

/* The policies' allocator in the simulator: calloc and free. */
extern const struct policy_alloc sim_alloc;

/* pf NULL: no prefetch.  0, or -1 if out of memory. */
int sim_run(const struct sim_trace *st, const struct policy_ops *ops,
            const struct prefetch_ops *pf, unsigned pf_n, size_t frames, uint64_t seed,
            struct sim_result *res);

/* The compressed tier of later sim_run calls: a store of `pages` pages
 * (0: none) at `ratio` pages per frame, whose frames come out of each run's
 * frame count, so runs compare at equal RAM.  A page evicted from the
 * frames enters the store; the store's oldest page leaves for the disk when
 * it is full (as libvmem's store does); a miss on a page in the store is a
 * store hit, the rest go to disk. */
void sim_set_store(size_t pages, double ratio);

/* The frames a store of `pages` pages at `ratio` takes: ceil(pages/ratio). */
size_t sim_store_frames(size_t pages, double ratio);

/* --store's M[:R]: M pages (0: none), R pages per frame from 1 to 64
 * (default 2).  0, or -1 if spec is not that. */
int sim_parse_store(const char *spec, size_t *pages, double *ratio);

/* Belady's OPT: on a miss with all frames full, evicts the resident page
 * whose next reference is farthest away.  Demand paging only. */
int sim_opt(const struct sim_trace *st, size_t frames, struct sim_result *res);

/* Frame counts: "100,200", "START:END:STEP", or "auto" (about 20 points up
 * to the distinct-page count).  Returns the count (sorted, no duplicates)
 * in a malloc'ed array, or 0 with a reason in err. */
size_t sim_parse_frames(const char *spec, size_t distinct, size_t **out, char *err,
                        size_t errlen);

#endif
