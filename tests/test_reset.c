/*
 * test_reset.c -- VirtualAlloc's MEM_RESET and MEM_RESET_UNDO.
 */
#include <memoryapi.h>

#include "helpers.h"
#include <criterion/criterion.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vmem.h>

static unsigned char pattern(size_t i)
{
    return (unsigned char)((i * 131) ^ (i >> 12) ^ 0x5A);
}

/* ---- argument checks --------------------------------------------------- */

Test(reset, combined_with_other_types)
{
    unsigned char *p = alloc_committed(2 * PG, PAGE_READWRITE);
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
    unsigned char *p = alloc_committed(PG, PAGE_READWRITE);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, p, PG, MEM_RESET, 0);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, p, PG, MEM_RESET, PAGE_WRITECOPY);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, p, PG, MEM_RESET, PAGE_GUARD | PAGE_NOACCESS);
    assert_alloc_fails(ERROR_INVALID_PARAMETER, p, PG, MEM_RESET, 0x800);
    release(p);
}

Test(reset, protection_is_ignored)
{
    unsigned char *p = alloc_committed(PG, PAGE_READWRITE);
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
    /* as on Windows, pages only reserved are skipped and stay reserved */
    cr_assert_eq(VirtualAlloc(p, 3 * PG, MEM_RESET, PAGE_READWRITE), (void *)p);
    cr_assert_eq(VirtualAlloc(p + 2 * PG, PG, MEM_RESET, PAGE_READWRITE), (void *)(p + 2 * PG));
    assert_run((char *)p, 2 * PG, MEM_COMMIT, PAGE_READWRITE);
    assert_run((char *)p + 2 * PG, PG, MEM_RESERVE, 0);
    release(p);
    assert_alloc_fails(ERROR_INVALID_ADDRESS, p, PG, MEM_RESET, PAGE_READWRITE);
}

/* ---- behaviour ------------------------------------------------------------ */

Test(reset, committed_pages_stay_committed)
{
    unsigned char *p = alloc_committed(4 * PG, PAGE_READWRITE);
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
    unsigned char *p = alloc_committed(size, PAGE_READWRITE);
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

/* ---- MEM_RESET_UNDO of pages the application cannot write --------------- */

/* Four reset pages: 0-2 PAGE_READONLY, 3 PAGE_NOACCESS; the kernel
 * reclaims 0 and 1 (MADV_PAGEOUT drops MADV_FREE pages by its own reclaim
 * path).  The undo must fail (some contents were replaced with zeros),
 * pages 0-1 read zeros, and pages 2-3 keep their contents for good. */
static void undo_unwritable(void)
{
    struct vmem_config c;
    CHILD_CHECK(vmem_get_config(&c) == 0, "vmem_get_config");
    if (c.fault_mode == VMEM_FAULT_KERNEL) {
        snprintf(child_msg, PG, "fault mode kernel: MEM_RESET keeps the contents");
        _exit(CHILD_SKIP);
    }
    unsigned char *p = VirtualAlloc(NULL, 4 * PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    CHILD_CHECK(p != NULL, "VirtualAlloc: error %u", (unsigned)GetLastError());
    for (size_t i = 0; i < 4 * PG; i++)
        p[i] = pattern(i);
    CHILD_CHECK(VirtualAlloc(p, 4 * PG, MEM_RESET, PAGE_READWRITE) == p, "MEM_RESET");
    DWORD old;
    CHILD_CHECK(VirtualProtect(p, 3 * PG, PAGE_READONLY, &old), "protect READONLY");
    CHILD_CHECK(VirtualProtect(p + 3 * PG, PG, PAGE_NOACCESS, &old), "protect NOACCESS");
    if (madvise(p, 2 * PG, MADV_PAGEOUT) != 0) {
        snprintf(child_msg, PG, "MADV_PAGEOUT: %s", strerror(errno));
        _exit(CHILD_SKIP);
    }
    unsigned char vec[2];
    CHILD_CHECK(mincore(p, 2 * PG, vec) == 0, "mincore: %s", strerror(errno));
    if ((vec[0] | vec[1]) & 1) {
        snprintf(child_msg, PG, "the kernel did not reclaim MEM_RESET pages on MADV_PAGEOUT");
        _exit(CHILD_SKIP);
    }
    CHILD_CHECK(VirtualAlloc(p, 4 * PG, MEM_RESET_UNDO, PAGE_READWRITE) == NULL,
                "MEM_RESET_UNDO succeeded, yet two pages were reclaimed");
    for (size_t i = 0; i < 2 * PG; i++)
        CHILD_CHECK(p[i] == 0, "reclaimed page: byte %zu is %#x, want 0", i, p[i]);
    /* the undo made the others stay: reclaim passes them by now */
    CHILD_CHECK(madvise(p + 2 * PG, 2 * PG, MADV_PAGEOUT) == 0, "MADV_PAGEOUT");
    for (size_t i = 2 * PG; i < 3 * PG; i++)
        CHILD_CHECK(p[i] == pattern(i), "PAGE_READONLY page lost byte %zu after the undo", i);
    CHILD_CHECK(VirtualProtect(p, 4 * PG, PAGE_READWRITE, &old), "protect RW");
    for (size_t i = 3 * PG; i < 4 * PG; i++)
        CHILD_CHECK(p[i] == pattern(i), "PAGE_NOACCESS page lost byte %zu after the undo", i);
    /* and all four are ordinary pages again */
    for (size_t i = 0; i < 4 * PG; i++)
        p[i] = (unsigned char)~pattern(i);
    for (size_t i = 0; i < 4 * PG; i++)
        CHILD_CHECK(p[i] == (unsigned char)~pattern(i), "byte %zu not kept", i);
}

Test(reset, undo_of_unwritable_pages_keeps_or_zeroes_them)
{
    run_child(undo_unwritable);
}

/* The same under a working-set cap, where clean pages are write-protected
 * (dirty tracking) and the trimmer runs. */
static void undo_unwritable_paging(void)
{
    struct vmem_config c;
    CHILD_CHECK(vmem_get_config(&c) == 0, "vmem_get_config");
    if (c.fault_mode != VMEM_FAULT_KERNEL)
        CHILD_CHECK(vmem_set_max_resident(4u << 20) == 0, "cannot start paging");
    undo_unwritable();
}

Test(reset, undo_of_unwritable_pages_under_a_cap)
{
    run_child(undo_unwritable_paging);
}
