/*
 * stats.c -- the runtime's counters (stats.h): the one set of them, and
 * raising a gauge's peak.  What the API reports from them is api/stats.c's.
 */
#include "core/stats.h"

static struct vmem_counters own;
struct vmem_counters *vmem_ctr_live = &own;

void ctr_move(struct vmem_counters *to)
{
    if (!to)
        to = &own;
    if (to == vmem_ctr_live)
        return;
    *to = *vmem_ctr_live;
    __atomic_store_n(&vmem_ctr_live, to, __ATOMIC_RELEASE);
}

void ctr_gauge_add(uint64_t *gauge, uint64_t *peak, uint64_t n)
{
    uint64_t now = __atomic_add_fetch(gauge, n, __ATOMIC_RELAXED);
    uint64_t p = __atomic_load_n(peak, __ATOMIC_RELAXED);
    while (now > p && !__atomic_compare_exchange_n(peak, &p, now, 1, __ATOMIC_RELAXED,
                                                   __ATOMIC_RELAXED))
        ;
}
