/*
 * test_lock.c -- VirtualLock and VirtualUnlock.
 */
#include <memoryapi.h>

#include "helpers.h"
#include <criterion/criterion.h>

#include <stdint.h>
#include <sys/mman.h>

/* Number of pages of [p, p+npages) that mincore(2) reports resident. */
static size_t resident_pages(void *p, size_t npages)
{
    unsigned char vec[64];
    cr_assert_leq(npages, sizeof vec);
    memset(vec, 0, sizeof vec);
    cr_assert_eq(mincore(p, npages * PG, vec), 0, "mincore: %m");
    size_t n = 0;
    for (size_t i = 0; i < npages; i++)
        n += vec[i] & 1;
    return n;
}

/* ---- argument and state checks ------------------------------------------- */

Test(lock, size_zero)
{
    char *p = alloc_committed(PG, PAGE_READWRITE);
    assert_fails(ERROR_INVALID_PARAMETER, VirtualLock(p, 0));
    assert_fails(ERROR_INVALID_PARAMETER, VirtualUnlock(p, 0));
    release(p);
}

Test(lock, uncommitted_pages)
{
    char *p = VirtualAlloc(NULL, 3 * PG, MEM_RESERVE, PAGE_READWRITE);
    cr_assert_not_null(p);
    cr_assert_eq(VirtualAlloc(p, PG, MEM_COMMIT, PAGE_READWRITE), (void *)p);
    assert_fails(ERROR_INVALID_ADDRESS, VirtualLock(p, 2 * PG));
    assert_fails(ERROR_INVALID_ADDRESS, VirtualLock(p + PG, PG));
    assert_fails(ERROR_INVALID_ADDRESS, VirtualUnlock(p, 2 * PG));
    assert_fails(ERROR_INVALID_ADDRESS, VirtualUnlock(p + PG, PG));
    /* the committed page was not locked by the failed call */
    assert_fails(ERROR_NOT_LOCKED, VirtualUnlock(p, PG));
    release(p);
}

Test(lock, outside_reservation)
{
    char *p = alloc_committed(2 * PG, PAGE_READWRITE);
    assert_fails(ERROR_INVALID_ADDRESS, VirtualLock(p + PG, 2 * PG));
    assert_fails(ERROR_INVALID_ADDRESS, VirtualUnlock(p + PG, 2 * PG));
    release(p);
    assert_fails(ERROR_INVALID_ADDRESS, VirtualLock(p, PG));
    assert_fails(ERROR_INVALID_ADDRESS, VirtualUnlock(p, PG));
}

Test(lock, noaccess_page)
{
    char *p = alloc_committed(2 * PG, PAGE_READWRITE);
    DWORD old;
    assert_ok(VirtualProtect(p + PG, PG, PAGE_NOACCESS, &old));
    assert_fails(ERROR_NOACCESS, VirtualLock(p, 2 * PG));
    assert_fails(ERROR_NOACCESS, VirtualLock(p + PG, PG));
    assert_fails(ERROR_NOT_LOCKED, VirtualUnlock(p, PG)); /* nothing got locked */
    release(p);
}

Test(lock, guard_page)
{
    char *p = alloc_committed(2 * PG, PAGE_READWRITE);
    DWORD old;
    assert_ok(VirtualProtect(p + PG, PG, PAGE_READWRITE | PAGE_GUARD, &old));
    /* as on Windows: the lock meets the guard, which goes; the next one locks */
    assert_fails(STATUS_GUARD_PAGE_VIOLATION, VirtualLock(p, 2 * PG));
    assert_fails(ERROR_NOT_LOCKED, VirtualUnlock(p, PG)); /* nothing got locked */
    cr_assert_eq(query(p + PG).Protect, (DWORD)PAGE_READWRITE, "the guard is lifted");
    assert_ok(VirtualLock(p, 2 * PG));
    assert_ok(VirtualUnlock(p, 2 * PG));
    release(p);
}

/* ---- locking -------------------------------------------------------------- */

Test(lock, locked_pages_are_resident_and_keep_contents)
{
    unsigned char *p = (unsigned char *)alloc_committed(8 * PG, PAGE_READWRITE);
    /* pages 0 and 5 written; the others never touched */
    memset(p, 0xA1, PG);
    memset(p + 5 * PG, 0xB2, PG);
    assert_ok(VirtualLock(p, 8 * PG));
    cr_assert_eq(resident_pages(p, 8), 8u, "every locked page is resident");
    size_t bad = 0;
    for (size_t i = 0; i < 8 * PG; i++) {
        unsigned char want = i < PG ? 0xA1 : (i / PG == 5) ? 0xB2 : 0;
        bad += p[i] != want;
    }
    cr_assert_eq(bad, 0u, "%zu bytes changed by VirtualLock", bad);
    p[3 * PG] = 9;
    cr_assert_eq(p[3 * PG], 9, "locked pages stay writable");
    assert_ok(VirtualUnlock(p, 8 * PG));
    release(p);
}

Test(lock, lock_inside_a_page_range)
{
    /* an unaligned range locks every page holding one of its bytes */
    char *p = alloc_committed(4 * PG, PAGE_READWRITE);
    assert_ok(VirtualLock(p + PG - 1, 2));
    cr_assert_eq(resident_pages(p, 2), 2u);
    assert_ok(VirtualUnlock(p, 2 * PG));
    assert_fails(ERROR_NOT_LOCKED, VirtualUnlock(p, PG));
    release(p);
}

Test(lock, unlock_not_locked)
{
    char *p = alloc_committed(2 * PG, PAGE_READWRITE);
    p[0] = 1;
    assert_fails(ERROR_NOT_LOCKED, VirtualUnlock(p, 2 * PG));
    assert_ok(VirtualLock(p, PG));
    assert_fails(ERROR_NOT_LOCKED, VirtualUnlock(p + PG, PG));
    assert_ok(VirtualUnlock(p, PG));
    release(p);
}

Test(lock, unlock_twice)
{
    char *p = alloc_committed(3 * PG, PAGE_READWRITE);
    assert_ok(VirtualLock(p, 3 * PG));
    assert_ok(VirtualUnlock(p, 3 * PG));
    assert_fails(ERROR_NOT_LOCKED, VirtualUnlock(p, 3 * PG));
    assert_fails(ERROR_NOT_LOCKED, VirtualUnlock(p + PG, PG));
    /* lock again after unlocking */
    assert_ok(VirtualLock(p + PG, PG));
    assert_ok(VirtualUnlock(p + PG, PG));
    release(p);
}

Test(lock, decommit_locked_pages)
{
    unsigned char *p = (unsigned char *)alloc_committed(2 * PG, PAGE_READWRITE);
    memset(p, 0x44, 2 * PG);
    assert_ok(VirtualLock(p, 2 * PG));
    assert_ok(VirtualFree(p, 2 * PG, MEM_DECOMMIT));
    MEMORY_BASIC_INFORMATION m = query(p);
    cr_assert_eq(m.State, (DWORD)MEM_RESERVE);
    cr_assert_eq(m.RegionSize, 2 * PG);
    /* committed again: fresh zero pages */
    cr_assert_eq(VirtualAlloc(p, 2 * PG, MEM_COMMIT, PAGE_READWRITE), (void *)p);
    cr_assert_eq(p[0], 0);
    cr_assert_eq(p[2 * PG - 1], 0);
    release(p);
}
