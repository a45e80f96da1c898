/*
 * Zero fill is a guarantee: fresh commits, recommits after a decommit, and
 * new reservations at a released address all read as zeros, every byte.
 */
#include <criterion/criterion.h>
#include <memoryapi.h>
#include <stdint.h>

#include "helpers.h"

static void assert_zero(const uint8_t *p, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            cr_assert_fail("%s: byte %zu is %#x, not 0", what, i, p[i]);
}

Test(zero_fill, fresh_commit_reads_zero)
{
    size_t n = 64 * 4096;
    uint8_t *p = VirtualAlloc(NULL, n, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p);
    assert_zero(p, n, "fresh commit");
}

Test(zero_fill, recommit_after_decommit_reads_zero)
{
    size_t n = 64 * 4096;
    uint8_t *p = alloc_committed(n, PAGE_READWRITE);
    memset(p, 0x5A, n);
    cr_assert(VirtualFree(p + 8 * 4096, 16 * 4096, MEM_DECOMMIT));
    cr_assert_eq(VirtualAlloc(p + 8 * 4096, 16 * 4096, MEM_COMMIT, PAGE_READWRITE),
                 p + 8 * 4096);
    assert_zero(p + 8 * 4096, 16 * 4096, "recommitted pages");
    for (size_t i = 0; i < 8 * 4096; i++)
        cr_assert_eq(p[i], 0x5A, "untouched neighbour changed at %zu", i);
    for (size_t i = 24 * 4096; i < n; i++)
        cr_assert_eq(p[i], 0x5A, "untouched neighbour changed at %zu", i);
}

Test(zero_fill, recommit_read_only_reads_zero)
{
    uint8_t *p = VirtualAlloc(NULL, 8 * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p);
    memset(p, 0xFF, 8 * 4096);
    cr_assert(VirtualFree(p, 0, MEM_DECOMMIT));
    cr_assert_not_null(VirtualAlloc(p, 8 * 4096, MEM_COMMIT, PAGE_READONLY));
    assert_zero(p, 8 * 4096, "recommitted read-only");
}

Test(zero_fill, new_reservation_at_released_address_reads_zero)
{
    size_t n = 32 * 4096;
    uint8_t *p = alloc_committed(n, PAGE_READWRITE);
    memset(p, 0xC3, n);
    cr_assert(VirtualFree(p, 0, MEM_RELEASE));
    uint8_t *q = VirtualAlloc(p, n, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    cr_assert_eq(q, p, "could not reserve the released address again (error %u)",
                 (unsigned)GetLastError());
    assert_zero(q, n, "new reservation");
}

Test(zero_fill, read_then_write_keeps_other_bytes_zero)
{
    /* A read fault may map the shared zero page; the later write must get a
     * private zeroed copy, not corrupt or share it. */
    uint8_t *a = VirtualAlloc(NULL, 16 * 4096, MEM_COMMIT, PAGE_READWRITE);
    uint8_t *b = VirtualAlloc(NULL, 16 * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert(a && b);
    assert_zero(a, 16 * 4096, "read before write");
    a[100] = 1;
    assert_zero(b, 16 * 4096, "another region after a write to the first");
    cr_assert_eq(a[100], 1);
    a[100] = 0;
    assert_zero(a, 16 * 4096, "after restoring");
}
