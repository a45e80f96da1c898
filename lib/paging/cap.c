/*
 * cap.c -- the resident-memory cap: the room under it, taken by faults
 * before they install pages, and the commit limit it makes.
 *
 * The cap bounds working set + standby frames + the compressed store's RAM.
 * A fault takes room for the pages it will install (cap_take) before it
 * installs them and gives it back once they are counted in the working set
 * (cap_give_back), so faults on several threads never together install
 * more than the cap leaves: what is in RAM plus the room taken stays under
 * the cap.  A fault that finds no room makes it (reclaim.c); only when
 * nothing can leave RAM (everything locked or pinned, the page file full or
 * failing) does it take a page over the cap, counted in cap_overruns.
 * The page writer holds room too, for the compressed store's growth
 * (compress_out.c).
 *
 * Locks: none; the cap and counters are atomics.
 */
#include "paging/cap.h"
#include "paging/cap_warning.h"
#include "compress/store.h"
#include "pagefile/pagefile.h"
#include "paging/standby.h"
#include "paging/wsmanager.h"
#include "core/runtime.h"
#include "core/stats.h"
#include "core/vmem_internal.h"

#include <errno.h>

static uint64_t cap_pages;       /* atomic; 0 = paging off */
static uint64_t progress;        /* atomic: pages trimmed or released */
/* atomic: the low 32 bits are the pages faults have taken room for and not
 * yet installed; the high 32 bits count the give-backs, so a fault's
 * compare-and-swap never succeeds on a reading of RAM older than another
 * fault's install (the low half alone could come back to the same value) */
static uint64_t taken;

#define TAKEN_MASK 0xffffffffull
#define TAKEN_GEN  (1ull << 32)
static uint64_t view_pages;      /* atomic: views' pages this process maps
                                    (in vmem_ctr.working_set too) */
static size_t (*view_trimmer)(size_t); /* atomic */

void paging_view_pages_add(int64_t n)
{
    if (n >= 0) {
        __atomic_add_fetch(&view_pages, (uint64_t)n, __ATOMIC_RELAXED);
        ctr_gauge_add(&vmem_ctr.working_set, &vmem_ctr.peak_working_set, (uint64_t)n);
    } else {
        __atomic_sub_fetch(&view_pages, (uint64_t)-n, __ATOMIC_RELAXED);
        ctr_sub(&vmem_ctr.working_set, (uint64_t)-n);
    }
}

uint64_t paging_view_pages(void) { return __atomic_load_n(&view_pages, __ATOMIC_RELAXED); }

void paging_set_view_trimmer(size_t (*trim)(size_t))
{
    __atomic_store_n(&view_trimmer, trim, __ATOMIC_RELEASE);
}

size_t cap_trim_views(size_t n)
{
    size_t (*trim)(size_t) = __atomic_load_n(&view_trimmer, __ATOMIC_ACQUIRE);
    return trim && n ? trim(n) : 0;
}

static uint64_t ws(void) { return __atomic_load_n(&vmem_ctr.working_set, __ATOMIC_RELAXED); }
static uint64_t cap(void) { return __atomic_load_n(&cap_pages, __ATOMIC_RELAXED); }

/* The compressed store's RAM counts too: its pages and its metadata. */
uint64_t cap_in_ram(void) { return ws() + standby_count() + store_charged_pages(); }
uint64_t cap_high_water(void) { return cap() * vmem_rt.cfg.high_water / 100; }
uint64_t cap_low_water(void) { return cap() * vmem_rt.cfg.low_water / 100; }
uint64_t cap_taken(void) { return __atomic_load_n(&taken, __ATOMIC_ACQUIRE) & TAKEN_MASK; }

uint64_t cap_held(void)
{
    /* With the standby list off every trimmed page's frame goes once
     * written: room on its way.  Not so a prefetched page's (a hard fault's
     * neighbour or readahead's, VMEM_PREFETCH_INSTALL=standby, or a
     * readahead window's marker): clean, it stays until touched or freed,
     * so it is held, and freeing it is room made at once.  Nor the
     * compressed store's RAM: it stays until its pages are faulted back or
     * evicted, and trimming more pages into it is what makes the store
     * evict (compress_out.c). */
    return vmem_rt.cfg.standby ? cap_in_ram()
                               : ws() + standby_prefetched() + store_charged_pages();
}

uint64_t cap_excess(uint64_t extra)
{
    uint64_t want = cap_held() + cap_taken() + extra, c = cap();
    return want > c ? want - c : 0;
}

size_t cap_least(size_t want)
{
    uint64_t most = cap() / 4 ? cap() / 4 : 1;
    return want < most ? want : (size_t)most;
}

size_t cap_take(size_t want, size_t least)
{
    uint64_t t = __atomic_load_n(&taken, __ATOMIC_ACQUIRE);
    for (;;) {
        uint64_t used = cap_in_ram() + (t & TAKEN_MASK), c = cap();
        if (used >= c || c - used < least)
            return 0;
        uint64_t n = c - used < want ? c - used : want;
        if (__atomic_compare_exchange_n(&taken, &t, t + n, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            return (size_t)n;
    }
}

size_t cap_take_over(size_t n)
{
    __atomic_add_fetch(&taken, n, __ATOMIC_ACQ_REL);
    ctr_add(&vmem_ctr.cap_overruns, n);
    return n;
}

void cap_hold(size_t n)
{
    __atomic_add_fetch(&taken, n, __ATOMIC_ACQ_REL);
}

void cap_give_back(size_t n)
{
    if (!n)
        return;
    /* never below 0: room taken before paging was restarted (cap_set) */
    uint64_t t = __atomic_load_n(&taken, __ATOMIC_ACQUIRE);
    while (!__atomic_compare_exchange_n(&taken, &t,
                                        t + TAKEN_GEN - ((t & TAKEN_MASK) < n ? (t & TAKEN_MASK) : n),
                                        0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        ;
}

void cap_set(uint64_t pages)
{
    /* Paging starting: no fault holds room (none takes any while paging is
     * off), but a forked child may have inherited what its parent's faults
     * held at the fork, by threads it does not have. */
    if (pages && !cap())
        __atomic_store_n(&taken, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&cap_pages, pages, __ATOMIC_RELEASE);
}

void cap_progress(size_t done)
{
    __atomic_add_fetch(&progress, done, __ATOMIC_RELEASE);
}

uint64_t cap_progress_count(void)
{
    return __atomic_load_n(&progress, __ATOMIC_ACQUIRE);
}

int paging_enabled(void) { return cap() != 0; }
uint64_t paging_cap(void) { return cap(); }

uint64_t paging_commit_limit(void)
{
    return paging_enabled() ? cap() + pagefile_capacity() : UINT64_MAX;
}

int paging_set_cap(uint64_t pages)
{
    if (!paging_enabled())
        return ENOTSUP;
    if (pages < PAGING_MIN_CAP_PAGES)
        return EINVAL;
    if (pages > cap())
        cap_warn_if_unbacked(pages);
    cap_set(pages);
    paging_kick();
    return 0;
}
