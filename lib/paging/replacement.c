/*
 * replacement.c -- the live runtime's side of the replacement policy.
 *
 * One instance of the chosen policy (VMEM_POLICY, lib/policy/) sees what
 * faults show: a page becoming resident (demand-zero, transition and hard
 * faults, and the neighbours a hard fault brings in, flagged prefetched),
 * a write-protect fault on a resident page (its first write since it was
 * saved: a reference the kernel lets us see), and a resident page being
 * decommitted or released.  Reads of resident pages are invisible.  The
 * working-set manager asks it for victims and gives back those it could
 * not trim (locked meanwhile, or no frame free for a dirty page), so the
 * policy's resident set stays the working set.
 *
 * Pages are named by virtual page number (address >> 12).
 *
 * Memory: the policy allocates from a stock (policy_stock.c) that hands
 * out blocks without a kernel call, since admit() runs under policy_lock
 * and, in signal mode, in the SIGBUS handler.  refill() maps what the
 * stock will need next with policy_lock released, from the calls that
 * never run in a signal handler: start, forget (API calls), victims and
 * readmit (the working-set manager), and admit and touch in thread mode
 * (fault threads).
 *
 * Lock: policy_lock serialises every call into the policy and guards the
 * stock; a leaf lock, taken under as_lock (shared by faults, exclusive by
 * the trimmer and API calls), never the other way round.  `active` is read
 * without it: a page admitted or forgotten while the policy starts or
 * stops is settled by replacement_start's walk (it holds as_lock
 * exclusive).
 */
#include "paging/replacement.h"
#include "paging/policy_stock.h"
#include "paging/wsmanager.h"
#include "policy/policy.h"
#include "core/pte.h"
#include "core/region.h"
#include "core/mutex.h"
#include "core/runtime.h"
#include "core/vmem_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t policy_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t *replacement_fork_lock(void) { return &policy_lock; }
static const struct policy_ops *ops;
static struct policy *pol;
static struct policy_stock stock;
static int active; /* atomic */

static void lock(void) { mutex_take("policy_lock", &policy_lock); }
static void unlock(void) { mutex_give("policy_lock", &policy_lock); }

/* Maps (and unmaps) for the stock with policy_lock released.  Never from a
 * signal handler. */
static void refill_stock(void)
{
    if (!stock_low(&stock))
        return;
    struct stock_order o;
    lock();
    int work = stock_plan(&stock, &o);
    unlock();
    if (!work)
        return;
    stock_fetch(&o);
    lock();
    if (pol) {
        stock_take(&stock, &o);
    } else { /* stopped meanwhile: nothing will use them */
        struct stock_order back;
        stock_take(&stock, &o);
        stock_drain(&stock, &back);
        o = back;
    }
    unlock();
    stock_fetch(&o); /* unmaps the blocks drained, if any */
}

/* The stock is the running policy's: refilled only while it runs (and by
 * replacement_start, before it does). */
static void refill(void)
{
    if (replacement_active())
        refill_stock();
}

/* Fault threads may refill; the SIGBUS handler (signal mode) may not. */
static void refill_in_fault(void)
{
    if (vmem_rt.mode == VMEM_FAULT_THREAD)
        refill();
}

/* Set when an admission could not get memory (the stock ran out between
 * refills, e.g. in a SIGBUS handler after the cap was raised far): some
 * resident page may be untracked, and the policy is the trimmer's only
 * source of victims.  The working-set manager then refills the stock and
 * admits every resident page again (replacement_maintain); admitting a
 * tracked page again only marks it referenced. */
static int resync; /* atomic */

/* Under policy_lock: the requests to the stock so far, served or not. */
static uint64_t requests_now(void)
{
    return stock.misses + stock.served;
}

/* After an admission that began at `before` requests (policy_lock
 * released), `missed` telling whether one failed.  A policy that grew in a
 * SIGBUS handler used stock that only the working-set manager refills:
 * kicked, it refills at once rather than at its next tick, so that
 * threads faulting fast find the stock full again.  Async-signal-safe. */
static void after_admit(uint64_t before, uint64_t after, int missed)
{
    if (missed)
        __atomic_store_n(&resync, 1, __ATOMIC_RELEASE);
    if (missed || (after != before && vmem_rt.mode != VMEM_FAULT_THREAD))
        paging_kick();
}

int replacement_active(void)
{
    return __atomic_load_n(&active, __ATOMIC_ACQUIRE);
}

static uint64_t vpn_of(const struct region *r, size_t i)
{
    return (uint64_t)(region_addr(r, i) >> PAGE_SHIFT);
}

/* Admits vpn; if the stock ran short, refills it and admits again (a
 * policy that could not get memory left the page untracked).  Not in a
 * fault: it maps. */
static void admit_refilling(uint64_t vpn)
{
    lock();
    uint64_t missed = stock.misses;
    ops->admit(pol, vpn, 0);
    int again = stock.misses != missed;
    unlock();
    if (again) {
        refill_stock();
        lock();
        ops->admit(pol, vpn, 0);
        unlock();
    }
}

static void admit_resident(void);

int replacement_start(const char *name, size_t frames, char *err, size_t errlen)
{
    const struct policy_ops *o = policy_find(name && *name ? name : NULL);
    if (!o) {
        int n = snprintf(err, errlen, "unknown replacement policy '%s'; valid:", name);
        for (size_t i = 0; policy_list[i] && n > 0 && (size_t)n < errlen; i++)
            n += snprintf(err + n, errlen - (size_t)n, " %s", policy_list[i]->name);
        return EINVAL;
    }
    /* creation maps what it needs itself: no lock is held, no handler runs */
    struct policy_alloc mem = stock_allocator(&stock);
    stock.direct = 1;
    struct policy *p = o->create(frames, 0, 0x5eed, &mem);
    stock.direct = 0;
    if (!p) {
        snprintf(err, errlen, "no memory for the replacement policy");
        return ENOMEM;
    }
    lock();
    ops = o;
    pol = p;
    unlock();
    refill_stock();
    /* what is resident already (paging started after the program did) */
    admit_resident();
    __atomic_store_n(&active, 1, __ATOMIC_RELEASE);
    return 0;
}

void replacement_stop(void)
{
    struct stock_order o;
    lock();
    __atomic_store_n(&active, 0, __ATOMIC_RELEASE);
    if (pol)
        ops->destroy(pol);
    pol = NULL;
    ops = NULL;
    stock_drain(&stock, &o);
    unlock();
    stock_fetch(&o);
}

void replacement_admit(const struct region *r, size_t first, size_t n, unsigned flags)
{
    if (!n || !replacement_active())
        return;
    refill_in_fault();
    lock();
    uint64_t before = requests_now(), missed = stock.misses;
    if (pol)
        for (size_t i = first; i < first + n; i++)
            ops->admit(pol, vpn_of(r, i), flags);
    uint64_t after = requests_now();
    missed = stock.misses != missed;
    unlock();
    after_admit(before, after, (int)missed);
}

void replacement_touch(const struct region *r, size_t i)
{
    if (!replacement_active())
        return;
    refill_in_fault();
    lock();
    uint64_t before = requests_now(), missed = stock.misses;
    if (pol)
        ops->touch(pol, vpn_of(r, i));
    uint64_t after = requests_now();
    missed = stock.misses != missed;
    unlock();
    after_admit(before, after, (int)missed);
}

void replacement_forget(const struct region *r, size_t i)
{
    if (!replacement_active())
        return;
    refill();
    lock();
    if (pol)
        ops->forget(pol, vpn_of(r, i));
    unlock();
}

static int by_vpn(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

size_t replacement_victims(uint64_t *vpn, size_t n)
{
    size_t got = 0;
    refill();
    lock();
    while (pol && got < n && ops->victim(pol, &vpn[got]) == 0)
        got++;
    unlock();
    qsort(vpn, got, sizeof(*vpn), by_vpn);
    return got;
}

void replacement_readmit(uint64_t vpn)
{
    refill();
    if (replacement_active())
        admit_refilling(vpn);
}

/* Admits every resident page (as_lock held by the caller). */
static void admit_resident(void)
{
    for (struct region *r = region_next_above(0); r; r = region_next_above(r->base))
        for (size_t i = pte_next_present(&r->ptes, 0, r->npages); i < r->npages;
             i = pte_next_present(&r->ptes, i + 1, r->npages))
            if (pte_load_state(pte_get(&r->ptes, i)) == PTE_RESIDENT)
                admit_refilling(vpn_of(r, i));
}

void replacement_maintain(void)
{
    if (!replacement_active())
        return;
    refill();
    if (__atomic_exchange_n(&resync, 0, __ATOMIC_ACQ_REL)) {
        as_lock_shared();
        admit_resident();
        as_unlock();
    }
}

void replacement_counts(size_t *tracked, uint64_t *misses)
{
    lock();
    *tracked = pol ? ops->size(pol) : 0;
    *misses = stock.misses;
    unlock();
}
