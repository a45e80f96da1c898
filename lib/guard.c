/*
 * guard.c -- guard pages.  A PAGE_GUARD page is mapped PROT_NONE; its first
 * access raises SIGSEGV, and this handler turns it back into its base
 * protection before the application's handler sees the signal.  Runs in a
 * signal handler: takes as_lock exclusive (no caller of ours can hold it,
 * since code holding it never touches managed memory).
 */
#include "guard.h"
#include "os/vm.h"
#include "prot.h"
#include "region.h"
#include "runtime.h"
#include "stats.h"
#include "vmem_internal.h"

enum sigchain_verdict guard_claim(int sig, siginfo_t *si, void *uctx)
{
    (void)sig;
    (void)uctx;
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
    }
    as_unlock();
    return v;
}
