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

#include "fault/fault.h"
#include "pagefile/pagefile.h"
#include "core/pte.h"
#include "core/region.h"
#include "core/runtime.h"
#include "core/stats.h"

#include "helpers.h"

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
    need_paging(1 * MIB);
    size_t n = 8 * 1 * MIB / 4096; /* eight times the cap */
    uint8_t *p = VirtualAlloc(NULL, n * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p);
    pagefile_inject_errors(3, EIO); /* every third read or write fails */
    for (unsigned round = 1; round <= 3; round++) {
        fill(p, n, round);
        verify(p, n, round);
    }
    pagefile_inject_errors(0, 0);
    verify(p, n, 3);
    struct vmem_stats s = stats();
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
    struct vmem_stats s = stats();
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
    need_paging(1 * MIB);
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

static int state_of(const void *addr, uint32_t *slot)
{
    as_lock_shared();
    struct region *r = region_find((uintptr_t)addr);
    const struct pte *pt = r ? pte_get(&r->ptes, region_page(r, (uintptr_t)addr)) : NULL;
    int st = pt ? pte_load_state(pt) : -1;
    if (slot)
        *slot = pt ? pt->slot : 0;
    as_unlock();
    return st;
}

/* An aligned block of 8 pages all paged out to consecutive slots (so one
 * hard fault reads and installs them together), once paging has brought
 * memory under the cap. */
static size_t find_pagedout_block(const uint8_t *p, size_t n)
{
    wait_within_cap();
    for (size_t b = 0; b + 8 <= n; b += 8) {
        uint32_t s0, s;
        int ok = state_of(p + b * 4096, &s0) == PTE_PAGEDOUT;
        for (size_t k = 1; ok && k < 8; k++)
            ok = state_of(p + (b + k) * 4096, &s) == PTE_PAGEDOUT && s == s0 + k;
        if (ok)
            return b;
    }
    cr_assert_fail("no block of 8 pages was paged out together");
    return 0;
}

/* Resident pages of every region, against the working-set counter; under
 * as_lock exclusive nothing changes either. */
static void check_working_set(void)
{
    as_lock_exclusive();
    uint64_t resident = 0;
    for (struct region *r = region_next_above(0); r; r = region_next_above(r->base))
        for (size_t i = 0; i < r->npages; i++) {
            const struct pte *pt = pte_get(&r->ptes, i);
            resident += pt && pt->state == PTE_RESIDENT;
        }
    uint64_t counted = __atomic_load_n(&vmem_ctr.working_set, __ATOMIC_RELAXED);
    as_unlock();
    cr_assert_eq(counted, resident, "working set counted %llu, resident %llu",
                 (unsigned long long)counted, (unsigned long long)resident);
}

/* A hard fault's install stops part-way (UFFDIO_COPY failing with ENOMEM
 * under a cgroup limit, here by the test hook): the pages installed are
 * resident and counted, the others go back to the page file, and every
 * page can still be read and written. */
Test(paging_faults, partial_install_settles_per_page)
{
    setenv("VMEM_STANDBY", "off", 1);
    setenv("VMEM_PREFETCH", "cluster:8", 1);
    setenv("VMEM_PREFETCH_INSTALL", "map", 1); /* the read pages all installed */
    need_paging(1 * MIB);
    size_t n = 4 * MIB / 4096;
    uint8_t *p = VirtualAlloc(NULL, n * 4096, MEM_COMMIT, PAGE_READWRITE);
    cr_assert_not_null(p);
    fill(p, n, 11);
    size_t b = find_pagedout_block(p, n);
    /* the fault on page b+4 reads b..b+7; two of them get installed */
    cr_assert_eq(fault_test_stop_install(2, ENOMEM), 0);
    volatile uint64_t *w = (volatile uint64_t *)(p + (b + 4) * 4096);
    cr_assert_eq(w[(b + 4) % 512], (b + 4) * 2654435761u + 11);
    cr_assert_eq(fault_test_stop_install(0, 0), 0, "the install was not cut short");
    cr_assert_eq(state_of(p + b * 4096, NULL), PTE_RESIDENT);
    cr_assert_eq(state_of(p + (b + 1) * 4096, NULL), PTE_RESIDENT);
    check_working_set();
    /* the installed pages take writes (a write-protect fault each) */
    for (size_t k = 0; k < 8; k++)
        ((volatile uint64_t *)(p + (b + k) * 4096))[(b + k) % 512] = 1;
    check_working_set();
    fill(p, n, 12);
    verify(p, n, 12);
    check_working_set();
}
