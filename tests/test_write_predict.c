/*
 * Write prediction (fault/fault.c): a page written after a clean page-in is
 * installed writable, and dirty, by its next page-in.  What is checked: such
 * a page is really installed writable (no write-protect fault for its next
 * write), a page never written after a page-in is not, nor the page-in after
 * a predicted one, a write through a page installed writable is never lost
 * (it is written out again before the page is dropped), and write watch
 * still sees every write.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <memoryapi.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <vmem.h>

#include "core/pte.h"
#include "core/region.h"
#include "core/runtime.h"

#include "helpers.h"

#define PAGES (4 * MIB / PG)

/* The page's pagemap entry: bit 63 present, bit 57 write-protected by
 * userfaultfd.  0 where pagemap cannot be read. */
static uint64_t pagemap_entry(const void *addr)
{
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    uint64_t e = 0;
    off_t at = (off_t)((uintptr_t)addr / PG * sizeof e);
    if (pread(fd, &e, sizeof e, at) != (ssize_t)sizeof e)
        e = 0;
    close(fd);
    return e;
}

#define PM_PRESENT (1ull << 63)
#define PM_UFFD_WP (1ull << 57)

/* The page's PTE flags once no fault is installing it (in thread mode the
 * faulting thread runs on as soon as the page is in, while the fault
 * thread finishes its records). */
static uint8_t page_flags(const void *addr)
{
    while (page_state(addr) == PTE_INSTALLING)
        sched_yield();
    as_lock_shared();
    struct region *r = region_find((uintptr_t)addr);
    const struct pte *pt = r ? pte_get(&r->ptes, region_page(r, (uintptr_t)addr)) : NULL;
    uint8_t f = pt ? pte_load_flags(pt) : 0;
    as_unlock();
    return f;
}

/* Reads every page of [p, p + PAGES) but `page` under a 1 MiB cap until
 * `page` is in the page file only (the standby list is off: a page trimmed
 * dirty is written and then paged out), checking each page read holds
 * generation gen[i]; then raises the cap, so that no trim runs until the
 * next push_out: the page's next page-in is the one the test looks at (on
 * a slow machine a trim between two reads of one page made it two). */
static void push_out(const uint8_t *p, size_t page, const uint64_t *gen)
{
    cr_assert_eq(vmem_set_max_resident(1 * MIB), 0);
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < PAGES; i++)
            if (i != page)
                cr_assert(page_intact(p, i, gen[i]), "page %zu lost its content", i);
        wait_within_cap();
        wait_page_writer_idle();
        if (page_state(p + page * PG) == PTE_PAGEDOUT) {
            cr_assert_eq(vmem_set_max_resident(256 * MIB), 0);
            return;
        }
    }
    cr_assert_fail("page %zu never left for the page file", page);
}

/* PAGES pages under a 1 MiB cap, the standby list off, each written once
 * (generation 1). */
static uint8_t *setup(uint64_t *gen, DWORD type)
{
    setenv("VMEM_STANDBY", "off", 1);
    /* one page a fault: a page brought in as a neighbour of another would
     * use its prediction up, out of the test's sight */
    setenv("VMEM_PREFETCH", "none", 1);
    setenv("VMEM_CLUSTER", "1", 1);
    need_paging(1 * MIB);
    uint8_t *p = VirtualAlloc(NULL, PAGES * PG, MEM_RESERVE | MEM_COMMIT | type, PAGE_READWRITE);
    cr_assert_not_null(p, "VirtualAlloc: error %u", (unsigned)GetLastError());
    for (size_t i = 0; i < PAGES; i++) {
        fill_page(p, i, 1);
        gen[i] = 1;
    }
    return p;
}

Test(write_predict, page_written_after_a_page_in_comes_back_writable_and_dirty)
{
    static uint64_t gen[PAGES];
    uint8_t *p = setup(gen, 0);
    size_t v = PAGES / 2;
    push_out(p, v, gen);

    /* a read brings it in clean: write-protected, not dirty (its written
     * content was only ever written before its first page-out) */
    cr_assert(page_intact(p, v, 1));
    uint64_t e = pagemap_entry(p + v * PG);
    if (e & PM_PRESENT)
        cr_assert(e & PM_UFFD_WP, "a page never written after a page-in came back writable");
    cr_assert_not(page_flags(p + v * PG) & PTE_F_DIRTY);
    cr_assert_not(page_flags(p + v * PG) & PTE_F_REWRITTEN);

    /* written after that page-in: its write-protect fault marks it */
    fill_page(p, v, 2);
    gen[v] = 2;
    cr_assert(page_flags(p + v * PG) & PTE_F_REWRITTEN);
    push_out(p, v, gen);

    /* the next read installs it writable, and counted dirty at once */
    cr_assert(page_intact(p, v, 2));
    e = pagemap_entry(p + v * PG);
    if (e & PM_PRESENT)
        cr_assert_not(e & PM_UFFD_WP, "a page written after its last page-in came back "
                                      "write-protected");
    cr_assert(page_flags(p + v * PG) & PTE_F_DIRTY,
              "a page installed writable is counted clean: a write would be lost");

    /* a write through it takes no fault; it must survive the next trim */
    fill_page(p, v, 3);
    gen[v] = 3;
    push_out(p, v, gen);
    cr_assert(page_intact(p, v, 3), "a write to a page installed writable was lost");
    /* that page-in used the prediction up: this one is clean again */
    e = pagemap_entry(p + v * PG);
    if (e & PM_PRESENT)
        cr_assert(e & PM_UFFD_WP, "a prediction was not used up by the page-in it made");
    cr_assert_not(page_flags(p + v * PG) & PTE_F_DIRTY);
    release(p);
}

Test(write_predict, writes_after_page_ins_are_all_kept)
{
    /* every page written after each of several page-ins, generation by
     * generation: each write must read back */
    static uint64_t gen[PAGES];
    uint8_t *p = setup(gen, 0);
    for (uint64_t g = 2; g <= 5; g++) {
        for (size_t i = 0; i < PAGES; i += 3) {
            cr_assert(page_intact(p, i, gen[i]), "page %zu, generation %llu", i,
                      (unsigned long long)gen[i]);
            fill_page(p, i, g);
            gen[i] = g;
        }
    }
    wait_within_cap();
    for (size_t i = 0; i < PAGES; i++)
        cr_assert(page_intact(p, i, gen[i]), "page %zu lost generation %llu", i,
                  (unsigned long long)gen[i]);
    cr_assert_gt(stats().hard_faults, 0, "the cap did not bite");
    release(p);
}

Test(write_predict, write_watch_sees_writes_of_pages_written_before)
{
    static uint64_t gen[PAGES];
    uint8_t *p = setup(gen, MEM_WRITE_WATCH);
    size_t v = PAGES / 2;
    push_out(p, v, gen);
    cr_assert(page_intact(p, v, 1));
    fill_page(p, v, 2); /* written after a page-in */
    gen[v] = 2;
    push_out(p, v, gen);
    cr_assert_eq(ResetWriteWatch(p, PAGES * PG), 0);
    cr_assert(page_intact(p, v, 2));
    fill_page(p, v, 3);
    gen[v] = 3;

    static PVOID addrs[PAGES];
    ULONG_PTR count = PAGES;
    ULONG gran = 0;
    cr_assert_eq(GetWriteWatch(0, p, PAGES * PG, addrs, &count, &gran), 0);
    int seen = 0;
    for (ULONG_PTR i = 0; i < count; i++)
        seen |= addrs[i] == p + v * PG;
    cr_assert(seen, "GetWriteWatch missed a write to a page written after an earlier page-in");
    release(p);
}
