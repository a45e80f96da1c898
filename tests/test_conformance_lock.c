/*
 * test_conformance_lock.c -- VirtualLock meeting guard pages and
 * inaccessible pages, as on Windows: the first lock of a guard page fails
 * with STATUS_GUARD_PAGE_VIOLATION and lifts the guard, the next one
 * succeeds; neither counts as a write for write watch.
 */
#include "helpers.h"

#define KERNEL_ADDR ((void *)(uintptr_t)0x800000000000ull)

/* Windows: VirtualLock on a guard page fails once with the guard-page
 * status as its last error, leaving the page unguarded with its contents;
 * the second call locks it. */
Test(conformance_lock, guard_page_once)
{
    int32_t *v = VirtualAlloc(NULL, PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD);
    cr_assert_not_null(v);
    cr_assert_eq(protect(v, PG, PAGE_READWRITE), (DWORD)(PAGE_READWRITE | PAGE_GUARD));
    v[0] = 1;
    v[1] = 2;
    cr_assert_eq(protect(v, PG, PAGE_READWRITE | PAGE_GUARD), (DWORD)PAGE_READWRITE);

    assert_fails(STATUS_GUARD_PAGE_VIOLATION, VirtualLock(v, PG));
    MEMORY_BASIC_INFORMATION m = query(v);
    cr_assert_eq(m.Protect, (DWORD)PAGE_READWRITE, "the guard stays: Protect %#x",
                 (unsigned)m.Protect);
    cr_assert_eq(m.AllocationProtect, (DWORD)(PAGE_READWRITE | PAGE_GUARD));
    cr_assert_eq(m.RegionSize, PG);

    assert_ok(VirtualLock(v, PG));
    cr_assert_eq(v[0], 1);
    cr_assert_eq(v[1], 2);
    assert_ok(VirtualUnlock(v, PG));
    cr_assert_eq(protect(v, PG, PAGE_READWRITE | PAGE_GUARD), (DWORD)PAGE_READWRITE);
    release(v);
}

/* Windows: the failed lock of a guard page is no write for write watch. */
Test(conformance_lock, guard_page_with_write_watch)
{
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0);
    if (c.fault_mode == VMEM_FAULT_KERNEL)
        cr_skip_test("fault mode kernel has no write watch");
    int32_t *v = VirtualAlloc(NULL, PG, MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH,
                           PAGE_READWRITE | PAGE_GUARD);
    cr_assert_not_null(v, "error %u", (unsigned)GetLastError());
    void *a[4];
    ULONG_PTR n = 4;
    DWORD g;
    assert_fails(STATUS_GUARD_PAGE_VIOLATION, VirtualLock(v, PG));
    cr_assert_eq(GetWriteWatch(0, v, PG, a, &n, &g), 0u);
    cr_assert_eq(n, 0u, "the failed lock was reported as a write");
    assert_ok(VirtualLock(v, PG));
    cr_assert_eq(v[0], 0);
    assert_ok(VirtualUnlock(v, PG));
    release(v);
}

/* Windows: locking PAGE_NOACCESS pages is no access, and changes nothing. */
Test(conformance_lock, noaccess_pages)
{
    char *p = alloc_committed(2 * PG, PAGE_NOACCESS);
    assert_fails(ERROR_NOACCESS, VirtualLock(p, 2 * PG));
    assert_run(p, 2 * PG, MEM_COMMIT, PAGE_NOACCESS);
    release(p);
}

/* Windows: an address beyond the user address space is a bad parameter. */
Test(conformance_lock, beyond_user_space)
{
    assert_fails(ERROR_INVALID_PARAMETER, VirtualLock(KERNEL_ADDR, PG));
    assert_fails(ERROR_INVALID_PARAMETER, VirtualUnlock(KERNEL_ADDR, PG));
}
