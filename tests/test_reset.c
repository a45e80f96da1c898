/*
 * test_reset.c -- VirtualAlloc's MEM_RESET and MEM_RESET_UNDO.
 */
#include <memoryapi.h>

#include "win32_test.h"
#include <criterion/criterion.h>

#include <stdint.h>

#define assert_alloc_fails(err, addr, size, type, prot)                           \
    do {                                                                          \
        SetLastError(0);                                                          \
        void *r_ = VirtualAlloc((addr), (size), (type), (prot));                  \
        DWORD e_ = GetLastError();                                                \
        cr_assert_null(r_, "VirtualAlloc(%p, %#zx, %#x, %#x) should fail",        \
                       (void *)(addr), (size_t)(size), (unsigned)(type),          \
                       (unsigned)(prot));                                         \
        cr_assert_eq(e_, (DWORD)(err),                                            \
                     "VirtualAlloc(%p, %#zx, %#x, %#x): GetLastError %u, want %u", \
                     (void *)(addr), (size_t)(size), (unsigned)(type),            \
                     (unsigned)(prot), (unsigned)e_, (unsigned)(err));            \
    } while (0)

static unsigned char *alloc_committed(size_t size)
{
    unsigned char *p = VirtualAlloc(NULL, size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p, "error %u", (unsigned)GetLastError());
    return p;
}

static unsigned char pattern(size_t i)
{
    return (unsigned char)((i * 131) ^ (i >> 12) ^ 0x5A);
}

/* ---- argument checks --------------------------------------------------- */

Test(reset, combined_with_other_types)
{
    unsigned char *p = alloc_committed(2 * PG);
    static const DWORD others[] = {
        MEM_COMMIT, MEM_RESERVE, MEM_TOP_DOWN, MEM_WRITE_WATCH, MEM_COMMIT | MEM_RESERVE,
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        assert_alloc_fails(ERROR_INVALID_PARAMETER, p, PG, MEM_RESET | others[i], PAGE_READWRITE);
        assert_alloc_fails(ERROR_INVALID_PARAMETER, p, PG, MEM_RESET_UNDO | others[i],
                           PAGE_READWRITE);
    }
    assert_alloc_fails(ERROR_INVALID_PARAMETER, p, PG, MEM_RESET | MEM_RESET_UNDO, PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, p, PG, MEM_RESET | 0x1, PAGE_READWRITE);
    release(p);
}

Test(reset, null_address)
{
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, PG, MEM_RESET, PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, NULL, PG, MEM_RESET_UNDO, PAGE_READWRITE);
}

Test(reset, protection_must_be_valid)
{
    unsigned char *p = alloc_committed(PG);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, p, PG, MEM_RESET, 0);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, p, PG, MEM_RESET, PAGE_WRITECOPY);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, p, PG, MEM_RESET, PAGE_GUARD | PAGE_NOACCESS);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, p, PG, MEM_RESET, 0x800);
    release(p);
}

Test(reset, protection_is_ignored)
{
    unsigned char *p = alloc_committed(PG);
    p[0] = 1;
    cr_assert_eq(VirtualAlloc(p, PG, MEM_RESET, PAGE_NOACCESS), (void *)p, "error %u",
                 (unsigned)GetLastError());
    MEMORY_BASIC_INFORMATION m = query(p);
    cr_assert_eq(m.State, (DWORD)MEM_COMMIT);
    cr_assert_eq(m.Protect, (DWORD)PAGE_READWRITE, "MEM_RESET changed Protect to %#x",
                 (unsigned)m.Protect);
    p[0] = 2; /* still writable */
    cr_assert_eq(p[0], 2);
    release(p);
}

Test(reset, uncommitted_pages)
{
    unsigned char *p = VirtualAlloc(NULL, 3 * PG, MEM_RESERVE, PAGE_READWRITE);
    cr_assert_not_null(p);
    cr_assert_eq(VirtualAlloc(p, 2 * PG, MEM_COMMIT, PAGE_READWRITE), (void *)p);
    memset(p, 0x66, 2 * PG);
    assert_alloc_fails(ERROR_INVALID_ADDRESS, p, 3 * PG, MEM_RESET, PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_ADDRESS, p + 2 * PG, PG, MEM_RESET, PAGE_READWRITE);
    release(p);
    assert_alloc_fails(ERROR_INVALID_ADDRESS, p, PG, MEM_RESET, PAGE_READWRITE);
}

/* ---- behaviour ------------------------------------------------------------ */

Test(reset, committed_pages_stay_committed)
{
    unsigned char *p = alloc_committed(4 * PG);
    memset(p, 0x77, 4 * PG);
    void *r = VirtualAlloc(p + PG + 100, 2 * PG, MEM_RESET, PAGE_READWRITE);
    cr_assert_eq(r, (void *)(p + PG), "returned %p, want %p (error %u)", r, (void *)(p + PG),
                 (unsigned)GetLastError());
    MEMORY_BASIC_INFORMATION m = query(p);
    cr_assert_eq(m.State, (DWORD)MEM_COMMIT);
    cr_assert_eq(m.Protect, (DWORD)PAGE_READWRITE);
    cr_assert_eq(m.RegionSize, 4 * PG);
    /* contents of the reset pages are undefined, but they are accessible */
    volatile unsigned char *v = p;
    (void)v[PG + 200];
    (void)v[3 * PG + 50];
    for (size_t i = PG; i < 4 * PG; i++)
        p[i] = pattern(i);
    size_t bad = 0;
    for (size_t i = PG; i < 4 * PG; i++)
        bad += p[i] != pattern(i);
    cr_assert_eq(bad, 0u, "reset pages must keep what is written afterwards");
    cr_assert_eq(p[0], 0x77, "the page before the range is untouched");
    release(p);
}

Test(reset, undo_keeps_contents)
{
    const size_t size = 8 * PG;
    unsigned char *p = alloc_committed(size);
    for (size_t i = 0; i < size; i++)
        p[i] = pattern(i);
    cr_assert_eq(VirtualAlloc(p, size, MEM_RESET, PAGE_READWRITE), (void *)p, "reset: error %u",
                 (unsigned)GetLastError());
    cr_assert_not_null(VirtualAlloc(p, size, MEM_RESET_UNDO, PAGE_READWRITE), "undo: error %u",
                       (unsigned)GetLastError());
    size_t bad = 0;
    for (size_t i = 0; i < size; i++)
        bad += p[i] != pattern(i);
    cr_assert_eq(bad, 0u, "%zu bytes lost across MEM_RESET + MEM_RESET_UNDO", bad);
    MEMORY_BASIC_INFORMATION m = query(p);
    cr_assert_eq(m.State, (DWORD)MEM_COMMIT);
    cr_assert_eq(m.Protect, (DWORD)PAGE_READWRITE);
    release(p);
}
