/*
 * guard.c -- guard pages.  A PAGE_GUARD page is mapped PROT_NONE; its first
 * access raises SIGSEGV, and this handler turns it back into its base
 * protection before the application's handler sees the signal.  Runs in a
 * signal handler: takes as_lock exclusive (no caller of ours can hold it,
 * since code holding it never touches managed memory).
 *
 * Several threads may fault on one guard page at once.  The first to get
 * the lock lifts the guard and has the signal delivered, as Windows raises
 * STATUS_GUARD_PAGE_VIOLATION once; the others find a page that now allows
 * their access and simply retry it.  The same goes for any SIGSEGV on a
 * managed page whose protection changed meanwhile (a forked child's
 * page-in done by another thread, a VirtualProtect): passing such a stale
 * fault on would show the application a signal for an access that works,
 * or, with no handler of its own, reset SIGSEGV to the default action for
 * the whole process.
 */
#include "fault/guard.h"
#include "os/vm.h"
#include "core/prot.h"
#include "core/region.h"
#include "core/runtime.h"
#include "core/stats.h"
#include "core/vmem_internal.h"

#include <sys/mman.h>
#include <ucontext.h>

/* How often one thread may retry a stale fault on the same address in a
 * row before the fault is taken as real: the page tables and the kernel's
 * protection can disagree only for an instant, never for this many. */
#define STALE_RETRIES 64

static VMEM_TLS uintptr_t stale_addr;
static VMEM_TLS unsigned stale_count;

/* The protection the faulting access needed. */
static int access_needs(void *uctx)
{
#if defined(__x86_64__)
    if (uctx) { /* page-fault error code: bit 1 write, bit 4 instruction fetch */
        long e = ((ucontext_t *)uctx)->uc_mcontext.gregs[REG_ERR];
        return (e & 2) ? PROT_WRITE : (e & 16) ? PROT_EXEC : PROT_READ;
    }
#endif
    (void)uctx;
    return PROT_READ | PROT_WRITE;
}

/* 1 when a stale fault at addr may be retried once more. */
static int may_retry(uintptr_t addr)
{
    if (stale_addr != addr) {
        stale_addr = addr;
        stale_count = 0;
    }
    return ++stale_count <= STALE_RETRIES;
}

enum sigchain_verdict guard_claim(int sig, siginfo_t *si, void *uctx)
{
    (void)sig;
    if (!runtime_ready() || si->si_code != SEGV_ACCERR)
        return SIGCHAIN_NOT_OURS;
    uintptr_t addr = round_down((uintptr_t)si->si_addr, PAGE_SZ);
    enum sigchain_verdict v = SIGCHAIN_NOT_OURS;
    as_lock_exclusive();
    struct region *r = region_find(addr);
    struct pte *p = r ? pte_get(&r->ptes, region_page(r, addr)) : NULL;
    if (p && p->state != PTE_RESERVED && (p->prot & WPROT_GUARD)) {
        uint16_t prot = p->prot & (uint16_t)~WPROT_GUARD;
        if (vm_protect(addr, PAGE_SZ, prot_to_posix(prot)) == 0) {
            p->prot = prot;
            ctr_add(&vmem_ctr.guard_faults, 1);
            v = SIGCHAIN_DELIVER;
        }
    } else if (p && p->state != PTE_RESERVED) {
        int need = access_needs(uctx);
        if ((prot_to_posix(p->prot) & need) == need && may_retry((uintptr_t)si->si_addr))
            v = SIGCHAIN_HANDLED; /* stale: lifted or reprotected meanwhile */
    }
    as_unlock();
    return v;
}
