/*
 * test_virtualfree.c -- VirtualFree: MEM_RELEASE and MEM_DECOMMIT, their
 * argument checks, and how decommitting splits a region.
 */
#include <memoryapi.h>

#include "helpers.h"
#include <criterion/criterion.h>

#include <stdint.h>

static int some_global = 7;

/* ---- argument checks --------------------------------------------------- */

Test(virtualfree, bad_free_type)
{
    char *p = alloc_committed(2 * PG, PAGE_READWRITE);
    p[0] = 1;
    assert_free_fails(ERROR_INVALID_PARAMETER, p, 0, 0);
    assert_free_fails(ERROR_INVALID_PARAMETER, p, 0, MEM_DECOMMIT | MEM_RELEASE);
    assert_free_fails(ERROR_INVALID_PARAMETER, p, 0, 0x1000);
    assert_free_fails(ERROR_INVALID_PARAMETER, p, PG, MEM_DECOMMIT | 0x1);
    assert_run(p, 2 * PG, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_eq(p[0], 1, "contents untouched by the failed calls");
    release(p);
}

Test(virtualfree, null_address)
{
    assert_free_fails(ERROR_INVALID_PARAMETER, NULL, 0, MEM_RELEASE);
    assert_free_fails(ERROR_INVALID_PARAMETER, NULL, PG, MEM_DECOMMIT);
    assert_free_fails(ERROR_INVALID_PARAMETER, NULL, 0, MEM_DECOMMIT);
}

/* ---- MEM_RELEASE ------------------------------------------------------- */

Test(virtualfree, release_with_size_fails)
{
    char *p = alloc_committed(2 * PG, PAGE_READWRITE);
    assert_free_fails(ERROR_INVALID_PARAMETER, p, 2 * PG, MEM_RELEASE);
    assert_free_fails(ERROR_INVALID_PARAMETER, p, 1, MEM_RELEASE);
    assert_run(p, 2 * PG, MEM_COMMIT, PAGE_READWRITE);
    release(p);
}

Test(virtualfree, release_not_at_base_fails)
{
    char *p = alloc_committed(2 * PG, PAGE_READWRITE);
    assert_free_fails(ERROR_INVALID_ADDRESS, p + PG, 0, MEM_RELEASE);
    assert_free_fails(ERROR_INVALID_ADDRESS, p + PG + 1, 0, MEM_RELEASE);
    assert_free_fails(ERROR_INVALID_ADDRESS, &some_global, 0, MEM_RELEASE);
    cr_assert_eq(some_global, 7);
    assert_run(p, 2 * PG, MEM_COMMIT, PAGE_READWRITE);
    release(p);
}

Test(virtualfree, release_frees_whole_reservation)
{
    char *p = VirtualAlloc(NULL, 4 * PG, MEM_RESERVE, PAGE_READWRITE);
    cr_assert_not_null(p);
    cr_assert_eq(VirtualAlloc(p + PG, PG, MEM_COMMIT, PAGE_READWRITE), (void *)(p + PG));
    p[PG] = 3;
    cr_assert(VirtualFree(p, 0, MEM_RELEASE), "error %u", (unsigned)GetLastError());
    for (size_t i = 0; i < 4; i++) {
        MEMORY_BASIC_INFORMATION m = query(p + i * PG);
        cr_assert_eq(m.State, (DWORD)MEM_FREE, "page %zu: State %#x", i, (unsigned)m.State);
        cr_assert_null(m.AllocationBase);
    }
    /* a second release of the same base: nothing is there any more */
    assert_free_fails(ERROR_INVALID_ADDRESS, p, 0, MEM_RELEASE);
}

/* ---- MEM_DECOMMIT ------------------------------------------------------ */

Test(virtualfree, decommit_size_zero_at_base_decommits_all)
{
    char *p = VirtualAlloc(NULL, 5 * PG, MEM_RESERVE, PAGE_READWRITE);
    cr_assert_not_null(p);
    cr_assert_not_null(VirtualAlloc(p, 2 * PG, MEM_COMMIT, PAGE_READWRITE));
    cr_assert_not_null(VirtualAlloc(p + 3 * PG, 2 * PG, MEM_COMMIT, PAGE_READONLY));
    p[0] = 1;
    cr_assert(VirtualFree(p, 0, MEM_DECOMMIT), "error %u", (unsigned)GetLastError());
    MEMORY_BASIC_INFORMATION m = query(p);
    cr_assert_eq(m.State, (DWORD)MEM_RESERVE);
    cr_assert_eq(m.RegionSize, 5 * PG);
    cr_assert_eq(m.Protect, 0u);
    cr_assert_eq(m.AllocationBase, (void *)p);
    release(p);
}

Test(virtualfree, decommit_size_zero_not_at_base_fails)
{
    char *p = alloc_committed(4 * PG, PAGE_READWRITE);
    assert_free_fails(ERROR_INVALID_ADDRESS, p + PG, 0, MEM_DECOMMIT);
    assert_run(p, 4 * PG, MEM_COMMIT, PAGE_READWRITE);
    release(p);
}

Test(virtualfree, decommit_past_end_fails)
{
    char *p = alloc_committed(4 * PG, PAGE_READWRITE);
    /* Windows: STATUS_UNABLE_TO_FREE_VM, a bad parameter */
    assert_free_fails(ERROR_INVALID_PARAMETER, p + 3 * PG, 2 * PG, MEM_DECOMMIT);
    assert_free_fails(ERROR_INVALID_PARAMETER, p, 4 * PG + 1, MEM_DECOMMIT);
    assert_run(p, 4 * PG, MEM_COMMIT, PAGE_READWRITE);
    release(p);
}

Test(virtualfree, decommit_outside_reservation_fails)
{
    char *p = alloc_committed(PG, PAGE_READWRITE);
    release(p);
    assert_free_fails(ERROR_INVALID_ADDRESS, p, PG, MEM_DECOMMIT);
    assert_free_fails(ERROR_INVALID_ADDRESS, &some_global, sizeof some_global, MEM_DECOMMIT);
    cr_assert_eq(some_global, 7);
}

Test(virtualfree, decommit_twice_succeeds)
{
    char *p = alloc_committed(2 * PG, PAGE_READWRITE);
    cr_assert(VirtualFree(p, PG, MEM_DECOMMIT), "error %u", (unsigned)GetLastError());
    cr_assert(VirtualFree(p, PG, MEM_DECOMMIT), "second decommit: error %u",
              (unsigned)GetLastError());
    /* decommitting reserved and committed pages together is fine too */
    cr_assert(VirtualFree(p, 2 * PG, MEM_DECOMMIT), "mixed range: error %u",
              (unsigned)GetLastError());
    assert_run(p, 2 * PG, MEM_RESERVE, 0);
    release(p);
}

Test(virtualfree, partial_decommit_splits_region)
{
    char *p = alloc_committed(4 * PG, PAGE_READWRITE);
    memset(p, 0x11, 4 * PG);
    cr_assert(VirtualFree(p + PG, 2 * PG, MEM_DECOMMIT), "error %u", (unsigned)GetLastError());
    assert_run(p, PG, MEM_COMMIT, PAGE_READWRITE);
    assert_run(p + PG, 2 * PG, MEM_RESERVE, 0);
    assert_run(p + 3 * PG, PG, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_eq(query(p + 2 * PG).AllocationBase, (void *)p);
    cr_assert_eq(p[0], 0x11, "the pages left committed keep their contents");
    cr_assert_eq(p[4 * PG - 1], 0x11);
    release(p);
}
