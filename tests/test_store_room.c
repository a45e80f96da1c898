/*
 * test_store_room.c -- the compressed store takes its RAM under the cap:
 * the page writer puts pages in the store only as the frames they leave
 * make room, so what libvmem holds (working set + standby frames + the
 * store's pages and metadata), sampled after every page touched, stays
 * within the cap + 1%; and it never refuses the store a page for lack of
 * room, so a page file that is full or failing does not push pages over
 * the cap, and pages that fit the store never go to the page file.
 *
 * The pages are text (about ten times compressible), or of many
 * compressed sizes.  The suite runs the file in every fault mode.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <memoryapi.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vmem.h>

#include "compress/store.h"
#include "core/stats.h"
#include "pagefile/pagefile.h"
#include "paging/standby.h"
#include "helpers.h"

#define CAP   ((size_t)256) /* pages: 1 MiB */
#define BOUND (CAP + CAP / 100)
#define NT    4

static uint8_t *base;
static size_t np;
static uint64_t bad, worst; /* atomic */

static void fill_at(uint8_t *p, size_t page, uint64_t gen)
{
    memset(p, ' ', PG);
    for (size_t line = 0; line < PG / 64; line++)
        snprintf((char *)p + line * 64, 64, "page %010zu gen %010llu line %03zu: lorem ipsum",
                 page, (unsigned long long)gen, line);
}

/* Pages that compress to many sizes: k random bytes (k below 2900) and a
 * run of one byte, so puts land in most of the store's size classes and
 * many open a chunk (1 to 4 pages) for their class. */
static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

static void fill_sized(uint8_t *p, size_t page, uint64_t gen)
{
    uint64_t s = mix(page * 1000003ull + gen) | 1;
    size_t k = (size_t)(mix(page ^ (gen << 20)) % 2900) & ~(size_t)7;
    for (size_t i = 0; i < k / 8; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        memcpy(p + i * 8, &s, 8);
    }
    memset(p + k, (int)gen, PG - k);
}

static void (*filler)(uint8_t *, size_t, uint64_t) = fill_at;

static int intact(size_t page, uint64_t gen)
{
    static __thread uint8_t want[PG];
    filler(want, page, gen);
    return memcmp(base + page * PG, want, PG) == 0;
}

/* All libvmem holds in RAM, read under as_lock (a trim takes frames
 * before it counts its pages out of the working set, both under it). */
static void sample(void)
{
    as_lock_shared();
    uint64_t ram = __atomic_load_n(&vmem_ctr.working_set, __ATOMIC_RELAXED) + standby_count() +
                   store_charged_pages();
    as_unlock();
    uint64_t w = __atomic_load_n(&worst, __ATOMIC_RELAXED);
    while (ram > w && !__atomic_compare_exchange_n(&worst, &w, ram, 0, __ATOMIC_RELAXED,
                                                   __ATOMIC_RELAXED))
        ;
}

static void *toucher(void *arg)
{
    size_t t = (size_t)(uintptr_t)arg;
    static __thread uint8_t buf[PG];
    for (uint64_t gen = 1; gen <= 3; gen++)
        for (size_t page = t; page < np; page += NT) {
            if (gen > 1 && !intact(page, gen - 1))
                __atomic_add_fetch(&bad, 1, __ATOMIC_RELAXED);
            filler(buf, page, gen);
            memcpy(base + page * PG, buf, PG);
            sample();
        }
    return NULL;
}

/* NT threads write np pages three times over, checking each before. */
static struct vmem_stats run(size_t pages)
{
    np = pages;
    setenv("VMEM_COMPRESS", "lz4", 1);
    need_paging(CAP * PG);
    base = VirtualAlloc(NULL, np * PG, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(base, "VirtualAlloc: error %u", (unsigned)GetLastError());
    pthread_t th[NT];
    for (size_t t = 0; t < NT; t++)
        cr_assert_eq(pthread_create(&th[t], NULL, toucher, (void *)(uintptr_t)t), 0);
    for (size_t t = 0; t < NT; t++)
        pthread_join(th[t], NULL);
    struct vmem_stats s = stats();
    cr_assert_eq(bad, 0, "%llu pages read back wrong", (unsigned long long)bad);
    cr_assert_gt(s.compress_stored, 0, "nothing went to the store");
    cr_assert_leq(worst, BOUND, "working set + standby + store reached %llu pages, cap %zu",
                  (unsigned long long)worst, CAP);
    return s;
}

/* Every page-file I/O fails: the store is the only place pages can go,
 * and it can hold them all. */
Test(room, pagefile_failing)
{
    pagefile_inject_errors(1, EIO);
    struct vmem_stats s = run(400);
    pagefile_inject_errors(0, 0);
    cr_assert_eq(s.cap_overruns, 0, "%llu pages over the cap (%llu put in the store)",
                 (unsigned long long)s.cap_overruns, (unsigned long long)s.compress_stored);
}

/* A page file of 64 pages, full after a while; the store has room. */
Test(room, pagefile_full)
{
    setenv("VMEM_PAGEFILE_MAX", "256K", 1);
    struct vmem_stats s = run(300); /* the commit limit is 320 pages */
    cr_assert_eq(s.cap_overruns, 0, "%llu pages over the cap (%llu put in the store)",
                 (unsigned long long)s.cap_overruns, (unsigned long long)s.compress_stored);
}

/* A healthy page file and pages whose compressed form fits the store's
 * share many times over: none goes to the page file. */
Test(room, fits_in_store)
{
    struct vmem_stats s = run(400);
    cr_assert_eq(s.pages_written, 0, "%llu pages written to the page file, %llu hard faults",
                 (unsigned long long)s.pages_written, (unsigned long long)s.hard_faults);
    cr_assert_eq(s.cap_overruns, 0, "%llu pages over the cap", (unsigned long long)s.cap_overruns);
}

/* Pages of many compressed sizes: puts open chunks, each of up to 4 pages
 * for the one frame it frees; the store still grows only into room. */
Test(room, pages_of_many_sizes)
{
    filler = fill_sized;
    struct vmem_stats s = run(400);
    cr_assert_eq(s.cap_overruns, 0, "%llu pages over the cap", (unsigned long long)s.cap_overruns);
}

Test(room, pages_of_many_sizes_with_standby_off)
{
    setenv("VMEM_STANDBY", "off", 1);
    filler = fill_sized;
    struct vmem_stats s = run(400);
    cr_assert_eq(s.cap_overruns, 0, "%llu pages over the cap", (unsigned long long)s.cap_overruns);
}
