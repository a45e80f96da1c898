/*
 * test_conformance_alloc.c -- VirtualAlloc's argument rules as Windows
 * applies them: which requests it refuses, with which error, and what a
 * new reservation or commit looks like to VirtualQuery.
 */
#include "helpers.h"

/* The first address past the user address space (kernel space on x86-64). */
#define KERNEL_ADDR ((void *)(uintptr_t)0x800000000000ull)
#define AT_ROUND_TO_PAGE_FLAG 0x40000000u

/* Windows: a zero size is a bad parameter. */
Test(conformance_alloc, zero_size)
{
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, 0, MEM_RESERVE, PAGE_NOACCESS);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, 0, MEM_COMMIT, PAGE_READWRITE);
}

/* Windows: a reservation of 0xFFFC bytes is one 64 KiB run, reserved, with
 * Protect 0 and the allocation's protection in AllocationProtect. */
Test(conformance_alloc, reservation_as_queried)
{
    char *p = VirtualAlloc(NULL, 0xFFFC, MEM_RESERVE, PAGE_NOACCESS);
    cr_assert_not_null(p, "error %u", (unsigned)GetLastError());
    cr_assert_eq((uintptr_t)p % GRAN, 0, "%p not on a 64 KiB boundary", (void *)p);
    MEMORY_BASIC_INFORMATION m = query(p);
    cr_assert_eq(m.BaseAddress, (void *)p);
    cr_assert_eq(m.AllocationBase, (void *)p);
    cr_assert_eq(m.AllocationProtect, (DWORD)PAGE_NOACCESS);
    cr_assert_eq(m.RegionSize, (SIZE_T)0x10000);
    cr_assert_eq(m.State, (DWORD)MEM_RESERVE);
    cr_assert_eq(m.Protect, 0u);
    cr_assert_eq(m.Type, (DWORD)MEM_PRIVATE);

    /* Windows: a commit inside returns the address and splits the run */
    cr_assert_eq(VirtualAlloc(p, 0x1000, MEM_COMMIT, PAGE_NOACCESS), (void *)p);
    m = query(p);
    cr_assert_eq(m.AllocationBase, (void *)p);
    cr_assert_eq(m.AllocationProtect, (DWORD)PAGE_NOACCESS);
    cr_assert_eq(m.RegionSize, (SIZE_T)0x1000);
    cr_assert_eq(m.State, (DWORD)MEM_COMMIT);
    cr_assert_eq(m.Protect, (DWORD)PAGE_NOACCESS);
    cr_assert_eq(m.Type, (DWORD)MEM_PRIVATE);
    assert_run(p + 0x1000, 0xF000, MEM_RESERVE, 0);
    release(p);
}

/* Windows: no protection, two base protections, or copy-on-write is a bad
 * parameter, for a reservation and for a commit alike. */
Test(conformance_alloc, invalid_protections)
{
    char *p = VirtualAlloc(NULL, GRAN, MEM_RESERVE, PAGE_READWRITE);
    cr_assert_not_null(p);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, 0x1000, MEM_RESERVE, 0);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, 0x1000, MEM_COMMIT, 0);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, p, 0x1000, MEM_COMMIT,
                       PAGE_READONLY | PAGE_EXECUTE);
    for (size_t i = 0; i < NBAD_PROTECTS; i++) {
        assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, 0x1000, MEM_RESERVE, bad_protects[i]);
        assert_alloc_fails(ERROR_INVALID_PARAMETER, p, 0x1000, MEM_COMMIT, bad_protects[i]);
    }
    assert_run(p, GRAN, MEM_RESERVE, 0);
    release(p);
}

/* Windows: every valid protection is taken and reported back as given. */
Test(conformance_alloc, valid_protections_reported)
{
    static const DWORD good[] = { PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE, PAGE_EXECUTE,
                                  PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char *p = VirtualAlloc(NULL, PG, MEM_COMMIT, good[i]);
        cr_assert_not_null(p, "%#x: error %u", (unsigned)good[i], (unsigned)GetLastError());
        MEMORY_BASIC_INFORMATION m = query(p);
        cr_assert_eq(m.Protect, good[i]);
        cr_assert_eq(m.AllocationProtect, good[i]);
        cr_assert_eq(m.RegionSize, PG);
        cr_assert_eq(VirtualAlloc(p, PG, MEM_COMMIT, good[i]), (void *)p, "commit again");
        release(p);
    }
}

/* Windows: MEM_RESET goes alone; MEM_WRITE_WATCH needs MEM_RESERVE; one of
 * MEM_COMMIT, MEM_RESERVE, MEM_RESET is needed; AT_ROUND_TO_PAGE is not for
 * VirtualAlloc. */
Test(conformance_alloc, invalid_type_combinations)
{
    char *p = alloc_committed(GRAN, PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, p, PG, MEM_RESET | MEM_COMMIT, PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, PG, MEM_RESET | MEM_RESERVE,
                       PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, GRAN, MEM_WRITE_WATCH, PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, p, PG, MEM_COMMIT | MEM_WRITE_WATCH,
                       PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, PG, 0, PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, PG, MEM_TOP_DOWN, PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, p, PG,
                       MEM_RESERVE | MEM_COMMIT | AT_ROUND_TO_PAGE_FLAG, PAGE_READWRITE);
    assert_run(p, GRAN, MEM_COMMIT, PAGE_READWRITE);
    release(p);
}

/* Windows checks its parameters before it looks at large pages: a large-page
 * request without MEM_COMMIT, or with a bad protection, is a bad
 * parameter. */
Test(conformance_alloc, large_pages_parameters_first)
{
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, 2 * MIB, MEM_RESERVE | MEM_LARGE_PAGES, 0);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, 2 * MIB,
                       MEM_RESERVE | MEM_COMMIT | MEM_LARGE_PAGES, PAGE_READWRITE | PAGE_GUARD | PAGE_NOCACHE);
}

/* Windows: MEM_RESET of pages that are only reserved succeeds and leaves
 * them reserved; a range running past the reservation is an invalid
 * address. */
Test(conformance_alloc, reset_of_reserved_pages)
{
    char *p = VirtualAlloc(NULL, GRAN, MEM_RESERVE, PAGE_NOACCESS);
    cr_assert_not_null(p);
    cr_assert_eq(VirtualAlloc(p, PG, MEM_COMMIT, PAGE_READWRITE), (void *)p);
    memset(p, 0x55, 20);
    cr_assert_eq(VirtualAlloc(p, PG, MEM_RESET, PAGE_NOACCESS), (void *)p, "error %u",
                 (unsigned)GetLastError());
    uint32_t w = *(volatile uint32_t *)p;
    cr_assert(w == 0x55555555u || w == 0, "reset page holds %#x", w);
    assert_run(p, PG, MEM_COMMIT, PAGE_READWRITE);

    SetLastError(0);
    cr_assert_eq(VirtualAlloc(p + PG, PG, MEM_RESET, PAGE_NOACCESS), (void *)(p + PG),
                 "MEM_RESET of reserved pages: error %u", (unsigned)GetLastError());
    assert_run(p + PG, GRAN - PG, MEM_RESERVE, 0);

    assert_alloc_fails(ERROR_INVALID_ADDRESS, p + 0xF000, 0x2000, MEM_RESET, PAGE_NOACCESS);
    release(p);
}

/* Windows: a commit running past the end of its reservation, or into
 * memory never reserved, is an invalid address and commits nothing. */
Test(conformance_alloc, commit_past_reservation)
{
    char *p = VirtualAlloc(NULL, GRAN, MEM_RESERVE, PAGE_READWRITE);
    cr_assert_not_null(p);
    assert_alloc_fails(ERROR_INVALID_ADDRESS, p + 0xF000, 0x2000, MEM_COMMIT, PAGE_READWRITE);
    assert_run(p, GRAN, MEM_RESERVE, 0);
    release(p);
    assert_alloc_fails(ERROR_INVALID_ADDRESS, p, PG, MEM_COMMIT, PAGE_READWRITE);
}

/* Windows: reservations start on 64 KiB boundaries, and the address of a
 * released one can be asked for again. */
Test(conformance_alloc, aligned_and_reusable)
{
    char *p = VirtualAlloc(NULL, 0x2000, MEM_RESERVE | MEM_COMMIT, PAGE_EXECUTE_READWRITE);
    cr_assert_not_null(p);
    cr_assert_eq((uintptr_t)p & 0xFFFF, 0);
    release(p);
    char *q = VirtualAlloc(p, 0x1000, MEM_RESERVE | MEM_COMMIT, PAGE_EXECUTE_READWRITE);
    cr_assert_eq(q, p, "got %p, want %p (error %u)", (void *)q, (void *)p,
                 (unsigned)GetLastError());
    release(q);
}

/* Windows: an address at or beyond the top of the user address space, or
 * a range running past it, is a bad parameter (not an invalid address),
 * whatever the allocation type. */
Test(conformance_alloc, kernel_addresses)
{
    assert_alloc_fails(ERROR_INVALID_PARAMETER, KERNEL_ADDR, GRAN, MEM_RESERVE, PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, KERNEL_ADDR, GRAN, MEM_RESERVE | MEM_COMMIT,
                       PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, KERNEL_ADDR, PG, MEM_COMMIT, PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, KERNEL_ADDR, PG, MEM_RESET, PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, (void *)(uintptr_t)0xFFFFFFFFFFFF0000ull, GRAN,
                       MEM_RESERVE, PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, (void *)(uintptr_t)0x7FFFFFFE0000ull, 4 * MIB,
                       MEM_RESERVE, PAGE_READWRITE);
}

/* Windows: a size larger than the user address space is a bad parameter,
 * not a lack of memory. */
Test(conformance_alloc, size_beyond_user_space)
{
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, (SIZE_T)0x800000000000ull, MEM_RESERVE,
                       PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, ~(SIZE_T)0xFFFF, MEM_RESERVE,
                       PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, ~(SIZE_T)0, MEM_RESERVE | MEM_COMMIT,
                       PAGE_READWRITE);
}

/* Windows: a reservation at an address already reserved (the address
 * rounded down to 64 KiB falls in it) conflicts: an invalid address. */
Test(conformance_alloc, reserve_over_reservation)
{
    char *p = alloc_committed(PG, PAGE_READWRITE);
    p[0] = 9;
    assert_alloc_fails(ERROR_INVALID_ADDRESS, p + PG, PG, MEM_RESERVE | MEM_COMMIT,
                       PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_ADDRESS, p, PG, MEM_RESERVE, PAGE_READWRITE);
    cr_assert_eq(p[0], 9);
    release(p);
}
