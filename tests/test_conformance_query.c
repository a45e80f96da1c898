/*
 * test_conformance_query.c -- what VirtualQuery reports as Windows does:
 * BaseAddress, AllocationBase, RegionSize, State, Protect and Type for
 * free, reserved and committed runs, and its argument checks.
 */
#include "helpers.h"

#define KERNEL_ADDR ((void *)(uintptr_t)0x800000000000ull)

/* Windows: an address beyond the user address space is a bad parameter,
 * checked before the buffer's length. */
Test(conformance_query, beyond_user_space)
{
    MEMORY_BASIC_INFORMATION m;
    assert_query_fails(ERROR_INVALID_PARAMETER, KERNEL_ADDR, &m, sizeof m);
    assert_query_fails(ERROR_INVALID_PARAMETER, (void *)~(uintptr_t)0, &m, sizeof m);
    assert_query_fails(ERROR_INVALID_PARAMETER, KERNEL_ADDR, &m, 1);
}

/* Windows: a buffer shorter than MEMORY_BASIC_INFORMATION is a bad length. */
Test(conformance_query, short_buffer)
{
    char *p = alloc_committed(PG, PAGE_READWRITE);
    MEMORY_BASIC_INFORMATION m;
    assert_query_fails(ERROR_BAD_LENGTH, p, &m, sizeof m - 1);
    release(p);
}

/* Windows: a reservation's run is its page-rounded size, not the 64 KiB
 * granule; the rest of the granule is free, with no allocation base. */
Test(conformance_query, reserved_run_and_free_tail)
{
    char *p = VirtualAlloc(NULL, 0x3000, MEM_RESERVE, PAGE_READWRITE);
    cr_assert_not_null(p);
    MEMORY_BASIC_INFORMATION m = query(p + 0x1234);
    cr_assert_eq(m.BaseAddress, (void *)(p + 0x1000));
    cr_assert_eq(m.AllocationBase, (void *)p);
    cr_assert_eq(m.AllocationProtect, (DWORD)PAGE_READWRITE);
    cr_assert_eq(m.RegionSize, (SIZE_T)0x2000);
    cr_assert_eq(m.State, (DWORD)MEM_RESERVE);
    cr_assert_eq(m.Protect, 0u);
    cr_assert_eq(m.Type, (DWORD)MEM_PRIVATE);

    m = query(p + 0x3000);
    cr_assert_eq(m.BaseAddress, (void *)(p + 0x3000));
    cr_assert_eq(m.AllocationBase, NULL);
    cr_assert_eq(m.AllocationProtect, 0u);
    cr_assert_geq(m.RegionSize, (SIZE_T)0xD000);
    cr_assert_eq(m.State, (DWORD)MEM_FREE);
    cr_assert_eq(m.Protect, (DWORD)PAGE_NOACCESS);
    cr_assert_eq(m.Type, 0u);
    release(p);
}

/* Windows: runs of equal state and protection, each with the
 * reservation's base and protection. */
Test(conformance_query, committed_runs)
{
    char *p = VirtualAlloc(NULL, GRAN, MEM_RESERVE, PAGE_NOACCESS);
    cr_assert_not_null(p);
    cr_assert_eq(VirtualAlloc(p + 0x4000, 0x2000, MEM_COMMIT, PAGE_READWRITE),
                 (void *)(p + 0x4000));
    cr_assert_eq(protect(p + 0x5000, PG, PAGE_READONLY), (DWORD)PAGE_READWRITE);
    assert_run(p, 0x4000, MEM_RESERVE, 0);
    assert_run(p + 0x4000, PG, MEM_COMMIT, PAGE_READWRITE);
    assert_run(p + 0x5000, PG, MEM_COMMIT, PAGE_READONLY);
    assert_run(p + 0x6000, GRAN - 0x6000, MEM_RESERVE, 0);
    MEMORY_BASIC_INFORMATION m = query(p + 0x5FFF);
    cr_assert_eq(m.BaseAddress, (void *)(p + 0x5000));
    cr_assert_eq(m.AllocationBase, (void *)p);
    cr_assert_eq(m.AllocationProtect, (DWORD)PAGE_NOACCESS);
    cr_assert_eq(m.Type, (DWORD)MEM_PRIVATE);
    release(p);
}

/* Windows: PAGE_GUARD shows in Protect and AllocationProtect. */
Test(conformance_query, guard_reported)
{
    char *p = VirtualAlloc(NULL, PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD);
    cr_assert_not_null(p);
    MEMORY_BASIC_INFORMATION m = query(p);
    cr_assert_eq(m.AllocationProtect, (DWORD)(PAGE_READWRITE | PAGE_GUARD));
    cr_assert_eq(m.Protect, (DWORD)(PAGE_READWRITE | PAGE_GUARD));
    cr_assert_eq(m.RegionSize, PG);
    cr_assert_eq(m.State, (DWORD)MEM_COMMIT);
    release(p);
}

/* Windows: a released reservation is free, with no allocation base,
 * protection or type. */
Test(conformance_query, released_is_free)
{
    char *p = alloc_committed(GRAN, PAGE_READWRITE);
    release(p);
    MEMORY_BASIC_INFORMATION m = query(p);
    cr_assert_eq(m.State, (DWORD)MEM_FREE);
    cr_assert_eq(m.AllocationBase, NULL);
    cr_assert_eq(m.AllocationProtect, 0u);
    cr_assert_eq(m.Protect, (DWORD)PAGE_NOACCESS);
    cr_assert_eq(m.Type, 0u);
    cr_assert_geq(m.RegionSize, GRAN);
}

/* Windows x64: the user address space runs from 64 KiB to 0x7FFFFFFEFFFF. */
Test(conformance_query, user_address_space_bounds)
{
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    cr_assert_eq(si.lpMinimumApplicationAddress, (void *)(uintptr_t)0x10000);
    cr_assert_eq(si.lpMaximumApplicationAddress, (void *)(uintptr_t)0x7FFFFFFEFFFFull);
}
