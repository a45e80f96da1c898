/*
 * test_virtualquery.c -- VirtualQuery: argument checks, run boundaries inside
 * a reservation, and what it says about memory libvmem does not manage.
 */
#include <memoryapi.h>

#include "helpers.h"
#include <criterion/criterion.h>

#include <stdint.h>


/* A function in the test binary, for its address. */
__attribute__((noinline)) static int in_text(int x)
{
    return x * 3 + 1;
}

/* ---- argument checks --------------------------------------------------- */

Test(virtualquery, short_buffer)
{
    char *p = VirtualAlloc(NULL, PG, MEM_RESERVE, PAGE_READWRITE);
    cr_assert_not_null(p);
    MEMORY_BASIC_INFORMATION m;
    assert_query_fails(ERROR_BAD_LENGTH, p, &m, sizeof m - 1);
    assert_query_fails(ERROR_BAD_LENGTH, p, &m, 0);
    release(p);
}

Test(virtualquery, null_buffer)
{
    char *p = VirtualAlloc(NULL, PG, MEM_RESERVE, PAGE_READWRITE);
    cr_assert_not_null(p);
    assert_query_fails(ERROR_NOACCESS, p, NULL, sizeof(MEMORY_BASIC_INFORMATION));
    release(p);
}

Test(virtualquery, above_maximum_address)
{
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    MEMORY_BASIC_INFORMATION m;
    const char *max = si.lpMaximumApplicationAddress;
    assert_query_fails(ERROR_INVALID_PARAMETER, max + 1, &m, sizeof m);
    assert_query_fails(ERROR_INVALID_PARAMETER, (const void *)(uintptr_t)0xFFFF800000000000ull,
                       &m, sizeof m);
    assert_query_fails(ERROR_INVALID_PARAMETER, (const void *)UINTPTR_MAX, &m, sizeof m);
}

Test(virtualquery, returns_struct_size)
{
    char *p = VirtualAlloc(NULL, PG, MEM_RESERVE, PAGE_READWRITE);
    cr_assert_not_null(p);
    MEMORY_BASIC_INFORMATION m[2];
    cr_assert_eq(VirtualQuery(p, &m[0], sizeof m[0]), sizeof(MEMORY_BASIC_INFORMATION));
    /* a bigger buffer is fine; still one structure is written */
    cr_assert_eq(VirtualQuery(p, m, sizeof m), sizeof(MEMORY_BASIC_INFORMATION));
    release(p);
}

/* ---- managed memory ----------------------------------------------------- */

Test(virtualquery, base_address_rounds_down)
{
    char *p = alloc_committed(2 * PG, PAGE_READWRITE);
    MEMORY_BASIC_INFORMATION m = query(p + PG + 123);
    cr_assert_eq(m.BaseAddress, (void *)(p + PG));
    cr_assert_eq(m.AllocationBase, (void *)p);
    cr_assert_eq(m.RegionSize, PG, "from the queried page to the end of the run");
    cr_assert_eq(m.State, (DWORD)MEM_COMMIT);
    cr_assert_eq(m.Protect, (DWORD)PAGE_READWRITE);
    cr_assert_eq(m.Type, (DWORD)MEM_PRIVATE);
    m = query(p + 2 * PG - 1);
    cr_assert_eq(m.BaseAddress, (void *)(p + PG));
    release(p);
}

Test(virtualquery, runs_of_like_pages)
{
    char *p = VirtualAlloc(NULL, 8 * PG, MEM_RESERVE, PAGE_EXECUTE_READWRITE);
    cr_assert_not_null(p);
    cr_assert_not_null(VirtualAlloc(p + 2 * PG, 2 * PG, MEM_COMMIT, PAGE_READWRITE));
    cr_assert_not_null(VirtualAlloc(p + 4 * PG, PG, MEM_COMMIT, PAGE_READONLY));
    assert_run(p, 2 * PG, MEM_RESERVE, 0);
    assert_run(p + 2 * PG, 2 * PG, MEM_COMMIT, PAGE_READWRITE);
    assert_run(p + 3 * PG, PG, MEM_COMMIT, PAGE_READWRITE);
    assert_run(p + 4 * PG, PG, MEM_COMMIT, PAGE_READONLY);
    assert_run(p + 5 * PG, 3 * PG, MEM_RESERVE, 0);
    for (size_t i = 0; i < 8; i++) {
        MEMORY_BASIC_INFORMATION m = query(p + i * PG);
        cr_assert_eq(m.AllocationBase, (void *)p, "page %zu", i);
        cr_assert_eq(m.AllocationProtect, (DWORD)PAGE_EXECUTE_READWRITE, "page %zu", i);
        cr_assert_eq(m.Type, (DWORD)MEM_PRIVATE, "page %zu", i);
    }
    release(p);
}

Test(virtualquery, run_does_not_cross_into_next_reservation)
{
    /* two adjacent reservations with the same state and protection, far
     * below the area where mmap places new mappings top-down: a hole freed
     * there would take the library's own bookkeeping (a page-table
     * directory) before the second reservation. */
    char *a = NULL, *lo = NULL, *hi = NULL;
    for (uintptr_t k = 0; k < 100 && !hi; k++) {
        if (lo)
            release(lo);
        a = (char *)(((uintptr_t)3 << 44) + k * 0x100000);
        lo = VirtualAlloc(a, 0x10000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
        hi = lo ? VirtualAlloc(a + 0x10000, 0x10000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE)
                : NULL;
    }
    cr_assert_not_null(hi, "no two adjacent reservations in 100 attempts");
    cr_assert_eq(lo, a);
    cr_assert_eq(hi, a + 0x10000);
    assert_run(lo, 0x10000, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_eq(query(hi).AllocationBase, (void *)hi);
    release(hi);
    release(lo);
}

/* ---- unmanaged memory --------------------------------------------------- */

Test(virtualquery, stack)
{
    volatile int local = 5;
    MEMORY_BASIC_INFORMATION m = query((const void *)&local);
    cr_assert_eq(m.BaseAddress, (void *)((uintptr_t)&local & ~(uintptr_t)(PG - 1)));
    cr_assert_eq(m.State, (DWORD)MEM_COMMIT);
    cr_assert_eq(m.Type, (DWORD)MEM_PRIVATE);
    cr_assert_eq(m.Protect, (DWORD)PAGE_READWRITE, "Protect %#x", (unsigned)m.Protect);
    cr_assert_eq(local, 5);
}

Test(virtualquery, code)
{
    const void *fn = (const void *)(uintptr_t)&in_text;
    MEMORY_BASIC_INFORMATION m = query(fn);
    cr_assert_eq(m.State, (DWORD)MEM_COMMIT);
    cr_assert_eq(m.Type, (DWORD)MEM_IMAGE, "Type %#x", (unsigned)m.Type);
    cr_assert_eq(m.Protect, (DWORD)PAGE_EXECUTE_READ, "Protect %#x", (unsigned)m.Protect);
    cr_assert_eq(in_text(2), 7);
}

Test(virtualquery, released)
{
    char *p = alloc_committed(4 * PG, PAGE_READWRITE);
    p[0] = 1;
    release(p);
    MEMORY_BASIC_INFORMATION m = query(p + PG);
    cr_assert_eq(m.BaseAddress, (void *)(p + PG));
    cr_assert_eq(m.State, (DWORD)MEM_FREE);
    cr_assert_eq(m.Protect, (DWORD)PAGE_NOACCESS);
    cr_assert_null(m.AllocationBase);
    cr_assert_geq(m.RegionSize, PG);
}
