/*
 * test_writewatch.c -- GetWriteWatch and ResetWriteWatch on MEM_WRITE_WATCH
 * reservations.  Without userfaultfd (VMEM_FAULT_MODE=kernel) write watch is
 * not supported: there the only thing tested is that GetWriteWatch says so.
 */
#include <memoryapi.h>

#include "helpers.h"
#include <vmem.h>
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdint.h>

static int kernel_mode(void)
{
    struct vmem_config cfg;
    cr_assert_eq(vmem_get_config(&cfg), 0);
    return cfg.fault_mode == VMEM_FAULT_KERNEL;
}

#define require_write_watch()                                                       \
    do {                                                                            \
        if (kernel_mode())                                                          \
            cr_skip_test("write watch is not supported in VMEM_FAULT_MODE=kernel"); \
    } while (0)

/* A committed read-write MEM_WRITE_WATCH region of npages pages. */
static unsigned char *alloc_watched(size_t npages)
{
    unsigned char *p = VirtualAlloc(NULL, npages * PG, MEM_RESERVE | MEM_WRITE_WATCH,
                                    PAGE_READWRITE);
    cr_assert_not_null(p, "reserve: error %u", (unsigned)GetLastError());
    cr_assert_eq(VirtualAlloc(p, npages * PG, MEM_COMMIT, PAGE_READWRITE), (void *)p,
                 "commit: error %u", (unsigned)GetLastError());
    return p;
}

/* GetWriteWatch into addrs[0..cap); returns the count, asserting success. */
static ULONG_PTR watch(DWORD flags, void *base, size_t size, PVOID *addrs, ULONG_PTR cap)
{
    ULONG_PTR count = cap;
    DWORD gran = 0;
    UINT r = GetWriteWatch(flags, base, size, addrs, &count, &gran);
    cr_assert_eq(r, 0u, "GetWriteWatch returned %u, error %u", r, (unsigned)GetLastError());
    cr_assert_eq(gran, 4096u, "granularity %u", (unsigned)gran);
    cr_assert_leq(count, cap);
    return count;
}

#define assert_watch_fails(flags, base, size, addrs, countp)                          \
    do {                                                                              \
        DWORD gran_;                                                                  \
        SetLastError(0);                                                              \
        UINT r_ = GetWriteWatch((flags), (base), (size), (addrs), (countp), &gran_);  \
        DWORD e_ = GetLastError();                                                    \
        cr_assert_neq(r_, 0u, "GetWriteWatch should fail");                           \
        cr_assert_eq(e_, (DWORD)ERROR_INVALID_PARAMETER, "GetLastError %u, want 87",  \
                     (unsigned)e_);                                                   \
    } while (0)

/* ---- kernel mode -------------------------------------------------------- */

Test(writewatch, not_supported_in_kernel_mode)
{
    if (!kernel_mode())
        cr_skip_test("write watch is supported in this mode");
    unsigned char *p = alloc_watched(4);
    p[0] = 1;
    PVOID addrs[4];
    ULONG_PTR count = 4;
    DWORD gran = 0;
    SetLastError(0);
    UINT r = GetWriteWatch(0, p, 4 * PG, addrs, &count, &gran);
    cr_assert_neq(r, 0u, "GetWriteWatch must fail without userfaultfd");
    cr_assert_eq(GetLastError(), (DWORD)ERROR_NOT_SUPPORTED, "GetLastError %u",
                 (unsigned)GetLastError());
    release(p);
}

/* ---- tracking ------------------------------------------------------------- */

Test(writewatch, lists_written_pages_in_order)
{
    require_write_watch();
    unsigned char *p = alloc_watched(16);
    p[3 * PG + 10] = 1;
    p[7 * PG] = 2;
    p[1 * PG + PG - 1] = 3;
    p[3 * PG + 20] = 4; /* a second write to page 3 */
    PVOID addrs[16];
    memset(addrs, 0, sizeof addrs);
    ULONG_PTR n = watch(0, p, 16 * PG, addrs, 16);
    cr_assert_eq(n, 3u, "count %lu, want 3", (unsigned long)n);
    cr_assert_eq(addrs[0], (void *)(p + 1 * PG));
    cr_assert_eq(addrs[1], (void *)(p + 3 * PG));
    cr_assert_eq(addrs[2], (void *)(p + 7 * PG));
    release(p);
}

Test(writewatch, nothing_written_nothing_listed)
{
    require_write_watch();
    unsigned char *p = alloc_watched(8);
    PVOID addrs[8];
    cr_assert_eq(watch(0, p, 8 * PG, addrs, 8), 0u, "commit alone is not a write");
    release(p);
}

Test(writewatch, reads_are_not_reported)
{
    require_write_watch();
    unsigned char *p = alloc_watched(8);
    volatile unsigned char *v = p;
    unsigned sum = 0;
    for (size_t i = 0; i < 8; i++)
        sum += v[i * PG + 5];
    cr_assert_eq(sum, 0u);
    v[6 * PG] = 1;
    PVOID addrs[8];
    ULONG_PTR n = watch(0, p, 8 * PG, addrs, 8);
    cr_assert_eq(n, 1u, "count %lu: reads were reported", (unsigned long)n);
    cr_assert_eq(addrs[0], (void *)(p + 6 * PG));
    release(p);
}

Test(writewatch, without_reset_flag_stays_listed)
{
    require_write_watch();
    unsigned char *p = alloc_watched(4);
    p[2 * PG] = 1;
    PVOID addrs[4];
    cr_assert_eq(watch(0, p, 4 * PG, addrs, 4), 1u);
    cr_assert_eq(watch(0, p, 4 * PG, addrs, 4), 1u);
    cr_assert_eq(addrs[0], (void *)(p + 2 * PG));
    release(p);
}

Test(writewatch, reset_flag)
{
    require_write_watch();
    unsigned char *p = alloc_watched(8);
    p[0] = 1;
    p[5 * PG] = 1;
    PVOID addrs[8];
    cr_assert_eq(watch(WRITE_WATCH_FLAG_RESET, p, 8 * PG, addrs, 8), 2u);
    cr_assert_eq(addrs[0], (void *)p);
    cr_assert_eq(addrs[1], (void *)(p + 5 * PG));
    cr_assert_eq(watch(WRITE_WATCH_FLAG_RESET, p, 8 * PG, addrs, 8), 0u,
                 "reset: nothing until written again");
    cr_assert_eq(watch(0, p, 8 * PG, addrs, 8), 0u);
    p[5 * PG + 1] = 2;
    cr_assert_eq(watch(0, p, 8 * PG, addrs, 8), 1u);
    cr_assert_eq(addrs[0], (void *)(p + 5 * PG));
    cr_assert_eq(p[0], 1, "contents unaffected");
    release(p);
}

Test(writewatch, reset_write_watch)
{
    require_write_watch();
    unsigned char *p = alloc_watched(8);
    p[PG] = 1;
    p[4 * PG] = 1;
    cr_assert_eq(ResetWriteWatch(p, 8 * PG), 0u, "error %u", (unsigned)GetLastError());
    PVOID addrs[8];
    cr_assert_eq(watch(0, p, 8 * PG, addrs, 8), 0u);
    p[4 * PG + 1] = 1;
    cr_assert_eq(watch(0, p, 8 * PG, addrs, 8), 1u);
    cr_assert_eq(addrs[0], (void *)(p + 4 * PG));
    release(p);
}

Test(writewatch, reset_part_of_region)
{
    require_write_watch();
    unsigned char *p = alloc_watched(8);
    p[PG] = 1;
    p[6 * PG] = 1;
    cr_assert_eq(ResetWriteWatch(p, 4 * PG), 0u);
    PVOID addrs[8];
    cr_assert_eq(watch(0, p, 8 * PG, addrs, 8), 1u);
    cr_assert_eq(addrs[0], (void *)(p + 6 * PG));
    release(p);
}

Test(writewatch, query_part_of_region)
{
    require_write_watch();
    unsigned char *p = alloc_watched(16);
    p[PG] = 1;
    p[5 * PG] = 1;
    p[10 * PG] = 1;
    PVOID addrs[16];
    cr_assert_eq(watch(0, p + 4 * PG, 4 * PG, addrs, 16), 1u);
    cr_assert_eq(addrs[0], (void *)(p + 5 * PG));
    release(p);
}

Test(writewatch, buffer_too_small)
{
    require_write_watch();
    unsigned char *p = alloc_watched(16);
    p[3 * PG] = 1;
    p[7 * PG] = 1;
    p[PG] = 1;
    PVOID addrs[3] = { NULL, NULL, (PVOID)(uintptr_t)0x1234 };
    ULONG_PTR n = watch(0, p, 16 * PG, addrs, 2);
    cr_assert_eq(n, 2u, "count %lu, want 2", (unsigned long)n);
    cr_assert_eq(addrs[0], (void *)(p + PG));
    cr_assert_eq(addrs[1], (void *)(p + 3 * PG));
    cr_assert_eq(addrs[2], (PVOID)(uintptr_t)0x1234, "wrote past the caller's count");
    release(p);
}

Test(writewatch, many_pages)
{
    require_write_watch();
    unsigned char *p = alloc_watched(64);
    for (size_t i = 0; i < 64; i += 2)
        p[i * PG + i] = (unsigned char)i;
    PVOID addrs[64];
    ULONG_PTR n = watch(WRITE_WATCH_FLAG_RESET, p, 64 * PG, addrs, 64);
    cr_assert_eq(n, 32u);
    for (size_t k = 0; k < 32; k++)
        cr_assert_eq(addrs[k], (void *)(p + 2 * k * PG), "entry %zu", k);
    memset(p, 0xFF, 64 * PG);
    cr_assert_eq(watch(0, p, 64 * PG, addrs, 64), 64u);
    release(p);
}

/* ---- errors ------------------------------------------------------------------ */

Test(writewatch, region_not_watched)
{
    require_write_watch();
    unsigned char *p = alloc_committed(4 * PG, PAGE_READWRITE);
    p[0] = 1;
    PVOID addrs[4];
    ULONG_PTR count = 4;
    assert_watch_fails(0, p, 4 * PG, addrs, &count);
    release(p);
}

/* NULL pointers: test_conformance_writewatch.c (ERROR_NOACCESS, as on Windows) */

Test(writewatch, bad_flags)
{
    require_write_watch();
    unsigned char *p = alloc_watched(4);
    PVOID addrs[4];
    ULONG_PTR count = 4;
    assert_watch_fails(2, p, 4 * PG, addrs, &count);
    release(p);
}

Test(writewatch, outside_reservation)
{
    require_write_watch();
    unsigned char *p = alloc_watched(4);
    release(p);
    PVOID addrs[4];
    ULONG_PTR count = 4;
    assert_watch_fails(0, p, 4 * PG, addrs, &count);
}

/* Under paging, a page trimmed to standby and written comes back writable
 * at once: the write must be on record before the writing thread goes on,
 * or a GetWriteWatch right after it misses the page. */
static uint8_t *ww_region;
static size_t ww_pages;
static volatile int ww_stop;

static void *ww_writer(void *arg)
{
    uint64_t s = (uintptr_t)arg * 2654435761u + 77;
    while (!ww_stop) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        ww_region[((s >> 33) % (ww_pages / 2)) * 4096 + ((s >> 20) & 4095)]++;
    }
    return NULL;
}

Test(writewatch, paged_writes_are_never_missed)
{
    need_paging(1 * MIB);
    ww_pages = (8u << 20) / 4096; /* eight times the cap */
    ww_region = VirtualAlloc(NULL, ww_pages * 4096, MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH,
                             PAGE_READWRITE);
    cr_assert_not_null(ww_region);
    for (size_t i = 0; i < ww_pages; i++)
        ww_region[i * 4096] = 1;
    pthread_t t[2];
    for (uintptr_t i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, ww_writer, (void *)i), 0);
    static void *addrs[64];
    uint64_t s = 99;
    size_t misses = 0;
    for (int it = 0; it < 3000; it++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        size_t n = 1 + (s >> 33) % 64;
        size_t first = ww_pages / 2 + (s >> 40) % (ww_pages / 2 - n);
        uint8_t *p = ww_region + first * 4096;
        cr_assert_eq(ResetWriteWatch(p, n * 4096), 0);
        size_t w = first + (s >> 20) % n;
        ww_region[w * 4096 + ((s >> 8) & 4095)]++;
        ULONG_PTR count = 64;
        DWORD gran;
        cr_assert_eq(GetWriteWatch(0, p, n * 4096, addrs, &count, &gran), 0);
        int found = 0;
        for (ULONG_PTR k = 0; k < count; k++)
            found |= addrs[k] == (void *)(ww_region + w * 4096);
        misses += !found;
    }
    ww_stop = 1;
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(misses, 0, "%zu written pages not listed", misses);
}
