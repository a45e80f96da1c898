/*
 * compress_out.c -- pages into and out of the compressed store, by the page
 * writer thread.
 *
 * Into it: standby frames (the older half of the list, oldest first) not
 * yet in the store are marked FRAME_WRITING under as_lock exclusive, so
 * their content is frozen and no fault takes them; they are compressed and
 * put in the store with as_lock released (the program cannot touch a frame:
 * no lock is held while compressing); then, under the lock again, each
 * frame is FRAME_STORED with its entry and is no longer dirty: the working-
 * set manager frees it like a clean frame, leaving the page COMPRESSED
 * (release.c).  A dirty frame's old page-file slot is freed (its content is
 * stale); a clean frame's slot stays with the entry, so the entry can
 * leave the store later without a write.  A frame the store refuses (does
 * not compress under the threshold, store full, no memory) is marked
 * FRAME_NOSTORE: the page writer writes it to the page file as before.  A
 * frame faulted back or decommitted meanwhile (FRAME_ORPHAN) gives its entry
 * back.
 *
 * Out of it: when the store is above its eviction mark (90 % of
 * VMEM_COMPRESS_MAX), its oldest entries leave, under as_lock exclusive: a
 * COMPRESSED page with a page-file copy becomes PAGEDOUT at once; one
 * without is decompressed into this thread's buffer, given a slot, written
 * with the lock released, and becomes PAGEDOUT only if, under the lock
 * again, it is still COMPRESSED at the same entry (generation and all):
 * otherwise a fault or a decommit took it meanwhile and the slot is freed.
 * An entry whose page is still on standby (its frame STORED) just leaves
 * the frame, which becomes dirty again if it has no slot.  Pages written
 * out decompressed are simplest: a hard fault reads them as any other and
 * the page file keeps its fixed-size slots.
 *
 * Locks: as_lock exclusive to choose and to settle, none while compressing
 * or writing; store_lock inside the store's calls.
 */
#include "paging/compress_out.h"
#include "compress/store.h"
#include "pagefile/pagefile.h"
#include "paging/release.h"
#include "paging/standby.h"
#include "core/region.h"
#include "core/runtime.h"
#include "core/stats.h"
#include "core/vmem_internal.h"

#include <string.h>

#define BATCH 64

/* The page writer thread's: blobs being put, pages being written. */
static struct store_blob blobs[BATCH];
static uint8_t outbuf[BATCH * PAGE_SZ] __attribute__((aligned(PAGE_SZ)));

size_t compress_out_pass(int *found)
{
    uint32_t fs[BATCH], ents[BATCH], slots[BATCH];
    int dirty[BATCH];
    size_t n = 0;
    *found = 0;
    if (!store_on())
        return 0;
    as_lock_exclusive();
    size_t look = vmem_rt.cfg.standby ? standby_count() / 2 + 1 : standby_count(), seen = 0;
    for (uint32_t f = standby_oldest(); f && seen < look && n < BATCH; f = standby_next(f)) {
        struct frame *fr = standby_frame(f);
        seen++;
        if (fr->flags & (FRAME_WRITING | FRAME_STORED | FRAME_NOSTORE | FRAME_ORPHAN))
            continue;
        fr->flags |= FRAME_WRITING;
        dirty[n] = (fr->flags & FRAME_DIRTY) != 0;
        slots[n] = fr->slot;
        fs[n++] = f;
    }
    as_unlock();
    if (!n)
        return 0;
    *found = 1;

    /* the frames are frozen (FRAME_WRITING): read without any lock */
    for (size_t k = 0; k < n; k++) {
        struct frame *fr = standby_frame(fs[k]);
        int why = store_compress(standby_data(fs[k]), &blobs[k]);
        ents[k] = 0;
        if (why == STORE_OK)
            ents[k] = store_put(&blobs[k], fr->region, fr->page, dirty[k] ? 0 : slots[k], &why);
        if (why == STORE_REJECT)
            ctr_add(&vmem_ctr.compress_rejects, 1);
    }

    as_lock_exclusive();
    for (size_t k = 0; k < n; k++) {
        uint32_t f = fs[k];
        struct frame *fr = standby_frame(f);
        fr->flags &= ~(uint32_t)FRAME_WRITING;
        if (fr->flags & FRAME_ORPHAN) {
            /* faulted back (installed dirty) or decommitted meanwhile */
            if (ents[k])
                store_free(ents[k]);
            pagefile_free(fr->slot, 1);
            standby_drop(f);
            continue;
        }
        if (!ents[k]) {
            fr->flags |= FRAME_NOSTORE;
            continue;
        }
        if (dirty[k] && fr->slot) {
            /* its old copy is stale: the store has the content now */
            pagefile_free(fr->slot, 1);
            fr->slot = 0;
        }
        fr->flags = (fr->flags & ~(uint32_t)FRAME_DIRTY) | FRAME_STORED;
        fr->centry = ents[k];
        if (!vmem_rt.cfg.standby)
            paging_page_out(f);
    }
    as_unlock();
    return n;
}

size_t compress_evict_pass(void)
{
    if (!store_wants_eviction())
        return 0;
    uint32_t es[BATCH], gens[BATCH];
    struct pf_write w[BATCH];
    struct { uintptr_t base; uint64_t id; size_t page; } who[BATCH];
    size_t nw = 0, moved = 0;

    as_lock_exclusive();
    size_t k = store_oldest(es, BATCH);
    for (size_t j = 0; j < k; j++) {
        const struct store_entry *x = store_entry(es[j]);
        struct region *r = x->region;
        struct pte *p = r ? pte_get(&r->ptes, x->page) : NULL;
        if (!p)
            continue;
        if (p->state == PTE_STANDBY) {
            struct frame *fr = standby_frame(p->slot);
            if (!(fr->flags & FRAME_STORED) || fr->centry != es[j])
                continue;
            /* still in its frame: the frame keeps the content */
            fr->flags = (fr->flags & ~(uint32_t)FRAME_STORED) | FRAME_NOSTORE |
                        (fr->slot ? 0 : FRAME_DIRTY);
            store_free(es[j]);
            moved++;
            continue;
        }
        if (p->state != PTE_COMPRESSED || p->slot != es[j])
            continue;
        if (x->pf_slot) {
            p->slot = x->pf_slot;
            p->state = PTE_PAGEDOUT;
            store_free(es[j]);
            moved++;
            continue;
        }
        uint32_t slot;
        if (pagefile_alloc(1, &slot) != 0)
            break; /* page file full: the store stays full, new pages go to neither */
        if (store_get(es[j], outbuf + nw * PAGE_SZ) != 0) {
            pagefile_free(slot, 1);
            continue;
        }
        w[nw] = (struct pf_write){ .slot = slot, .buf = outbuf + nw * PAGE_SZ, .npages = 1 };
        who[nw].base = r->base;
        who[nw].id = r->id;
        who[nw].page = x->page;
        gens[nw] = x->gen;
        es[nw] = es[j];
        nw++;
    }
    as_unlock();
    if (nw)
        pagefile_write_batch(w, nw);

    as_lock_exclusive();
    size_t written = 0;
    for (size_t j = 0; j < nw; j++) {
        struct region *r = region_find(who[j].base);
        struct pte *p = r && r->id == who[j].id ? pte_get(&r->ptes, who[j].page) : NULL;
        const struct store_entry *x = store_entry(es[j]);
        if (w[j].result || !p || p->state != PTE_COMPRESSED || p->slot != es[j] || !x->live ||
            x->gen != gens[j]) {
            /* the write failed (the page stays in the store), or the page
             * was faulted back or decommitted meanwhile */
            pagefile_free(w[j].slot, 1);
            if (w[j].result)
                ctr_add(&vmem_ctr.write_errors, 1);
            continue;
        }
        p->slot = w[j].slot;
        p->state = PTE_PAGEDOUT;
        store_free(es[j]);
        written++;
        moved++;
    }
    ctr_add(&vmem_ctr.pages_written, written);
    ctr_add(&vmem_ctr.write_ios, nw);
    ctr_add(&vmem_ctr.compress_evicted, moved);
    as_unlock();
    return moved;
}
