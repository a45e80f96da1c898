/*
 * stats.h -- summaries of measured samples (percentiles, median, minimum,
 * mean), one definition for every benchmark: the programs of bench/ and
 * `vmem bench` (tools/bench_worker.c) report the same p50 and p99 for the
 * same samples.
 */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Sorts v[0..n) ascending. */
void stats_sort_u32(uint32_t *v, size_t n);

/* The nearest-rank percentile of n >= 1 values sorted ascending: the
 * smallest value with at least p*n values at or below it (p in (0, 1];
 * p = 0.5 is the lower median, p = 1 the maximum). */
uint32_t stats_percentile_u32(const uint32_t *sorted, size_t n, double p);

/* The mean of v[0..n); 0 for n = 0. */
double stats_mean_u32(const uint32_t *v, size_t n);

/* The median of n >= 1 values: the middle one, or the mean of the two
 * middle ones.  Sorts v. */
double stats_median(double *v, size_t n);

/* The smallest of n >= 1 values. */
double stats_min(const double *v, size_t n);

#endif
