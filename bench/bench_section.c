/*
 * bench_section.c -- reading a file through a libvmem view (CreateFileA,
 * CreateFileMappingA, MapViewOfFile) against a plain mmap of the file:
 * sequential and random page reads, page cache warm or cold.
 *
 *   bench_section [-f FILE] [-s SIZE] [-m seq|rand] [-c] [-r ROUNDS] [-h]
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
 * Exit status: 0 ok, 1 failure (a mismatch between the two ways), 2 usage.
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
            "usage: bench_section [-f FILE] [-s SIZE] [-m seq|rand] [-c] [-r ROUNDS] [-h]\n");
    exit(st);
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
    int rand_mode = 0, cold = 0;
    unsigned rounds = 7;
    int c;
    while ((c = getopt(argc, argv, "f:s:m:cr:h")) != -1) {
        switch (c) {
        case 'f': path = optarg; break;
        case 's':
            if (vmem_parse_size(optarg, &size) != 0 || size < PG)
                usage(2);
            break;
        case 'm':
            if (strcmp(optarg, "seq") && strcmp(optarg, "rand"))
                usage(2);
            rand_mode = strcmp(optarg, "rand") == 0;
            break;
        case 'c': cold = 1; break;
        case 'r': {
            uint64_t r;
            if (vmem_parse_uint(optarg, 1, MAX_ROUNDS, &r) != 0)
                usage(2);
            rounds = (unsigned)r;
            break;
        }
        case 'h': usage(0); break;
        default: usage(2);
        }
    }
    size -= size % PG;
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
