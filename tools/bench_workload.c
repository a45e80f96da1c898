/*
 * bench_workload.c -- generating the built-in workloads' reference strings.
 * Every choice comes from one xorshift generator seeded from --seed, so a
 * workload, size, cap, reference count and seed give the same string in the
 * parent (for --trace) and in every policy's worker.
 */
#include "bench_workload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const bench_workload_names[WL_COUNT] = {
    [WL_SEQ] = "seq",         [WL_UNIFORM] = "uniform", [WL_ZIPF] = "zipf",
    [WL_HOTCOLD] = "hotcold", [WL_LOOP] = "loop",       [WL_SCANMIX] = "scanmix",
};

#define WRITE_PERCENT 30
#define DEFAULT_ZIPF_SKEW 0.99
#define DEFAULT_HOT_PERCENT 90

struct rng {
    uint64_t s;
};

/* splitmix64: good enough for workloads, and portable. */
static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rng_below(struct rng *r, uint64_t n)
{
    return rng_next(r) % n;
}

static double rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

int bench_workload_parse(const char *spec, struct bench_workload *w, char *err, size_t errlen)
{
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    int kind = -1;
    for (int i = 0; i < WL_COUNT; i++)
        if (strlen(bench_workload_names[i]) == len && !strncmp(spec, bench_workload_names[i], len))
            kind = i;
    if (kind < 0) {
        int n = snprintf(err, errlen, "unknown workload '%.*s' (one of", (int)len, spec);
        for (int i = 0; i < WL_COUNT && n > 0 && (size_t)n < errlen; i++)
            n += snprintf(err + n, errlen - (size_t)n, " %s", bench_workload_names[i]);
        if (n > 0 && (size_t)n < errlen)
            snprintf(err + n, errlen - (size_t)n, ", or all)");
        return -1;
    }
    w->kind = (enum bench_workload_kind)kind;
    w->param = kind == WL_ZIPF ? DEFAULT_ZIPF_SKEW : kind == WL_HOTCOLD ? DEFAULT_HOT_PERCENT : 0;
    if (colon) {
        char *end;
        double v = strtod(colon + 1, &end);
        if (kind == WL_ZIPF && colon[1] && !*end && v > 0 && v <= 10) {
            w->param = v;
        } else if (kind == WL_HOTCOLD && colon[1] && !*end && v >= 50 && v < 100) {
            w->param = v;
        } else {
            snprintf(err, errlen, "bad workload '%s': %s", spec,
                     kind == WL_ZIPF      ? "zipf:S takes a skew S in (0, 10]"
                     : kind == WL_HOTCOLD ? "hotcold:P takes a percentage P in [50, 100): P% "
                                            "of references go to (100-P)% of the pages"
                                          : "this workload takes no parameter");
            return -1;
        }
    }
    if (kind == WL_ZIPF)
        snprintf(w->label, sizeof(w->label), "zipf:%g", w->param);
    else if (kind == WL_HOTCOLD)
        snprintf(w->label, sizeof(w->label), "hotcold:%g", w->param);
    else
        snprintf(w->label, sizeof(w->label), "%s", bench_workload_names[kind]);
    return 0;
}

/* A random permutation of 0..n-1, so hot pages are scattered over the
 * region rather than neighbours (which prefetching would favour). */
static uint32_t *permutation(uint64_t n, struct rng *r)
{
    uint32_t *p = malloc(n * sizeof(*p));
    if (!p)
        return NULL;
    for (uint64_t i = 0; i < n; i++)
        p[i] = (uint32_t)i;
    for (uint64_t i = n - 1; i > 0; i--) {
        uint64_t j = rng_below(r, i + 1);
        uint32_t t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
    return p;
}

static int gen_zipf(struct bench_ref *out, size_t nrefs, uint64_t pages, double skew,
                    struct rng *r)
{
    double *cdf = malloc(pages * sizeof(*cdf));
    uint32_t *perm = permutation(pages, r);
    if (!cdf || !perm) {
        free(cdf);
        free(perm);
        return -1;
    }
    double sum = 0;
    for (uint64_t k = 0; k < pages; k++)
        cdf[k] = (sum += 1.0 / pow((double)(k + 1), skew));
    for (size_t i = 0; i < nrefs; i++) {
        double u = rng_unit(r) * sum;
        uint64_t lo = 0, hi = pages - 1; /* the first rank whose cdf >= u */
        while (lo < hi) {
            uint64_t mid = lo + (hi - lo) / 2;
            if (cdf[mid] < u)
                lo = mid + 1;
            else
                hi = mid;
        }
        out[i].page = perm[lo];
    }
    free(cdf);
    free(perm);
    return 0;
}

static int gen_hotcold(struct bench_ref *out, size_t nrefs, uint64_t pages, double hot_pct,
                       struct rng *r)
{
    uint32_t *perm = permutation(pages, r);
    if (!perm)
        return -1;
    uint64_t hot = (uint64_t)((double)pages * (100.0 - hot_pct) / 100.0);
    if (hot < 1)
        hot = 1;
    for (size_t i = 0; i < nrefs; i++) {
        int to_hot = rng_unit(r) * 100.0 < hot_pct || hot == pages;
        out[i].page = to_hot ? perm[rng_below(r, hot)] : perm[hot + rng_below(r, pages - hot)];
    }
    free(perm);
    return 0;
}

static void gen_scanmix(struct bench_ref *out, size_t nrefs, uint64_t pages, uint64_t cap,
                        struct rng *r)
{
    uint64_t hot = cap / 2 ? cap / 2 : 1;
    if (hot >= pages)
        hot = pages - 1 ? pages - 1 : 1;
    uint64_t cold = pages - hot ? pages - hot : 1;
    uint64_t hot_len = 2 * cap, scan_len = cap ? cap : 1, scan_pos = 0, phase = 0;
    for (size_t i = 0; i < nrefs; i++, phase++) {
        if (phase < hot_len) {
            out[i].page = (uint32_t)rng_below(r, hot); /* the hot set: pages 0..hot-1 */
        } else {
            out[i].page = (uint32_t)((hot + scan_pos++ % cold) % pages);
            if (phase + 1 == hot_len + scan_len)
                phase = (uint64_t)-1;
        }
    }
}

struct bench_ref *bench_workload_generate(const struct bench_workload *w, uint64_t pages,
                                          uint64_t cap_pages, uint64_t refs, uint64_t seed,
                                          size_t *nrefs)
{
    if (!refs)
        refs = 2 * pages;
    struct bench_ref *out = calloc(refs, sizeof(*out));
    if (!out)
        return NULL;
    struct rng r = { seed ^ (0x51ed270b27e2a5full * (uint64_t)(w->kind + 1)) };
    int rc = 0;
    uint64_t loop_len = cap_pages + cap_pages / 10;
    if (loop_len > pages || loop_len == 0)
        loop_len = pages;
    switch (w->kind) {
    case WL_SEQ:
        for (size_t i = 0; i < refs; i++)
            out[i].page = (uint32_t)(i % pages);
        break;
    case WL_LOOP:
        for (size_t i = 0; i < refs; i++)
            out[i].page = (uint32_t)(i % loop_len);
        break;
    case WL_UNIFORM:
        for (size_t i = 0; i < refs; i++)
            out[i].page = (uint32_t)rng_below(&r, pages);
        break;
    case WL_ZIPF:
        rc = gen_zipf(out, refs, pages, w->param, &r);
        break;
    case WL_HOTCOLD:
        rc = gen_hotcold(out, refs, pages, w->param, &r);
        break;
    case WL_SCANMIX:
        gen_scanmix(out, refs, pages, cap_pages, &r);
        break;
    case WL_COUNT:
        rc = -1;
        break;
    }
    if (rc) {
        free(out);
        return NULL;
    }
    /* reads and writes from a generator of their own, so the page choices
     * above do not depend on the mix */
    struct rng rw = { seed ^ 0x7a3d5c1e9b2f4a68ull };
    for (size_t i = 0; i < refs; i++)
        out[i].write = rng_below(&rw, 100) < WRITE_PERCENT;
    *nrefs = refs;
    return out;
}
