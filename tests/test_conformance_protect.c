/*
 * test_conformance_protect.c -- VirtualProtect's argument rules as Windows
 * applies them: the protection table, the order of its checks, reserved
 * pages, and addresses beyond the user address space.
 */
#include "helpers.h"

#define KERNEL_ADDR ((void *)(uintptr_t)0x800000000000ull)

/* Windows: a NULL old-protection pointer fails with ERROR_NOACCESS and
 * changes nothing; it is checked before the size. */
Test(conformance_protect, null_old_protection)
{
    char *p = VirtualAlloc(NULL, PG, MEM_RESERVE | MEM_COMMIT, PAGE_NOACCESS);
    cr_assert_not_null(p);
    assert_protect_fails(ERROR_NOACCESS, p, PG, PAGE_READONLY, NULL);
    assert_protect_fails(ERROR_NOACCESS, p, 0, PAGE_READONLY, NULL);
    cr_assert_eq(protect(p, PG, PAGE_NOACCESS), (DWORD)PAGE_NOACCESS, "protection changed");
    /* a bad protection is still reported as such */
    assert_protect_fails(ERROR_INVALID_PARAMETER, p, PG, PAGE_READONLY | PAGE_READWRITE, NULL);
    release(p);
}

/* Windows: each protection value, set on a committed page, either works
 * and reads back, or is a bad parameter and changes nothing. */
Test(conformance_protect, protection_table)
{
    static const struct { DWORD set, get; } td[] = {
        { 0, 0 },
        { PAGE_NOACCESS, PAGE_NOACCESS },
        { PAGE_READONLY, PAGE_READONLY },
        { PAGE_READONLY | PAGE_NOACCESS, 0 },
        { PAGE_READWRITE, PAGE_READWRITE },
        { PAGE_READWRITE | PAGE_NOACCESS, 0 },
        { PAGE_READWRITE | PAGE_READONLY, 0 },
        { PAGE_WRITECOPY, 0 },
        { PAGE_WRITECOPY | PAGE_READWRITE, 0 },
        { PAGE_EXECUTE, PAGE_EXECUTE },
        { PAGE_EXECUTE_READ, PAGE_EXECUTE_READ },
        { PAGE_EXECUTE_READ | PAGE_EXECUTE, 0 },
        { PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_READWRITE },
        { PAGE_EXECUTE_READWRITE | PAGE_EXECUTE_READ, 0 },
        { PAGE_EXECUTE_WRITECOPY, 0 },
        { PAGE_EXECUTE_WRITECOPY | PAGE_EXECUTE, 0 },
        { PAGE_READWRITE | PAGE_EXECUTE, 0 },
        { PAGE_GUARD | PAGE_NOACCESS, 0 },
        { PAGE_READWRITE | PAGE_GUARD, PAGE_READWRITE | PAGE_GUARD },
    };
    char *p = VirtualAlloc(NULL, PG, MEM_RESERVE | MEM_COMMIT, PAGE_NOACCESS);
    cr_assert_not_null(p);
    for (size_t i = 0; i < sizeof td / sizeof td[0]; i++) {
        DWORD old = 0xDEADBEEF;
        SetLastError(0);
        BOOL ok = VirtualProtect(p, PG, td[i].set, &old);
        if (td[i].get) {
            cr_assert(ok, "%#x: error %u", (unsigned)td[i].set, (unsigned)GetLastError());
            cr_assert_eq(old, (DWORD)PAGE_NOACCESS);
            MEMORY_BASIC_INFORMATION m = query(p);
            cr_assert_eq(m.Protect, td[i].get, "%#x: Protect %#x", (unsigned)td[i].set,
                         (unsigned)m.Protect);
            cr_assert_eq(m.AllocationProtect, (DWORD)PAGE_NOACCESS);
            cr_assert_eq(m.RegionSize, PG);
        } else {
            cr_assert_not(ok, "%#x should fail", (unsigned)td[i].set);
            cr_assert_eq(GetLastError(), (DWORD)ERROR_INVALID_PARAMETER, "%#x: error %u",
                         (unsigned)td[i].set, (unsigned)GetLastError());
        }
        cr_assert_eq(protect(p, PG, PAGE_NOACCESS), td[i].get ? td[i].get : (DWORD)PAGE_NOACCESS);
    }
    release(p);
}

/* Windows: pages that are only reserved, wholly or in part, cannot be
 * protected: an invalid address. */
Test(conformance_protect, reserved_pages)
{
    char *p = VirtualAlloc(NULL, 0xFFFC, MEM_RESERVE, PAGE_NOACCESS);
    cr_assert_not_null(p);
    DWORD old;
    assert_protect_fails(ERROR_INVALID_ADDRESS, p, 0xFFFC, PAGE_READONLY, &old);
    cr_assert_eq(VirtualAlloc(p, PG, MEM_COMMIT, PAGE_NOACCESS), (void *)p);
    assert_protect_fails(ERROR_INVALID_ADDRESS, p, 0xFFFC, PAGE_READONLY, &old);
    cr_assert_eq(protect(p, PG, PAGE_READONLY), (DWORD)PAGE_NOACCESS);
    cr_assert_eq(protect(p, PG, PAGE_READWRITE), (DWORD)PAGE_READONLY);
    assert_run(p, PG, MEM_COMMIT, PAGE_READWRITE);
    release(p);
}

/* Windows: the old protection is the first page's, and the new one splits
 * the run. */
Test(conformance_protect, old_protection_of_first_page)
{
    char *p = alloc_committed(4 * PG, PAGE_READWRITE);
    cr_assert_eq(protect(p + PG, PG, PAGE_READONLY), (DWORD)PAGE_READWRITE);
    cr_assert_eq(protect(p + PG, 3 * PG, PAGE_EXECUTE_READ), (DWORD)PAGE_READONLY);
    assert_run(p, PG, MEM_COMMIT, PAGE_READWRITE);
    assert_run(p + PG, 3 * PG, MEM_COMMIT, PAGE_EXECUTE_READ);
    release(p);
}

/* Windows: a range running past the reservation, or memory never
 * allocated, is an invalid address. */
Test(conformance_protect, outside_reservation)
{
    char *p = alloc_committed(GRAN, PAGE_READWRITE);
    DWORD old;
    assert_protect_fails(ERROR_INVALID_ADDRESS, p + 0xF000, 0x2000, PAGE_READONLY, &old);
    assert_run(p, GRAN, MEM_COMMIT, PAGE_READWRITE);
    release(p);
    assert_protect_fails(ERROR_INVALID_ADDRESS, p, PG, PAGE_READONLY, &old);
}

/* Windows: an address beyond the user address space, or a size running
 * past it, is a bad parameter. */
Test(conformance_protect, beyond_user_space)
{
    DWORD old;
    assert_protect_fails(ERROR_INVALID_PARAMETER, KERNEL_ADDR, PG, PAGE_READONLY, &old);
    char *p = alloc_committed(GRAN, PAGE_READWRITE);
    assert_protect_fails(ERROR_INVALID_PARAMETER, p, (SIZE_T)0x800000000000ull, PAGE_READONLY,
                         &old);
    assert_run(p, GRAN, MEM_COMMIT, PAGE_READWRITE);
    release(p);
}

/* Windows: an execute and a read/write protection together, or neither,
 * is a bad parameter for VirtualAlloc and VirtualProtect alike. */
Test(conformance_protect, execute_with_read_write)
{
    char *p = VirtualAlloc(NULL, PG, MEM_RESERVE | MEM_COMMIT, PAGE_NOACCESS);
    cr_assert_not_null(p);
    static const DWORD rw[] = { 0, PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY };
    static const DWORD ex[] = { 0, PAGE_EXECUTE, PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE,
                                PAGE_EXECUTE_WRITECOPY };
    for (size_t i = 0; i < 5; i++)
        for (size_t j = 0; j < 5; j++) {
            DWORD prot = rw[i] | ex[j], old;
            int bad = (rw[i] && ex[j]) || (!rw[i] && !ex[j]) ||
                      (prot & (PAGE_WRITECOPY | PAGE_EXECUTE_WRITECOPY));
            void *r = VirtualAlloc(p, PG, MEM_COMMIT, prot);
            BOOL ok = VirtualProtect(p, PG, prot, &old);
            if (bad) {
                cr_assert_null(r, "VirtualAlloc %#x should fail", (unsigned)prot);
                cr_assert_not(ok, "VirtualProtect %#x should fail", (unsigned)prot);
                cr_assert_eq(GetLastError(), (DWORD)ERROR_INVALID_PARAMETER);
            } else {
                cr_assert_eq(r, (void *)p, "VirtualAlloc %#x", (unsigned)prot);
                cr_assert(ok, "VirtualProtect %#x: error %u", (unsigned)prot,
                          (unsigned)GetLastError());
            }
        }
    release(p);
}
