/*
 * bench_rawio.c -- raw io_uring 4 KiB reads on a file: the floor a page file
 * on the same file system can reach.
 *
 *   bench_rawio -f FILE [-s SIZE] [-d DEPTH] [-m rand|seq] [-n OPS] [-t THREADS] [-x SEED] [-h]
 *
 * FILE is created (or extended) with random data to SIZE (default 1G) if it is
 * missing or smaller, written with O_DIRECT when the file system allows it,
 * then fsync'ed.  Reads use O_DIRECT when the file system allows it (else
 * buffered reads, after POSIX_FADV_DONTNEED; the output says which: odirect=1
 * or odirect=0).  Each thread has its own ring and keeps DEPTH 4 KiB reads in
 * flight: rand = uniform random 4 KiB-aligned offsets over the whole file;
 * seq = thread t reads its contiguous 1/THREADS of the file in order (wrapping
 * around).  OPS (default 262144) is the total over all threads.  Latency of a
 * read: from just before its submission to when its completion is reaped.
 *
 * Output: one line
 *   RESULT rawio mode= depth= threads= iops= p50_us= p99_us= max_us= ops= secs=
 *          odirect= size= file=
 * Exit status: 0 ok, 1 failure (I/O error, short read, ...), 2 bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <liburing.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "stats.h"
#include <vmem.h> /* vmem_parse_size: lib/api/parse.c is compiled in */

#define BLK 4096u
#define MAX_DEPTH 256u
#define MAX_THREADS 16u
#define CHUNK (1u << 20)

struct opts {
    const char *file;
    uint64_t size;
    unsigned depth;
    int seq;
    uint64_t ops;
    unsigned threads;
    uint64_t seed;
};
static struct opts opt;
static int odirect;

static void die(const char *what)
{
    fprintf(stderr, "bench_rawio: %s: %s\n", what, strerror(errno));
    exit(1);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* ---- the file ----------------------------------------------------------------- */

static void prepare_file(void)
{
    struct stat sb;
    int exists = stat(opt.file, &sb) == 0;
    if (exists && !S_ISREG(sb.st_mode)) {
        fprintf(stderr, "bench_rawio: %s is not a regular file\n", opt.file);
        exit(1);
    }
    uint64_t have = exists ? (uint64_t)sb.st_size : 0;
    if (have >= opt.size)
        return;
    have -= have % BLK;
    int direct = 1;
    int fd = open(opt.file, O_WRONLY | O_CREAT | O_DIRECT, 0600);
    if (fd < 0 && errno == EINVAL) {
        direct = 0;
        fd = open(opt.file, O_WRONLY | O_CREAT, 0600);
    }
    if (fd < 0)
        die(opt.file);
    void *buf;
    if (posix_memalign(&buf, BLK, CHUNK))
        die("posix_memalign");
    uint64_t s = opt.seed ^ UINT64_C(0xf11e);
    fprintf(stderr, "bench_rawio: writing %s: %" PRIu64 " MiB of random data (%s)\n", opt.file,
            (opt.size - have) >> 20, direct ? "O_DIRECT" : "buffered");
    for (uint64_t off = have; off < opt.size;) {
        uint32_t n = opt.size - off < CHUNK ? (uint32_t)(opt.size - off) : CHUNK;
        uint64_t *w = buf;
        for (uint32_t i = 0; i < n / 8; i++)
            w[i] = splitmix64(&s);
        ssize_t r = pwrite(fd, buf, n, (off_t)off);
        if (r < 0 && errno == EINVAL && direct) {
            /* The file system took O_DIRECT at open but not for writes. */
            close(fd);
            fd = open(opt.file, O_WRONLY, 0600);
            if (fd < 0)
                die(opt.file);
            direct = 0;
            continue;
        }
        if (r != (ssize_t)n) {
            if (r >= 0)
                errno = EIO;
            die("pwrite");
        }
        off += n;
    }
    if (fsync(fd))
        die("fsync");
    close(fd);
    free(buf);
}

/* ---- the readers ------------------------------------------------------------- */

struct reader {
    pthread_t tid;
    unsigned idx;
    int fd;
    uint64_t ops;
    uint32_t *lat;       /* ops latencies, ns */
    int failed;
};

static uint64_t nblocks;

static void *reader_main(void *arg)
{
    struct reader *rd = arg;
    struct io_uring ring;
    int e = io_uring_queue_init(opt.depth, &ring, 0);
    if (e < 0) {
        fprintf(stderr, "bench_rawio: io_uring_queue_init: %s\n", strerror(-e));
        rd->failed = 1;
        return NULL;
    }
    unsigned char *bufs;
    if (posix_memalign((void **)&bufs, BLK, (size_t)opt.depth * BLK)) {
        rd->failed = 1;
        io_uring_queue_exit(&ring);
        return NULL;
    }
    memset(bufs, 0, (size_t)opt.depth * BLK);
    uint64_t t_submit[MAX_DEPTH];
    uint64_t rs = opt.seed ^ (UINT64_C(0x51ed270b27e6a3c5) * (rd->idx + 1));
    uint64_t lo = nblocks * rd->idx / opt.threads, hi = nblocks * (rd->idx + 1) / opt.threads;
    uint64_t seq_next = lo;
    uint64_t issued = 0, done = 0;

    /* Queue a read into slot s. */
#define QUEUE(s)                                                                         \
    do {                                                                                 \
        uint64_t blk_;                                                                   \
        if (opt.seq) {                                                                   \
            blk_ = seq_next++;                                                           \
            if (seq_next >= hi)                                                          \
                seq_next = lo;                                                           \
        } else {                                                                         \
            blk_ = (uint64_t)(((unsigned __int128)splitmix64(&rs) * nblocks) >> 64);     \
        }                                                                                \
        struct io_uring_sqe *sqe_ = io_uring_get_sqe(&ring);                             \
        io_uring_prep_read(sqe_, rd->fd, bufs + (size_t)(s) * BLK, BLK, blk_ * BLK);    \
        io_uring_sqe_set_data64(sqe_, (s));                                              \
        issued++;                                                                        \
    } while (0)

    unsigned first = opt.depth < rd->ops ? opt.depth : (unsigned)rd->ops;
    for (unsigned s = 0; s < first; s++)
        QUEUE(s);
    uint64_t now = mono_ns();
    for (unsigned s = 0; s < first; s++)
        t_submit[s] = now;
    e = io_uring_submit(&ring);
    if (e < 0) {
        fprintf(stderr, "bench_rawio: io_uring_submit: %s\n", strerror(-e));
        rd->failed = 1;
        goto out;
    }
    while (done < rd->ops) {
        struct io_uring_cqe *cqe;
        e = io_uring_wait_cqe(&ring, &cqe);
        if (e < 0) {
            if (e == -EINTR)
                continue;
            fprintf(stderr, "bench_rawio: io_uring_wait_cqe: %s\n", strerror(-e));
            rd->failed = 1;
            goto out;
        }
        now = mono_ns();
        unsigned refill[MAX_DEPTH], nrefill = 0, head, seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            unsigned s = (unsigned)io_uring_cqe_get_data64(cqe);
            if (cqe->res != (int)BLK) {
                fprintf(stderr, "bench_rawio: read: %s\n",
                        cqe->res < 0 ? strerror(-cqe->res) : "short read");
                rd->failed = 1;
            }
            uint64_t d = now - t_submit[s];
            rd->lat[done++] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
            if (issued < rd->ops)
                refill[nrefill++] = s;
            seen++;
        }
        io_uring_cq_advance(&ring, seen);
        if (rd->failed)
            goto out;
        for (unsigned i = 0; i < nrefill; i++)
            QUEUE(refill[i]);
        if (nrefill) {
            now = mono_ns();
            for (unsigned i = 0; i < nrefill; i++)
                t_submit[refill[i]] = now;
            e = io_uring_submit(&ring);
            if (e < 0) {
                fprintf(stderr, "bench_rawio: io_uring_submit: %s\n", strerror(-e));
                rd->failed = 1;
                goto out;
            }
        }
    }
#undef QUEUE
out:
    io_uring_queue_exit(&ring);
    free(bufs);
    return NULL;
}

/* ---- options --------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: bench_rawio -f FILE [-s SIZE] [-d DEPTH] [-m rand|seq] [-n OPS] [-t THREADS]\n"
        "                   [-x SEED] [-h]\n"
        "  -f  file to read; created/extended with random data to SIZE if smaller\n"
        "  -s  file size, bytes with an optional K, M, G or T suffix, a multiple of 4 KiB\n"
        "      (default 1G)\n"
        "  -d  reads in flight per thread, 1..%u (default 1)\n"
        "  -m  rand (uniform random 4 KiB blocks) or seq (default rand)\n"
        "  -n  reads in total over all threads (default 262144)\n"
        "  -t  threads, each with its own ring, 1..%u (default 1)\n"
        "  -x  random seed\n"
        "Prints one RESULT line; exit 0 ok, 1 failure, 2 bad usage.\n", MAX_DEPTH, MAX_THREADS);
}

static void bad_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "bench_rawio: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    usage(stderr);
    exit(2);
}

static void parse_opts(int argc, char **argv)
{
    opt.file = NULL;
    opt.size = UINT64_C(1) << 30;
    opt.depth = 1;
    opt.seq = 0;
    opt.ops = 262144;
    opt.threads = 1;
    opt.seed = UINT64_C(0x5eedf00dcafe1234);
    int c;
    uint64_t v;
    opterr = 0;
    while ((c = getopt(argc, argv, "+:f:s:d:m:n:t:x:h")) != -1) {
        switch (c) {
        case 'f':
            if (!*optarg)
                bad_usage("%s", "-f: empty file name");
            opt.file = optarg;
            break;
        case 's':
            if (vmem_parse_size(optarg, &v) || v == 0 || v % BLK || v > (UINT64_C(1) << 42))
                bad_usage("-s: expected a size (K/M/G/T suffix) that is a non-zero multiple "
                          "of 4096, not '%s'", optarg);
            opt.size = v;
            break;
        case 'd':
            if (vmem_parse_uint(optarg, 1, MAX_DEPTH, &v))
                bad_usage("-d: expected a queue depth from 1 to 256, not '%s'", optarg);
            opt.depth = (unsigned)v;
            break;
        case 'm':
            if (!strcmp(optarg, "rand")) opt.seq = 0;
            else if (!strcmp(optarg, "seq")) opt.seq = 1;
            else bad_usage("-m: expected rand or seq, not '%s'", optarg);
            break;
        case 'n':
            if (vmem_parse_uint(optarg, 1, UINT64_C(1) << 32, &v))
                bad_usage("-n: expected a read count from 1 to 2^32, not '%s'", optarg);
            opt.ops = v;
            break;
        case 't':
            if (vmem_parse_uint(optarg, 1, MAX_THREADS, &v))
                bad_usage("-t: expected a thread count from 1 to 16, not '%s'", optarg);
            opt.threads = (unsigned)v;
            break;
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
    if (!opt.file)
        bad_usage("%s", "-f FILE is required");
    if (opt.ops < opt.threads)
        bad_usage("%s", "-n: fewer reads than threads");
    if (opt.size / BLK < opt.threads)
        bad_usage("%s", "-s: fewer blocks than threads");
}

int main(int argc, char **argv)
{
    parse_opts(argc, argv);
    prepare_file();
    nblocks = opt.size / BLK;

    int fd = open(opt.file, O_RDONLY | O_DIRECT);
    odirect = fd >= 0;
    if (fd < 0) {
        if (errno != EINVAL)
            die(opt.file);
        fd = open(opt.file, O_RDONLY);
        if (fd < 0)
            die(opt.file);
        /* Buffered: drop what the page cache holds of the file (best effort). */
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    }

    uint32_t *lat = malloc(opt.ops * sizeof(*lat));
    if (!lat)
        die("malloc");
    memset(lat, 0, opt.ops * sizeof(*lat));
    struct reader rds[MAX_THREADS];
    memset(rds, 0, sizeof(rds));
    uint64_t off = 0;
    for (unsigned i = 0; i < opt.threads; i++) {
        rds[i].idx = i;
        rds[i].fd = fd;
        rds[i].ops = opt.ops * (i + 1) / opt.threads - opt.ops * i / opt.threads;
        rds[i].lat = lat + off;
        off += rds[i].ops;
    }
    uint64_t t0 = mono_ns();
    for (unsigned i = 0; i < opt.threads; i++) {
        int e = pthread_create(&rds[i].tid, NULL, reader_main, &rds[i]);
        if (e) {
            errno = e;
            die("pthread_create");
        }
    }
    int failed = 0;
    for (unsigned i = 0; i < opt.threads; i++) {
        pthread_join(rds[i].tid, NULL);
        failed |= rds[i].failed;
    }
    double secs = (double)(mono_ns() - t0) / 1e9;
    close(fd);
    if (failed)
        return 1;

    stats_sort_u32(lat, opt.ops);
    printf("RESULT rawio mode=%s depth=%u threads=%u iops=%.0f p50_us=%.2f p99_us=%.2f"
           " max_us=%.1f ops=%" PRIu64 " secs=%.3f odirect=%d size=%" PRIu64 " file=%s\n",
           opt.seq ? "seq" : "rand", opt.depth, opt.threads, (double)opt.ops / secs,
           stats_percentile_u32(lat, opt.ops, 0.50) / 1e3,
           stats_percentile_u32(lat, opt.ops, 0.99) / 1e3,
           lat[opt.ops - 1] / 1e3, opt.ops, secs, odirect, opt.size, opt.file);
    free(lat);
    return 0;
}
