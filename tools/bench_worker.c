/*
 * bench_worker.c -- the live run of one policy on one workload: commits the
 * footprint with VirtualAlloc, writes every page once (populate), then makes
 * the workload's references, each timed, each checking the whole page's
 * content (a write then rewrites it with the next generation), and sends
 * libvmem's counters and the latencies to the parent.
 *
 * A page's words all differ (incompressible), unless the parent asks for
 * compressible pages (`vmem bench --store M:R`): then only the first
 * head_words differ and the rest repeat one word of the page, so a page
 * compresses to about 1/R of its size.
 */
#include "bench_worker.h"

#include "bench_progress.h"
#include "bench_result.h"
#include "stats.h" /* bench/stats.h */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <memoryapi.h>
#include <vmem.h>

#define WORDS (VMEM_PAGE_SIZE / sizeof(uint64_t))
#define MAX_BAD_LINES 10

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Word i of page `page` at generation `gen`: every word differs, and so
 * does every page and generation. */
static inline uint64_t pattern(uint64_t page, uint32_t gen, size_t i)
{
    return ((page << 32 | gen) * 0x9e3779b97f4a7c15ull) ^ (i * 0xd1b54a32d192ed03ull);
}

static size_t head_words = WORDS; /* the words that differ */

/* Word i of the page's content: past the head, one repeated word. */
static inline uint64_t word(uint64_t page, uint32_t gen, size_t i)
{
    return pattern(page, gen, i < head_words ? i : WORDS);
}

static void fill(uint64_t *w, uint64_t page, uint32_t gen)
{
    for (size_t i = 0; i < WORDS; i++)
        w[i] = word(page, gen, i);
}

/* 0 if the page holds generation gen; else -1, reported (the first few). */
static int check(const uint64_t *w, uint64_t page, uint32_t gen, uint64_t *bad)
{
    for (size_t i = 0; i < WORDS; i++) {
        if (w[i] != word(page, gen, i)) {
            if ((*bad)++ < MAX_BAD_LINES)
                fprintf(stderr, "vmem bench: page %" PRIu64 " word %zu is %#" PRIx64
                                ", expected %#" PRIx64 " (generation %" PRIu32 ")\n",
                        page, i, w[i], word(page, gen, i), gen);
            return -1;
        }
    }
    return 0;
}

/* The worker's arguments are numbers cmd_bench.c printed. */
static int parse_u64(const char *s, uint64_t *v)
{
    return vmem_parse_uint(s, 0, UINT64_MAX, v);
}

int bench_worker_parse(int argc, char **argv, struct bench_worker_args *a)
{
    /* --worker FD WORKLOAD PAGES CAP_PAGES REFS SEED PROGRESS LABEL HEAD_WORDS */
    uint64_t fd, progress;
    char err[256];
    if (argc != 10 || parse_u64(argv[1], &fd) || bench_workload_parse(argv[2], &a->workload, err,
                                                                       sizeof(err)) ||
        parse_u64(argv[3], &a->pages) || parse_u64(argv[4], &a->cap_pages) ||
        parse_u64(argv[5], &a->refs) || parse_u64(argv[6], &a->seed) ||
        parse_u64(argv[7], &progress) || vmem_parse_uint(argv[9], 1, WORDS, &a->head_words))
        return -1;
    a->result_fd = (int)fd;
    a->progress = progress != 0;
    a->label = argv[8];
    return 0;
}

static uint64_t faults(const struct vmem_stats *s)
{
    return s->hard_faults + s->transition_faults + s->demand_zero_faults;
}

static int send_result(int fd, const struct bench_result *r)
{
    ssize_t n = write(fd, r, sizeof(*r));
    return n == (ssize_t)sizeof(*r) ? 0 : 1;
}

static int fail(int fd, struct bench_result *r, const char *fmt, const char *what)
{
    r->ok = 0;
    snprintf(r->error, sizeof(r->error), fmt, what);
    return send_result(fd, r);
}

int bench_worker_run(const struct bench_worker_args *a)
{
    static struct bench_result r;
    memset(&r, 0, sizeof(r));
    head_words = (size_t)a->head_words;
    char err[256];
    struct vmem_config cfg;
    if (vmem_config_from_env(&cfg, err, sizeof(err)))
        return fail(a->result_fd, &r, "libvmem rejects the configuration: %s", err);

    size_t nrefs;
    struct bench_ref *refs =
        bench_workload_generate(&a->workload, a->pages, a->cap_pages, a->refs, a->seed, &nrefs);
    uint32_t *gen = calloc(a->pages, sizeof(*gen));
    uint32_t *lat = malloc(nrefs * sizeof(*lat));
    if (!refs || !gen || !lat)
        return fail(a->result_fd, &r, "%s", "out of memory");
    memset(lat, 0, nrefs * sizeof(*lat)); /* in RAM before the timing starts */

    size_t bytes = (size_t)a->pages * VMEM_PAGE_SIZE;
    unsigned char *mem = VirtualAlloc(NULL, bytes, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (!mem) {
        snprintf(err, sizeof(err), "VirtualAlloc of %zu bytes failed with error %lu", bytes,
                 (unsigned long)GetLastError());
        return fail(a->result_fd, &r, "%s", err);
    }
    struct vmem_stats s0, s1;
    vmem_get_stats(&s0);

    struct bench_progress bar;
    bench_progress_start(&bar, a->progress, a->label, a->pages + nrefs);
    uint64_t t = now_ns();
    for (uint64_t p = 0; p < a->pages; p++) {
        fill((uint64_t *)(mem + p * VMEM_PAGE_SIZE), p, gen[p] = 1);
        bench_progress_update(&bar, p);
    }
    r.populate_secs = (double)(now_ns() - t) / 1e9;

    struct vmem_stats sw;
    vmem_get_stats(&sw);
    uint64_t start = now_ns();
    for (size_t i = 0; i < nrefs; i++) {
        uint64_t p = refs[i].page;
        uint64_t *w = (uint64_t *)(mem + p * VMEM_PAGE_SIZE);
        uint64_t t0 = now_ns();
        if (check(w, p, gen[p], &r.bad_pages) == 0 && refs[i].write)
            fill(w, p, ++gen[p]);
        uint64_t d = now_ns() - t0;
        lat[i] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
        bench_progress_update(&bar, a->pages + i);
    }
    r.secs = (double)(now_ns() - start) / 1e9;
    vmem_get_stats(&s1);
    bench_progress_end(&bar);

    r.ok = 1;
    r.refs = nrefs;
    r.hard_faults = s1.hard_faults - sw.hard_faults;
    r.transition_faults = s1.transition_faults - sw.transition_faults;
    r.demand_zero_faults = s1.demand_zero_faults - sw.demand_zero_faults;
    r.pages_read = s1.pages_read - sw.pages_read;
    r.pages_written = s1.pages_written - sw.pages_written;
    r.prefetched_pages = s1.prefetched_pages - sw.prefetched_pages;
    r.prefetch_used = s1.prefetch_used - sw.prefetch_used;
    r.prefetch_unused = s1.prefetch_unused - sw.prefetch_unused;
    r.trimmed_pages = s1.trimmed_pages - sw.trimmed_pages;
    r.peak_working_set = s1.peak_working_set;
    r.cap_pages = s1.cap_pages;
    r.store_hits = s1.compress_hits - sw.compress_hits;
    r.store_rejects = s1.compress_rejects - sw.compress_rejects;
    r.total_faults = faults(&s1) - faults(&s0);

    /* latencies of the slow touches, in place at the front of lat */
    size_t nslow = 0;
    for (size_t i = 0; i < nrefs; i++)
        if (lat[i] > BENCH_SLOW_TOUCH_NS)
            lat[nslow++] = lat[i];
    r.slow_touches = nslow;
    if (nslow) {
        stats_sort_u32(lat, nslow);
        r.p50_us = stats_percentile_u32(lat, nslow, 0.50) / 1e3;
        r.p99_us = stats_percentile_u32(lat, nslow, 0.99) / 1e3;
        r.max_us = lat[nslow - 1] / 1e3;
    }
    VirtualFree(mem, 0, MEM_RELEASE);
    free(refs);
    free(gen);
    free(lat);
    return send_result(a->result_fd, &r);
}
