/*
 * compress_out.c -- pages into and out of the compressed store, by the page
 * writer thread.
 *
 * Into it: standby frames (the older half of the list, oldest first) not
 * yet in the store are marked FRAME_WRITING under as_lock exclusive, so
 * their content is frozen and no fault takes them; they are compressed and
 * put in the store with as_lock released (the program cannot touch a frame:
 * no lock is held while compressing).  The store's RAM counts in the cap:
 * the store grows into a reserve of room the writer holds under it,
 * refilled by freeing clean standby frames (those of the pass already
 * put, settled early, among them); a put the reserve cannot cover sends
 * its page to the page file while that can take pages (below).  Then,
 * under the lock again, each
 * frame is FRAME_STORED with its entry and is no longer dirty: the working-
 * set manager frees it like a clean frame, leaving the page COMPRESSED
 * (release.c).  A dirty frame's old page-file slot is freed (its content is
 * stale); a clean frame's slot stays with the entry, so the entry can
 * leave the store later without a write.  A frame the store refuses (does
 * not compress under the threshold, store full, no memory) is marked
 * FRAME_NOSTORE: the page writer writes it to the page file as before.  A
 * frame faulted back or decommitted meanwhile (FRAME_ORPHAN) gives its entry
 * back.  Each page compressed is reported to the store's adaptive share
 * (compress/share.c); while that share is 0, only its samples are
 * compressed and the other frames go to the page file at once.
 *
 * Out of it: when the store is above its eviction mark (90 % of its
 * share, at most VMEM_COMPRESS_MAX), its oldest entries leave, under as_lock exclusive: a
 * COMPRESSED page with a page-file copy becomes PAGEDOUT at once; one
 * without is decompressed into this thread's buffer, given a slot, written
 * with the lock released, and becomes PAGEDOUT only if, under the lock
 * again, it is still COMPRESSED at the same entry (generation and all):
 * otherwise a fault or a decommit took it meanwhile and the slot is freed.
 * An entry whose page is still on standby (its frame STORED) just leaves
 * the frame, which becomes dirty again if it has no slot; one whose page
 * was read back and kept it (resident, core/pte.h: PTE_SLOT_STORE) just
 * goes, the page dirty again if it has no slot.  Pages written
 * out decompressed are simplest: a hard fault reads them as any other and
 * the page file keeps its fixed-size slots.
 *
 * Locks: as_lock exclusive to choose and to settle, none while compressing
 * or writing; store_lock inside the store's calls.
 */
#include "paging/compress_out.h"
#include "compress/share.h"
#include "compress/store.h"
#include "pagefile/pagefile.h"
#include "paging/cap.h"
#include "paging/page_writer.h"
#include "paging/release.h"
#include "paging/standby.h"
#include "core/region.h"
#include "core/runtime.h"
#include "core/stats.h"
#include "core/vmem_internal.h"

#include <stdlib.h>
#include <string.h>

#define BATCH 64

/* The page writer thread's: the page being put (each is put as soon as it
 * is compressed: one buffer, not a batch's 256 KiB of RAM outside the cap),
 * pages being written. */
static struct store_blob blob;
static uint8_t outbuf[BATCH * PAGE_SZ] __attribute__((aligned(PAGE_SZ)));

/* Frames fs[from, to), put in the store (ents[k], 0 if refused) or not,
 * settle.  Returns the frames freed.  as_lock exclusive. */
static size_t settle(const uint32_t *fs, const uint32_t *ents, const int *dirty, size_t from,
                     size_t to)
{
    size_t freed = 0;
    for (size_t k = from; k < to; k++) {
        uint32_t f = fs[k];
        struct frame *fr = standby_frame(f);
        fr->flags &= ~(uint32_t)FRAME_WRITING;
        if (fr->flags & FRAME_ORPHAN) {
            /* faulted back (installed dirty) or decommitted meanwhile */
            if (ents[k])
                store_free(ents[k]);
            pagefile_free(fr->slot, 1);
            standby_drop(f);
            freed++;
            continue;
        }
        if (!ents[k]) {
            fr->flags |= FRAME_NOSTORE;
            continue;
        }
        /* a dirty frame keeps its slot, stale, to be rewritten in place if
         * the page leaves the store (freeing it would punch the file here,
         * under the lock, page by page) */
        fr->flags = (fr->flags & ~(uint32_t)FRAME_DIRTY) | FRAME_STORED |
                    (dirty[k] && fr->slot ? FRAME_SLOT_STALE : 0);
        fr->centry = ents[k];
        if (!vmem_rt.cfg.standby) {
            paging_page_out(f);
            freed++;
        }
    }
    return freed;
}

/* The page writer's room under the cap for the store's growth, taken as
 * faults take theirs (cap_take), so no fault installs a page into it.
 * Atomic: compress_out_start (paging start) and the writer refill it; the
 * writer alone spends it. */
static size_t reserve;

/* Takes room until the reserve is whole, or none is left. */
static void refill(void)
{
    size_t r = __atomic_load_n(&reserve, __ATOMIC_ACQUIRE);
    if (r >= STORE_PUT_GROWTH_MAX || !store_on())
        return;
    size_t n = cap_take(STORE_PUT_GROWTH_MAX - r, 1);
    r = __atomic_add_fetch(&reserve, n, __ATOMIC_ACQ_REL);
    if (r > STORE_PUT_GROWTH_MAX) { /* refilled twice at once */
        cap_give_back(r - STORE_PUT_GROWTH_MAX);
        __atomic_sub_fetch(&reserve, r - STORE_PUT_GROWTH_MAX, __ATOMIC_ACQ_REL);
    }
}

void compress_out_start(void)
{
    __atomic_store_n(&reserve, 0, __ATOMIC_RELEASE);
    refill();
}

/* Pages by which RAM + the room taken pass the cap now (the reserve is
 * in the room taken: spending it on the store's growth is no debt). */
static uint64_t debt(void)
{
    uint64_t c = paging_cap(), h = cap_in_ram() + cap_taken();
    return c && h > c ? h - c : 0;
}

/* Settles the frames put so far (fs[*settled, k)) and frees clean frames,
 * oldest first (the ones just put among them): first for what RAM is
 * over the cap, then into the reserve, whose room is held first
 * (cap_hold) so that no fault takes what they free.  as_lock exclusive
 * taken here. */
static void settle_into_reserve(const uint32_t *fs, const uint32_t *ents, const int *dirty,
                                size_t *settled, size_t k)
{
    size_t r = __atomic_load_n(&reserve, __ATOMIC_ACQUIRE);
    size_t deficit = r < STORE_PUT_GROWTH_MAX ? STORE_PUT_GROWTH_MAX - r : 0;
    as_lock_exclusive();
    uint64_t owe = debt();
    cap_hold(deficit);
    size_t freed = settle(fs, ents, dirty, *settled, k);
    *settled = k;
    if (freed < owe + deficit) {
        int passed_dirty;
        freed += release_standby_locked(owe + deficit - freed, &passed_dirty);
    }
    size_t keep = freed > owe ? freed - owe : 0;
    if (keep > deficit)
        keep = deficit;
    cap_give_back(deficit - keep);
    as_unlock();
    __atomic_add_fetch(&reserve, keep, __ATOMIC_ACQ_REL);
}

/* Before a put that grows the store by grow pages: room for it in the
 * reserve, refilled if need be.  Returns 1 if the reserve covers it. */
static int make_room(uint64_t grow, const uint32_t *fs, const uint32_t *ents, const int *dirty,
                     size_t *settled, size_t k)
{
    if (__atomic_load_n(&reserve, __ATOMIC_ACQUIRE) >= grow)
        return 1;
    refill();
    if (__atomic_load_n(&reserve, __ATOMIC_ACQUIRE) >= grow)
        return 1;
    settle_into_reserve(fs, ents, dirty, settled, k);
    return __atomic_load_n(&reserve, __ATOMIC_ACQUIRE) >= grow;
}

/* Puts frame f's page (compressed in blob) in the store, spending the
 * reserve on what the put adds.  Returns the entry, 0 with *why. */
static uint32_t put(uint32_t f, uint32_t slot, int dirty, uint64_t grow, int *why)
{
    const struct frame *fr = standby_frame(f);
    uint32_t e = store_put(&blob, fr->region, fr->page, slot, dirty, why);
    size_t r = __atomic_load_n(&reserve, __ATOMIC_ACQUIRE), use = grow < r ? grow : r;
    if (e && use) {
        /* the store's pages now count in RAM: the room goes back */
        __atomic_sub_fetch(&reserve, use, __ATOMIC_ACQ_REL);
        cap_give_back(use);
    }
    return e;
}

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
        if (!share_want_compress()) {
            /* the store's share is 0 (share.c): to the page file, without
             * the CPU of compressing it */
            fr->flags |= FRAME_NOSTORE;
            continue;
        }
        fr->flags |= FRAME_WRITING;
        dirty[n] = (fr->flags & FRAME_DIRTY) != 0;
        slots[n] = fr->slot;
        fs[n++] = f;
    }
    as_unlock();
    if (!n)
        return 0;
    *found = 1;

    /* The frames are frozen (FRAME_WRITING): read without any lock.  The
     * store's RAM counts in the cap, and a frame put in it stays until it
     * is settled (then freed at once with the standby list off, or by
     * whoever needs room), while a put that opens a chunk for its size
     * class adds up to 4 pages: so the store grows into the writer's
     * reserve, refilled by settling the frames put so far and freeing
     * clean ones (RAM over the cap is paid back first).  A put the reserve
     * cannot cover goes to the page file instead while it can take pages;
     * with the page file full or failing the store is where pages can go,
     * and the put passes the cap by its growth. */
    int pf_ok = !page_writer_stuck() && pagefile_used() < pagefile_capacity();
    size_t settled = 0;
    for (size_t k = 0; k < n; k++) {
        int why = store_compress(standby_data(fs[k]), &blob);
        ents[k] = 0;
        if (why == STORE_OK) {
            uint64_t grow = store_put_growth(&blob);
            if (grow && !make_room(grow, fs, ents, dirty, &settled, k) && pf_ok)
                continue; /* FRAME_NOSTORE: the page writer writes it */
            ents[k] = put(fs[k], slots[k], dirty[k], grow, &why);
        }
        if (why == STORE_REJECT)
            ctr_add(&vmem_ctr.compress_rejects, 1);
        share_offered(why != STORE_REJECT);
    }

    /* the frames left settle, and refill the reserve for the next pass */
    settle_into_reserve(fs, ents, dirty, &settled, n);
    return n;
}

/* An entry to write out, ordered by page so neighbours get neighbouring
 * slots (a hard fault reads such a run in one I/O). */
struct out { struct region *r; uintptr_t base; uint64_t id; size_t page; uint32_t e, gen; int own; };

static int by_page(const void *a, const void *b)
{
    const struct out *x = a, *y = b;
    if (x->r != y->r)
        return (uintptr_t)x->r < (uintptr_t)y->r ? -1 : 1;
    return x->page < y->page ? -1 : x->page > y->page;
}

size_t compress_evict_pass(void)
{
    if (!store_wants_eviction())
        return 0;
    uint32_t es[BATCH];
    struct out o[BATCH];
    struct pf_write w[BATCH];
    size_t no = 0, nw = 0, moved = 0, dropped = 0;

    as_lock_exclusive();
    size_t k = store_oldest(es, BATCH);
    for (size_t j = 0; j < k; j++) {
        const struct store_entry *x = store_entry(es[j]);
        struct region *r = x->region;
        struct pte *p = r ? pte_get(&r->ptes, x->page) : NULL;
        if (!p)
            continue;
        if (p->state == PTE_RESIDENT && p->slot == (PTE_SLOT_STORE | es[j])) {
            /* a page read back that kept its entry: the entry just goes
             * (never written out, so never STORE_WRITING), the page dirty
             * unless its page-file slot has its content */
            paging_unstore(p);
            dropped++;
            continue;
        }
        if (p->state == PTE_STANDBY) {
            struct frame *fr = standby_frame(p->slot);
            if (!(fr->flags & FRAME_STORED) || fr->centry != es[j])
                continue;
            /* still in its frame: the frame keeps the content */
            fr->flags = (fr->flags & ~(uint32_t)(FRAME_STORED | FRAME_SLOT_STALE)) |
                        FRAME_NOSTORE |
                        (fr->slot && !(fr->flags & FRAME_SLOT_STALE) ? 0 : FRAME_DIRTY);
            store_free(es[j]);
            moved++;
            continue;
        }
        if (p->state != PTE_COMPRESSED || p->slot != es[j])
            continue;
        if (x->pf_slot && !x->stale) {
            p->slot = x->pf_slot;
            p->state = PTE_PAGEDOUT;
            store_free(es[j]);
            moved++;
            continue;
        }
        o[no++] = (struct out){ r, r->base, r->id, x->page, es[j], x->gen, x->pf_slot != 0 };
    }
    qsort(o, no, sizeof(*o), by_page);
    /* pages with a stale slot of their own are rewritten in place; the
     * others get one run of slots where the page file has one, so the
     * batch is one write, else a slot each */
    size_t fresh = 0;
    int fresh_ok = page_writer_fresh_ok(); /* else only in-place rewrites */
    for (size_t j = 0; j < no; j++)
        fresh += !store_entry(o[j].e)->pf_slot;
    if (!fresh_ok)
        fresh = 0;
    uint32_t first = 0, slots[BATCH];
    int run = fresh > 1 && pagefile_alloc(fresh, &first) == 0;
    size_t np = 0; /* pages in outbuf, in o[]'s order */
    for (size_t j = 0; j < no; j++) {
        uint32_t slot = store_entry(o[j].e)->pf_slot, own = slot != 0;
        if (!own && run)
            slot = first++;
        slots[j] = 0;
        if (!own && (!fresh_ok || (!run && pagefile_alloc(1, &slot) != 0))) {
            no = j; /* page file full: the rest stay in the store */
            break;
        }
        uint8_t *buf = outbuf + np * PAGE_SZ;
        if (store_get(o[j].e, buf) != 0) {
            if (!own)
                pagefile_free(slot, 1);
            continue;
        }
        slots[j] = slot;
        store_entry(o[j].e)->busy = STORE_WRITING;
        np++;
        if (nw && w[nw - 1].slot + w[nw - 1].npages == slot)
            w[nw - 1].npages++; /* buffers follow each other too */
        else
            w[nw++] = (struct pf_write){ .slot = slot, .buf = buf, .npages = 1 };
    }
    as_unlock();
    if (nw)
        pagefile_write_batch(w, nw);

    as_lock_exclusive();
    size_t written = 0, failed = 0, fresh_written = 0;
    for (size_t j = 0; j < no; j++) {
        if (!slots[j])
            continue;
        int result = 0;
        for (size_t i = 0; i < nw; i++)
            if (slots[j] >= w[i].slot && slots[j] < w[i].slot + w[i].npages)
                result = w[i].result;
        struct store_entry *x = store_entry(o[j].e);
        if (x->busy & STORE_ORPHAN) {
            /* faulted back or decommitted meanwhile: the page gave up the
             * entry and its slot */
            store_free(o[j].e);
            pagefile_free(slots[j], 1);
            continue;
        }
        x->busy = 0;
        struct region *r = region_find(o[j].base);
        struct pte *p = r && r->id == o[j].id ? pte_get(&r->ptes, o[j].page) : NULL;
        if (result || !p || p->state != PTE_COMPRESSED || p->slot != o[j].e) {
            /* the write failed: the page stays in the store (a fresh slot
             * goes back; its own stays with it) */
            if (!o[j].own)
                pagefile_free(slots[j], 1);
            if (result) {
                ctr_add(&vmem_ctr.write_errors, 1);
                failed++;
            }
            continue;
        }
        fresh_written += !o[j].own;
        p->slot = slots[j];
        p->state = PTE_PAGEDOUT;
        store_free(o[j].e);
        written++;
        moved++;
    }
    ctr_add(&vmem_ctr.pages_written, written);
    ctr_add(&vmem_ctr.write_ios, nw);
    ctr_add(&vmem_ctr.compress_evicted, moved);
    as_unlock();
    if (nw)
        page_writer_fresh_outcome(failed, fresh_written);
    return moved + dropped;
}
