/*
 * The page file on its own: slot runs are first-fit and contiguous, a full
 * file says ENOSPC, freed slots come back, data round-trips through
 * io_uring in batches larger than a ring, freed blocks are punched out, a
 * named file is unlinked at once, and errors are reported.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pagefile/crc32c.h"
#include "core/internal_alloc.h"
#include "pagefile/pagefile.h"
#include "core/stats.h"

static char err[300];

static void open_tmp(uint64_t max)
{
    cr_assert_eq(pagefile_open("/var/tmp", max, err, sizeof(err)), 0, "%s", err);
}

Test(pagefile, runs_are_first_fit_and_contiguous)
{
    open_tmp(64 * 4096);
    uint32_t a, b, c, d;
    cr_assert_eq(pagefile_alloc(8, &a), 0);
    cr_assert_eq(pagefile_alloc(8, &b), 0);
    cr_assert_eq(b, a + 8, "runs allocated together are neighbours");
    pagefile_free(a, 8);
    cr_assert_eq(pagefile_alloc(4, &c), 0);
    cr_assert_eq(c, a, "the lowest free run is used first");
    cr_assert_eq(pagefile_alloc(16, &d), 0);
    cr_assert_geq(d, b + 8, "a run of 16 does not fit in the 4-slot hole");
    cr_assert_eq(pagefile_used(), 4 + 8 + 16);
    cr_assert_eq(pagefile_peak(), 4 + 8 + 16);
    pagefile_close();
}

Test(pagefile, full_file_says_enospc_and_frees_come_back)
{
    open_tmp(16 * 4096);
    cr_assert_eq(pagefile_capacity(), 16);
    uint32_t s[16], x;
    for (int i = 0; i < 16; i++)
        cr_assert_eq(pagefile_alloc(1, &s[i]), 0);
    cr_assert_eq(pagefile_alloc(1, &x), ENOSPC);
    pagefile_free(s[5], 1);
    cr_assert_eq(pagefile_alloc(2, &x), ENOSPC, "one free slot is no run of two");
    cr_assert_eq(pagefile_alloc(1, &x), 0);
    cr_assert_eq(x, s[5]);
    pagefile_close();
}

Test(pagefile, tiny_limit_rejected)
{
    cr_assert_eq(pagefile_open("/var/tmp", 15 * 4096, err, sizeof(err)), EINVAL);
    cr_assert_neq(err[0], 0);
}

Test(pagefile, limit_above_slot_range_rejected)
{
    /* slots are numbered in 31 bits */
    cr_assert_eq(pagefile_open("/var/tmp", 16ull << 40, err, sizeof(err)), EINVAL,
                 "a 16 TiB page file was accepted");
    cr_assert_neq(strstr(err, "8 TiB"), NULL, "message names the limit: %s", err);
}

Test(pagefile, data_round_trips_in_big_batches)
{
    enum { N = 300 }; /* more than a ring's depth */
    open_tmp(1024 * 4096);
    uint8_t *buf = ialloc_pages((size_t)N * 4096), *back = ialloc_pages(8 * 4096);
    struct pf_write w[N];
    uint32_t first;
    cr_assert_eq(pagefile_alloc(N, &first), 0);
    for (size_t i = 0; i < N; i++) {
        memset(buf + i * 4096, (int)(i * 7 + 1), 4096);
        w[i] = (struct pf_write){ .slot = first + (uint32_t)i, .buf = buf + i * 4096, .npages = 1 };
    }
    cr_assert_eq(pagefile_write_batch(w, N), 0);
    for (size_t i = 0; i < N; i++)
        cr_assert_eq(w[i].result, 0);
    /* read back in runs of 8 pages */
    for (size_t i = 0; i + 8 <= N; i += 8) {
        cr_assert_eq(pagefile_read(first + (uint32_t)i, back, 8), 0);
        cr_assert_eq(memcmp(back, buf + i * 4096, 8 * 4096), 0, "run at %zu differs", i);
    }
    pagefile_close();
}

Test(pagefile, injected_errors_are_reported_per_entry)
{
    open_tmp(64 * 4096);
    uint8_t *buf = ialloc_pages(4 * 4096);
    struct pf_write w[4];
    for (uint32_t i = 0; i < 4; i++)
        w[i] = (struct pf_write){ .slot = 1 + i, .buf = buf + i * 4096, .npages = 1 };
    pagefile_inject_errors(2, EIO);
    cr_assert_eq(pagefile_write_batch(w, 4), EIO);
    int failed = 0;
    for (int i = 0; i < 4; i++)
        failed += w[i].result == EIO;
    cr_assert_eq(failed, 2, "every second I/O fails, the others succeed");
    pagefile_inject_errors(0, 0);
    cr_assert_eq(pagefile_read(1, buf, 1), 0);
    pagefile_close();
}

Test(pagefile, named_path_is_unlinked_at_once)
{
    char path[] = "/var/tmp/vmem-pagefile-test-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_eq(pagefile_open(path, 64 * 4096, err, sizeof(err)), EEXIST,
                 "an existing file must not be taken over");
    cr_assert_neq(strstr(err, path), NULL, "message names the path: %s", err);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "the existing file is left alone");
    unlink(path);
    open_tmp(0); /* sanity: the default size works too */
    pagefile_close();
    cr_assert_eq(pagefile_open(path, 64 * 4096, err, sizeof(err)), 0, "%s", err);
    cr_assert_neq(stat(path, &st), 0, "the page file is unlinked as soon as it is open");
    uint8_t *buf = ialloc_pages(4096);
    memset(buf, 0x5a, 4096);
    struct pf_write w = { .slot = 1, .buf = buf, .npages = 1 };
    cr_assert_eq(pagefile_write_batch(&w, 1), 0);
    memset(buf, 0, 4096);
    cr_assert_eq(pagefile_read(1, buf, 1), 0);
    cr_assert_eq(buf[4095], 0x5a, "the unlinked file still holds the data");
    pagefile_close();
    cr_assert_neq(stat(path, &st), 0);
}

/* A slot freed and taken again by a writer while the free is still under
 * way: the free's hole punch must not erase the new data. */
static uint32_t raced_slot;
static uint8_t *raced_buf;

static void alloc_and_write_in_window(uint32_t first, size_t n)
{
    (void)first;
    (void)n;
    cr_assert_eq(pagefile_alloc(1, &raced_slot), 0);
    memset(raced_buf, 0xa7, 4096);
    struct pf_write w = { .slot = raced_slot, .buf = raced_buf, .npages = 1 };
    cr_assert_eq(pagefile_write_batch(&w, 1), 0);
}

Test(pagefile, free_does_not_punch_a_reused_slot)
{
    open_tmp(64 * 4096);
    raced_buf = ialloc_pages(4096);
    uint8_t *back = ialloc_pages(4096);
    for (int round = 0; round < 4; round++) {
        uint32_t s;
        cr_assert_eq(pagefile_alloc(1, &s), 0);
        memset(raced_buf, 0x11, 4096);
        struct pf_write w = { .slot = s, .buf = raced_buf, .npages = 1 };
        cr_assert_eq(pagefile_write_batch(&w, 1), 0);
        pagefile_test_free_hook = alloc_and_write_in_window;
        pagefile_free(s, 1);
        pagefile_test_free_hook = NULL;
        memset(back, 0, 4096);
        cr_assert_eq(pagefile_read(raced_slot, back, 1), 0);
        for (size_t i = 0; i < 4096; i++)
            cr_assert_eq(back[i], 0xa7, "slot %u (freed %u): byte %zu is %#x after the punch",
                         raced_slot, s, i, back[i]);
        pagefile_free(raced_slot, 1);
    }
    pagefile_close();
}

/* A device that lies: a write acknowledged and then dropped (stale data),
 * or a byte flipped on disk.  The read must fail with EBADMSG and count a
 * checksum error, never return the data. */
static uint8_t *pattern(uint8_t *buf, size_t npages, int seed)
{
    for (size_t i = 0; i < npages * 4096; i++)
        buf[i] = (uint8_t)(i * 31 + (size_t)seed * 7 + i / 4096);
    return buf;
}

static void write_one(uint32_t slot, const uint8_t *buf, size_t npages)
{
    struct pf_write w = { .slot = slot, .buf = buf, .npages = npages };
    cr_assert_eq(pagefile_write_batch(&w, 1), 0);
}

static void expect_badmsg(uint32_t slot, uint8_t *back, size_t npages, const char *what)
{
    uint64_t before = __atomic_load_n(&vmem_ctr.checksum_errors, __ATOMIC_RELAXED);
    int e = pagefile_read(slot, back, npages);
    cr_assert_eq(e, EBADMSG, "%s: read of slot %u returned %d, not EBADMSG", what, slot, e);
    cr_assert_eq(__atomic_load_n(&vmem_ctr.checksum_errors, __ATOMIC_RELAXED), before + 1,
                 "%s: one checksum error counted", what);
}

Test(pagefile, lying_device_is_noticed)
{
    open_tmp(64 * 4096);
    uint8_t *a = ialloc_pages(8 * 4096), *b = ialloc_pages(8 * 4096);
    uint8_t *back = ialloc_pages(8 * 4096);
    uint32_t s;
    cr_assert_eq(pagefile_alloc(8, &s), 0);

    /* a flipped byte */
    pagefile_inject_lies(1, PF_LIE_FLIP);
    write_one(s, pattern(a, 1, 1), 1);
    pagefile_inject_lies(0, 0);
    expect_badmsg(s, back, 1, "flipped byte");

    /* a dropped overwrite: the old content comes back, stale */
    write_one(s + 1, pattern(a, 1, 2), 1);
    cr_assert_eq(pagefile_read(s + 1, back, 1), 0);
    cr_assert_eq(memcmp(back, a, 4096), 0);
    pagefile_inject_lies(1, PF_LIE_DROP);
    write_one(s + 1, pattern(b, 1, 3), 1);
    pagefile_inject_lies(0, 0);
    expect_badmsg(s + 1, back, 1, "dropped overwrite");

    /* a dropped first write: the slot reads as zeros */
    pagefile_inject_lies(1, PF_LIE_DROP);
    write_one(s + 2, pattern(a, 1, 4), 1);
    pagefile_inject_lies(0, 0);
    expect_badmsg(s + 2, back, 1, "dropped first write");

    /* a clustered read verifies each page: one bad page in the middle */
    pattern(a, 8, 5);
    struct pf_write w[3] = {
        { .slot = s, .buf = a, .npages = 3 },
        { .slot = s + 3, .buf = a + 3 * 4096, .npages = 1 },
        { .slot = s + 4, .buf = a + 4 * 4096, .npages = 4 },
    };
    pagefile_inject_lies(2, PF_LIE_FLIP); /* the second entry: slot s + 3 */
    cr_assert_eq(pagefile_write_batch(w, 3), 0);
    pagefile_inject_lies(0, 0);
    expect_badmsg(s, back, 8, "one page of a clustered read");
    cr_assert_eq(pagefile_read(s, back, 3), 0, "the pages before it are good");
    cr_assert_eq(memcmp(back, a, 3 * 4096), 0);
    cr_assert_eq(pagefile_read(s + 4, back, 4), 0, "the pages after it are good");
    cr_assert_eq(memcmp(back, a + 4 * 4096, 4 * 4096), 0);
    pagefile_close();
}

Test(pagefile, crc32c_known_values)
{
    cr_assert_eq(crc32c("123456789", 9), 0xe3069283u);
    cr_assert_eq(crc32c_portable("123456789", 9), 0xe3069283u);
    uint8_t *pg = ialloc_pages(4096);
    cr_assert_eq(crc32c(pg, 4096), crc32c_portable(pg, 4096));
    pattern(pg, 1, 9);
    cr_assert_eq(crc32c(pg, 4096), crc32c_portable(pg, 4096), "hw %d", crc32c_hw());
    cr_assert_eq(crc32c(pg + 1, 4093), crc32c_portable(pg + 1, 4093), "unaligned tail");
    /* the interleaved path for whole pages, once prepared */
    crc32c_init();
    for (int seed = 0; seed < 64; seed++) {
        for (size_t i = 0; i < 4096; i++)
            pg[i] = (uint8_t)((i * 2654435761u + (size_t)seed * 40503u) >> 11);
        cr_assert_eq(crc32c(pg, 4096), crc32c_portable(pg, 4096), "seed %d", seed);
        cr_assert_eq(crc32c(pg + 3, 4093), crc32c_portable(pg + 3, 4093), "seed %d", seed);
    }
    cr_assert_eq(crc32c("123456789", 9), 0xe3069283u);
}

/* A submission that fails while earlier requests are in flight: the call
 * must not return before they complete (they point into its stack and the
 * caller's buffers), and the thread's next I/O must be sound. */
Test(pagefile, submit_error_waits_for_requests_in_flight)
{
    enum { N = 200 }; /* more than a ring's depth: several submissions */
    open_tmp(1024 * 4096);
    uint8_t *buf = ialloc_pages((size_t)N * 4096), *back = ialloc_pages(4096);
    struct pf_write w[N];
    uint32_t first;
    cr_assert_eq(pagefile_alloc(N, &first), 0);
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < N; i++) {
            memset(buf + i * 4096, (int)(i * 3 + (size_t)round + 1), 4096);
            w[i] = (struct pf_write){ .slot = first + (uint32_t)i, .buf = buf + i * 4096,
                                      .npages = 1, .result = -1 };
        }
        pagefile_inject_submit_error(ENOMEM);
        int e = pagefile_write_batch(w, N);
        pagefile_inject_submit_error(0);
        /* each entry has its own result: those the kernel had taken ran */
        int first_err = 0;
        for (size_t i = 0; i < N && !first_err; i++)
            first_err = w[i].result;
        cr_assert_eq(e, first_err, "round %d: returned %d, first entry error %d", round, e,
                     first_err);
        cr_assert_eq(pagefile_thread_inflight(), 0,
                     "round %d: returned with %u requests in flight", round,
                     pagefile_thread_inflight());
        /* every entry has a result; those that succeeded read back */
        size_t ok = 0;
        for (size_t i = 0; i < N; i++) {
            cr_assert(w[i].result == 0 || w[i].result == ENOMEM, "entry %zu: result %d", i,
                      w[i].result);
            if (w[i].result)
                continue;
            ok++;
            cr_assert_eq(pagefile_read(first + (uint32_t)i, back, 1), 0);
            cr_assert_eq(memcmp(back, buf + i * 4096, 4096), 0, "entry %zu", i);
        }
        cr_assert_gt(ok, 0, "the requests submitted before the error completed");
        cr_assert_eq(pagefile_thread_inflight(), 0);
    }
    pagefile_close();
}

/* The same race without the hook: threads allocate, write, read back and
 * free single slots at once, so one thread's free meets another's reuse. */
enum { RACERS = 4, RACE_ROUNDS = 3000 };
static int race_failures;

static void *slot_racer(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    uint8_t *buf = ialloc_pages(4096), *back = ialloc_pages(4096);
    for (int i = 0; i < RACE_ROUNDS; i++) {
        uint32_t s;
        if (pagefile_alloc(1, &s) != 0)
            continue;
        memset(buf, (int)(id * 61 + (uintptr_t)i) | 1, 4096);
        struct pf_write w = { .slot = s, .buf = buf, .npages = 1 };
        if (pagefile_write_batch(&w, 1) != 0 || pagefile_read(s, back, 1) != 0 ||
            memcmp(back, buf, 4096) != 0)
            __atomic_add_fetch(&race_failures, 1, __ATOMIC_RELAXED);
        pagefile_free(s, 1);
    }
    ifree_pages(buf, 4096);
    ifree_pages(back, 4096);
    return NULL;
}

Test(pagefile, threads_free_and_reuse_slots)
{
    /* on tmpfs, so the I/O is quick and the frees and reuses many */
    cr_assert_eq(pagefile_open("/dev/shm", 64 * 4096, err, sizeof(err)), 0, "%s", err);
    pthread_t t[RACERS];
    for (uintptr_t i = 0; i < RACERS; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, slot_racer, (void *)i), 0);
    for (int i = 0; i < RACERS; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(race_failures, 0, "%d slots lost their data to a free", race_failures);
    cr_assert_eq(pagefile_used(), 0);
    pagefile_close();
}
