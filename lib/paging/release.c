/*
 * release.c -- freeing standby frames, and the store copies of resident
 * pages.
 *
 * The working-set manager frees the oldest clean standby frames (their
 * page-file copy valid) when it needs room: their pages become PAGEDOUT,
 * with no I/O.  The page writer frees a frame as soon as it is written when
 * the standby list is off.  A page decommitted or released takes its frame
 * with it (one being written is orphaned: the page writer frees it).
 * With the compressed store on, a frame the page writer put in the store
 * leaves its page COMPRESSED; a clean frame not (yet) in it is freed as
 * before, its page-file copy valid: the room is not kept waiting for the
 * compressor.
 *
 * A page read back from the compressed store keeps its entry while it is
 * clean (core/pte.h, PTE_SLOT_STORE): when it is written, decommitted, or
 * the store lets the entry go, paging_unstore frees the entry and the page
 * keeps the entry's page-file slot, dirty unless that slot has its content.
 *
 * Locks: as_lock exclusive (paging_unstore_written: shared).
 */
#include "paging/release.h"
#include "compress/store.h"
#include "paging/fault_cost.h"
#include "paging/prefetch.h"
#include "paging/standby.h"
#include "core/region.h"
#include "core/runtime.h"
#include "core/stats.h"

/* Gives frame f's page its slot back and frees the frame: the page is now
 * only in the page file.  as_lock exclusive. */
void paging_page_out(uint32_t f)
{
    struct frame *fr = standby_frame(f);
    struct pte *p = pte_get(&fr->region->ptes, fr->page);
    if (fr->flags & FRAME_PREFETCHED) {
        ctr_add(&vmem_ctr.prefetch_unused, 1);
        prefetch_feedback(0);
        if (fr->flags & FRAME_READAHEAD)
            prefetch_outcome(1, 0);
    }
    if (fr->flags & FRAME_STORED) {
        /* the store has it (and its entry the slot, if any) */
        p->slot = fr->centry;
        p->state = PTE_COMPRESSED;
    } else {
        p->slot = fr->slot;
        p->state = PTE_PAGEDOUT;
    }
    standby_drop(f);
}

size_t release_standby_locked(size_t n, int *dirty)
{
    size_t freed = 0, seen = 0, look = standby_count();
    *dirty = 0;
    uint32_t f = standby_oldest();
    while (f && freed < n && seen < look) {
        uint32_t next = standby_next(f);
        const struct frame *fr = standby_frame(f);
        seen++;
        if (fr->flags & (FRAME_DIRTY | FRAME_WRITING)) {
            *dirty |= (fr->flags & FRAME_DIRTY) != 0;
        } else {
            paging_page_out(f);
            freed++;
        }
        f = next;
    }
    return freed;
}

size_t release_standby(size_t n, int *dirty)
{
    as_lock_exclusive();
    uint64_t held = fault_cost_now();
    size_t freed = release_standby_locked(n, dirty);
    fault_cost_since(FC_HOLD_RELEASE, held);
    as_unlock();
    return freed;
}

void paging_unstore(struct pte *p)
{
    if (!pte_slot_stored(p->slot))
        return;
    uint32_t e = p->slot & ~PTE_SLOT_STORE;
    int stale = store_entry(e)->stale;
    p->slot = store_release(e); /* never STORE_WRITING: see compress_out.c */
    if (!p->slot || stale)
        p->flags |= PTE_F_DIRTY;
}

void paging_unstore_written(struct pte *p)
{
    uint32_t s = __atomic_load_n(&p->slot, __ATOMIC_ACQUIRE);
    /* one of the faults writing to it at once frees the entry; meanwhile
     * the slot is PTE_SLOT_STORE alone (no entry), which the others leave
     * be and lost_resident (fault.c) waits out */
    if (!pte_slot_stored(s) || s == PTE_SLOT_STORE ||
        !__atomic_compare_exchange_n(&p->slot, &s, PTE_SLOT_STORE, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return;
    __atomic_store_n(&p->slot, store_release(s & ~PTE_SLOT_STORE), __ATOMIC_RELEASE);
}

uint32_t paging_forget(struct pte *p)
{
    uint32_t slot = 0;
    switch (p->state) {
    case PTE_RESIDENT: /* the working-set counter is the caller's */
        paging_unstore(p);
        slot = p->slot;
        break;
    case PTE_PAGEDOUT:
        slot = p->slot;
        break;
    case PTE_COMPRESSED:
        slot = store_release(p->slot);
        break;
    case PTE_STANDBY: {
        struct frame *fr = standby_frame(p->slot);
        if (fr->flags & FRAME_PREFETCHED) {
            ctr_add(&vmem_ctr.prefetch_unused, 1);
            prefetch_feedback(0);
            if (fr->flags & FRAME_READAHEAD)
                prefetch_outcome(1, 0);
        }
        if (fr->flags & FRAME_WRITING) {
            fr->flags |= FRAME_ORPHAN; /* the page writer frees it */
        } else {
            if (fr->flags & FRAME_STORED)
                store_free(fr->centry);
            slot = fr->slot;
            standby_drop(p->slot);
        }
        break;
    }
    default:
        break;
    }
    p->slot = 0;
    return slot;
}
