/*
 * bench_crc32c.c -- the cost of the page-file checksum: crc32c of one 4 KiB
 * page, with the CPU's instruction (when it has SSE4.2) and with the table.
 *
 *   bench_crc32c [PAGES]   (default 200000 checksums per round, 3 rounds)
 *
 * Prints one line per round: nanoseconds per page for each.
 */
#include <vmem.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* The library's own lib/pagefile/crc32c.c is compiled into this program
 * (bench/meson.build): what is measured is exactly the page file's
 * checksum, not a copy.  It is internal to libvmem, so its functions are
 * declared here, as lib/pagefile/crc32c.h declares them, rather than that
 * header being included: tools/ and bench/ use only include/. */
uint32_t crc32c(const void *buf, size_t len);
void crc32c_init(void);
uint32_t crc32c_portable(const void *buf, size_t len);
int crc32c_hw(void);

#define POOL 64 /* pages cycled through: 256 KiB, in the L2 cache */

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    uint64_t pages = 200000;
    if (argc > 2 || (argc == 2 && vmem_parse_uint(argv[1], 10, UINT32_MAX, &pages))) {
        fprintf(stderr, "usage: bench_crc32c [PAGES >= 10]\n");
        return 2;
    }
    static _Alignas(4096) unsigned char buf[POOL * 4096];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)(i * 2654435761u >> 13);
    long n = (long)pages;
    volatile uint32_t sink = 0;
    crc32c_init();
    printf("# crc32c per 4 KiB page; instruction available: %s\n", crc32c_hw() ? "yes" : "no");
    for (int round = 0; round < 3; round++) {
        double t0 = now_ns();
        for (long i = 0; i < n; i++)
            sink ^= crc32c(buf + (size_t)(i % POOL) * 4096, 4096);
        double t1 = now_ns();
        for (long i = 0; i < n / 10; i++)
            sink ^= crc32c_portable(buf + (size_t)(i % POOL) * 4096, 4096);
        double t2 = now_ns();
        printf("crc32c_ns_per_page=%.0f table_ns_per_page=%.0f\n", (t1 - t0) / (double)n,
               (t2 - t1) / (double)(n / 10));
    }
    return sink == 0x12345678u; /* keeps the loop; practically always 0 */
}
