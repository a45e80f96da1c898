/*
 * test_cap_strict.c -- the resident cap is a hard bound: with the
 * working-set manager held (as if starved), threads faulting pages in --
 * demand-zero clusters, clustered and prefetched page-ins, standby and
 * compressed-store hits -- make their own room, and the working set,
 * sampled after every page touched, never passes the cap + 1%; nor does
 * libvmem's own peak.  Only when nothing can leave RAM (every page
 * locked) is the cap passed, and each page over it counted.
 *
 * Each test sets its paging path (VMEM_TRIM, VMEM_STANDBY ...) before
 * paging starts; the suite runs the file in every fault mode.
 */
#include <criterion/criterion.h>
#include <memoryapi.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <vmem.h>

#include "compress/store.h"
#include "core/stats.h"
#include "paging/standby.h"
#include "paging/wsmanager.h"

#include "section_util.h"

#define CAP_PAGES ((size_t)256)        /* 1 MiB */
#define NPAGES    (4 * CAP_PAGES)      /* the footprint: four times the cap */
#define NTHREADS  4
#define BOUND     (CAP_PAGES + CAP_PAGES / 100) /* the cap + 1% */

static uint8_t *base;
static uint64_t worst_ws, worst_ram; /* atomic: the highest samples */
static uint64_t bad_pages;           /* atomic: pages read back wrong */

static void raise_to(uint64_t *worst, uint64_t v)
{
    uint64_t w = __atomic_load_n(worst, __ATOMIC_RELAXED);
    while (v > w && !__atomic_compare_exchange_n(worst, &w, v, 0, __ATOMIC_RELAXED,
                                                 __ATOMIC_RELAXED))
        ;
}

/* The working set, and all libvmem holds in RAM -- working set, standby
 * frames and the compressed store's pages and metadata -- after a page was
 * touched.  The second is read under as_lock: a trim takes frames before
 * it counts its pages out of the working set (both under the lock). */
static void sample(void)
{
    struct vmem_stats s;
    if (vmem_get_stats(&s) != 0)
        abort();
    raise_to(&worst_ws, s.working_set);
    as_lock_shared();
    uint64_t ram = __atomic_load_n(&vmem_ctr.working_set, __ATOMIC_RELAXED) + standby_count() +
                   store_charged_pages();
    as_unlock();
    raise_to(&worst_ram, ram);
}

/* Thread t's pages: every NTHREADS-th, so neighbours belong to others
 * and clusters are shared between threads. */
static void *toucher(void *arg)
{
    size_t t = (size_t)(uintptr_t)arg;
    for (uint64_t gen = 1; gen <= 2; gen++) {
        for (size_t page = t; page < NPAGES; page += NTHREADS) {
            if (gen > 1 && !page_intact(base, page, gen - 1))
                __atomic_add_fetch(&bad_pages, 1, __ATOMIC_RELAXED);
            sample();
            fill_page(base, page, gen);
            sample();
        }
    }
    /* and read back, in a different order: page-ins, standby hits */
    for (size_t page = NPAGES - NTHREADS + t; page < NPAGES; page -= NTHREADS) {
        if (!page_intact(base, page, 2))
            __atomic_add_fetch(&bad_pages, 1, __ATOMIC_RELAXED);
        sample();
        if (page < NTHREADS)
            break;
    }
    return NULL;
}

/* NTHREADS threads of fn, thread t given first + t, all joined. */
static void run_threads(void *(*fn)(void *), uintptr_t first)
{
    pthread_t th[NTHREADS];
    for (size_t t = 0; t < NTHREADS; t++)
        cr_assert_eq(pthread_create(&th[t], NULL, fn, (void *)(first + t)), 0);
    for (size_t t = 0; t < NTHREADS; t++)
        pthread_join(th[t], NULL);
}

/* Several threads fault under the cap with the working-set manager held:
 * the faults must make room themselves. */
static void run_held(void)
{
    need_paging(CAP_PAGES * PG);
    base = VirtualAlloc(NULL, NPAGES * PG, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(base, "VirtualAlloc: error %u", (unsigned)GetLastError());
    wsmanager_test_hold(1);
    run_threads(toucher, 0);
    struct vmem_stats s = stats();
    wsmanager_test_hold(0);
    cr_assert_eq(bad_pages, 0, "%llu pages read back wrong", (unsigned long long)bad_pages);
    cr_assert_gt(s.trimmed_pages, 0, "nothing was trimmed: the cap did not bite");
    cr_assert_gt(s.hard_faults + s.transition_faults + s.compress_hits, 0,
                 "nothing was brought back in");
    cr_assert_leq(worst_ws, BOUND, "working set %llu pages, cap %zu",
                  (unsigned long long)worst_ws, CAP_PAGES);
    cr_assert_leq(worst_ram, BOUND,
                  "working set + standby + store %llu pages, cap %zu (%llu over it counted)",
                  (unsigned long long)worst_ram, CAP_PAGES, (unsigned long long)s.cap_overruns);
    cr_assert_leq(s.peak_working_set, BOUND, "peak working set %llu pages, cap %zu",
                  (unsigned long long)s.peak_working_set, CAP_PAGES);
    cr_assert_eq(s.cap_overruns, 0, "%llu pages over the cap, with nothing locked",
                 (unsigned long long)s.cap_overruns);
    for (size_t page = 0; page < NPAGES; page++)
        cr_assert(page_intact(base, page, 2), "page %zu", page);
}

Test(cap_strict, trim_by_move)
{
    setenv("VMEM_TRIM", "move", 1);
    run_held();
}

Test(cap_strict, trim_by_copy)
{
    setenv("VMEM_TRIM", "copy", 1);
    run_held();
}

/* every trimmed page's frame freed once written: room on its way */
Test(cap_strict, standby_off)
{
    setenv("VMEM_STANDBY", "off", 1);
    run_held();
}

/* wide clusters and prefetch windows shrink to the room there is; the
 * neighbours kept in standby frames count too */
Test(cap_strict, wide_prefetch)
{
    setenv("VMEM_ZERO_CLUSTER", "64", 1);
    setenv("VMEM_PREFETCH", "cluster:64", 1);
    run_held();
}

Test(cap_strict, prefetch_into_standby)
{
    setenv("VMEM_PREFETCH", "cluster:32", 1);
    setenv("VMEM_PREFETCH_INSTALL", "standby", 1);
    run_held();
}

/* The neighbours kept in clean standby frames with the standby list off:
 * those frames stay until touched or freed (no page writer takes them),
 * so they are room to free, not room on its way */
Test(cap_strict, prefetch_into_standby_with_standby_off)
{
    setenv("VMEM_STANDBY", "off", 1);
    setenv("VMEM_PREFETCH", "cluster:32", 1);
    setenv("VMEM_PREFETCH_INSTALL", "standby", 1);
    run_held();
}

Test(cap_strict, compressed_store)
{
    setenv("VMEM_COMPRESS", "lz4", 1);
    run_held();
}

/* With the standby list off a trimmed page's frame goes as soon as the
 * page is in the store: the store's RAM is held, not room on its way */
Test(cap_strict, compressed_store_with_standby_off)
{
    setenv("VMEM_COMPRESS", "lz4", 1);
    setenv("VMEM_STANDBY", "off", 1);
    run_held();
}

/* Threads rewriting random pages: trimmed pages are faulted back while the
 * page writer saves them (their frames orphaned), so a writer's pass may
 * save nothing with the page file healthy -- that is not "nothing can
 * leave RAM", and no fault may pass the cap for it. */
#define REWRITES 2000
static uint8_t *view; /* a page-file section's view, or NULL */

static void *rewriter(void *arg)
{
    uint64_t s = (uintptr_t)arg * 0x9E3779B97F4A7C15ull + 1;
    for (int i = 0; i < REWRITES; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        uint8_t *where = view && (s >> 32) % 2 ? view : base;
        __atomic_fetch_add((uint64_t *)(where + (s % NPAGES) * PG), 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static uint64_t sum_of(const uint8_t *m)
{
    uint64_t sum = 0;
    for (size_t page = 0; page < NPAGES; page++)
        sum += *(const uint64_t *)(m + page * PG);
    return sum;
}

Test(cap_strict, rewrites_never_pass_the_cap)
{
    need_paging(CAP_PAGES * PG);
    base = VirtualAlloc(NULL, NPAGES * PG, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(base, "VirtualAlloc: error %u", (unsigned)GetLastError());
    wsmanager_test_hold(1);
    run_threads(rewriter, 1);
    struct vmem_stats s = stats();
    wsmanager_test_hold(0);
    uint64_t sum = sum_of(base);
    cr_assert_eq(sum, (uint64_t)NTHREADS * REWRITES, "increments lost: %llu of %llu",
                 (unsigned long long)sum, (unsigned long long)NTHREADS * REWRITES);
    cr_assert_gt(s.transition_faults + s.hard_faults, 0, "nothing came back: the cap did not bite");
    cr_assert_eq(s.cap_overruns, 0, "%llu pages over the cap, with nothing locked",
                 (unsigned long long)s.cap_overruns);
}

/* The same with a page-file section's view paged beside private memory
 * (its faults make room through the same direct reclaim), the
 * working-set manager running. */
Test(cap_strict, views_and_private_never_pass_the_cap)
{
    need_view_support();
    need_paging(CAP_PAGES * PG);
    base = VirtualAlloc(NULL, NPAGES * PG, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(base, "VirtualAlloc: error %u", (unsigned)GetLastError());
    HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
                                  (DWORD)(NPAGES * PG), NULL);
    cr_assert_not_null(h, "CreateFileMappingA: error %u", (unsigned)GetLastError());
    view = MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, 0);
    cr_assert_not_null(view, "MapViewOfFile: error %u", (unsigned)GetLastError());
    run_threads(rewriter, 1);
    struct vmem_stats s = stats();
    uint64_t sum = sum_of(base) + sum_of(view);
    cr_assert_eq(sum, (uint64_t)NTHREADS * REWRITES, "increments lost: %llu of %llu",
                 (unsigned long long)sum, (unsigned long long)NTHREADS * REWRITES);
    cr_assert_eq(s.cap_overruns, 0, "%llu pages over the cap, with nothing locked",
                 (unsigned long long)s.cap_overruns);
    cr_assert(UnmapViewOfFile(view));
    view = NULL;
    cr_assert(CloseHandle(h));
}

/* Every page in RAM locked: nothing can leave it, so a fault takes one
 * page over the cap, counted; the page it installs can itself be trimmed,
 * so the working set stays within a page or two of the cap. */
Test(cap_strict, all_locked_is_counted)
{
    need_paging(CAP_PAGES * PG);
    uint8_t *locked = VirtualAlloc(NULL, CAP_PAGES * PG, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(locked);
    cr_assert(VirtualLock(locked, CAP_PAGES * PG), "VirtualLock: error %u",
              (unsigned)GetLastError());
    base = VirtualAlloc(NULL, 64 * PG, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(base);
    wsmanager_test_hold(1);
    for (size_t page = 0; page < 64; page++) {
        fill_page(base, page, 1);
        sample();
    }
    struct vmem_stats s = stats();
    wsmanager_test_hold(0);
    cr_assert_gt(s.cap_overruns, 0, "the cap was passed without being counted");
    cr_assert_leq(worst_ws, CAP_PAGES + s.cap_overruns, "working set %llu, cap %zu, %llu "
                  "counted over it", (unsigned long long)worst_ws, CAP_PAGES,
                  (unsigned long long)s.cap_overruns);
    for (size_t page = 0; page < 64; page++)
        cr_assert(page_intact(base, page, 1), "page %zu", page);
}
