/*
 * bench_discard.c -- the cost of dropping scattered pages from the address
 * space, the trimmer's last step for clean pages: one madvise(MADV_DONTNEED)
 * per page against the library's vm_discard_pages (lib/os/vm.c: one
 * process_madvise for up to 64 pages, one TLB flush for them all where the
 * kernel batches it, Linux 6.16+).
 *
 *   bench_discard [ROUNDS]   (default 400 rounds of 64 pages)
 *
 * Each round touches 64 pages scattered over 16 MiB of kernel anonymous
 * memory and drops them, timed; twice over, with a second thread of the
 * process spinning on the other CPU (so every flush must interrupt it, as
 * when the application runs while the working-set manager trims) and
 * without.  Prints microseconds per page for each, and the ratio.
 */
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

/* The library's own lib/os/vm.c (and fd.c, which it uses) is compiled into
 * this program (bench/meson.build): what is measured is exactly the
 * trimmer's call.  It is internal to libvmem, so its functions are declared
 * here as lib/os/vm.h declares them: bench/ includes only include/. */
int vm_discard(uintptr_t addr, size_t len);
int vm_discard_pages(const uintptr_t *addrs, size_t n, size_t *done);

#define AREA  4096 /* pages */
#define BATCH 64

static volatile int stop;
static volatile uint8_t spin_buf[4096];

static void *spinner(void *arg)
{
    (void)arg;
    while (!stop)
        for (int i = 0; i < 4096; i += 64)
            spin_buf[i]++;
    return NULL;
}

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* Microseconds per page: each round's pages touched, then dropped. */
static double run(uint8_t *m, unsigned rounds, int vector)
{
    uintptr_t a[BATCH];
    double t = 0;
    for (unsigned it = 0; it < rounds; it++) {
        for (size_t k = 0; k < BATCH; k++) {
            size_t p = (k * 61 + it * 7) % AREA; /* scattered, none adjacent */
            m[p * 4096] = 1;
            a[k] = (uintptr_t)m + p * 4096;
        }
        double t0 = now_us();
        if (vector) {
            size_t done = 0;
            int e = vm_discard_pages(a, BATCH, &done);
            if (e || done != BATCH) {
                fprintf(stderr, "bench_discard: vm_discard_pages: error %d, %zu dropped\n", e,
                        done);
                exit(1);
            }
        } else {
            for (size_t k = 0; k < BATCH; k++)
                if (vm_discard(a[k], 4096)) {
                    perror("bench_discard: madvise");
                    exit(1);
                }
        }
        t += now_us() - t0;
    }
    return t / ((double)rounds * BATCH);
}

int main(int argc, char **argv)
{
    unsigned rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 400;
    if (argc > 2 || rounds == 0) {
        fprintf(stderr, "usage: bench_discard [ROUNDS >= 1]\n");
        return 2;
    }
    uint8_t *m = mmap(NULL, (size_t)AREA * 4096, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        perror("bench_discard: mmap");
        return 1;
    }
    for (int spin = 1; spin >= 0; spin--) {
        pthread_t th;
        stop = 0;
        if (spin && pthread_create(&th, NULL, spinner, NULL)) {
            fprintf(stderr, "bench_discard: cannot start the spinning thread\n");
            return 1;
        }
        double one = run(m, rounds, 0), vec = run(m, rounds, 1);
        printf("RESULT other_cpu=%s madvise_per_page_us=%.2f vector_us=%.2f ratio=%.3f\n",
               spin ? "busy" : "idle", one, vec, vec / one);
        stop = 1;
        if (spin)
            pthread_join(th, NULL);
    }
    return 0;
}
