/*
 * test_virtualalloc.c -- VirtualAlloc: argument checks, reserving, committing,
 * address rounding, MEM_TOP_DOWN and zero fill.  (MEM_RESET is in
 * test_reset.c, MEM_WRITE_WATCH's tracking in test_writewatch.c.)
 */
#include <memoryapi.h>

#include "helpers.h"
#include <criterion/criterion.h>

#include <stdint.h>

static char *reserve(size_t size)
{
    char *p = VirtualAlloc(NULL, size, MEM_RESERVE, PAGE_READWRITE);
    cr_assert_not_null(p, "reserve %#zx: error %u", size, (unsigned)GetLastError());
    return p;
}

/* A 64 KiB-aligned address with nothing mapped at it (size bytes free). */
/* Address space that is free now: the bottom of a larger hole, since the
 * kernel hands out the top of a hole first (other threads of the process,
 * a sanitizer's allocator say, may map memory meanwhile). */
static char *free_address(size_t size)
{
    char *p = reserve(size + 64 * GRAN);
    release(p);
    return p;
}

/* Offset of the first nonzero byte of p[0..n), or n if all are zero. */
static size_t first_nonzero(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] == 0)
        i++;
    return i;
}

static int some_global = 42;


/* ---- argument checks --------------------------------------------------- */

Test(virtualalloc, size_zero)
{
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, 0, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, 0, MEM_RESERVE, PAGE_READWRITE);
    char *p = reserve(GRAN);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, p, 0, MEM_COMMIT, PAGE_READWRITE);
    release(p);
}

Test(virtualalloc, bad_allocation_type)
{
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, PG, 0, PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, PG, 0x1, PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, PG, MEM_DECOMMIT, PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, PG, MEM_TOP_DOWN, PAGE_READWRITE);
    /* a valid type with an unknown bit */
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, PG, MEM_RESERVE | 0x1, PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, PG, MEM_COMMIT | MEM_DECOMMIT, PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, PG, MEM_RESERVE | MEM_RELEASE, PAGE_READWRITE);
}

Test(virtualalloc, write_watch_needs_reserve)
{
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, PG, MEM_WRITE_WATCH, PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, PG, MEM_COMMIT | MEM_WRITE_WATCH, PAGE_READWRITE);
    char *p = reserve(GRAN);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, p, PG, MEM_COMMIT | MEM_WRITE_WATCH, PAGE_READWRITE);
    cr_assert_eq(query(p).State, (DWORD)MEM_RESERVE, "nothing committed");
    release(p);
}

Test(virtualalloc, large_pages_and_physical_not_supported)
{
    assert_alloc_fails(ERROR_NOT_SUPPORTED, NULL, 2 << 20,
                       MEM_RESERVE | MEM_COMMIT | MEM_LARGE_PAGES, PAGE_READWRITE);
    assert_alloc_fails(ERROR_NOT_SUPPORTED, NULL, GRAN, MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE);
}

Test(virtualalloc, invalid_protection)
{
    char *p = reserve(GRAN);
    for (size_t i = 0; i < NBAD_PROTECTS; i++) {
        DWORD prot = bad_protects[i];
        assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, PG, MEM_RESERVE | MEM_COMMIT, prot);
        assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, PG, MEM_RESERVE, prot);
        assert_alloc_fails(ERROR_INVALID_PARAMETER, p, PG, MEM_COMMIT, prot);
    }
    cr_assert_eq(query(p).State, (DWORD)MEM_RESERVE, "nothing committed");
    release(p);
}

/* ---- reserving ------------------------------------------------------------ */

Test(virtualalloc, reserve_null_rounds_size_to_pages)
{
    static const struct { size_t ask, want; } cases[] = {
        { 1, PG }, { PG, PG }, { 5000, 2 * PG }, { GRAN + 1, GRAN + PG },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *p = VirtualAlloc(NULL, cases[i].ask, MEM_RESERVE, PAGE_READWRITE);
        cr_assert_not_null(p, "error %u", (unsigned)GetLastError());
        cr_assert_eq((uintptr_t)p % GRAN, 0u, "base %p not 64K-aligned", (void *)p);
        MEMORY_BASIC_INFORMATION m = query(p);
        cr_assert_eq(m.BaseAddress, (void *)p);
        cr_assert_eq(m.AllocationBase, (void *)p);
        cr_assert_eq(m.RegionSize, cases[i].want, "size %#zx: RegionSize %#zx, want %#zx",
                     cases[i].ask, m.RegionSize, cases[i].want);
        cr_assert_eq(m.State, (DWORD)MEM_RESERVE);
        cr_assert_eq(m.Protect, 0u);
        cr_assert_eq(m.AllocationProtect, (DWORD)PAGE_READWRITE);
        cr_assert_eq(m.Type, (DWORD)MEM_PRIVATE);
        release(p);
    }
}

Test(virtualalloc, reserve_records_allocation_protect)
{
    static const DWORD prots[] = {
        PAGE_NOACCESS, PAGE_READONLY, PAGE_EXECUTE_READ,
        PAGE_READWRITE | PAGE_GUARD, PAGE_READONLY | PAGE_NOCACHE,
    };
    for (size_t i = 0; i < sizeof prots / sizeof prots[0]; i++) {
        char *p = VirtualAlloc(NULL, 3 * PG, MEM_RESERVE, prots[i]);
        cr_assert_not_null(p, "protect %#x: error %u", (unsigned)prots[i], (unsigned)GetLastError());
        MEMORY_BASIC_INFORMATION m = query(p + PG);
        cr_assert_eq(m.AllocationProtect, prots[i], "AllocationProtect %#x, want %#x",
                     (unsigned)m.AllocationProtect, (unsigned)prots[i]);
        cr_assert_eq(m.AllocationBase, (void *)p);
        cr_assert_eq(m.State, (DWORD)MEM_RESERVE);
        cr_assert_eq(m.Protect, 0u);
        release(p);
    }
}

Test(virtualalloc, reserve_at_address_rounds_down_to_granularity)
{
    char *free = free_address(4 * GRAN);
    char *want = free + GRAN;
    char *ask = want + 0x1234; /* not 64K-aligned */
    char *p = VirtualAlloc(ask, PG, MEM_RESERVE, PAGE_READWRITE);
    cr_assert_eq(p, want, "VirtualAlloc(%p) returned %p, want %p (error %u)",
                 (void *)ask, (void *)p, (void *)want, (unsigned)GetLastError());
    /* every page holding a byte of [ask, ask+size) is in the reservation */
    MEMORY_BASIC_INFORMATION m = query(ask + PG - 1);
    cr_assert_eq(m.AllocationBase, (void *)want);
    cr_assert_eq(m.State, (DWORD)MEM_RESERVE);
    cr_assert_eq(query(want).AllocationBase, (void *)want);
    release(want);
}

Test(virtualalloc, reserve_over_reservation_fails)
{
    char *p = reserve(2 * GRAN);
    assert_alloc_fails(ERROR_INVALID_ADDRESS, p, GRAN, MEM_RESERVE, PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_ADDRESS, p + GRAN, GRAN, MEM_RESERVE, PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_ADDRESS, p, GRAN, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    cr_assert_eq(query(p).State, (DWORD)MEM_RESERVE, "existing reservation unharmed");
    cr_assert_eq(query(p).AllocationBase, (void *)p);
    release(p);
}

Test(virtualalloc, reserve_running_into_reservation_fails)
{
    char *f = free_address(3 * GRAN);
    char *p = VirtualAlloc(f + GRAN, GRAN, MEM_RESERVE, PAGE_READWRITE);
    cr_assert_eq(p, f + GRAN, "error %u", (unsigned)GetLastError());
    /* starts in free space, ends inside p; (another thread of the process,
     * a sanitizer's allocator say, may map f meanwhile: compare states) */
    DWORD before = query(f).State;
    assert_alloc_fails(ERROR_INVALID_ADDRESS, f, 2 * GRAN, MEM_RESERVE, PAGE_READWRITE);
    cr_assert_eq(query(f).State, before, "the failed reservation left nothing");
    cr_assert_eq(query(p).AllocationBase, (void *)p);
    release(p);
}

Test(virtualalloc, reserve_over_existing_mapping_fails)
{
    assert_alloc_fails(ERROR_INVALID_ADDRESS, &some_global, PG, MEM_RESERVE, PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_ADDRESS, &some_global, PG, MEM_RESERVE | MEM_COMMIT,
                       PAGE_READWRITE);
    cr_assert_eq(some_global, 42, "the global must be untouched");
    some_global = 43;
    cr_assert_eq(some_global, 43);
}

/* ---- committing ----------------------------------------------------------- */

Test(virtualalloc, commit_null_reads_zero_and_is_writable)
{
    static const DWORD types[] = { MEM_COMMIT, MEM_COMMIT | MEM_RESERVE };
    for (size_t t = 0; t < 2; t++) {
        size_t size = 3 * PG + 1;
        unsigned char *p = VirtualAlloc(NULL, size, types[t], PAGE_READWRITE);
        cr_assert_not_null(p, "type %#x: error %u", (unsigned)types[t], (unsigned)GetLastError());
        cr_assert_eq((uintptr_t)p % GRAN, 0u);
        cr_assert_eq(first_nonzero(p, 4 * PG), 4 * PG, "fresh memory not zero");
        for (size_t i = 0; i < 4 * PG; i++)
            p[i] = (unsigned char)(i * 7 + 1);
        size_t bad = 0;
        for (size_t i = 0; i < 4 * PG; i++)
            bad += p[i] != (unsigned char)(i * 7 + 1);
        cr_assert_eq(bad, 0u, "%zu bytes did not keep what was written", bad);
        MEMORY_BASIC_INFORMATION m = query(p);
        cr_assert_eq(m.State, (DWORD)MEM_COMMIT);
        cr_assert_eq(m.Protect, (DWORD)PAGE_READWRITE);
        cr_assert_eq(m.RegionSize, 4 * PG);
        cr_assert_eq(m.AllocationBase, (void *)p);
        cr_assert_eq(m.Type, (DWORD)MEM_PRIVATE);
        release(p);
    }
}

Test(virtualalloc, commit_in_reservation_rounds_to_page)
{
    char *p = reserve(GRAN);
    char *r = VirtualAlloc(p + PG + 0x234, 100, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_eq(r, p + PG, "returned %p, want %p (error %u)", (void *)r, (void *)(p + PG),
                 (unsigned)GetLastError());
    MEMORY_BASIC_INFORMATION m = query(p + PG);
    cr_assert_eq(m.State, (DWORD)MEM_COMMIT);
    cr_assert_eq(m.RegionSize, PG);
    cr_assert_eq(m.Protect, (DWORD)PAGE_READWRITE);
    cr_assert_eq(query(p).State, (DWORD)MEM_RESERVE, "page 0 stays reserved");
    cr_assert_eq(query(p + 2 * PG).State, (DWORD)MEM_RESERVE, "page 2 stays reserved");

    /* a small range straddling a page boundary commits both pages */
    r = VirtualAlloc(p + 4 * PG - 0x10, 0x20, MEM_COMMIT, PAGE_READONLY);
    cr_assert_eq(r, p + 3 * PG, "returned %p, want %p", (void *)r, (void *)(p + 3 * PG));
    m = query(p + 3 * PG);
    cr_assert_eq(m.State, (DWORD)MEM_COMMIT);
    cr_assert_eq(m.Protect, (DWORD)PAGE_READONLY);
    cr_assert_eq(m.RegionSize, 2 * PG);
    cr_assert_eq(p[3 * PG], 0);
    cr_assert_eq(p[5 * PG - 1], 0);
    p[PG + 5] = 9;
    cr_assert_eq(p[PG + 5], 9);
    release(p);
}

Test(virtualalloc, commit_outside_reservation_fails)
{
    char *gone = free_address(GRAN);
    assert_alloc_fails(ERROR_INVALID_ADDRESS, gone, PG, MEM_COMMIT, PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_ADDRESS, &some_global, PG, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_eq(some_global, 42);
    cr_assert_eq(query(gone).State, (DWORD)MEM_FREE);
}

Test(virtualalloc, commit_past_reservation_end_fails)
{
    char *p = reserve(2 * PG);
    assert_alloc_fails(ERROR_INVALID_ADDRESS, p + PG, 2 * PG, MEM_COMMIT, PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_ADDRESS, p, 2 * PG + 1, MEM_COMMIT, PAGE_READWRITE);
    MEMORY_BASIC_INFORMATION m = query(p);
    cr_assert_eq(m.State, (DWORD)MEM_RESERVE, "a failed commit commits nothing");
    cr_assert_eq(m.RegionSize, 2 * PG);
    release(p);
}

Test(virtualalloc, recommit_keeps_contents_and_applies_protection)
{
    unsigned char *p = alloc_committed(2 * PG, PAGE_READWRITE);
    for (size_t i = 0; i < 2 * PG; i++)
        p[i] = (unsigned char)(i ^ 0x5A);
    void *r = VirtualAlloc(p, 2 * PG, MEM_COMMIT, PAGE_READONLY);
    cr_assert_eq(r, (void *)p, "error %u", (unsigned)GetLastError());
    MEMORY_BASIC_INFORMATION m = query(p);
    cr_assert_eq(m.State, (DWORD)MEM_COMMIT);
    cr_assert_eq(m.Protect, (DWORD)PAGE_READONLY);
    cr_assert_eq(m.RegionSize, 2 * PG);
    size_t bad = 0;
    for (size_t i = 0; i < 2 * PG; i++)
        bad += p[i] != (unsigned char)(i ^ 0x5A);
    cr_assert_eq(bad, 0u, "%zu bytes changed by the re-commit", bad);

    /* back to read-write: still the same bytes, and writable again */
    cr_assert_eq(VirtualAlloc(p + PG, PG, MEM_COMMIT, PAGE_READWRITE), (void *)(p + PG));
    cr_assert_eq(query(p + PG).Protect, (DWORD)PAGE_READWRITE);
    cr_assert_eq(query(p).Protect, (DWORD)PAGE_READONLY);
    cr_assert_eq(p[PG + 1], (unsigned char)((PG + 1) ^ 0x5A));
    p[PG + 1] = 0;
    cr_assert_eq(p[PG + 1], 0);
    release(p);
}

Test(virtualalloc, top_down_is_higher)
{
    char *low = reserve(GRAN);
    char *high = VirtualAlloc(NULL, GRAN, MEM_RESERVE | MEM_TOP_DOWN, PAGE_READWRITE);
    cr_assert_not_null(high, "error %u", (unsigned)GetLastError());
    cr_assert_gt((uintptr_t)high, (uintptr_t)low, "top-down %p not above %p", (void *)high,
                 (void *)low);
    cr_assert_eq((uintptr_t)high % GRAN, 0u);
    cr_assert_eq(query(high).State, (DWORD)MEM_RESERVE);
    release(high);
    release(low);
}

/* ---- zero fill ------------------------------------------------------------ */

Test(virtualalloc, zero_after_decommit)
{
    unsigned char *p = alloc_committed(2 * PG, PAGE_READWRITE);
    memset(p, 0xAA, 2 * PG);
    cr_assert(VirtualFree(p, 2 * PG, MEM_DECOMMIT));
    cr_assert_eq(VirtualAlloc(p, 2 * PG, MEM_COMMIT, PAGE_READWRITE), (void *)p);
    size_t i = first_nonzero(p, 2 * PG);
    cr_assert_eq(i, 2 * PG, "byte %zu is nonzero after re-commit", i);
    release(p);
}

Test(virtualalloc, zero_after_release)
{
    unsigned char *p = alloc_committed(GRAN, PAGE_READWRITE);
    memset(p, 0xAA, GRAN);
    release(p);
    unsigned char *q = VirtualAlloc(p, GRAN, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    cr_assert_eq(q, p, "re-reserve at %p returned %p (error %u)", (void *)p, (void *)q,
                 (unsigned)GetLastError());
    size_t i = first_nonzero(q, GRAN);
    cr_assert_eq(i, GRAN, "byte %zu is nonzero in the new reservation", i);
    release(q);
}
