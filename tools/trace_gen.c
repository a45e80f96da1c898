/*
 * trace_gen.c -- synthetic traces, so the simulator can run without a file:
 *
 *   seq:PAGES                     0, 1, ..., PAGES-1 once (every reference new)
 *   loop:PAGES:REFS               0..PAGES-1 over and over, REFS references
 *   uniform:PAGES:REFS[:SEED]     independent uniform choices
 *   zipf:ALPHA:PAGES:REFS[:SEED]  rank k drawn with weight 1/k^ALPHA; ranks
 *                                 are scattered over the pages by a seeded
 *                                 permutation, so hot pages are not neighbours
 */
#include "trace.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_next(uint64_t *s)
{
    /* splitmix64: fine statistics, any seed */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double rng_unit(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-')
        return -1;
    unsigned long long x = strtoull(s, &end, 0);
    /* accept 10M / 1K style counts */
    if (*end == 'K' || *end == 'k')
        x *= 1000, end++;
    else if (*end == 'M' || *end == 'm')
        x *= 1000000, end++;
    else if (*end == 'G' || *end == 'g')
        x *= 1000000000, end++;
    if (errno || *end)
        return -1;
    *v = x;
    return 0;
}

static int reserve(struct trace *t, uint64_t refs)
{
    if (t->cap - t->n >= refs)
        return 0;
    uint64_t *p = realloc(t->page, (t->n + refs) * sizeof *p);
    if (!p)
        return -1;
    t->page = p;
    t->cap = t->n + refs;
    return 0;
}

static int gen_zipf(struct trace *t, double alpha, uint64_t pages, uint64_t refs,
                    uint64_t seed)
{
    double *cdf = malloc(pages * sizeof *cdf);
    uint64_t *perm = malloc(pages * sizeof *perm);
    if (!cdf || !perm || reserve(t, refs) < 0) {
        free(cdf);
        free(perm);
        return -1;
    }
    double sum = 0;
    for (uint64_t k = 0; k < pages; k++)
        cdf[k] = sum += pow((double)(k + 1), -alpha);
    for (uint64_t k = 0; k < pages; k++)
        perm[k] = k;
    for (uint64_t k = pages - 1; k > 0; k--) {
        uint64_t j = rng_next(&seed) % (k + 1), x = perm[k];
        perm[k] = perm[j];
        perm[j] = x;
    }
    for (uint64_t r = 0; r < refs; r++) {
        double u = rng_unit(&seed) * sum;
        uint64_t lo = 0, hi = pages - 1;
        while (lo < hi) { /* first rank whose cdf exceeds u */
            uint64_t mid = lo + (hi - lo) / 2;
            if (cdf[mid] > u)
                hi = mid;
            else
                lo = mid + 1;
        }
        t->page[t->n++] = perm[lo];
    }
    free(cdf);
    free(perm);
    return 0;
}

int trace_generate(struct trace *t, const char *spec, char *err, size_t errlen)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec);
    char *field[6];
    int nf = 0;
    for (char *save, *tok = strtok_r(buf, ":", &save); tok && nf < 6;
         tok = strtok_r(NULL, ":", &save))
        field[nf++] = tok;
    uint64_t v[4] = {0, 0, 0, 0};
    const char *kind = nf ? field[0] : "";
    int rc = -2; /* -2: bad spec */

    if (!strcmp(kind, "seq") && nf == 2 && !parse_u64(field[1], &v[0]) && v[0]) {
        rc = reserve(t, v[0]);
        for (uint64_t i = 0; !rc && i < v[0]; i++)
            t->page[t->n++] = i;
    } else if (!strcmp(kind, "loop") && nf == 3 && !parse_u64(field[1], &v[0]) &&
               !parse_u64(field[2], &v[1]) && v[0]) {
        rc = reserve(t, v[1]);
        for (uint64_t i = 0; !rc && i < v[1]; i++)
            t->page[t->n++] = i % v[0];
    } else if (!strcmp(kind, "uniform") && (nf == 3 || nf == 4) &&
               !parse_u64(field[1], &v[0]) && !parse_u64(field[2], &v[1]) &&
               (nf == 3 || !parse_u64(field[3], &v[2])) && v[0]) {
        rc = reserve(t, v[1]);
        for (uint64_t i = 0; !rc && i < v[1]; i++)
            t->page[t->n++] = rng_next(&v[2]) % v[0];
    } else if (!strcmp(kind, "zipf") && (nf == 4 || nf == 5)) {
        char *end;
        double alpha = strtod(field[1], &end);
        if (!*end && alpha >= 0 && alpha <= 10 && !parse_u64(field[2], &v[0]) &&
            !parse_u64(field[3], &v[1]) && (nf == 4 || !parse_u64(field[4], &v[2])) &&
            v[0])
            rc = gen_zipf(t, alpha, v[0], v[1], v[2]);
    }
    if (rc == -2)
        snprintf(err, errlen,
                 "bad generator '%s' (seq:PAGES, loop:PAGES:REFS, "
                 "uniform:PAGES:REFS[:SEED], zipf:ALPHA:PAGES:REFS[:SEED])",
                 spec);
    else if (rc < 0)
        snprintf(err, errlen, "generator '%s': out of memory", spec);
    return rc < 0 ? -1 : 0;
}
