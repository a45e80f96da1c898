/*
 * bench_paging.c -- a paging workload: a footprint larger than the memory it
 * may keep resident, touched page by page, every byte verified.
 *
 *   bench_paging [-b kernel|vmem] [-s SIZE] [-w seq|randread|randwrite|zipf]
 *                [-o OPS] [-t THREADS] [-z SKEW] [-x SEED] [-h]
 *
 * Back-ends:
 *   kernel  mmap(MAP_PRIVATE | MAP_ANONYMOUS) (MADV_NOHUGEPAGE): the kernel's
 *           own paging.  Cap it from outside (a memory cgroup with swap);
 *   vmem    VirtualAlloc(NULL, SIZE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE):
 *           libvmem, capped by its own VMEM_MAX_RESIDENT / VMEM_PAGEFILE /
 *           VMEM_CLUSTER (read by libvmem from the environment).
 *
 * Every page holds a checksummed pattern: word 0 the page index, word 1 a
 * generation number (1 after populate, +1 on each write), words 2..510 a
 * pattern derived from both, word 511 a checksum of words 0..510.  A read
 * touch recomputes the checksum and checks index and generation against the
 * program's own record (a plain malloc array, outside the measured memory).
 *
 * Phases:
 *   populate  every page written once (generation 1), timed on its own;
 *   workload  timed per page touch (CLOCK_MONOTONIC around each touch, into a
 *             preallocated, pre-touched malloc array):
 *               seq        every page read in order, 2 passes (ops = 2 x pages)
 *               randread   uniform random page reads (verified)
 *               randwrite  uniform random page writes: the old index and
 *                          generation are checked, then the whole page is
 *                          rewritten with the next generation
 *               zipf       zipf(SKEW)-distributed pages (rank -> page through a
 *                          fixed random permutation, so hot pages are scattered),
 *                          80% reads (verified) / 20% writes
 *             OPS (default 2 x pages) touches for the random workloads;
 *   verify    every page read and verified once more, timed on its own.
 *
 * Threads: populate, seq and verify give each thread a contiguous 1/THREADS
 * of the pages; the random workloads give thread t the pages p with
 * p % THREADS == t (so two threads never touch the same page) and an equal
 * share of the ops.
 *
 * A sampler thread reads /proc/self/statm (resident) every 10 ms and, with
 * -b vmem, vmem_get_stats().working_set, and keeps the maximum of each over
 * the whole run.
 *
 * Output: '#' comment lines, then one line
 *   RESULT backend= workload= size= pages= threads= ops= secs= pages_per_sec=
 *          p50_us= p99_us= max_us= errors= populate_secs= verify_secs=
 *          majflt= minflt= rss_max_mib= [ws_max_pages= and libvmem counters]
 *          release_secs=
 * majflt/minflt: the process's major/minor faults during the workload phase
 * (getrusage).  With -b vmem: hard_faults, transition_faults, pages_read,
 * pages_written, read_ios, write_ios are workload-phase deltas of libvmem's
 * counters; total_pages_read, total_pages_written, total_read_ios,
 * total_write_ios cover the whole run; peak_working_set is libvmem's own peak
 * (pages); max_resident_pages is VMEM_MAX_RESIDENT in pages as this program
 * reads it (0 if unset), for the caller to compare against the peak;
 * ws_max_pages is the sampled maximum of working_set, resident_max_pages that
 * of working_set + standby_pages.  Counters that arrive with paging are
 * printed when <vmem.h> has them (bench/meson.build checks each member):
 * standby_pages (added into resident_max_pages), prefetched_pages (workload
 * delta), peak_pagefile_pages, cap_pages.
 *
 * Exit status: 0 ok, 1 set-up failure, 2 bad usage, 3 a page failed
 * verification (each failure prints "ERROR page N ...", the first 20 of them).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
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

#define PAGE 4096u
#define WORDS (PAGE / 8u)
#define MAX_THREADS 8u
#define MAX_SIZE (UINT64_C(1) << 40)       /* 1 TiB */
#define MAX_OPS (UINT64_C(1) << 30)
#define DEFAULT_SEED UINT64_C(0x5eedf00dcafe1234)
#define MAX_ERROR_LINES 20
#define SAMPLE_NS 10000000ull              /* 10 ms */

enum backend { BK_KERNEL, BK_VMEM };
enum workload { WL_SEQ, WL_RANDREAD, WL_RANDWRITE, WL_ZIPF };
static const char *const backend_name[] = { "kernel", "vmem" };
static const char *const workload_name[] = { "seq", "randread", "randwrite", "zipf" };

struct opts {
    enum backend backend;
    enum workload workload;
    uint64_t size;
    uint64_t ops;        /* 0: default */
    unsigned threads;
    double skew;
    uint64_t seed;
};

/* ---- state shared by the threads ---------------------------------------- */

static unsigned char *mem;         /* the measured memory */
static uint64_t npages;
static uint32_t *gen;              /* expected generation per page */
static uint32_t *perm;             /* zipf rank -> page */
static uint32_t *lat_ns;           /* one per workload touch */
static struct opts opt;
static atomic_uint_fast64_t nerrors;

static void die(const char *what)
{
    fprintf(stderr, "bench_paging: %s: %s\n", what, strerror(errno));
    exit(1);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- random numbers ------------------------------------------------------ */

static inline uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

struct rng { uint64_t s[4]; };

static void rng_seed(struct rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoshiro256** */
static inline uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = rotl(s[3], 45);
    return res;
}

/* Uniform in [0, n) (Lemire's multiply-shift; the bias is < n / 2^64). */
static inline uint64_t rng_below(struct rng *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

/* Uniform in (0, 1). */
static inline double rng_unit(struct rng *r)
{
    return ((double)(rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* ---- zipf: rejection-inversion (Hormann & Derflinger 1996), O(1) memory,
 * one log and one exp per sample.  Returns ranks 1..n, P(k) ~ k^-s. ------- */

struct zipf { double n, s, hx1, hn, sq; };

static double zh_helper1(double x) /* log1p(x) / x */
{
    return fabs(x) > 1e-8 ? log1p(x) / x : 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}

static double zh_helper2(double x) /* expm1(x) / x */
{
    return fabs(x) > 1e-8 ? expm1(x) / x : 1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + 0.25 * x));
}

static double zh(const struct zipf *z, double x) { return exp(-z->s * log(x)); }

static double zh_integral(const struct zipf *z, double x)
{
    double lx = log(x);
    return zh_helper2((1.0 - z->s) * lx) * lx;
}

static double zh_integral_inv(const struct zipf *z, double x)
{
    double t = x * (1.0 - z->s);
    if (t < -1.0)
        t = -1.0;
    return exp(zh_helper1(t) * x);
}

static void zipf_init(struct zipf *z, uint64_t n, double s)
{
    z->n = (double)n;
    z->s = s;
    z->hx1 = zh_integral(z, 1.5) - 1.0;
    z->hn = zh_integral(z, z->n + 0.5);
    z->sq = 2.0 - zh_integral_inv(z, zh_integral(z, 2.5) - zh(z, 2.0));
}

static uint64_t zipf_next(const struct zipf *z, struct rng *r)
{
    for (;;) {
        double u = z->hn + rng_unit(r) * (z->hx1 - z->hn);
        double x = zh_integral_inv(z, u);
        double k = floor(x + 0.5);
        if (k < 1.0)
            k = 1.0;
        else if (k > z->n)
            k = z->n;
        if (k - x <= z->sq || u >= zh_integral(z, k + 0.5) - zh(z, k))
            return (uint64_t)k;
    }
}

/* ---- the page pattern ----------------------------------------------------- */

static inline uint64_t pattern_base(uint64_t page, uint64_t g)
{
    uint64_t s = page * UINT64_C(0x100000001b3) ^ (g << 40) ^ g;
    return splitmix64(&s);
}

/* The checksum covers words 0..510: pairs (0,1)..(508,509) and word 510. */
static inline uint64_t checksum_of(const volatile uint64_t *w)
{
    uint64_t a = UINT64_C(0x243f6a8885a308d3), b = UINT64_C(0x13198a2e03707344);
    for (unsigned i = 0; i < WORDS - 2; i += 2) {
        a = (a ^ w[i]) * UINT64_C(0x9e3779b97f4a7c15);
        b = (b ^ w[i + 1]) * UINT64_C(0xc2b2ae3d27d4eb4f);
    }
    a ^= w[WORDS - 2];
    return (a ^ rotl(b, 31)) * UINT64_C(0x94d049bb133111eb) ^ (a >> 29);
}

static inline void page_write(uint64_t p, uint64_t g)
{
    uint64_t *w = (uint64_t *)(mem + p * PAGE);
    uint64_t base = pattern_base(p, g);
    w[0] = p;
    w[1] = g;
    for (unsigned i = 2; i < WORDS - 1; i++)
        w[i] = base + i * UINT64_C(0x9e3779b97f4a7c15);
    w[WORDS - 1] = checksum_of(w);
}

static void report_error(uint64_t p, const char *what, uint64_t got, uint64_t want)
{
    uint64_t n = atomic_fetch_add(&nerrors, 1);
    if (n < MAX_ERROR_LINES)
        printf("ERROR page %" PRIu64 " %s: got %#" PRIx64 " expected %#" PRIx64 "\n",
               p, what, got, want);
    else if (n == MAX_ERROR_LINES)
        printf("ERROR (further errors not printed)\n");
}

/* Full verification: index, generation, checksum, and the pattern. */
static inline int page_verify(uint64_t p, uint64_t g)
{
    const volatile uint64_t *w = (const volatile uint64_t *)(mem + p * PAGE);
    if (w[0] != p) {
        report_error(p, "index word", w[0], p);
        return 1;
    }
    if (w[1] != g) {
        report_error(p, "generation", w[1], g);
        return 1;
    }
    uint64_t c = checksum_of(w);
    if (w[WORDS - 1] != c) {
        report_error(p, "checksum", w[WORDS - 1], c);
        return 1;
    }
    uint64_t base = pattern_base(p, g);
    if (w[2] != base + 2 * UINT64_C(0x9e3779b97f4a7c15)) {
        report_error(p, "pattern word 2", w[2], base + 2 * UINT64_C(0x9e3779b97f4a7c15));
        return 1;
    }
    return 0;
}

/* Write touch: the old index and generation are checked, then the page is
 * rewritten with the next generation. */
static inline void page_update(uint64_t p)
{
    const volatile uint64_t *w = (const volatile uint64_t *)(mem + p * PAGE);
    uint64_t g = gen[p];
    if (w[0] != p)
        report_error(p, "index word (before write)", w[0], p);
    else if (w[1] != g)
        report_error(p, "generation (before write)", w[1], g);
    gen[p] = (uint32_t)(g + 1);
    page_write(p, g + 1);
}

/* ---- the sampler ------------------------------------------------------------ */

static atomic_int sampler_stop;
static uint64_t rss_max_pages, ws_max_pages, resident_max_pages;

static uint64_t read_rss_pages(void)
{
    static int fd = -2;
    char buf[128];
    if (fd == -2) {
        FILE *f = fopen("/proc/self/statm", "r");
        if (!f)
            return 0;
        fd = dup(fileno(f));
        fclose(f);
    }
    if (fd < 0)
        return 0;
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    unsigned long long size, res;
    if (sscanf(buf, "%llu %llu", &size, &res) != 2)
        return 0;
    return res;
}

static void sample_once(void)
{
    uint64_t r = read_rss_pages();
    if (r > rss_max_pages)
        rss_max_pages = r;
    if (opt.backend == BK_VMEM) {
        struct vmem_stats st;
        if (vmem_get_stats(&st) == 0) {
            uint64_t res = st.working_set;
#ifdef HAVE_VMEM_STATS_STANDBY_PAGES
            res += st.standby_pages;
#endif
            if (st.working_set > ws_max_pages)
                ws_max_pages = st.working_set;
            if (res > resident_max_pages)
                resident_max_pages = res;
        }
    }
}

static void *sampler_main(void *arg)
{
    (void)arg;
    uint64_t next = mono_ns();
    while (!atomic_load(&sampler_stop)) {
        sample_once();
        next += SAMPLE_NS;
        struct timespec ts = { (time_t)(next / 1000000000u), (long)(next % 1000000000u) };
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
    }
    sample_once();
    return NULL;
}

/* ---- phases ----------------------------------------------------------------- */

enum phase { PH_POPULATE, PH_WORKLOAD, PH_VERIFY };

struct worker {
    pthread_t tid;
    unsigned idx;
    enum phase phase;
    uint64_t ops;         /* this thread's workload touches */
    uint32_t *lat;        /* its slice of lat_ns */
};

static void range_of(unsigned t, uint64_t *lo, uint64_t *hi)
{
    *lo = npages * t / opt.threads;
    *hi = npages * (t + 1) / opt.threads;
}

static inline uint32_t clamp_ns(uint64_t d) { return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d; }

static void run_workload(struct worker *w)
{
    unsigned T = opt.threads, t = w->idx;
    uint32_t *lat = w->lat;
    if (opt.workload == WL_SEQ) {
        uint64_t lo, hi, k = 0;
        range_of(t, &lo, &hi);
        for (int pass = 0; pass < 2; pass++)
            for (uint64_t p = lo; p < hi; p++) {
                uint64_t g = gen[p];
                uint64_t t0 = mono_ns();
                page_verify(p, g);
                lat[k++] = clamp_ns(mono_ns() - t0);
            }
        return;
    }
    /* Thread t owns the pages p with p % T == t: n_own of them. */
    uint64_t n_own = (npages - t + T - 1) / T;
    struct rng r;
    rng_seed(&r, opt.seed ^ (UINT64_C(0x51ed270b27e6a3c5) * (t + 1)));
    struct zipf z = { 0 };
    if (opt.workload == WL_ZIPF)
        zipf_init(&z, npages / T, opt.skew);
    for (uint64_t k = 0; k < w->ops; k++) {
        uint64_t p;
        int write;
        switch (opt.workload) {
        case WL_RANDREAD:
            p = rng_below(&r, n_own) * T + t;
            write = 0;
            break;
        case WL_RANDWRITE:
            p = rng_below(&r, n_own) * T + t;
            write = 1;
            break;
        default: { /* zipf: rank -> a scattered page this thread owns */
            uint64_t rank = zipf_next(&z, &r) - 1;
            p = (uint64_t)perm[rank] * T + t;
            write = rng_below(&r, 10) < 2;
            break;
        }
        }
        if (write) {
            uint64_t t0 = mono_ns();
            page_update(p);
            lat[k] = clamp_ns(mono_ns() - t0);
        } else {
            uint64_t g = gen[p];
            uint64_t t0 = mono_ns();
            page_verify(p, g);
            lat[k] = clamp_ns(mono_ns() - t0);
        }
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    uint64_t lo, hi;
    switch (w->phase) {
    case PH_POPULATE:
        range_of(w->idx, &lo, &hi);
        for (uint64_t p = lo; p < hi; p++) {
            gen[p] = 1;
            page_write(p, 1);
        }
        break;
    case PH_WORKLOAD:
        run_workload(w);
        break;
    case PH_VERIFY:
        range_of(w->idx, &lo, &hi);
        for (uint64_t p = lo; p < hi; p++)
            page_verify(p, gen[p]);
        break;
    }
    return NULL;
}

/* Runs a phase on opt.threads threads; returns its wall time in seconds. */
static double run_phase(struct worker *ws, enum phase ph)
{
    uint64_t t0 = mono_ns();
    for (unsigned i = 0; i < opt.threads; i++) {
        ws[i].phase = ph;
        int e = pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]);
        if (e) {
            errno = e;
            die("pthread_create");
        }
    }
    for (unsigned i = 0; i < opt.threads; i++)
        pthread_join(ws[i].tid, NULL);
    return (double)(mono_ns() - t0) / 1e9;
}

/* ---- options ------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: bench_paging [-b kernel|vmem] [-s SIZE] [-w seq|randread|randwrite|zipf]\n"
        "                    [-o OPS] [-t THREADS] [-z SKEW] [-x SEED] [-h]\n"
        "  -b  back-end: kernel (mmap anonymous memory) or vmem (VirtualAlloc); default kernel\n"
        "  -s  footprint, bytes with an optional K, M, G or T suffix, a multiple of 4 KiB;\n"
        "      default 1G\n"
        "  -w  workload: seq (2 verified passes in order), randread, randwrite, zipf\n"
        "      (80%% reads, 20%% writes); default seq\n"
        "  -o  page touches for the random workloads (default 2 x pages; not with seq)\n"
        "  -t  threads, 1..%u (default 1); each takes an equal share of pages and ops\n"
        "  -z  zipf skew, > 0 and <= 10 (default 0.99; zipf only)\n"
        "  -x  random seed, an unsigned decimal integer\n"
        "Prints '#' comment lines and one RESULT line; exit 0 ok, 1 set-up failure,\n"
        "2 bad usage, 3 verification failure (ERROR lines).  With -b vmem libvmem reads\n"
        "its options (VMEM_MAX_RESIDENT, VMEM_PAGEFILE, VMEM_CLUSTER, ...) from the\n"
        "environment.\n", MAX_THREADS);
}

static void bad_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "bench_paging: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    usage(stderr);
    exit(2);
}

static void parse_opts(int argc, char **argv)
{
    opt.backend = BK_KERNEL;
    opt.workload = WL_SEQ;
    opt.size = UINT64_C(1) << 30;
    opt.ops = 0;
    opt.threads = 1;
    opt.skew = 0.99;
    opt.seed = DEFAULT_SEED;
    int have_ops = 0, have_skew = 0, c;
    uint64_t v;
    opterr = 0;
    while ((c = getopt(argc, argv, "+:b:s:w:o:t:z:x:h")) != -1) {
        switch (c) {
        case 'b':
            if (!strcmp(optarg, "kernel")) opt.backend = BK_KERNEL;
            else if (!strcmp(optarg, "vmem")) opt.backend = BK_VMEM;
            else bad_usage("-b: expected kernel or vmem, not '%s'", optarg);
            break;
        case 's':
            if (vmem_parse_size(optarg, &v) || v == 0 || v % PAGE || v > MAX_SIZE)
                bad_usage("-s: expected a size (K/M/G/T suffix) that is a non-zero multiple "
                          "of 4096 up to 1T, not '%s'", optarg);
            opt.size = v;
            break;
        case 'w':
            if (!strcmp(optarg, "seq")) opt.workload = WL_SEQ;
            else if (!strcmp(optarg, "randread")) opt.workload = WL_RANDREAD;
            else if (!strcmp(optarg, "randwrite")) opt.workload = WL_RANDWRITE;
            else if (!strcmp(optarg, "zipf")) opt.workload = WL_ZIPF;
            else bad_usage("-w: expected seq, randread, randwrite or zipf, not '%s'", optarg);
            break;
        case 'o':
            if (vmem_parse_uint(optarg, 1, MAX_OPS, &v))
                bad_usage("-o: expected a touch count from 1 to 2^30, not '%s'", optarg);
            opt.ops = v;
            have_ops = 1;
            break;
        case 't':
            if (vmem_parse_uint(optarg, 1, MAX_THREADS, &v))
                bad_usage("-t: expected a thread count from 1 to 8, not '%s'", optarg);
            opt.threads = (unsigned)v;
            break;
        case 'z': {
            char *end;
            errno = 0;
            double d = strtod(optarg, &end);
            if (errno || *end || end == optarg || !(d > 0.0 && d <= 10.0))
                bad_usage("-z: expected a skew > 0 and <= 10, not '%s'", optarg);
            opt.skew = d;
            have_skew = 1;
            break;
        }
        case 'x':
            if (vmem_parse_uint(optarg, 0, UINT64_MAX, &v))
                bad_usage("-x: expected an unsigned integer, not '%s'", optarg);
            opt.seed = v;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case ':': {
            char o[3] = { '-', (char)optopt, 0 };
            bad_usage("option %s needs an argument", o);
            break;
        }
        default: {
            char o[3] = { '-', (char)optopt, 0 };
            bad_usage("unknown option %s", o);
        }
        }
    }
    if (optind < argc)
        bad_usage("unexpected argument '%s'", argv[optind]);
    if (have_ops && opt.workload == WL_SEQ)
        bad_usage("%s", "-o applies to the random workloads only (seq is 2 passes)");
    if (have_skew && opt.workload != WL_ZIPF)
        bad_usage("%s", "-z applies to -w zipf only");
    if (opt.size / PAGE < opt.threads)
        bad_usage("%s", "-s: fewer pages than threads");
    if (opt.size / PAGE > UINT32_MAX)
        bad_usage("%s", "-s: too many pages");
}

/* VMEM_MAX_RESIDENT as this program reads it, in pages (0 if unset or not a
 * size): only reported, for the caller's check that libvmem kept to it. */
static uint64_t env_max_resident_pages(void)
{
    const char *s = getenv("VMEM_MAX_RESIDENT");
    uint64_t v;
    if (!s || vmem_parse_size(s, &v))
        return 0;
    return v / PAGE;
}

int main(int argc, char **argv)
{
    parse_opts(argc, argv);
    npages = opt.size / PAGE;
    uint64_t ops = opt.workload == WL_SEQ ? 2 * npages : (opt.ops ? opt.ops : 2 * npages);

    /* Bookkeeping from plain malloc, touched before anything is timed. */
    gen = malloc(npages * sizeof(*gen));
    lat_ns = malloc(ops * sizeof(*lat_ns));
    if (!gen || !lat_ns)
        die("malloc");
    memset(gen, 0, npages * sizeof(*gen));
    memset(lat_ns, 0, ops * sizeof(*lat_ns));
    if (opt.workload == WL_ZIPF) {
        /* One permutation of ranks for every thread: thread t's rank r goes
         * to page perm[r] * T + t.  Every thread draws from npages / T ranks
         * (the < T pages of a remainder are left out of zipf). */
        uint64_t n = npages / opt.threads;
        perm = malloc(n * sizeof(*perm));
        if (!perm)
            die("malloc");
        for (uint64_t i = 0; i < n; i++)
            perm[i] = (uint32_t)i;
        struct rng r;
        rng_seed(&r, opt.seed ^ UINT64_C(0x7065726d));
        for (uint64_t i = n - 1; i > 0; i--) {
            uint64_t j = rng_below(&r, i + 1);
            uint32_t x = perm[i];
            perm[i] = perm[j];
            perm[j] = x;
        }
    }

    printf("# bench_paging backend=%s workload=%s size=%" PRIu64 " pages=%" PRIu64
           " threads=%u ops=%" PRIu64 " seed=%#" PRIx64, backend_name[opt.backend],
           workload_name[opt.workload], opt.size, npages, opt.threads, ops, opt.seed);
    if (opt.workload == WL_ZIPF)
        printf(" skew=%g", opt.skew);
    printf("\n");
    if (opt.backend == BK_VMEM) {
        static const char *const vars[] = { "VMEM_MAX_RESIDENT", "VMEM_PAGEFILE", "VMEM_CLUSTER",
                                            "VMEM_FAULT_MODE", "VMEM_ZERO_CLUSTER",
                                            "VMEM_FAULT_THREADS", "VMEM_FAULT_SPIN_US" };
        printf("# env:");
        for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
            const char *v = getenv(vars[i]);
            if (v)
                printf(" %s=%s", vars[i], v);
        }
        printf("\n");
    }
    fflush(stdout);

    if (opt.backend == BK_KERNEL) {
        mem = mmap(NULL, opt.size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (mem == MAP_FAILED)
            die("mmap");
        madvise(mem, opt.size, MADV_NOHUGEPAGE);
    } else {
        mem = VirtualAlloc(NULL, opt.size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
        if (!mem) {
            fprintf(stderr, "bench_paging: VirtualAlloc(%" PRIu64 " bytes) failed: error %lu\n",
                    opt.size, (unsigned long)GetLastError());
            return 1;
        }
    }

    struct vmem_stats st0, st1, st2;
    memset(&st0, 0, sizeof(st0));
    st1 = st2 = st0;

    pthread_t sampler;
    int e = pthread_create(&sampler, NULL, sampler_main, NULL);
    if (e) {
        errno = e;
        die("pthread_create (sampler)");
    }

    struct worker ws[MAX_THREADS];
    memset(ws, 0, sizeof(ws));
    uint64_t off = 0;
    for (unsigned i = 0; i < opt.threads; i++) {
        ws[i].idx = i;
        ws[i].ops = ops * (i + 1) / opt.threads - ops * i / opt.threads;
        ws[i].lat = lat_ns + off;
        off += ws[i].ops;
    }

    double populate_secs = run_phase(ws, PH_POPULATE);
    if (opt.backend == BK_VMEM && vmem_get_stats(&st0))
        die("vmem_get_stats");
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    double secs = run_phase(ws, PH_WORKLOAD);
    getrusage(RUSAGE_SELF, &ru1);
    if (opt.backend == BK_VMEM && vmem_get_stats(&st1))
        die("vmem_get_stats");
    double verify_secs = run_phase(ws, PH_VERIFY);
    if (opt.backend == BK_VMEM && vmem_get_stats(&st2))
        die("vmem_get_stats");

    atomic_store(&sampler_stop, 1);
    pthread_join(sampler, NULL);

    stats_sort_u32(lat_ns, ops);
    double p50 = stats_percentile_u32(lat_ns, ops, 0.50) / 1e3;
    double p99 = stats_percentile_u32(lat_ns, ops, 0.99) / 1e3;
    double pmax = lat_ns[ops - 1] / 1e3;
    uint64_t errs = atomic_load(&nerrors);

    printf("RESULT backend=%s workload=%s size=%" PRIu64 " pages=%" PRIu64 " threads=%u"
           " ops=%" PRIu64 " secs=%.3f pages_per_sec=%.0f p50_us=%.2f p99_us=%.2f max_us=%.1f"
           " errors=%" PRIu64 " populate_secs=%.3f verify_secs=%.3f majflt=%ld minflt=%ld"
           " rss_max_mib=%.1f",
           backend_name[opt.backend], workload_name[opt.workload], opt.size, npages,
           opt.threads, ops, secs, (double)ops / secs, p50, p99, pmax, errs, populate_secs,
           verify_secs, ru1.ru_majflt - ru0.ru_majflt, ru1.ru_minflt - ru0.ru_minflt,
           (double)rss_max_pages * (double)sysconf(_SC_PAGESIZE) / 1048576.0);
    if (opt.backend == BK_VMEM) {
#define D(f) (unsigned long long)(st1.f - st0.f)
#define A(f) (unsigned long long)(st2.f)
        printf(" ws_max_pages=%" PRIu64 " hard_faults=%llu transition_faults=%llu"
               " pages_read=%llu pages_written=%llu read_ios=%llu write_ios=%llu"
               " peak_working_set=%llu total_pages_read=%llu total_pages_written=%llu"
               " total_read_ios=%llu total_write_ios=%llu demand_zero_faults=%llu"
               " max_resident_pages=%" PRIu64,
               ws_max_pages, D(hard_faults), D(transition_faults), D(pages_read),
               D(pages_written), D(read_ios), D(write_ios), A(peak_working_set),
               A(pages_read), A(pages_written), A(read_ios), A(write_ios),
               A(demand_zero_faults), env_max_resident_pages());
        printf(" resident_max_pages=%" PRIu64, resident_max_pages);
#ifdef HAVE_VMEM_STATS_PREFETCHED_PAGES
        printf(" prefetched_pages=%llu", D(prefetched_pages));
#endif
#ifdef HAVE_VMEM_STATS_PEAK_PAGEFILE_PAGES
        printf(" peak_pagefile_pages=%llu", A(peak_pagefile_pages));
#endif
#ifdef HAVE_VMEM_STATS_CAP_PAGES
        printf(" cap_pages=%llu", A(cap_pages));
#endif
#undef D
#undef A
    }
    fflush(stdout);

    /* Releasing the memory (and, with libvmem, its page-file slots) is
     * timed too: appended to the RESULT line. */
    uint64_t r0 = mono_ns();
    if (opt.backend == BK_KERNEL)
        munmap(mem, opt.size);
    else
        VirtualFree(mem, 0, MEM_RELEASE);
    printf(" release_secs=%.3f\n", (double)(mono_ns() - r0) / 1e9);
    fflush(stdout);
    free(lat_ns);
    free(gen);
    free(perm);
    return errs ? 3 : 0;
}
