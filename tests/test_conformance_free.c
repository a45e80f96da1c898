/*
 * test_conformance_free.c -- VirtualFree's argument rules as Windows
 * applies them: free types, sizes, addresses inside the first page of a
 * reservation, ranges past its end, and addresses beyond the user address
 * space.
 */
#include "helpers.h"

#define KERNEL_ADDR ((void *)(uintptr_t)0x800000000000ull)

/* Windows: a free type of 0 or MEM_FREE is a bad parameter. */
Test(conformance_free, bad_types)
{
    char *p = alloc_committed(GRAN, PAGE_READWRITE);
    assert_free_fails(ERROR_INVALID_PARAMETER, p, GRAN, 0);
    assert_free_fails(ERROR_INVALID_PARAMETER, p, 0, MEM_FREE);
    assert_run(p, GRAN, MEM_COMMIT, PAGE_READWRITE);
    release(p);
}

/* Windows: MEM_RELEASE with a size other than 0 is a bad parameter, even
 * after the pages were decommitted. */
Test(conformance_free, release_needs_size_zero)
{
    char *p = VirtualAlloc(NULL, 0xFFFC, MEM_RESERVE, PAGE_NOACCESS);
    cr_assert_not_null(p);
    cr_assert_eq(VirtualAlloc(p, PG, MEM_COMMIT, PAGE_NOACCESS), (void *)p);
    assert_ok(VirtualFree(p, 0x10000, MEM_DECOMMIT));
    assert_free_fails(ERROR_INVALID_PARAMETER, p, 1, MEM_RELEASE);
    assert_run(p, GRAN, MEM_RESERVE, 0);
    release(p);
}

/* Windows rounds the address down to its page: MEM_RELEASE from inside
 * the first page releases the reservation; from the second page it is not
 * the base (an invalid address). */
Test(conformance_free, release_inside_first_page)
{
    char *p = alloc_committed(GRAN, PAGE_READWRITE);
    assert_free_fails(ERROR_INVALID_ADDRESS, p + 0x1001, 0, MEM_RELEASE);
    assert_run(p, GRAN, MEM_COMMIT, PAGE_READWRITE);
    assert_ok(VirtualFree(p + 0xFFF, 0, MEM_RELEASE));
    cr_assert_eq(query(p).State, (DWORD)MEM_FREE);
}

/* Windows: MEM_DECOMMIT with size 0 decommits the whole reservation from
 * inside its first page; from further in it is an invalid address. */
Test(conformance_free, decommit_all_inside_first_page)
{
    char *p = alloc_committed(GRAN, PAGE_READWRITE);
    assert_free_fails(ERROR_INVALID_ADDRESS, p + 0x1001, 0, MEM_DECOMMIT);
    assert_run(p, GRAN, MEM_COMMIT, PAGE_READWRITE);
    assert_ok(VirtualFree(p + 0xFFE, 0, MEM_DECOMMIT));
    assert_run(p, GRAN, MEM_RESERVE, 0);
    release(p);
}

/* Windows: a decommit covers every page holding a byte of the range. */
Test(conformance_free, decommit_rounds_to_pages)
{
    char *p = alloc_committed(GRAN, PAGE_READWRITE);
    assert_ok(VirtualFree(p + 0x1FFF, 2, MEM_DECOMMIT));
    assert_run(p, PG, MEM_COMMIT, PAGE_READWRITE);
    assert_run(p + PG, 2 * PG, MEM_RESERVE, 0);
    assert_run(p + 3 * PG, GRAN - 3 * PG, MEM_COMMIT, PAGE_READWRITE);
    release(p);
}

/* Windows: decommitting pages that are only reserved succeeds. */
Test(conformance_free, decommit_reserved_pages)
{
    char *p = VirtualAlloc(NULL, GRAN, MEM_RESERVE, PAGE_READWRITE);
    cr_assert_not_null(p);
    assert_ok(VirtualFree(p, GRAN, MEM_DECOMMIT));
    assert_ok(VirtualFree(p + PG, PG, MEM_DECOMMIT));
    assert_run(p, GRAN, MEM_RESERVE, 0);
    release(p);
}

/* Windows: a decommit running past the end of the reservation frees
 * nothing and is a bad parameter (STATUS_UNABLE_TO_FREE_VM). */
Test(conformance_free, decommit_past_reservation)
{
    char *p = alloc_committed(GRAN, PAGE_READWRITE);
    p[0xF000] = 1;
    assert_free_fails(ERROR_INVALID_PARAMETER, p + 0xF000, 0x2000, MEM_DECOMMIT);
    assert_run(p, GRAN, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_eq(p[0xF000], 1);
    release(p);
}

/* Windows: memory that was never allocated (or was released) is an
 * invalid address. */
Test(conformance_free, not_allocated)
{
    char *p = alloc_committed(GRAN, PAGE_READWRITE);
    release(p);
    assert_free_fails(ERROR_INVALID_ADDRESS, p, 0, MEM_RELEASE);
    assert_free_fails(ERROR_INVALID_ADDRESS, p, PG, MEM_DECOMMIT);
}

/* Windows: an address beyond the user address space, or a size running
 * past it, is a bad parameter. */
Test(conformance_free, beyond_user_space)
{
    assert_free_fails(ERROR_INVALID_PARAMETER, KERNEL_ADDR, 0, MEM_RELEASE);
    assert_free_fails(ERROR_INVALID_PARAMETER, KERNEL_ADDR, PG, MEM_DECOMMIT);
    char *p = alloc_committed(GRAN, PAGE_READWRITE);
    assert_free_fails(ERROR_INVALID_PARAMETER, p, (SIZE_T)0x800000000000ull, MEM_DECOMMIT);
    assert_run(p, GRAN, MEM_COMMIT, PAGE_READWRITE);
    release(p);
}
