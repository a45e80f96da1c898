/*
 * bench_section.c -- reading a file through a libvmem view (CreateFileA,
 * CreateFileMappingA, MapViewOfFile) against a plain mmap of the file:
 * sequential and random page reads, page cache warm or cold; and (-m
 * pagein) paging a page-file section under a cap against private memory
 * under the same cap.
 *
 *   bench_section [-f FILE] [-s SIZE] [-m seq|rand|pagein] [-c] [-r ROUNDS] [-h]
 *
 * FILE (default /var/tmp/bench_section.dat) is made SIZE bytes (default
 * 256M) of pseudo-random data if it is missing or smaller.  Each round
 * maps the file both ways (the order alternating), and reads one 8-byte
 * word of each 64-byte line of every page (seq: in order; rand: the pages
 * in a random order, the same for both), then unmaps it.  With -c the
 * file's pages are dropped from the page cache (POSIX_FADV_DONTNEED) before
 * each read pass.  Times: the mapping (map + unmap) and the reads.
 *
 * Output: one line per way
 *   RESULT section way=view|mmap mode= cold= size= rounds= read_ns_per_page=
 *          map_us= (medians over the rounds)
 *
 * -m pagein: the bench sets a resident cap of SIZE/4 for itself
 * (vmem_set_max_resident, as VMEM_MAX_RESIDENT would), then each round, for
 * a page-file section of SIZE mapped FILE_MAP_WRITE (way=view) and for a
 * VirtualAlloc region of SIZE (way=private), the order alternating: writes
 * every page (its number in each 64-byte line), reads every page in a
 * random order, then in order, each page timed alone and its contents
 * checked, and notes the process's resident memory (VmRSS, and RssShmem:
 * the section's pages) before freeing it.  No file is used.  Default
 * rounds: 3.  Output: per way and order
 *   RESULT section-pagein way=view|private order=rand|seq size= cap= rounds=
 *          p50_ns_per_page= mean_ns_per_page= touch_ns_per_page= rss_mib=
 *          shmem_mib= (medians over the rounds; rss and shmem: the largest)
 * and per order the ratio section/private of p50 and mean
 *   RESULT section-pagein ratio order= p50= mean=
 * Paging needs userfaultfd: in fault mode kernel the cap cannot be set, and
 * the bench says so and fails.
 *
 * Exit status: 0 ok, 1 failure (a mismatch between the two ways, a page
 * that did not read back what was written, no cap), 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <memoryapi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <vmem.h>

#include "stats.h"

#define PG 4096u
#define MAX_ROUNDS 64

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static void usage(int st)
{
    fprintf(st ? stderr : stdout,
            "usage: bench_section [-f FILE] [-s SIZE] [-m seq|rand|pagein] [-c] [-r ROUNDS] [-h]\n");
    exit(st);
}

/* ---- -m pagein ------------------------------------------------------------------ */

/* VmRSS and RssShmem of /proc/self/status, in KiB (0 if unknown). */
static void resident_kib(uint64_t *rss, uint64_t *shmem)
{
    *rss = *shmem = 0;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return;
    char line[256];
    unsigned long long v;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "VmRSS: %llu kB", &v) == 1)
            *rss = v;
        else if (sscanf(line, "RssShmem: %llu kB", &v) == 1)
            *shmem = v;
    }
    fclose(f);
}

/* Reads the pages in the order given, each timed alone (ns[k] for
 * order[k]), and checks each holds what touch_pages wrote; returns the
 * number of pages that did not. */
static size_t timed_reads(const volatile uint64_t *p, const uint32_t *order, size_t npages,
                          uint32_t *ns)
{
    size_t bad = 0;
    double t = now_ns();
    for (size_t k = 0; k < npages; k++) {
        const volatile uint64_t *page = p + (size_t)order[k] * (PG / 8);
        uint64_t want = order[k], ok = 1;
        for (unsigned w = 0; w < PG / 8; w += 8)
            ok &= page[w] == want;
        double t2 = now_ns();
        double d = t2 - t;
        ns[k] = d > 4e9 ? UINT32_MAX : (uint32_t)d;
        t = t2;
        bad += !ok;
    }
    return bad;
}

/* Writes its number into each 64-byte line of every page; ns per page. */
static double touch_pages(volatile uint64_t *p, size_t npages)
{
    double t0 = now_ns();
    for (size_t i = 0; i < npages; i++)
        for (unsigned w = 0; w < PG / 8; w += 8)
            p[i * (PG / 8) + w] = i;
    return (now_ns() - t0) / (double)npages;
}

struct pagein_round {
    double p50[2], mean[2]; /* [order]: 0 rand, 1 seq */
    double touch;
    uint64_t rss_kib, shmem_kib;
};

/* One round of one way: 0 the section's view, 1 private memory. */
static int pagein_round(int way, uint64_t size, const uint32_t *rand_order,
                        const uint32_t *seq_order, uint32_t *ns, struct pagein_round *out)
{
    size_t npages = size / PG;
    HANDLE s = NULL;
    void *p;
    if (way == 0) {
        s = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, (DWORD)(size >> 32),
                               (DWORD)size, NULL);
        p = s ? MapViewOfFile(s, FILE_MAP_WRITE, 0, 0, 0) : NULL;
    } else {
        p = VirtualAlloc(NULL, size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    }
    if (!p) {
        fprintf(stderr, "bench_section: %s of %" PRIu64 " bytes failed: error %u\n",
                way == 0 ? "a page-file section's view" : "VirtualAlloc", size,
                (unsigned)GetLastError());
        return 1;
    }
    out->touch = touch_pages(p, npages);
    size_t bad = 0;
    for (int o = 0; o < 2; o++) {
        bad += timed_reads(p, o == 0 ? rand_order : seq_order, npages, ns);
        out->mean[o] = stats_mean_u32(ns, npages);
        stats_sort_u32(ns, npages);
        out->p50[o] = stats_percentile_u32(ns, npages, 0.5);
    }
    resident_kib(&out->rss_kib, &out->shmem_kib);
    if (way == 0) {
        UnmapViewOfFile(p);
        CloseHandle(s);
    } else {
        VirtualFree(p, 0, MEM_RELEASE);
    }
    if (bad) {
        fprintf(stderr, "bench_section: %zu pages of the %s did not read back what was written\n",
                bad, way == 0 ? "view" : "private region");
        return 1;
    }
    return 0;
}

static int run_pagein(uint64_t size, unsigned rounds)
{
    uint64_t cap = size / 4;
    int err = vmem_set_max_resident(cap);
    if (err) {
        fprintf(stderr, "bench_section: -m pagein: cannot set a cap of %" PRIu64 " bytes: %s%s\n",
                cap, strerror(err),
                err == ENOTSUP ? " (paging needs userfaultfd: VMEM_FAULT_MODE=kernel does not page)"
                               : "");
        return 1;
    }
    size_t npages = size / PG;
    uint32_t *rand_order = malloc(npages * sizeof *rand_order);
    uint32_t *seq_order = malloc(npages * sizeof *seq_order);
    uint32_t *ns = malloc(npages * sizeof *ns);
    if (!rand_order || !seq_order || !ns) {
        fprintf(stderr, "bench_section: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < npages; i++)
        rand_order[i] = seq_order[i] = (uint32_t)i;
    uint64_t x = 12345;
    for (size_t i = npages - 1; i > 0; i--) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t j = x % (i + 1);
        uint32_t t = rand_order[i];
        rand_order[i] = rand_order[j];
        rand_order[j] = t;
    }
    static struct pagein_round res[2][MAX_ROUNDS];
    for (unsigned r = 0; r < rounds; r++)
        for (int k = 0; k < 2; k++) {
            int way = (r + k) % 2; /* who goes first alternates */
            if (pagein_round(way, size, rand_order, seq_order, ns, &res[way][r]))
                return 1;
        }
    double p50[2][2], mean[2][2]; /* [way][order] */
    for (int way = 0; way < 2; way++) {
        double v[MAX_ROUNDS];
        uint64_t rss = 0, shmem = 0;
        for (unsigned r = 0; r < rounds; r++) {
            rss = res[way][r].rss_kib > rss ? res[way][r].rss_kib : rss;
            shmem = res[way][r].shmem_kib > shmem ? res[way][r].shmem_kib : shmem;
            v[r] = res[way][r].touch;
        }
        double touch = stats_median(v, rounds);
        for (int o = 0; o < 2; o++) {
            for (unsigned r = 0; r < rounds; r++)
                v[r] = res[way][r].p50[o];
            p50[way][o] = stats_median(v, rounds);
            for (unsigned r = 0; r < rounds; r++)
                v[r] = res[way][r].mean[o];
            mean[way][o] = stats_median(v, rounds);
            printf("RESULT section-pagein way=%s order=%s size=%" PRIu64 " cap=%" PRIu64
                   " rounds=%u p50_ns_per_page=%.0f mean_ns_per_page=%.0f "
                   "touch_ns_per_page=%.0f rss_mib=%.1f shmem_mib=%.1f\n",
                   way == 0 ? "view" : "private", o == 0 ? "rand" : "seq", size, cap, rounds,
                   p50[way][o], mean[way][o], touch, rss / 1024.0, shmem / 1024.0);
        }
    }
    for (int o = 0; o < 2; o++)
        printf("RESULT section-pagein ratio order=%s p50=%.2f mean=%.2f\n",
               o == 0 ? "rand" : "seq", p50[1][o] > 0 ? p50[0][o] / p50[1][o] : 0.0,
               mean[1][o] > 0 ? mean[0][o] / mean[1][o] : 0.0);
    free(rand_order);
    free(seq_order);
    free(ns);
    return 0;
}

static void make_file(const char *path, uint64_t size)
{
    struct stat st;
    if (stat(path, &st) == 0 && (uint64_t)st.st_size >= size)
        return;
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0) {
        fprintf(stderr, "bench_section: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    static uint64_t buf[1 << 17];
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (uint64_t done = 0; done < size; done += sizeof buf) {
        for (size_t i = 0; i < sizeof buf / 8; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[i] = x;
        }
        size_t n = size - done < sizeof buf ? (size_t)(size - done) : sizeof buf;
        if (write(fd, buf, n) != (ssize_t)n) {
            fprintf(stderr, "bench_section: writing %s failed\n", path);
            exit(1);
        }
    }
    fsync(fd);
    close(fd);
}

/* Reads one word per line of each page, in the order given. */
static uint64_t read_pages(const volatile uint64_t *p, const uint32_t *order, size_t npages)
{
    uint64_t sum = 0;
    for (size_t k = 0; k < npages; k++) {
        const volatile uint64_t *page = p + (size_t)order[k] * (PG / 8);
        for (unsigned w = 0; w < PG / 8; w += 8)
            sum += page[w];
    }
    return sum;
}

int main(int argc, char **argv)
{
    const char *path = "/var/tmp/bench_section.dat";
    uint64_t size = 256u << 20;
    int rand_mode = 0, cold = 0, pagein = 0, rounds_set = 0, file_set = 0;
    unsigned rounds = 7;
    int c;
    while ((c = getopt(argc, argv, "f:s:m:cr:h")) != -1) {
        switch (c) {
        case 'f': path = optarg; file_set = 1; break;
        case 's':
            if (vmem_parse_size(optarg, &size) != 0 || size < PG)
                usage(2);
            break;
        case 'm':
            if (strcmp(optarg, "seq") && strcmp(optarg, "rand") && strcmp(optarg, "pagein"))
                usage(2);
            rand_mode = strcmp(optarg, "rand") == 0;
            pagein = strcmp(optarg, "pagein") == 0;
            break;
        case 'c': cold = 1; break;
        case 'r': {
            uint64_t r;
            if (vmem_parse_uint(optarg, 1, MAX_ROUNDS, &r) != 0)
                usage(2);
            rounds = (unsigned)r;
            rounds_set = 1;
            break;
        }
        case 'h': usage(0); break;
        default: usage(2);
        }
    }
    size -= size % PG;
    if (pagein) {
        if (cold || file_set) {
            fprintf(stderr, "bench_section: %s is for -m seq|rand (-m pagein uses no file)\n",
                    cold ? "-c" : "-f");
            return 2;
        }
        if (size / 4 < (256u << 10) || size / PG > UINT32_MAX) {
            fprintf(stderr, "bench_section: -m pagein: -s SIZE from 1M (its cap, SIZE/4, is at "
                            "least 256K) to 16T\n");
            return 2;
        }
        return run_pagein(size, rounds_set ? rounds : 3);
    }
    make_file(path, size);
    size_t npages = size / PG;
    uint32_t *order = malloc(npages * sizeof *order);
    for (size_t i = 0; i < npages; i++)
        order[i] = (uint32_t)i;
    if (rand_mode) {
        uint64_t x = 12345;
        for (size_t i = npages - 1; i > 0; i--) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t j = x % (i + 1);
            uint32_t t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }

    HANDLE f = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    int fd = open(path, O_RDONLY);
    if (f == INVALID_HANDLE_VALUE || fd < 0) {
        fprintf(stderr, "bench_section: cannot open %s\n", path);
        return 1;
    }
    HANDLE s = CreateFileMappingA(f, NULL, PAGE_READONLY, 0, 0, NULL);
    if (!s) {
        fprintf(stderr, "bench_section: CreateFileMappingA: error %u\n", (unsigned)GetLastError());
        return 1;
    }
    double read_ns[2][MAX_ROUNDS], map_us[2][MAX_ROUNDS];
    uint64_t sums[2] = { 0, 0 };
    for (unsigned r = 0; r < rounds; r++) {
        for (int k = 0; k < 2; k++) {
            int way = (r + k) % 2; /* 0 = view, 1 = mmap; who goes first alternates */
            if (cold)
                posix_fadvise(fd, 0, (off_t)size, POSIX_FADV_DONTNEED);
            double t0 = now_ns();
            void *p = way == 0 ? MapViewOfFile(s, FILE_MAP_READ, 0, 0, 0)
                               : mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
            double t1 = now_ns();
            if (!p || p == MAP_FAILED) {
                fprintf(stderr, "bench_section: mapping failed\n");
                return 1;
            }
            sums[way] = read_pages(p, order, npages);
            double t2 = now_ns();
            if (way == 0)
                UnmapViewOfFile(p);
            else
                munmap(p, size);
            double t3 = now_ns();
            read_ns[way][r] = (t2 - t1) / (double)npages;
            map_us[way][r] = ((t1 - t0) + (t3 - t2)) / 1e3;
        }
        if (sums[0] != sums[1]) {
            fprintf(stderr, "bench_section: the two ways read different bytes\n");
            return 1;
        }
    }
    for (int way = 0; way < 2; way++)
        printf("RESULT section way=%s mode=%s cold=%d size=%" PRIu64 " rounds=%u "
               "read_ns_per_page=%.1f map_us=%.1f\n",
               way == 0 ? "view" : "mmap", rand_mode ? "rand" : "seq", cold, size, rounds,
               stats_median(read_ns[way], rounds), stats_median(map_us[way], rounds));
    CloseHandle(s);
    CloseHandle(f);
    close(fd);
    free(order);
    return 0;
}
