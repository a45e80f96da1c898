/*
 * bench_contention.c -- many threads faulting at once: the address-space
 * lock's contention and the fault threads' wake-ups.
 *
 * N threads (default 1, 2, 4, 8, 16, 32) each fault a disjoint range of
 * pages, in one of two layouts:
 *
 *   own     each thread's range is a reservation of its own;
 *   shared  the ranges are slices of one reservation.
 *
 * and one of two workloads:
 *
 *   dz      demand-zero: one 8-byte store per page (the default
 *           VMEM_ZERO_CLUSTER then installs 16 pages per fault);
 *   paging  under a cap of a quarter of the footprint: every page written
 *           with a pattern, then read back twice and checked (transition
 *           and hard faults, the working-set manager trimming, the page
 *           writer writing), the threads racing the library's own.
 *
 * The total number of pages is fixed (-P, split among the threads), so a
 * row with more threads does the same work.  Each case runs in a forked
 * child with a fresh runtime (the cap is set in it); the figures are the
 * counters' differences over the timed phase (vmem_get_stats):
 *
 *   faults/s         demand-zero + transition + hard faults over wall time
 *   waits/fault      acquisitions of as_lock that found it taken
 *   wait ns/fault    time spent waiting for it
 *   excl             exclusive acquisitions, and their total hold time (ms)
 *   wake/event       fault-thread wake-ups per userfaultfd event (thread
 *                    mode); empty/event: of those, wake-ups that found no
 *                    event (another fault thread had taken it)
 *
 * A wrong byte is reported and the program exits 3.
 *
 *   bench_contention [-t 1,2,4,...] [-P pages] [-w dz|paging|both]
 *                    [-l own|shared|both]
 * VMEM_FAULT_MODE and the other options come from the environment.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <memoryapi.h>
#include <vmem.h>

#define PAGE 4096u
#define MAX_THREADS 64

struct worker {
    pthread_t tid;
    uint8_t *base;
    size_t pages;
    unsigned id;
    int paging;
    int bad;
};

static pthread_barrier_t start_line;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t word(unsigned id, size_t page)
{
    return ((uint64_t)id << 40) ^ (page * 0x9e3779b97f4a7c15u) ^ 1u;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    pthread_barrier_wait(&start_line);
    for (size_t p = 0; p < w->pages; p++)
        *(volatile uint64_t *)(w->base + p * PAGE + (p % 500) * 8) = word(w->id, p);
    if (!w->paging)
        return NULL;
    for (int pass = 0; pass < 2; pass++)
        for (size_t p = 0; p < w->pages; p++)
            if (*(volatile uint64_t *)(w->base + p * PAGE + (p % 500) * 8) != word(w->id, p))
                w->bad++;
    return NULL;
}

static void check_zero_rest(struct worker *w)
{
    /* untimed: the rest of each page is zero (first and last words) */
    for (size_t p = 0; p < w->pages; p++) {
        const uint64_t *pg = (const uint64_t *)(w->base + p * PAGE);
        if (*(volatile const uint64_t *)(w->base + p * PAGE + (p % 500) * 8) != word(w->id, p) ||
            ((p % 500) != 0 && pg[0]) || pg[511])
            w->bad++;
    }
}

/* One case in this (forked) process; prints one row.  0, or 3 on bad data. */
static int run_case(unsigned nthreads, size_t total, int paging, int shared)
{
    size_t per = total / nthreads;
    if (paging && vmem_set_max_resident((uint64_t)total * PAGE / 4) != 0) {
        fprintf(stderr, "bench_contention: cannot set the cap\n");
        return 1;
    }
    static struct worker w[MAX_THREADS];
    uint8_t *one = NULL;
    if (shared) {
        one = VirtualAlloc(NULL, per * nthreads * PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
        if (!one) {
            fprintf(stderr, "bench_contention: VirtualAlloc: error %lu\n",
                    (unsigned long)GetLastError());
            return 1;
        }
    }
    pthread_barrier_init(&start_line, NULL, nthreads + 1);
    for (unsigned i = 0; i < nthreads; i++) {
        w[i] = (struct worker){ .pages = per, .id = i + 1, .paging = paging };
        w[i].base = shared ? one + (size_t)i * per * PAGE
                           : VirtualAlloc(NULL, per * PAGE, MEM_RESERVE | MEM_COMMIT,
                                          PAGE_READWRITE);
        if (!w[i].base) {
            fprintf(stderr, "bench_contention: VirtualAlloc: error %lu\n",
                    (unsigned long)GetLastError());
            return 1;
        }
        if (pthread_create(&w[i].tid, NULL, work, &w[i])) {
            fprintf(stderr, "bench_contention: cannot start thread %u\n", i);
            return 1;
        }
    }
    struct vmem_stats a, b;
    vmem_get_stats(&a);
    pthread_barrier_wait(&start_line);
    uint64_t t0 = mono_ns();
    for (unsigned i = 0; i < nthreads; i++)
        pthread_join(w[i].tid, NULL);
    uint64_t t1 = mono_ns();
    vmem_get_stats(&b);
    int bad = 0;
    for (unsigned i = 0; i < nthreads; i++) {
        if (!paging)
            check_zero_rest(&w[i]);
        bad += w[i].bad;
    }
#define D(f) ((double)(b.f - a.f))
    double faults = D(demand_zero_faults) + D(transition_faults) + D(hard_faults);
    double f = faults ? faults : 1;
    double events = D(fault_thread_events) ? D(fault_thread_events) : 1;
    printf("%-6s %-6s %3u %12.0f %10.0f %9.4f %12.1f %8.0f %10.2f %9.3f %10.3f\n",
           paging ? "paging" : "dz", shared ? "shared" : "own", nthreads, faults,
           faults / ((double)(t1 - t0) / 1e9), D(as_lock_waits) / f, D(as_lock_wait_ns) / f,
           D(as_lock_exclusive), D(as_lock_exclusive_ns) / 1e6,
           D(fault_thread_wakeups) / events, D(fault_thread_empty_wakeups) / events);
#undef D
    fflush(stdout);
    if (bad) {
        fprintf(stderr, "bench_contention: %d wrong words\n", bad);
        return 3;
    }
    return 0;
}

static int parse_threads(const char *s, unsigned *out, unsigned max)
{
    unsigned n = 0;
    char *end;
    while (*s && n < max) {
        unsigned long v = strtoul(s, &end, 10);
        if (end == s || v == 0 || v > MAX_THREADS)
            return -1;
        out[n++] = (unsigned)v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return -1;
    }
    return (int)n;
}

int main(int argc, char **argv)
{
    unsigned threads[16] = { 1, 2, 4, 8, 16, 32 };
    int nt = 6, wl = 3, lay = 3;
    size_t total = 65536;
    int opt;
    while ((opt = getopt(argc, argv, "t:P:w:l:")) != -1) {
        switch (opt) {
        case 't':
            nt = parse_threads(optarg, threads, 16);
            if (nt <= 0) {
                fprintf(stderr, "bench_contention: -t: a list of thread counts 1..%d\n",
                        MAX_THREADS);
                return 2;
            }
            break;
        case 'P':
            total = strtoull(optarg, NULL, 10);
            if (total < 1024) {
                fprintf(stderr, "bench_contention: -P: at least 1024 pages\n");
                return 2;
            }
            break;
        case 'w':
            wl = !strcmp(optarg, "dz") ? 1 : !strcmp(optarg, "paging") ? 2
                 : !strcmp(optarg, "both") ? 3 : 0;
            if (!wl) {
                fprintf(stderr, "bench_contention: -w: dz, paging or both\n");
                return 2;
            }
            break;
        case 'l':
            lay = !strcmp(optarg, "own") ? 1 : !strcmp(optarg, "shared") ? 2
                  : !strcmp(optarg, "both") ? 3 : 0;
            if (!lay) {
                fprintf(stderr, "bench_contention: -l: own, shared or both\n");
                return 2;
            }
            break;
        default:
            fprintf(stderr, "usage: bench_contention [-t 1,2,4,...] [-P pages] "
                            "[-w dz|paging|both] [-l own|shared|both]\n");
            return 2;
        }
    }
    const char *mode = getenv("VMEM_FAULT_MODE");
    printf("# VMEM_FAULT_MODE=%s, %zu pages in all\n", mode ? mode : "(default)", total);
    printf("%-6s %-6s %3s %12s %10s %9s %12s %8s %10s %9s %10s\n", "work", "layout", "thr",
           "faults", "faults/s", "waits/f", "wait_ns/f", "excl", "excl_ms", "wake/ev",
           "empty/ev");
    int status = 0;
    for (int w = 1; w <= 2; w++) {
        if (!(wl & w))
            continue;
        for (int l = 1; l <= 2; l++) {
            if (!(lay & l))
                continue;
            for (int i = 0; i < nt; i++) {
                fflush(stdout);
                pid_t pid = fork();
                if (pid < 0) {
                    perror("bench_contention: fork");
                    return 1;
                }
                if (pid == 0)
                    _exit(run_case(threads[i], total, w == 2, l == 2));
                int st;
                if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
                    fprintf(stderr, "bench_contention: case failed (status %#x)\n", st);
                    status = 3;
                }
            }
        }
    }
    return status;
}
