/*
 * bench_workload.h -- the built-in workloads of `vmem bench`: deterministic
 * page reference strings over a footprint of `pages` pages, from a seed.
 */
#ifndef VMEM_BENCH_WORKLOAD_H
#define VMEM_BENCH_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

struct bench_ref {
    uint32_t page;  /* page index within the region */
    uint32_t write; /* 1: check and rewrite the page; 0: check it */
};

enum bench_workload_kind {
    WL_SEQ,      /* sequential scan, passes over the footprint */
    WL_UNIFORM,  /* uniformly random pages */
    WL_ZIPF,     /* zipf(S) over a fixed random permutation of the pages */
    WL_HOTCOLD,  /* P% of references to (100-P)% of the pages */
    WL_LOOP,     /* a sequential loop over 1.1 x the cap (LRU's worst case) */
    WL_SCANMIX,  /* a hot set of half the cap, with a scan of the cap's size
                    through the other pages after every two caps' worth of
                    references to it: scans that flush the hot set out of
                    LRU */
    WL_COUNT,
};

struct bench_workload {
    enum bench_workload_kind kind;
    double param; /* zipf: skew S; hotcold: P; 0 elsewhere */
    char label[48]; /* as printed: "zipf:0.99", "hotcold:90", "uniform" */
};

/* The workload names, in the order `all` runs them. */
extern const char *const bench_workload_names[WL_COUNT];

/* Parses NAME[:PARAM].  0, or -1 with a message in err. */
int bench_workload_parse(const char *spec, struct bench_workload *w, char *err, size_t errlen);

/* The reference string: `refs` references (0: the workload's default, two
 * references per page of the footprint), 30% of them writes.  Pages
 * `pages` (the footprint) and `cap_pages` (the cap, for loop and scanmix).
 * Returns a malloc'ed array of *nrefs references, or NULL (out of memory). */
struct bench_ref *bench_workload_generate(const struct bench_workload *w, uint64_t pages,
                                          uint64_t cap_pages, uint64_t refs, uint64_t seed,
                                          size_t *nrefs);

#endif
