/*
 * bench_compress.c -- the cost of bringing back a page that left RAM, for
 * pages that compress: a footprint several times the memory allowed,
 * touched at random pages, each touch timed.
 *
 *   bench_compress [-b kernel|vmem] [-s SIZE] [-o OPS] [-x SEED] [-h]
 *
 * Back-ends: kernel (mmap anonymous memory, MADV_NOHUGEPAGE; cap it from
 * outside: a memory cgroup with swap, zswap on or off) or vmem
 * (VirtualAlloc; libvmem's VMEM_MAX_RESIDENT, VMEM_COMPRESS ... from the
 * environment).
 *
 * Every page is text-like: 64 lines of 64 bytes naming the page and the
 * line (lz4 packs it about 8 to 1, like program data full of repeated
 * structure).  Populate writes every page; a warm-up pass touches OPS/4
 * random pages so the store or zswap is filled as it will be; then OPS
 * uniform random page reads, each timed (CLOCK_MONOTONIC around one read
 * of the page's first and last word) and checked (first line and last word
 * against what was written, outside the timing).
 *
 * Output: one line
 *   RESULT backend= size= ops= p50_us= p90_us= mean_us= errors= majflt=
 *          [hard_faults= compress_hits= transition_faults=]
 * (libvmem counters are deltas over the timed phase).  Exit status 0, 1
 * set-up failure, 2 bad usage, 3 a page read back wrong.
 */
#include <errno.h>
#include <inttypes.h>
#include <memoryapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <vmem.h>

#define PAGE 4096

static uint8_t *mem;

static void line(char *dst, uint64_t page, unsigned k)
{
    char buf[72];
    snprintf(buf, sizeof(buf), "page %012" PRIu64 " line %02u: the quick brown fox jumps....\n",
             page, k);
    memcpy(dst, buf, 64);
}

static void page_write(uint64_t p)
{
    char *d = (char *)mem + p * PAGE;
    for (unsigned k = 0; k < PAGE / 64; k++)
        line(d + k * 64, p, k);
    ((volatile uint64_t *)d)[PAGE / 8 - 1] = p;
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static long majflt(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_majflt;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_compress [-b kernel|vmem] [-s SIZE] [-o OPS] [-x SEED] [-h]\n");
}

int main(int argc, char **argv)
{
    int vmem = 0;
    uint64_t size = 256ull << 20, ops = 0, seed = 88172645463325252ull;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!v) {
            usage(stderr);
            return 2;
        }
        i++;
        if (!strcmp(a, "-b") && (!strcmp(v, "kernel") || !strcmp(v, "vmem"))) {
            vmem = !strcmp(v, "vmem");
        } else if (!strcmp(a, "-s") && !vmem_parse_size(v, &size) && size >= (16u << 20) &&
                   size % PAGE == 0) {
        } else if (!strcmp(a, "-o") && !vmem_parse_uint(v, 1, 1u << 26, &ops)) {
        } else if (!strcmp(a, "-x") && !vmem_parse_uint(v, 1, UINT64_MAX, &seed)) {
        } else {
            fprintf(stderr, "bench_compress: bad option %s %s\n", a, v);
            usage(stderr);
            return 2;
        }
    }
    uint64_t pages = size / PAGE;
    if (!ops)
        ops = pages / 2;
    uint64_t *lat = malloc(ops * sizeof(*lat));
    if (!lat)
        return 1;
    memset(lat, 0, ops * sizeof(*lat));
    if (vmem) {
        mem = VirtualAlloc(NULL, size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    } else {
        mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED)
            mem = NULL;
        else
            madvise(mem, size, MADV_NOHUGEPAGE);
    }
    if (!mem) {
        fprintf(stderr, "bench_compress: cannot allocate %" PRIu64 " bytes\n", size);
        return 1;
    }
    for (uint64_t p = 0; p < pages; p++)
        page_write(p);
    uint64_t s = seed, errors = 0;
    for (uint64_t i = 0; i < ops / 4; i++)
        (void)((volatile uint64_t *)(mem + (rnd(&s) % pages) * PAGE))[0];

    struct vmem_stats st0 = { 0 }, st1 = { 0 };
    if (vmem)
        vmem_get_stats(&st0);
    long mf0 = majflt();
    char want[64];
    for (uint64_t i = 0; i < ops; i++) {
        uint64_t p = rnd(&s) % pages;
        const volatile uint64_t *w = (const volatile uint64_t *)(mem + p * PAGE);
        uint64_t t0 = now_ns();
        uint64_t first = w[0], last = w[PAGE / 8 - 1];
        lat[i] = now_ns() - t0;
        line(want, p, 0);
        if (last != p || first != *(const uint64_t *)want || memcmp((const void *)w, want, 64))
            errors++;
    }
    long mf1 = majflt();
    if (vmem)
        vmem_get_stats(&st1);
    double sum = 0;
    for (uint64_t i = 0; i < ops; i++)
        sum += (double)lat[i];
    qsort(lat, ops, sizeof(*lat), cmp);
    printf("RESULT backend=%s size=%" PRIu64 " ops=%" PRIu64 " p50_us=%.2f p90_us=%.2f "
           "mean_us=%.2f errors=%" PRIu64 " majflt=%ld",
           vmem ? "vmem" : "kernel", size, ops, lat[ops / 2] / 1e3, lat[ops * 9 / 10] / 1e3,
           sum / (double)ops / 1e3, errors, mf1 - mf0);
    if (vmem)
        printf(" hard_faults=%" PRIu64 " compress_hits=%" PRIu64 " transition_faults=%" PRIu64,
               st1.hard_faults - st0.hard_faults, st1.compress_hits - st0.compress_hits,
               st1.transition_faults - st0.transition_faults);
    printf("\n");
    return errors ? 3 : 0;
}
