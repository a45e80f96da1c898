/*
 * bench_demand_zero.c -- demand-zero page faults: libvmem against the kernel.
 *
 * Touches N committed pages once each (one 8-byte store per page), in
 * sequential and in random order (a fixed-seed permutation), with 1 and with
 * 2 threads (each thread takes half of the pages), on two back-ends measured
 * in the same process, interleaved:
 *
 *   kernel  mmap(MAP_PRIVATE | MAP_ANONYMOUS), munmap after;
 *   vmem    VirtualAlloc(NULL, size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE),
 *           VirtualFree(MEM_RELEASE) after.
 *
 * Every touch is timed on its own (rdtsc calibrated against CLOCK_MONOTONIC
 * on x86, clock_gettime elsewhere) into a preallocated, pre-touched array
 * from plain malloc.  A pass reports ns per page (wall time / total pages,
 * per-touch timing included) and the p50 and p99 of per-touch latency.
 * Each case is warmed up once per back-end, then measured R times; the
 * program prints the medians over the repetitions and the libvmem/kernel
 * ratios, a labelled table row per case; with -k, for scripts, one
 * machine-readable RESULT line per case (minima too) and a REP line per pass.
 *
 * After every pass the data is checked (untimed): the written word must be
 * there and the rest of the page zero (the whole page on warm-up passes,
 * the first and last words otherwise).  A mismatch is reported and the
 * program exits 3.
 *
 * libvmem reads VMEM_FAULT_MODE, VMEM_ZERO_CLUSTER and VMEM_FAULT_SPIN_US
 * from the environment when first used; bench/run_demand_zero.sh runs this
 * program once per configuration.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "stats.h"

#include <memoryapi.h>
#include <vmem.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#endif

#define PAGE 4096u
#define DEFAULT_PAGES 65536u
#define DEFAULT_REPS 5u
#define MAX_PAGES (1u << 22)   /* 16 GiB */
#define MAX_REPS 1000u
#define PERM_SEED UINT64_C(0x5eedf00dcafe1234)

enum backend { BK_KERNEL = 0, BK_VMEM = 1 };
static const char *const backend_name[] = { "kernel", "vmem" };

/* ---- clocks ----------------------------------------------------------- */

static double ticks_per_ns = 1.0;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A timestamp no later instruction starts before. */
static inline uint64_t tick_begin(void)
{
#if HAVE_TSC
    _mm_lfence();
    uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
#else
    return mono_ns();
#endif
}

/* A timestamp taken after every earlier instruction (the store, and the
 * fault it took) has completed. */
static inline uint64_t tick_end(void)
{
#if HAVE_TSC
    unsigned aux;
    uint64_t t = __rdtscp(&aux);
    _mm_lfence();
    return t;
#else
    return mono_ns();
#endif
}

static void calibrate_ticks(void)
{
#if HAVE_TSC
    uint64_t n0 = mono_ns(), t0 = tick_begin();
    while (mono_ns() - n0 < 50000000u) /* 50 ms */
        ;
    uint64_t n1 = mono_ns(), t1 = tick_end();
    ticks_per_ns = (double)(t1 - t0) / (double)(n1 - n0);
#endif
}

static double ticks_to_ns(double ticks) { return ticks / ticks_per_ns; }

/* ---- small helpers ------------------------------------------------------ */

static void die(const char *what)
{
    fprintf(stderr, "bench_demand_zero: %s: %s\n", what, strerror(errno));
    exit(1);
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Where in page i the word goes, and what it holds (never zero). */
static inline size_t word_off(size_t i) { return ((i * 7u) & 511u) * 8u; }
static inline uint64_t word_val(size_t i)
{
    return ((uint64_t)i * UINT64_C(0x9e3779b97f4a7c15)) | 1u;
}

/* ---- the touch loop ------------------------------------------------------ */

struct worker {
    pthread_t tid;
    pthread_barrier_t *bar;
    char *base;
    const uint32_t *order; /* page order, NULL: sequential */
    size_t first, count;   /* this worker's slice of the order */
    uint32_t *lat;         /* count latencies, in ticks */
    uint64_t t_start, t_end;
};

static void touch_slice(struct worker *w)
{
    char *const base = w->base;
    const uint32_t *const order = w->order;
    uint32_t *const lat = w->lat;
    const size_t first = w->first, count = w->count;

    w->t_start = tick_begin();
    for (size_t k = 0; k < count; k++) {
        size_t i = order ? order[first + k] : first + k;
        volatile uint64_t *p =
            (volatile uint64_t *)(base + i * (size_t)PAGE + word_off(i));
        uint64_t v = word_val(i);
        uint64_t t0 = tick_begin();
        *p = v;
        uint64_t t1 = tick_end();
        uint64_t d = t1 - t0;
        lat[k] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
    }
    w->t_end = tick_end();
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    pthread_barrier_wait(w->bar);
    touch_slice(w);
    return NULL;
}

/* ---- a pass ---------------------------------------------------------------- */

struct opts {
    size_t pages;
    unsigned reps;
    int do_seq, do_rand;
    int do_t1, do_t2;
    int raw; /* -k: REP and RESULT key=value lines, for scripts */
};

struct pass_result {
    double ns_per_page;
    double p50_ns, p99_ns, max_ns;
    double fault_mean_ns;         /* see run_pass */
    uint64_t dz_faults, dz_pages; /* libvmem counters, vmem back-end only */
    long minflt;                  /* getrusage delta, whole process */
};

static char *alloc_region(enum backend bk, size_t bytes)
{
    if (bk == BK_KERNEL) {
        void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            die("mmap");
        return p;
    }
    void *p = VirtualAlloc(NULL, bytes, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (!p) {
        fprintf(stderr, "bench_demand_zero: VirtualAlloc(%zu bytes) failed, "
                "GetLastError() = %lu\n", bytes, (unsigned long)GetLastError());
        exit(1);
    }
    return p;
}

static void free_region(enum backend bk, char *p, size_t bytes)
{
    if (bk == BK_KERNEL) {
        if (munmap(p, bytes) != 0)
            die("munmap");
        return;
    }
    if (!VirtualFree(p, 0, MEM_RELEASE)) {
        fprintf(stderr, "bench_demand_zero: VirtualFree(%p, 0, MEM_RELEASE) "
                "failed, GetLastError() = %lu\n", (void *)p,
                (unsigned long)GetLastError());
        exit(1);
    }
}

/* Checks every page: the written word, and zeros elsewhere (every word when
 * `full`, else the first and last words). */
static void verify(enum backend bk, const char *base, size_t pages, int full,
                   const char *pattern, unsigned threads)
{
    for (size_t i = 0; i < pages; i++) {
        const uint64_t *pg = (const uint64_t *)(base + i * (size_t)PAGE);
        size_t wi = word_off(i) / 8;
        size_t bad = SIZE_MAX;
        if (pg[wi] != word_val(i)) {
            bad = wi;
        } else if (full) {
            for (size_t j = 0; j < PAGE / 8; j++)
                if (j != wi && pg[j] != 0) {
                    bad = j;
                    break;
                }
        } else {
            if (wi != 0 && pg[0] != 0)
                bad = 0;
            else if (wi != PAGE / 8 - 1 && pg[PAGE / 8 - 1] != 0)
                bad = PAGE / 8 - 1;
        }
        if (bad != SIZE_MAX) {
            fprintf(stdout, "ERROR wrong data: backend=%s pattern=%s threads=%u "
                    "page=%zu (addr %p) word=%zu expected=%#" PRIx64
                    " got=%#" PRIx64 "\n", backend_name[bk], pattern, threads,
                    i, (const void *)pg, bad, bad == wi ? word_val(i) : 0,
                    pg[bad]);
            fflush(stdout);
            exit(3);
        }
    }
}

static long minflt_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

static void run_pass(enum backend bk, const struct opts *o, const uint32_t *order,
                     const char *pattern, unsigned threads, uint32_t *lat,
                     int full_verify, struct pass_result *res)
{
    const size_t pages = o->pages, bytes = pages * (size_t)PAGE;
    char *base = alloc_region(bk, bytes);
    struct worker w[2];
    pthread_barrier_t bar;
    struct vmem_stats s0 = {0}, s1 = {0};

    if (threads < 1 || threads > 2) { /* the callers pass 1 or 2; said to the compiler too */
        errno = EINVAL;
        die("run_pass: 1 or 2 threads");
    }

    if (pthread_barrier_init(&bar, NULL, threads + 1) != 0)
        die("pthread_barrier_init");
    size_t half = pages / threads;
    for (unsigned t = 0; t < threads; t++) {
        w[t].bar = &bar;
        w[t].base = base;
        w[t].order = order;
        w[t].first = t * half;
        w[t].count = (t + 1 == threads) ? pages - t * half : half;
        w[t].lat = lat + w[t].first;
    }
    if (bk == BK_VMEM)
        vmem_get_stats(&s0);
    long f0 = minflt_now();
    for (unsigned t = 0; t < threads; t++) {
        int e = pthread_create(&w[t].tid, NULL, worker_main, &w[t]);
        if (e) {
            errno = e;
            die("pthread_create");
        }
    }
    pthread_barrier_wait(&bar);
    for (unsigned t = 0; t < threads; t++)
        pthread_join(w[t].tid, NULL);
    long f1 = minflt_now();
    if (bk == BK_VMEM)
        vmem_get_stats(&s1);
    pthread_barrier_destroy(&bar);

    uint64_t start = w[0].t_start, end = w[0].t_end;
    for (unsigned t = 1; t < threads; t++) {
        if (w[t].t_start < start)
            start = w[t].t_start;
        if (w[t].t_end > end)
            end = w[t].t_end;
    }

    verify(bk, base, pages, full_verify, pattern, threads);
    free_region(bk, base, bytes);

    stats_sort_u32(lat, pages);
    res->ns_per_page = ticks_to_ns((double)(end - start)) / (double)pages;
    res->p50_ns = ticks_to_ns(stats_percentile_u32(lat, pages, 0.50));
    res->p99_ns = ticks_to_ns(stats_percentile_u32(lat, pages, 0.99));
    res->max_ns = ticks_to_ns(lat[pages - 1]);
    res->dz_faults = s1.demand_zero_faults - s0.demand_zero_faults;
    res->dz_pages = s1.demand_zero_pages - s0.demand_zero_pages;
    /* Mean latency of the touches that took a fault: every touch on the
     * kernel back-end; on libvmem the slowest dz_faults touches (a fault
     * fills a cluster, the cluster's other touches are plain stores).
     * 0 when libvmem counted no faults (VMEM_FAULT_MODE=kernel). */
    size_t nf = bk == BK_KERNEL ? pages
              : res->dz_faults < pages ? (size_t)res->dz_faults : pages;
    res->fault_mean_ns = nf ? ticks_to_ns(stats_mean_u32(lat + pages - nf, nf)) : 0.0;
    res->minflt = f1 - f0;
}

/* ---- a case: one (pattern, threads), both back-ends ----------------------- */

static const char *mode_name(enum vmem_fault_mode m)
{
    switch (m) {
    case VMEM_FAULT_THREAD: return "thread";
    case VMEM_FAULT_SIGNAL: return "signal";
    case VMEM_FAULT_KERNEL: return "kernel";
    }
    return "unknown";
}

static void run_case(const struct opts *o, const struct vmem_config *cfg,
                     const uint32_t *order, const char *pattern,
                     unsigned threads, uint32_t *lat)
{
    const unsigned R = o->reps;
    double *m = calloc((size_t)8 * R, sizeof *m); /* [bk][ns,p50,p99,fault][rep] */
    if (!m)
        die("calloc");
#define M(bk, k) (m + ((size_t)(bk) * 4 + (k)) * R)
    struct pass_result r, last[2];

    /* Warm-up: one pass per back-end, fully verified, not recorded. */
    run_pass(BK_KERNEL, o, order, pattern, threads, lat, 1, &r);
    run_pass(BK_VMEM, o, order, pattern, threads, lat, 1, &r);

    for (unsigned rep = 0; rep < R; rep++) {
        for (unsigned k = 0; k < 2; k++) {
            /* Alternate which back-end goes first. */
            enum backend bk = (enum backend)((rep + k) & 1);
            run_pass(bk, o, order, pattern, threads, lat, 0, &r);
            M(bk, 0)[rep] = r.ns_per_page;
            M(bk, 1)[rep] = r.p50_ns;
            M(bk, 2)[rep] = r.p99_ns;
            M(bk, 3)[rep] = r.fault_mean_ns;
            last[bk] = r;
            if (!o->raw)
                continue;
            printf("REP pattern=%s threads=%u rep=%u backend=%s ns_per_page=%.1f "
                   "p50_us=%.3f p99_us=%.3f max_us=%.1f fault_mean_us=%.2f "
                   "minflt=%ld",
                   pattern, threads, rep, backend_name[bk], r.ns_per_page,
                   r.p50_ns / 1e3, r.p99_ns / 1e3, r.max_ns / 1e3,
                   r.fault_mean_ns / 1e3, r.minflt);
            if (bk == BK_VMEM)
                printf(" dz_faults=%" PRIu64 " dz_pages=%" PRIu64,
                       r.dz_faults, r.dz_pages);
            printf("\n");
        }
    }

    double mn[2][4], md[2][4];
    for (int bk = 0; bk < 2; bk++)
        for (int k = 0; k < 4; k++) {
            mn[bk][k] = stats_min(M(bk, k), R);
            md[bk][k] = stats_median(M(bk, k), R);
        }
#undef M
    free(m);

    if (!o->raw) {
        /* one labelled row per case; the header before the first */
        static int header;
        if (!header++)
            printf("\nmedians of %u repetitions; ratio = libvmem / kernel; p50, p99: "
                   "per-touch latency;\nfaults: demand-zero faults libvmem took in one "
                   "pass\n\n%-7s %7s %9s %9s %6s %9s %9s %9s %9s %9s\n"
                   "%-7s %7s %9s %9s %6s %9s %9s %9s %9s %9s\n",
                   R, "", "", "ns/page", "ns/page", "", "p50 us", "p50 us", "p99 us",
                   "p99 us", "libvmem", "pattern", "threads", "libvmem", "kernel", "ratio",
                   "libvmem", "kernel", "libvmem", "kernel", "faults");
        printf("%-7s %7u %9.0f %9.0f %6.2f %9.2f %9.2f %9.1f %9.1f %9" PRIu64 "\n",
               pattern, threads, md[BK_VMEM][0], md[BK_KERNEL][0],
               md[BK_VMEM][0] / md[BK_KERNEL][0], md[BK_VMEM][1] / 1e3,
               md[BK_KERNEL][1] / 1e3, md[BK_VMEM][2] / 1e3, md[BK_KERNEL][2] / 1e3,
               last[BK_VMEM].dz_faults);
        return;
    }
    printf("RESULT mode=%s cluster=%u spin_us=%u pattern=%s threads=%u "
           "pages=%zu reps=%u "
           "vmem_ns=%.1f vmem_ns_min=%.1f kern_ns=%.1f kern_ns_min=%.1f "
           "ratio=%.2f ratio_min=%.2f "
           "vmem_p50_us=%.3f kern_p50_us=%.3f p50_ratio=%.2f "
           "vmem_p99_us=%.3f kern_p99_us=%.3f p99_ratio=%.2f "
           "vmem_p50_us_min=%.3f kern_p50_us_min=%.3f "
           "vmem_p99_us_min=%.3f kern_p99_us_min=%.3f "
           "vmem_dz_faults=%" PRIu64 " vmem_dz_pages=%" PRIu64 " "
           "vmem_fault_us=%.2f kern_fault_us=%.2f\n",
           mode_name(cfg->fault_mode), cfg->zero_cluster, cfg->spin_us,
           pattern, threads, o->pages, R,
           md[BK_VMEM][0], mn[BK_VMEM][0], md[BK_KERNEL][0], mn[BK_KERNEL][0],
           md[BK_VMEM][0] / md[BK_KERNEL][0], mn[BK_VMEM][0] / mn[BK_KERNEL][0],
           md[BK_VMEM][1] / 1e3, md[BK_KERNEL][1] / 1e3,
           md[BK_VMEM][1] / md[BK_KERNEL][1],
           md[BK_VMEM][2] / 1e3, md[BK_KERNEL][2] / 1e3,
           md[BK_VMEM][2] / md[BK_KERNEL][2],
           mn[BK_VMEM][1] / 1e3, mn[BK_KERNEL][1] / 1e3,
           mn[BK_VMEM][2] / 1e3, mn[BK_KERNEL][2] / 1e3,
           last[BK_VMEM].dz_faults, last[BK_VMEM].dz_pages,
           md[BK_VMEM][3] / 1e3, md[BK_KERNEL][3] / 1e3);
}

/* ---- options ------------------------------------------------------------- */

static void usage(FILE *f, const char *argv0)
{
    fprintf(f,
        "usage: %s [-n PAGES] [-r REPS] [-p seq|rand|all] [-t 1|2|all] [-k] [-h]\n"
        "\n"
        "Times demand-zero page faults: each of PAGES committed pages is\n"
        "touched once (one 8-byte store), on kernel anonymous memory (mmap)\n"
        "and on libvmem memory (VirtualAlloc), interleaved.\n"
        "\n"
        "  -n PAGES  pages per pass, 2..%u (default %u = 256 MiB)\n"
        "  -r REPS   measured repetitions per case, 1..%u (default %u);\n"
        "            each case is warmed up once per back-end first\n"
        "  -p WHICH  access pattern: seq, rand (fixed-seed permutation), or\n"
        "            all (default)\n"
        "  -t WHICH  threads: 1, 2 (each takes half of the pages), or all\n"
        "            (default)\n"
        "  -k        key=value lines for scripts (bench/run_demand_zero.sh,\n"
        "            bench/ab.sh) instead of the table\n"
        "  -h        print this help and exit\n"
        "\n"
        "libvmem's configuration comes from the environment: VMEM_FAULT_MODE\n"
        "(thread|signal|kernel), VMEM_ZERO_CLUSTER (1..512),\n"
        "VMEM_FAULT_SPIN_US.  Prints a table, one row per (pattern, threads)\n"
        "case; with -k one REP line per pass and one RESULT line per case.\n"
        "Exits 2 on bad usage, 3 on wrong data.\n",
        argv0, MAX_PAGES, DEFAULT_PAGES, MAX_REPS, DEFAULT_REPS);
}

static void bad_usage(const char *argv0, const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", argv0);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    fprintf(stderr, "usage: %s [-n PAGES] [-r REPS] [-p seq|rand|all] "
            "[-t 1|2|all] [-k] [-h]  (-h for help)\n", argv0);
    exit(2);
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
    const char *argv0 = argv[0];
    uint64_t v;
    int c;

    o->pages = DEFAULT_PAGES;
    o->reps = DEFAULT_REPS;
    o->do_seq = o->do_rand = 1;
    o->do_t1 = o->do_t2 = 1;
    o->raw = 0;
    opterr = 0;
    /* The leading '+' stops at the first non-option (no GNU permuting);
     * ':' reports a missing argument apart from an unknown option. */
    while ((c = getopt(argc, argv, "+:n:r:p:t:kh")) != -1) {
        switch (c) {
        case 'n':
            if (vmem_parse_uint(optarg, 2, MAX_PAGES, &v))
                bad_usage(argv0, "bad page count for -n: '%s'", optarg);
            o->pages = v;
            break;
        case 'r':
            if (vmem_parse_uint(optarg, 1, MAX_REPS, &v))
                bad_usage(argv0, "bad repetition count for -r: '%s'", optarg);
            o->reps = (unsigned)v;
            break;
        case 'p':
            if (!strcmp(optarg, "seq"))
                o->do_seq = 1, o->do_rand = 0;
            else if (!strcmp(optarg, "rand"))
                o->do_seq = 0, o->do_rand = 1;
            else if (!strcmp(optarg, "all"))
                o->do_seq = o->do_rand = 1;
            else
                bad_usage(argv0, "bad pattern for -p: '%s'", optarg);
            break;
        case 't':
            if (!strcmp(optarg, "1"))
                o->do_t1 = 1, o->do_t2 = 0;
            else if (!strcmp(optarg, "2"))
                o->do_t1 = 0, o->do_t2 = 1;
            else if (!strcmp(optarg, "all"))
                o->do_t1 = o->do_t2 = 1;
            else
                bad_usage(argv0, "bad thread choice for -t: '%s'", optarg);
            break;
        case 'k':
            o->raw = 1;
            break;
        case 'h':
            usage(stdout, argv0);
            exit(0);
        case ':': {
            char opt[3] = { '-', (char)optopt, 0 };
            bad_usage(argv0, "option %s needs an argument", opt);
            break;
        }
        default: {
            char opt[3] = { '-', (char)optopt, 0 };
            bad_usage(argv0, "unknown option '%s'", opt);
            break;
        }
        }
    }
    if (optind < argc)
        bad_usage(argv0, "unexpected argument '%s'", argv[optind]);
}

/* ---- main ------------------------------------------------------------------ */

static void print_thp(void)
{
    char buf[128] = "unknown";
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (f) {
        if (!fgets(buf, sizeof buf, f))
            strcpy(buf, "unknown");
        fclose(f);
        buf[strcspn(buf, "\n")] = 0;
    }
    printf("# transparent_hugepage: %s\n", buf);
}

static uint64_t overhead_ticks(void)
{
    enum { N = 10001 };
    static uint32_t d[N];
    for (int i = 0; i < N; i++) {
        uint64_t t0 = tick_begin();
        uint64_t t1 = tick_end();
        d[i] = (uint32_t)(t1 - t0);
    }
    stats_sort_u32(d, N);
    return stats_percentile_u32(d, N, 0.5);
}

int main(int argc, char **argv)
{
    struct opts o;
    parse_opts(argc, argv, &o);
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* Report a malformed VMEM_* variable plainly rather than letting the
     * first VirtualAlloc fail. */
    struct vmem_config cfg;
    char err[256] = "";
    if (vmem_config_from_env(&cfg, err, sizeof err) != 0) {
        fprintf(stderr, "bench_demand_zero: bad libvmem configuration: %s\n", err);
        return 1;
    }
    int e = vmem_get_config(&cfg); /* starts the runtime */
    if (e) {
        fprintf(stderr, "bench_demand_zero: vmem_get_config: %s\n", strerror(e));
        return 1;
    }
    const char *want = getenv("VMEM_FAULT_MODE");
    if (want && *want && strcmp(want, mode_name(cfg.fault_mode)) != 0)
        printf("# WARNING: VMEM_FAULT_MODE=%s requested, libvmem runs in %s mode\n",
               want, mode_name(cfg.fault_mode));

    calibrate_ticks();
    printf("# bench_demand_zero: pages=%zu (%zu MiB) reps=%u\n", o.pages,
           o.pages * PAGE >> 20, o.reps);
    printf("# libvmem: mode=%s cluster=%u spin_us=%u\n",
           mode_name(cfg.fault_mode), cfg.zero_cluster, cfg.spin_us);
#if HAVE_TSC
    printf("# clock: rdtsc at %.3f GHz (calibrated against CLOCK_MONOTONIC)",
           ticks_per_ns);
#else
    printf("# clock: CLOCK_MONOTONIC");
#endif
    printf(", per-touch timing overhead %.0f ns (median)\n",
           ticks_to_ns((double)overhead_ticks()));
    print_thp();

    /* Latencies and the permutation: plain malloc, touched before use. */
    uint32_t *lat = malloc(o.pages * sizeof *lat);
    uint32_t *perm = malloc(o.pages * sizeof *perm);
    if (!lat || !perm)
        die("malloc");
    memset(lat, 0, o.pages * sizeof *lat);
    for (size_t i = 0; i < o.pages; i++)
        perm[i] = (uint32_t)i;
    uint64_t seed = PERM_SEED;
    for (size_t i = o.pages - 1; i > 0; i--) {
        size_t j = (size_t)(splitmix64(&seed) % (i + 1));
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }

    for (int pi = 0; pi < 2; pi++) {
        if (pi == 0 ? !o.do_seq : !o.do_rand)
            continue;
        for (unsigned threads = 1; threads <= 2; threads++) {
            if (threads == 1 ? !o.do_t1 : !o.do_t2)
                continue;
            run_case(&o, &cfg, pi == 0 ? NULL : perm, pi == 0 ? "seq" : "rand",
                     threads, lat);
        }
    }

    free(perm);
    free(lat);
    return 0;
}
