/*
 * fault.c -- demand-zero and write-watch faults.
 *
 * Page-state rule (see pte.h): a fault holds as_lock shared, so the region
 * and its page states cannot change under it except COMMITTED -> RESIDENT,
 * which several faulting threads may race to do.  The kernel arbitrates that
 * race: UFFDIO_COPY/ZEROPAGE fail with EEXIST on a page already installed,
 * and each thread counts only the pages it installed itself.
 *
 * Clustering: a demand-zero fault installs the run of untouched committed
 * pages of the same protection around it, within the aligned block of
 * `zero_cluster` pages that holds it, in one ioctl.  A read fault maps the
 * shared zero page (no RAM until written); a write fault copies zeros.
 */
#include "fault.h"
#include "os/uffd.h"
#include "prot.h"
#include "runtime.h"
#include "stats.h"
#include "vmem_internal.h"

#include <errno.h>
#include <ucontext.h>

static int committed_with(const struct region *r, size_t idx, uint16_t prot)
{
    const struct pte *p = pte_get(&r->ptes, idx);
    return p && pte_load_state(p) == PTE_COMMITTED && p->prot == prot;
}

static void mark_resident(struct region *r, size_t first, size_t end)
{
    for (size_t i = first; i < end; i++)
        __atomic_store_n(&pte_get(&r->ptes, i)->state, PTE_RESIDENT, __ATOMIC_RELEASE);
}

/* Installs zero pages over [first, end), skipping pages someone else
 * installed first.  Returns the number of pages this call installed, and
 * sets *woke if the page `want` was installed by it (which wakes its
 * waiters). */
static size_t install_zero(struct region *r, size_t first, size_t end, int zeropage,
                           int wp, size_t want, int *woke)
{
    size_t installed = 0;
    size_t i = first;
    while (i < end) {
        size_t len = (end - i) * PAGE_SZ, done = 0;
        if (len > vmem_rt.zero_len)
            len = vmem_rt.zero_len;
        uintptr_t at = region_addr(r, i);
        int err = zeropage ? uffd_zeropage(vmem_rt.uffd, at, len, &done)
                           : uffd_copy(vmem_rt.uffd, at, vmem_rt.zero_buf, len, wp, &done);
        size_t n = done / PAGE_SZ;
        if (want >= i && want < i + n)
            *woke = 1;
        mark_resident(r, i, i + n);
        installed += n;
        i += n;
        if (err == EEXIST) {
            i++;               /* present already: someone else's */
        } else if (err == ENOENT && len > PAGE_SZ) {
            end = i + 1;       /* the run crosses a mapping boundary: one page */
        } else if (err) {
            if (err != ENOENT)
                vmem_log("cannot install a page at %#lx: %s", (unsigned long)at,
                         err == ENOMEM ? "out of memory" : "kernel refused");
            break;
        }
    }
    return installed;
}

int fault_populate(struct region *r, size_t first, size_t end)
{
    int woke = 0;
    int wp = (r->flags & REGION_WRITE_WATCH) != 0;
    size_t i = first;
    while (i < end) {
        const struct pte *p = pte_get(&r->ptes, i);
        if (!p || pte_load_state(p) != PTE_COMMITTED) {
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < end && committed_with(r, j, p->prot))
            j++;
        size_t n = install_zero(r, i, j, 0, wp, SIZE_MAX, &woke);
        ctr_gauge_add(&vmem_ctr.working_set, &vmem_ctr.peak_working_set, n);
        i = j;
    }
    for (size_t k = first; k < end; k++) {
        const struct pte *p = pte_get(&r->ptes, k);
        if (p && pte_load_state(p) == PTE_COMMITTED)
            return ENOMEM;
    }
    return 0;
}

static void demand_zero(struct region *r, size_t idx, int write, int *woke)
{
    const struct pte *p = pte_get(&r->ptes, idx);
    uint16_t prot = p->prot;
    size_t n = vmem_rt.cfg.zero_cluster;
    size_t block = idx - idx % n, block_end = block + n;
    if (block_end > r->npages)
        block_end = r->npages;
    size_t lo = idx, hi = idx + 1;
    while (lo > block && committed_with(r, lo - 1, prot))
        lo--;
    while (hi < block_end && committed_with(r, hi, prot))
        hi++;

    int watch = (r->flags & REGION_WRITE_WATCH) != 0;
    /* Write-watch pages are installed write-protected, so the first write
     * is seen; the faulting page of a write fault is then opened at once. */
    int zeropage = !write && !watch;
    size_t got = install_zero(r, lo, hi, zeropage, watch, idx, woke);
    if (watch && write) {
        __atomic_fetch_or(&pte_get(&r->ptes, idx)->flags, PTE_F_WRITTEN, __ATOMIC_RELEASE);
        uffd_writeprotect(vmem_rt.uffd, region_addr(r, idx), PAGE_SZ, 0);
        *woke = 1;
    }
    if (got) {
        ctr_add(&vmem_ctr.demand_zero_faults, 1);
        ctr_add(&vmem_ctr.demand_zero_pages, got);
        ctr_gauge_add(&vmem_ctr.working_set, &vmem_ctr.peak_working_set, got);
    }
}

/* A write to a write-protected (write-watch) page: record it, open it. */
static void write_watch_hit(struct region *r, size_t idx, int *woke)
{
    struct pte *p = pte_get(&r->ptes, idx);
    uint8_t old = __atomic_fetch_or(&p->flags, PTE_F_WRITTEN, __ATOMIC_ACQ_REL);
    if (!(old & PTE_F_WRITTEN))
        ctr_add(&vmem_ctr.write_watch_faults, 1);
    uffd_writeprotect(vmem_rt.uffd, region_addr(r, idx), PAGE_SZ, 0);
    *woke = 1;
}

/* A resident page that faulted as missing: the kernel dropped it (a
 * MEM_RESET page it reclaimed), or another thread is installing it. */
static void refault_resident(struct region *r, size_t idx, int write, int kind, int *woke)
{
    struct pte *p = pte_get(&r->ptes, idx);
    int watch = (r->flags & REGION_WRITE_WATCH) != 0;
    size_t done = 0;
    uintptr_t at = region_addr(r, idx);
    int err = uffd_copy(vmem_rt.uffd, at, vmem_rt.zero_buf, PAGE_SZ, watch, &done);
    if (err == EEXIST) {
        /* Present: in signal mode this is how a write-protect fault shows. */
        if (kind == FAULT_WP_UNKNOWN && watch && write)
            write_watch_hit(r, idx, woke);
        return;
    }
    if (done) {
        *woke = 1;
        if (pte_load_flags(p) & PTE_F_RESET)
            __atomic_fetch_or(&p->flags, PTE_F_RESET_LOST, __ATOMIC_RELEASE);
        if (watch && write)
            write_watch_hit(r, idx, woke);
    }
}

int fault_resolve(uintptr_t addr, int write, int kind)
{
    addr = round_down(addr, PAGE_SZ);
    int woke = 0, ours = 1;
    as_lock_shared();
    struct region *r = region_find(addr);
    if (!r || !uses_uffd()) {
        ours = 0;
    } else {
        size_t idx = region_page(r, addr);
        const struct pte *p = pte_get(&r->ptes, idx);
        uint8_t st = p ? pte_load_state(p) : PTE_RESERVED;
        if (kind == FAULT_WP && st == PTE_RESIDENT)
            write_watch_hit(r, idx, &woke);
        else if (st == PTE_COMMITTED)
            demand_zero(r, idx, write, &woke);
        else if (st == PTE_RESIDENT)
            refault_resident(r, idx, write, kind, &woke);
        /* PTE_RESERVED: decommitted while the fault was in flight; the
         * retry meets PROT_NONE and raises SIGSEGV, as on Windows. */
    }
    /* A waiter not woken by an install must be woken to retry. */
    if (!woke && vmem_rt.mode == VMEM_FAULT_THREAD && uses_uffd())
        uffd_wake(vmem_rt.uffd, addr, PAGE_SZ);
    as_unlock();
    return ours;
}

enum sigchain_verdict fault_sigbus_claim(int sig, siginfo_t *si, void *uctx)
{
    (void)sig;
    if (si->si_code != BUS_ADRERR || !runtime_ready() || vmem_rt.mode != VMEM_FAULT_SIGNAL)
        return SIGCHAIN_NOT_OURS;
    int write = 1;
#if defined(__x86_64__)
    if (uctx) /* page-fault error code: bit 1 = write access */
        write = (((ucontext_t *)uctx)->uc_mcontext.gregs[REG_ERR] & 2) != 0;
#endif
    return fault_resolve((uintptr_t)si->si_addr, write, FAULT_WP_UNKNOWN)
               ? SIGCHAIN_HANDLED : SIGCHAIN_NOT_OURS;
}
