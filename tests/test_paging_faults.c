/*
 * Paging when the page file fails: injected I/O errors and a page file on a
 * small file system that fills up.  Commits may fail with
 * ERROR_COMMITMENT_LIMIT and the working set may exceed its cap for a
 * while; no byte may be lost or wrong.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <memoryapi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>
#include <vmem.h>

#include "pagefile.h"

#define MIB ((size_t)1 << 20)

static int paging_mode(void)
{
    struct vmem_config c;
    cr_assert_eq(vmem_get_config(&c), 0);
    return c.fault_mode != VMEM_FAULT_KERNEL;
}

static void fill(uint8_t *p, size_t n, unsigned salt)
{
    for (size_t i = 0; i < n; i++)
        ((uint64_t *)(p + i * 4096))[i % 512] = i * 2654435761u + salt;
}

static void verify(const uint8_t *p, size_t n, unsigned salt)
{
    for (size_t i = 0; i < n; i++) {
        const uint64_t *w = (const uint64_t *)(p + i * 4096);
        for (size_t k = 0; k < 512; k++) {
            uint64_t want = k == i % 512 ? i * 2654435761u + salt : 0;
            if (w[k] != want)
                cr_assert_fail("page %zu word %zu: %#llx, expected %#llx", i, k,
                               (unsigned long long)w[k], (unsigned long long)want);
        }
    }
}

Test(paging_faults, injected_io_errors_lose_nothing)
{
    if (!paging_mode())
        cr_skip_test("fault mode kernel: paging needs userfaultfd");
    cr_assert_eq(vmem_set_max_resident(2 * MIB), 0);
    size_t n = 8 * 2 * MIB / 4096;
    uint8_t *p = VirtualAlloc(NULL, n * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p);
    pagefile_inject_errors(3, EIO); /* every third read or write fails */
    for (unsigned round = 1; round <= 3; round++) {
        fill(p, n, round);
        verify(p, n, round);
    }
    pagefile_inject_errors(0, 0);
    verify(p, n, 3);
    struct vmem_stats s;
    vmem_get_stats(&s);
    cr_assert_gt(s.hard_faults, 0, "the cap did not bite");
}

Test(paging_faults, full_file_system)
{
    char dir[] = "/tmp/vmem-smallfs-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    if (mount("tmpfs", dir, "tmpfs", 0, "size=1m") != 0) {
        rmdir(dir);
        cr_skip_test("cannot mount a small tmpfs (%s): needs root", strerror(errno));
    }
    /* the page file may claim 64 MiB, but its file system holds 1 MiB;
     * options are read when the runtime starts, so set them first */
    setenv("VMEM_PAGEFILE", dir, 1);
    setenv("VMEM_PAGEFILE_MAX", "64M", 1);
    if (!paging_mode()) {
        umount2(dir, MNT_DETACH);
        rmdir(dir);
        cr_skip_test("fault mode kernel: paging needs userfaultfd");
    }
    int err = vmem_set_max_resident(2 * MIB);
    cr_assert_eq(err, 0, "cannot start paging: %d", err);
    size_t n = 6 * 2 * MIB / 4096;
    uint8_t *p = VirtualAlloc(NULL, n * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p, "commit: %u", (unsigned)GetLastError());
    fill(p, n, 7);
    verify(p, n, 7);
    struct vmem_stats s;
    vmem_get_stats(&s);
    /* what did not fit in the page file stayed in memory, over the cap */
    cr_assert_gt(s.peak_working_set + s.standby_pages, 2 * MIB / 4096,
                 "the data had to stay in memory");
    cr_assert(VirtualFree(p, 0, MEM_RELEASE));
    vmem_shutdown();
    umount2(dir, MNT_DETACH);
    rmdir(dir);
}

Test(paging_faults, small_page_file_limits_commit)
{
    setenv("VMEM_PAGEFILE_MAX", "2M", 1); /* read when the runtime starts */
    if (!paging_mode())
        cr_skip_test("fault mode kernel: paging needs userfaultfd");
    cr_assert_eq(vmem_set_max_resident(1 * MIB), 0);
    /* cap 1 MiB + page file 2 MiB: 3 MiB can be committed, no more */
    uint8_t *a = VirtualAlloc(NULL, 2 * MIB, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(a);
    cr_assert_null(VirtualAlloc(NULL, 2 * MIB, MEM_COMMIT, PAGE_READWRITE));
    cr_assert_eq(GetLastError(), ERROR_COMMITMENT_LIMIT);
    uint8_t *b = VirtualAlloc(NULL, MIB - 64 * 1024, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(b);
    /* everything committed can be written and read back */
    fill(a, 2 * MIB / 4096, 1);
    fill(b, (MIB - 64 * 1024) / 4096, 2);
    verify(a, 2 * MIB / 4096, 1);
    verify(b, (MIB - 64 * 1024) / 4096, 2);
}
