/*
 * bench_report.h -- presenting `vmem bench` results: the table on stdout,
 * the CSV file, and the gnuplot bar chart.
 */
#ifndef VMEM_BENCH_REPORT_H
#define VMEM_BENCH_REPORT_H

#include "bench_result.h"

#include <stddef.h>
#include <stdio.h>

/* The same reference string replayed by the simulator (tools/sim.c) with
 * the cap in frames, without and with the compressed tier of --store:
 * misses after the populate pass. */
struct bench_sim {
    int ok;               /* 0: not simulated (out of memory) */
    uint64_t misses;      /* one tier: each a page-file read */
    uint64_t store_hits;  /* two tiers: misses the store served */
    uint64_t disk;        /* two tiers: misses left to the page file */
};

struct bench_run {
    const char *workload; /* its label, "zipf:0.99" */
    const char *policy;
    struct bench_result r;
    struct bench_sim sim; /* with --store only */
};

/* What every run shared, printed with the table and in the CSV. */
struct bench_setup {
    uint64_t size, cap, refs, seed; /* bytes, bytes, 0 = default, seed */
    const char *prefetch;
    size_t store_pages;             /* --store M (0: no store) */
    double store_ratio;             /* --store's R */
};

/* The table for one workload's runs; with a store, its columns too. */
void bench_report_table(FILE *f, const struct bench_setup *s, const char *workload,
                        const struct bench_run *runs, size_t n);

/* All runs as CSV with a header line.  0, or -1 with errno set. */
int bench_report_csv(const char *path, const struct bench_setup *s, const struct bench_run *runs,
                     size_t n);

/* A PNG bar chart of faults per policy, grouped by workload, drawn by
 * gnuplot.  0; -1 with a message on stderr (gnuplot missing or failing). */
int bench_report_plot(const char *path, const struct bench_setup *s,
                      const struct bench_run *runs, size_t n);

#endif
