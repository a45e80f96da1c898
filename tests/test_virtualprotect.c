/*
 * test_virtualprotect.c -- VirtualProtect: argument checks, the old
 * protection it reports, and how it splits a region.
 */
#include <memoryapi.h>

#include "helpers.h"
#include <criterion/criterion.h>

#include <stdint.h>

/* ---- argument checks --------------------------------------------------- */

Test(virtualprotect, null_old_protect)
{
    char *p = alloc_committed(PG, PAGE_READWRITE);
    assert_protect_fails(ERROR_NOACCESS, p, PG, PAGE_READONLY, NULL);
    assert_run(p, PG, MEM_COMMIT, PAGE_READWRITE);
    release(p);
}

Test(virtualprotect, invalid_protection)
{
    char *p = alloc_committed(PG, PAGE_READWRITE);
    for (size_t i = 0; i < NBAD_PROTECTS; i++) {
        DWORD old = 0;
        assert_protect_fails(ERROR_INVALID_PARAMETER, p, PG, bad_protects[i], &old);
    }
    assert_run(p, PG, MEM_COMMIT, PAGE_READWRITE);
    release(p);
}

Test(virtualprotect, size_zero)
{
    char *p = alloc_committed(PG, PAGE_READWRITE);
    DWORD old = 0;
    assert_protect_fails(ERROR_INVALID_PARAMETER, p, 0, PAGE_READONLY, &old);
    assert_run(p, PG, MEM_COMMIT, PAGE_READWRITE);
    release(p);
}

Test(virtualprotect, uncommitted_page_in_range)
{
    char *p = VirtualAlloc(NULL, 3 * PG, MEM_RESERVE, PAGE_READWRITE);
    cr_assert_not_null(p);
    cr_assert_eq(VirtualAlloc(p, 2 * PG, MEM_COMMIT, PAGE_READWRITE), (void *)p);
    DWORD old = 0;
    assert_protect_fails(ERROR_INVALID_ADDRESS, p, 3 * PG, PAGE_READONLY, &old);
    assert_protect_fails(ERROR_INVALID_ADDRESS, p + 2 * PG, PG, PAGE_READONLY, &old);
    /* nothing changed, not even the committed pages at the front */
    assert_run(p, 2 * PG, MEM_COMMIT, PAGE_READWRITE);
    assert_run(p + 2 * PG, PG, MEM_RESERVE, 0);
    p[0] = 1;
    cr_assert_eq(p[0], 1);
    release(p);
}

Test(virtualprotect, range_not_in_one_reservation)
{
    char *p = alloc_committed(2 * PG, PAGE_READWRITE);
    DWORD old = 0;
    assert_protect_fails(ERROR_INVALID_ADDRESS, p + PG, 2 * PG, PAGE_READONLY, &old);
    assert_protect_fails(ERROR_INVALID_ADDRESS, p, 2 * PG + 1, PAGE_READONLY, &old);
    assert_run(p, 2 * PG, MEM_COMMIT, PAGE_READWRITE);
    release(p);
    assert_protect_fails(ERROR_INVALID_ADDRESS, p, PG, PAGE_READONLY, &old);
}

/* ---- behaviour ------------------------------------------------------------ */

Test(virtualprotect, old_protect_is_exact)
{
    char *p = alloc_committed(PG, PAGE_READWRITE);
    static const DWORD seq[] = {
        PAGE_READONLY,
        PAGE_READWRITE | PAGE_GUARD,
        PAGE_READWRITE | PAGE_NOCACHE,
        PAGE_READONLY | PAGE_WRITECOMBINE,
        PAGE_EXECUTE_READ | PAGE_GUARD,
        PAGE_NOACCESS,
        PAGE_EXECUTE,
        PAGE_EXECUTE_READWRITE,
        PAGE_EXECUTE_READ,
        PAGE_READWRITE,
    };
    DWORD prev = PAGE_READWRITE;
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        DWORD old = protect(p, PG, seq[i]);
        cr_assert_eq(old, prev, "setting %#x: old %#x, want %#x", (unsigned)seq[i],
                     (unsigned)old, (unsigned)prev);
        MEMORY_BASIC_INFORMATION m = query(p);
        cr_assert_eq(m.Protect, seq[i], "Protect %#x, want %#x", (unsigned)m.Protect,
                     (unsigned)seq[i]);
        cr_assert_eq(m.AllocationProtect, (DWORD)PAGE_READWRITE, "AllocationProtect unchanged");
        prev = seq[i];
    }
    release(p);
}

Test(virtualprotect, old_protect_is_first_pages)
{
    char *p = alloc_committed(3 * PG, PAGE_READWRITE);
    protect(p, PG, PAGE_READONLY | PAGE_NOCACHE);
    protect(p + PG, PG, PAGE_EXECUTE_READ);
    DWORD old = protect(p, 3 * PG, PAGE_READWRITE);
    cr_assert_eq(old, (DWORD)(PAGE_READONLY | PAGE_NOCACHE), "old %#x", (unsigned)old);
    assert_run(p, 3 * PG, MEM_COMMIT, PAGE_READWRITE);
    old = protect(p + PG + 7, 1, PAGE_READONLY);
    cr_assert_eq(old, (DWORD)PAGE_READWRITE);
    release(p);
}

Test(virtualprotect, middle_pages_split_region)
{
    char *p = alloc_committed(5 * PG, PAGE_READWRITE);
    memset(p, 0x3C, 5 * PG);
    DWORD old = protect(p + PG, 3 * PG, PAGE_READONLY);
    cr_assert_eq(old, (DWORD)PAGE_READWRITE);
    assert_run(p, PG, MEM_COMMIT, PAGE_READWRITE);
    assert_run(p + PG, 3 * PG, MEM_COMMIT, PAGE_READONLY);
    assert_run(p + 4 * PG, PG, MEM_COMMIT, PAGE_READWRITE);
    /* a query inside the middle run reports from that page to the run's end */
    MEMORY_BASIC_INFORMATION m = query(p + 2 * PG + 100);
    cr_assert_eq(m.BaseAddress, (void *)(p + 2 * PG));
    cr_assert_eq(m.RegionSize, 2 * PG);
    cr_assert_eq(p[2 * PG], 0x3C, "contents survive the change");
    p[0] = 1;
    p[4 * PG] = 2;
    cr_assert_eq(p[0] + p[4 * PG], 3);

    /* back to read-write: one run again */
    protect(p + PG, 3 * PG, PAGE_READWRITE);
    assert_run(p, 5 * PG, MEM_COMMIT, PAGE_READWRITE);
    release(p);
}

Test(virtualprotect, readonly_is_readable)
{
    /* untouched read-only pages read as zeros */
    unsigned char *p = (unsigned char *)alloc_committed(2 * PG, PAGE_READONLY);
    unsigned sum = 0;
    for (size_t i = 0; i < 2 * PG; i++)
        sum |= p[i];
    cr_assert_eq(sum, 0u);

    /* written, then made read-only: still the same bytes */
    unsigned char *q = (unsigned char *)alloc_committed(PG, PAGE_READWRITE);
    for (size_t i = 0; i < PG; i++)
        q[i] = (unsigned char)i;
    protect(q, PG, PAGE_READONLY);
    size_t bad = 0;
    for (size_t i = 0; i < PG; i++)
        bad += q[i] != (unsigned char)i;
    cr_assert_eq(bad, 0u);

    /* read-only made writable */
    protect(p, PG, PAGE_READWRITE);
    p[10] = 0x77;
    cr_assert_eq(p[10], 0x77);
    release(q);
    release(p);
}
