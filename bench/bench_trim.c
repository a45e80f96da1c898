/*
 * bench_trim -- what taking pages out of the address space and putting them
 * back costs, by the two means userfaultfd offers:
 *
 *   copy: UFFDIO_WRITEPROTECT the run (so writers wait), copy each page to a
 *         frame, MADV_DONTNEED the run; back in with UFFDIO_COPY (MODE_WP).
 *   move: UFFDIO_MOVE the run to frames (6.8+), and UFFDIO_MOVE back.
 *
 * Runs of -r pages over -n pages, -i rounds; with -b a second thread of the
 * process spins on the other CPU, as an application would, so TLB
 * shoot-downs cost what they cost in a live process.  Prints ns per page.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <vmem.h> /* vmem_parse_uint: lib/api/parse.c is compiled in */

#ifndef UFFD_FEATURE_MOVE
#define UFFD_FEATURE_MOVE (1 << 16)
#endif
#ifndef UFFDIO_MOVE
struct uffdio_move {
    uint64_t dst, src, len, mode;
    int64_t move;
};
#define UFFDIO_MOVE _IOWR(UFFDIO, 0x05, struct uffdio_move)
#endif

#define PG 4096ul

static int uffd;
static volatile int stop;

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_trim: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void pin(int cpu)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    sched_setaffinity(0, sizeof(s), &s);
}

static void *spin(void *arg)
{
    volatile char *p = arg;
    pin(1);
    while (!stop)
        (void)p[0];
    return NULL;
}

static void reg(void *a, size_t len, uint64_t mode)
{
    struct uffdio_register r = { .range = { (uintptr_t)a, len }, .mode = mode };
    if (ioctl(uffd, UFFDIO_REGISTER, &r))
        die("UFFDIO_REGISTER");
}

static void copy_in(char *dst, const char *src, size_t len, int wp)
{
    struct uffdio_copy c = { (uintptr_t)dst, (uintptr_t)src, len,
                             wp ? UFFDIO_COPY_MODE_WP : 0, 0 };
    if (ioctl(uffd, UFFDIO_COPY, &c))
        die("UFFDIO_COPY");
}

static void move(char *dst, char *src, size_t len)
{
    struct uffdio_move m = { (uintptr_t)dst, (uintptr_t)src, len, 0, 0 };
    if (ioctl(uffd, UFFDIO_MOVE, &m))
        die("UFFDIO_MOVE");
}

static void wprotect(char *a, size_t len)
{
    struct uffdio_writeprotect w = { { (uintptr_t)a, len }, UFFDIO_WRITEPROTECT_MODE_WP };
    if (ioctl(uffd, UFFDIO_WRITEPROTECT, &w))
        die("UFFDIO_WRITEPROTECT");
}

int main(int argc, char **argv)
{
    size_t n = 16384, run = 64;
    int rounds = 5, busy = 0, c;
    uint64_t v = 0;
    int bad = 0;
    while ((c = getopt(argc, argv, "n:r:i:b")) != -1) {
        switch (c) {
        case 'n': bad |= vmem_parse_uint(optarg, 1, 1u << 24, &v); n = (size_t)v; break;
        case 'r': bad |= vmem_parse_uint(optarg, 1, 1u << 24, &v); run = (size_t)v; break;
        case 'i': bad |= vmem_parse_uint(optarg, 1, 1000000, &v); rounds = (int)v; break;
        case 'b': busy = 1; break;
        default: bad = 1; break;
        }
    }
    if (bad || n < run) {
        fprintf(stderr, "usage: bench_trim [-n pages] [-r run] [-i rounds] [-b]\n"
                        "  (pages up to 2^24, run at most pages, rounds up to 10^6)\n");
        return 2;
    }
    n -= n % run;
    uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    if (uffd < 0)
        die("userfaultfd");
    struct uffdio_api api = { .api = UFFD_API,
                              .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_MOVE };
    int have_move = 1;
    if (ioctl(uffd, UFFDIO_API, &api)) {
        /* no MOVE: measure the copy path only */
        close(uffd);
        uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
        api = (struct uffdio_api){ .api = UFFD_API, .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP };
        if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api))
            die("UFFDIO_API");
        have_move = 0;
    }
    size_t len = n * PG;
    int fl = MAP_PRIVATE | MAP_ANONYMOUS;
    char *app = mmap(NULL, len, PROT_READ | PROT_WRITE, fl, -1, 0);
    char *frames = mmap(NULL, len, PROT_READ | PROT_WRITE, fl, -1, 0);   /* move dst */
    char *copies = mmap(NULL, len, PROT_READ | PROT_WRITE, fl, -1, 0);   /* copy dst */
    char *data = mmap(NULL, len, PROT_READ | PROT_WRITE, fl, -1, 0);
    if (app == MAP_FAILED || frames == MAP_FAILED || copies == MAP_FAILED || data == MAP_FAILED)
        die("mmap");
    for (size_t i = 0; i < len; i += 8)
        *(uint64_t *)(data + i) = i * 0x9E3779B97F4A7C15ull;
    memset(copies, 1, len);
    reg(app, len, UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP);
    reg(frames, len, UFFDIO_REGISTER_MODE_MISSING);
    pin(0);
    pthread_t th;
    char *spot = mmap(NULL, PG, PROT_READ | PROT_WRITE, fl, -1, 0);
    if (busy && pthread_create(&th, NULL, spin, spot))
        die("pthread_create");

    double t_out_copy = 0, t_in_copy = 0, t_out_move = 0, t_in_move = 0;
    for (int k = 0; k < rounds; k++) {
        copy_in(app, data, len, 1);
        double t0 = now_ns();
        for (size_t i = 0; i < n; i += run) {
            char *a = app + i * PG;
            wprotect(a, run * PG);
            memcpy(copies + i * PG, a, run * PG);
            if (madvise(a, run * PG, MADV_DONTNEED))
                die("madvise");
        }
        double t1 = now_ns();
        for (size_t i = 0; i < n; i += run)
            copy_in(app + i * PG, copies + i * PG, run * PG, 1);
        double t2 = now_ns();
        t_out_copy += t1 - t0;
        t_in_copy += t2 - t1;
        if (!have_move)
            continue;
        for (size_t i = 0; i < n; i += run)
            move(frames + i * PG, app + i * PG, run * PG);
        double t3 = now_ns();
        for (size_t i = 0; i < n; i += run)
            move(app + i * PG, frames + i * PG, run * PG);
        double t4 = now_ns();
        t_out_move += t3 - t2;
        t_in_move += t4 - t3;
        if (memcmp(app, data, len))
            fprintf(stderr, "bench_trim: content changed\n"), exit(1);
        if (madvise(app, len, MADV_DONTNEED))
            die("madvise");
    }
    stop = 1;
    if (busy)
        pthread_join(th, NULL);
    double pages = (double)n * rounds;
    printf("pages %zu run %zu rounds %d busy %d\n", n, run, rounds, busy);
    printf("out copy %.0f ns/page  (write-protect, copy, MADV_DONTNEED)\n", t_out_copy / pages);
    printf("in  copy %.0f ns/page  (UFFDIO_COPY, write-protected)\n", t_in_copy / pages);
    if (have_move) {
        printf("out move %.0f ns/page  (UFFDIO_MOVE)\n", t_out_move / pages);
        printf("in  move %.0f ns/page  (UFFDIO_MOVE)\n", t_in_move / pages);
    } else {
        printf("move: UFFDIO_MOVE not available\n");
    }
    return 0;
}
