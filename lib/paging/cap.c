/*
 * cap.c -- the resident-memory cap and waiting for room under it.
 *
 * The cap bounds working set + standby frames (both are RAM).  Faults that
 * will install pages wait (bounded) in paging_wait_for_room when the cap
 * is reached, announcing how many pages they need, so the working set
 * stays under the cap plus what faults in flight install; the working-set
 * manager (wsmanager.c) makes the room.
 *
 * Locks: none; the cap and counters are atomics.
 */
#include "paging/cap.h"
#include "paging/cap_warning.h"
#include "compress/store.h"
#include "os/time.h"
#include "pagefile/pagefile.h"
#include "paging/page_writer.h"
#include "paging/standby.h"
#include "paging/wsmanager.h"
#include "core/runtime.h"
#include "core/stats.h"
#include "core/vmem_internal.h"

#include <errno.h>

static uint64_t cap_pages;       /* atomic; 0 = paging off */
static uint64_t progress;        /* atomic: pages trimmed or released */
static int stalled;              /* atomic: the last trim made no progress
                                    (page file full or failing, all locked) */
static uint64_t wanted;          /* atomic: pages faults wait to install */
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
uint64_t cap_wanted(void) { return __atomic_load_n(&wanted, __ATOMIC_ACQUIRE); }

int cap_short_of_room(void)
{
    return cap_in_ram() + cap_wanted() > cap();
}

void cap_set(uint64_t pages)
{
    __atomic_store_n(&cap_pages, pages, __ATOMIC_RELEASE);
}

void cap_progress(size_t done)
{
    __atomic_add_fetch(&progress, done, __ATOMIC_RELEASE);
}

void cap_stalled(int s)
{
    __atomic_store_n(&stalled, s, __ATOMIC_RELEASE);
}

int paging_enabled(void) { return cap() != 0; }
uint64_t paging_cap(void) { return cap(); }

uint64_t paging_commit_limit(void)
{
    return paging_enabled() ? cap() + pagefile_capacity() : UINT64_MAX;
}

int paging_has_room(size_t npages)
{
    return !paging_enabled() || cap_in_ram() + npages <= cap();
}

void paging_wait_for_room(size_t npages)
{
    if (paging_has_room(npages))
        return;
    if (__atomic_load_n(&stalled, __ATOMIC_ACQUIRE)) {
        paging_kick();
        return; /* trimming cannot make room now: go over the cap */
    }
    /* Announced, so the trimmer makes room for it even between the water
     * marks (with both at 100%, room is made exactly on demand). */
    __atomic_add_fetch(&wanted, npages, __ATOMIC_ACQ_REL);
    paging_kick();
    /* Bounded: while trimming makes progress, wait for it (up to 200 ms);
     * if it makes none for 50 ms (a page-writer batch takes a few ms), or
     * the trimmer found nothing it can do (everything locked, page file
     * full or failing), the working set exceeds the cap for a while rather
     * than the application stopping. */
    uint64_t seen = __atomic_load_n(&progress, __ATOMIC_ACQUIRE);
    int idle = 0;
    for (int i = 0; i < 4000 && cap_in_ram() + npages > cap() && idle < 1000 &&
                    !__atomic_load_n(&stalled, __ATOMIC_ACQUIRE); i++) {
        os_nap_ns(50 * 1000);
        uint64_t now = __atomic_load_n(&progress, __ATOMIC_ACQUIRE);
        /* a page-writer batch in flight is progress too: its frames are
         * about to be freed (under a slow disk a batch can take longer
         * than the idle bound) */
        idle = now == seen && !page_writer_busy() ? idle + 1 : 0;
        seen = now;
        if (idle == 10)
            paging_kick();
    }
    __atomic_sub_fetch(&wanted, npages, __ATOMIC_ACQ_REL);
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
