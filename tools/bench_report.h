/*
 * bench_report.h -- presenting `vmem bench` results: the table on stdout,
 * the CSV file, and the gnuplot bar chart.
 */
#ifndef VMEM_BENCH_REPORT_H
#define VMEM_BENCH_REPORT_H

#include "bench_result.h"

#include <stddef.h>
#include <stdio.h>

struct bench_run {
    const char *workload; /* its label, "zipf:0.99" */
    const char *policy;
    struct bench_result r;
};

/* What every run shared, printed with the table and in the CSV. */
struct bench_setup {
    uint64_t size, cap, refs, seed; /* bytes, bytes, 0 = default, seed */
    const char *prefetch;
};

/* The table for one workload's runs. */
void bench_report_table(FILE *f, const char *workload, const struct bench_run *runs, size_t n);

/* All runs as CSV with a header line.  0, or -1 with errno set. */
int bench_report_csv(const char *path, const struct bench_setup *s, const struct bench_run *runs,
                     size_t n);

/* A PNG bar chart of faults per policy, grouped by workload, drawn by
 * gnuplot.  0; -1 with a message on stderr (gnuplot missing or failing). */
int bench_report_plot(const char *path, const struct bench_setup *s,
                      const struct bench_run *runs, size_t n);

#endif
