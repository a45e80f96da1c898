/*
 * stats.c -- summaries of measured samples for the benchmarks (stats.h).
 */
#include "stats.h"

#include <stdlib.h>

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void stats_sort_u32(uint32_t *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_u32);
}

uint32_t stats_percentile_u32(const uint32_t *sorted, size_t n, double p)
{
    /* rank = ceil(p * n), with slack for p * n computed a hair above an
     * integer (0.99 * 100) */
    size_t r = (size_t)(p * (double)n + 0.999999999);
    if (r < 1)
        r = 1;
    if (r > n)
        r = n;
    return sorted[r - 1];
}

double stats_mean_u32(const uint32_t *v, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    return n ? sum / (double)n : 0.0;
}

double stats_median(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_dbl);
    return (n & 1) ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

double stats_min(const double *v, size_t n)
{
    double m = v[0];
    for (size_t i = 1; i < n; i++)
        if (v[i] < m)
            m = v[i];
    return m;
}
