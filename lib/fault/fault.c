/*
 * fault.c -- resolving faults: demand-zero, transition (soft), hard, and
 * write-protect faults.
 *
 * Page states (the machine is in core/pte.h): a fault holds as_lock
 * shared, so the region and its page states cannot change under it except
 * by other faults:
 *  - COMMITTED -> RESIDENT: several threads may race to install zeros; the
 *    kernel arbitrates (UFFDIO_COPY/ZEROPAGE fail with EEXIST on a page
 *    already there) and each thread counts only the pages it installed.
 *  - STANDBY/PAGEDOUT/COMPRESSED -> RESIDENT: the fault claims the page with a
 *    compare-and-swap to INSTALLING first; a fault that loses just retries.
 * The exception is a hard fault's read, done with as_lock released (see
 * hard_fault): anything may happen meanwhile but to the claimed pages,
 * which everything else leaves alone, and to the region, which decommit
 * and release do not touch while its read is in flight.
 *
 * Clustering: a demand-zero fault installs the run of untouched committed
 * pages of the same protection around it, within the aligned block of
 * `zero_cluster` pages that holds it, in one ioctl.  A hard fault reads the
 * run of paged-out neighbours whose page-file slots are consecutive, within
 * the aligned block of `cluster` pages, in one read, and installs them all.
 *
 * Dirty tracking: a page installed from a valid page-file copy (or from a
 * clean standby frame) is installed write-protected; its first write is a
 * write-protect fault that sets PTE_F_DIRTY and opens the page.  Pages of
 * write-watch regions are always installed write-protected, and that fault
 * also records the write for GetWriteWatch.
 *
 * Write prediction: that fault also sets PTE_F_REWRITTEN.  A page written
 * after a clean page-in is likely written after the next one too, so its
 * next page-in (hard or transition fault) installs it writable and
 * PTE_F_DIRTY at once, sparing the write-protect fault: its page-file copy
 * no longer counts, and it is written again before it is dropped.  That
 * page-in uses the flag up (nothing sees a write to a writable page), so
 * the page-in after is clean again and its write-protect fault, if the
 * page is still written, marks it again: a page written at every stay
 * takes one write-protect fault per two page-ins, and one no longer
 * written costs one needless write, not one per trim (bench/RESULTS.md).
 * A page only ever written before its first page-out (a buffer filled
 * once, then read) never takes the flag.  Never for write-watch regions,
 * whose write-protect fault records the write.
 */
#include "fault/fault.h"
#include "fault/readahead.h"
#include "compress/store.h"
#include "paging/cap.h"
#include "paging/fault_cost.h"
#include "paging/reclaim.h"
#include "paging/release.h"
#include "paging/start.h"
#include "core/internal_alloc.h"
#include "os/process.h"
#include "os/uffd.h"
#include "os/vm.h"
#include "pagefile/pagefile.h"
#include "policy/policy.h"
#include "paging/prefetch.h"
#include "core/prot.h"
#include "paging/replacement.h"
#include "core/runtime.h"
#include "paging/standby.h"
#include "core/stats.h"
#include "core/vmem_internal.h"

#include <errno.h>
#include <string.h>
#include <ucontext.h>

#ifndef BUS_MCEERR_AR
#define BUS_MCEERR_AR 4
#endif

static int is_watch(const struct region *r)
{
    return (r->flags & REGION_WRITE_WATCH) != 0;
}

static int committed_with(const struct region *r, size_t idx, uint16_t prot)
{
    const struct pte *p = pte_get(&r->ptes, idx);
    return p && pte_load_state(p) == PTE_COMMITTED && p->prot == prot;
}

static void set_flags(struct pte *p, uint8_t f)
{
    if (unlikely(!p))
        return; /* cannot happen: a faulting page is committed, so its leaf
                   exists; the test keeps -O3's flow analysis quiet */
    __atomic_fetch_or(&p->flags, f, __ATOMIC_ACQ_REL);
}

static void set_state(struct pte *p, uint8_t st)
{
    __atomic_store_n(&p->state, st, __ATOMIC_RELEASE);
}

/* A page-in that installs page p writable on a prediction uses the
 * prediction up: if the page is written again during this stay, the next
 * page-in is clean and its write-protect fault marks it again. */
static void consume_prediction(struct pte *p)
{
    __atomic_fetch_and(&p->flags, (uint8_t)~PTE_F_REWRITTEN, __ATOMIC_ACQ_REL);
}

/* Whether a page-in installs page p writable and dirty (see "Write
 * prediction" above): written after its last clean page-in. */
static int predict_write(const struct region *r, const struct pte *p)
{
    return paging_tracks_dirty() && !is_watch(r) && (pte_load_flags(p) & PTE_F_REWRITTEN);
}

/* Whether a page read back from the compressed store keeps its entry as
 * its copy while it stays clean (core/pte.h, PTE_SLOT_STORE): where dirty
 * tracking sees its first write, and not when it is predicted to be
 * written (installed writable) or MEM_RESET (the kernel may drop it).
 * Such a page is installed write-protected, so only where a write from a
 * system call (read(2) into it) is a fault this library is told of: in
 * thread mode with kernel-mode faults.  Elsewhere the call would fail with
 * EFAULT, so a page with no valid page-file copy goes back writable. */
static int keeps_store_copy(const struct region *r, const struct pte *p)
{
    return paging_tracks_dirty() && vmem_rt.mode == VMEM_FAULT_THREAD &&
           (vmem_rt.uffd_have & UFFD_HAVE_KERNEL_MODE) && !predict_write(r, p) &&
           !(pte_load_flags(p) & PTE_F_RESET);
}

static int claim(struct pte *p, uint8_t from)
{
    return __atomic_compare_exchange_n(&p->state, &from, PTE_INSTALLING, 0, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

/* The end of a fault that installed one page taken from standby or the
 * compressed store: its flags (dirty when its copy elsewhere is not to be
 * trusted or it is being written), RESIDENT, admitted to the replacement
 * policy, counted under kind and in the working set. */
static void made_resident(struct region *r, size_t idx, struct pte *p, int dirty, int write,
                          uint64_t *kind)
{
    uint8_t fl = PTE_F_ACCESSED | ((dirty || write) ? PTE_F_DIRTY : 0);
    if (write && is_watch(r))
        fl |= PTE_F_WRITTEN;
    set_flags(p, fl);
    set_state(p, PTE_RESIDENT);
    replacement_admit(r, idx, 1, 0);
    ctr_add(kind, 1);
    ctr_gauge_add(&vmem_ctr.working_set, &vmem_ctr.peak_working_set, 1);
}

/* Installs zero pages over [first, end), skipping pages someone else
 * installed first, and marks them RESIDENT with `flags`.  Returns the
 * number of pages this call installed; sets *woke if the page `want` was
 * installed by it (which wakes its waiters). */
static size_t install_zero(struct region *r, size_t first, size_t end, int zeropage,
                           int wp, uint8_t flags, size_t want, int *woke)
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
        for (size_t k = i; k < i + n; k++) {
            struct pte *p = pte_get(&r->ptes, k);
            if (flags)
                set_flags(p, flags);
            set_state(p, PTE_RESIDENT);
        }
        replacement_admit(r, i, n, 0);
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

/* Opens a write-protected page for a write: records the write (dirty, and
 * for GetWriteWatch) and removes the protection, which wakes the writer. */
static void open_for_write(struct region *r, size_t idx, int *woke)
{
    struct pte *p = pte_get(&r->ptes, idx);
    uint8_t f = PTE_F_DIRTY | (is_watch(r) ? PTE_F_WRITTEN : PTE_F_REWRITTEN);
    uint8_t old = __atomic_fetch_or(&p->flags, f, __ATOMIC_ACQ_REL);
    if (is_watch(r) && !(old & PTE_F_WRITTEN))
        ctr_add(&vmem_ctr.write_watch_faults, 1);
    paging_unstore_written(p); /* dirty before: its store copy is stale now */
    int e = uffd_writeprotect(vmem_rt.uffd, region_addr(r, idx), PAGE_SZ, 0);
    replacement_touch(r, idx);
    if (e) {
        /* not opened, so not woken: fault_resolve wakes it to retry */
        static int told;
        if (!told++)
            vmem_log("cannot open a page for writing (%s)", strerror(e));
        return;
    }
    *woke = 1;
}

/* room: the pages the cap leaves this fault (at least 1). */
static void demand_zero(struct region *r, size_t idx, int write, size_t room, int *woke)
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
    if (hi - lo > room) {
        /* the cluster shrinks to the room there is, from the faulting
         * page upwards (the way a sequential touch goes) */
        if (hi - idx >= room)
            lo = idx, hi = idx + room;
        else
            lo = hi - room;
    }

    /* Write-watch pages are installed write-protected, so the first write
     * is seen; the faulting page of a write fault is then opened at once.
     * Other zero-filled pages count as dirty (the trimmer finds those still
     * all zeros and drops them without I/O). */
    int watch = is_watch(r);
    int zeropage = !write && !watch;
    size_t got = install_zero(r, lo, hi, zeropage, watch, watch ? 0 : PTE_F_DIRTY, idx, woke);
    set_flags(pte_get(&r->ptes, idx), PTE_F_ACCESSED);
    if (watch && write)
        open_for_write(r, idx, woke);
    if (got) {
        ctr_add(&vmem_ctr.demand_zero_faults, 1);
        ctr_add(&vmem_ctr.demand_zero_pages, got);
        ctr_gauge_add(&vmem_ctr.working_set, &vmem_ctr.peak_working_set, got);
    }
}

/* A standby page touched again: re-install it from its frame. */
static void transition(struct region *r, size_t idx, int write, int *woke)
{
    struct pte *p = pte_get(&r->ptes, idx);
    if (!claim(p, PTE_STANDBY))
        return; /* another fault has it */
    uint32_t f = p->slot;
    struct frame *fr = standby_frame(f);
    int writing = (fr->flags & FRAME_WRITING) != 0;
    int prefetched = (fr->flags & FRAME_PREFETCHED) != 0;
    int marker = (fr->flags & FRAME_RA_MARK) != 0;
    int by_readahead = (fr->flags & FRAME_READAHEAD) != 0;
    /* a frame in the compressed store keeps its entry when the page goes
     * back clean (a read): the entry is then the page's copy, whatever its
     * page-file slot holds */
    int keep_entry = (fr->flags & FRAME_STORED) && !(fr->flags & FRAME_DIRTY) && !writing &&
                     !write && keeps_store_copy(r, p);
    int dirty = (fr->flags & FRAME_DIRTY) || writing || !paging_tracks_dirty() ||
                (!keep_entry && (fr->flags & FRAME_STORED) &&
                 (!fr->slot || (fr->flags & FRAME_SLOT_STALE))) ||
                predict_write(r, p);
    /* Clean pages, and every page of a write-watch region, go back
     * write-protected unless this very access is the write. */
    int wp = !write && (is_watch(r) || !dirty);
    /* A write installed writable goes ahead as soon as the copy wakes the
     * thread: the write must be on record before, or a GetWriteWatch
     * right after that write could miss it. */
    uint8_t had = 0;
    if (write && is_watch(r))
        had = __atomic_fetch_or(&p->flags, PTE_F_WRITTEN, __ATOMIC_ACQ_REL);
    size_t done = 0;
    int err = uffd_copy(vmem_rt.uffd, region_addr(r, idx), standby_data(f), PAGE_SZ, wp, &done);
    if (err && err != EEXIST) {
        if (write && is_watch(r) && !(had & PTE_F_WRITTEN))
            __atomic_fetch_and(&p->flags, (uint8_t)~PTE_F_WRITTEN, __ATOMIC_ACQ_REL);
        set_state(p, PTE_STANDBY);
        vmem_log("cannot re-install a standby page: %s", strerror(err));
        return;
    }
    /* EEXIST: the page was still mapped and nothing woke the waiter;
     * fault_resolve does.  What is mapped may not be write-protected: dirty,
     * and no store entry kept for it. */
    *woke = err == 0;
    if (err == EEXIST) {
        dirty = 1;
        keep_entry = 0;
    }
    if (writing) {
        /* The page writer is saving this frame; it frees it afterwards.
         * The copy it writes is not trusted: the page is dirty. */
        fr->flags |= FRAME_ORPHAN;
        p->slot = 0;
    } else if (keep_entry) {
        /* the entry has the frame's slot, if any */
        p->slot = PTE_SLOT_STORE | fr->centry;
        store_hit(&fr->centry, 1);
        standby_drop(f);
    } else {
        if (fr->flags & FRAME_STORED)
            store_free(fr->centry);
        p->slot = fr->slot;
        standby_drop(f);
    }
    if (predict_write(r, p) && !write)
        consume_prediction(p);
    made_resident(r, idx, p, dirty, write, &vmem_ctr.transition_faults);
    if (prefetched) {
        ctr_add(&vmem_ctr.prefetch_used, 1);
        prefetch_feedback(1);
        if (by_readahead)
            prefetch_outcome(1, 1);
    }
    if (marker) /* a readahead window reached: the stream goes on */
        readahead_note(r, idx, idx + 1);
}

static void inpage_error(struct region *r, size_t idx, int err);

/* Whether claimed page q (COMPRESSED before), a neighbour of a fault served
 * from the store, may come in with it: back clean and write-protected,
 * keeping its entry or with a valid page-file copy, as a hard fault's
 * neighbours come back; never one the page writer is writing out. */
static int neighbour_ok(const struct region *r, const struct pte *q)
{
    const struct store_entry *x = store_entry(q->slot);
    if (x->busy || !paging_tracks_dirty() || predict_write(r, q))
        return 0;
    return keeps_store_copy(r, q) || (x->pf_slot && !x->stale);
}

/* Installs the claimed neighbours [a, b) of a store fault, decompressed at
 * src, write-protected, in one UFFDIO_COPY; those not installed (it
 * stopped at a page mapped meanwhile) go back to COMPRESSED. */
static void install_neighbours(struct region *r, size_t a, size_t b, const uint8_t *src)
{
    if (a >= b)
        return;
    size_t done = 0;
    (void)uffd_copy(vmem_rt.uffd, region_addr(r, a), src, (b - a) * PAGE_SZ, 1, &done);
    size_t got = done / PAGE_SZ, nkept = 0;
    uint32_t kept[PF_BOUNCE_PAGES / 2]; /* a side's pages at most */
    for (size_t i = a; i < b; i++) {
        struct pte *q = pte_get(&r->ptes, i);
        if (i >= a + got) {
            set_state(q, PTE_COMPRESSED);
            continue;
        }
        uint32_t e = q->slot;
        if (keeps_store_copy(r, q)) {
            kept[nkept++] = e;
            q->slot = PTE_SLOT_STORE | e;
        } else {
            q->slot = store_release(e); /* its valid page-file copy */
        }
        set_state(q, PTE_RESIDENT);
    }
    store_hit(kept, nkept); /* one store_lock for the run */
    if (got) {
        replacement_admit(r, a, got, 0);
        ctr_gauge_add(&vmem_ctr.working_set, &vmem_ctr.peak_working_set, got);
        ctr_add(&vmem_ctr.prefetched_pages, got);
    }
}

/* The neighbours of page idx, just installed from the store, that the
 * prefetch policy's window takes (VMEM_PREFETCH, as for a hard fault):
 * those in the store, with the page's protection, that may come back clean
 * (neighbour_ok), up to the first that is not, on each side; decompressed
 * into the page-in buffer and installed ahead, then behind.  The room they
 * take is taken under the cap first, without waiting: *room holds the room
 * this fault took (its page is in it).  A read scan of pages in the store
 * then takes a fault per window, not per page.  Only for a read: a page
 * written after a read-back costs a write-protect fault, as much as a
 * fault from the store in thread mode (bench/RESULTS.md), and a program
 * that writes what it reads (an interpreter's reference counts) would pay
 * one for each neighbour. */
static void compressed_neighbours(struct region *r, size_t idx, size_t *room)
{
    unsigned behind, ahead;
    prefetch_window(region_addr(r, idx) >> PAGE_SHIFT, &behind, &ahead);
    if (!behind && !ahead)
        return;
    if (ahead > PF_BOUNCE_PAGES / 2)
        ahead = PF_BOUNCE_PAGES / 2;
    if (behind > PF_BOUNCE_PAGES / 2)
        behind = PF_BOUNCE_PAGES / 2;
    size_t want = (size_t)behind + ahead, have = *room ? *room - 1 : 0;
    if (want > have && paging_enabled()) {
        size_t more = cap_take(want - have, 1);
        *room += more;
        have += more;
    }
    if (ahead > have)
        ahead = (unsigned)have;
    if (behind > have - ahead)
        behind = (unsigned)(have - ahead);
    uint8_t *buf = pagefile_bounce();
    if (!buf || (!behind && !ahead))
        return;
    uint16_t prot = pte_get(&r->ptes, idx)->prot;
    /* ahead: buf[0, ahead) */
    size_t hi = idx + 1, end = idx + 1 + (size_t)ahead;
    if (end > r->npages)
        end = r->npages;
    while (hi < end) {
        struct pte *q = pte_get(&r->ptes, hi);
        if (!q || q->prot != prot || !claim(q, PTE_COMPRESSED))
            break;
        if (!neighbour_ok(r, q) || store_get(q->slot, buf + (hi - idx - 1) * PAGE_SZ) != 0) {
            set_state(q, PTE_COMPRESSED);
            break;
        }
        hi++;
    }
    /* behind: buf[ahead, ahead + behind), in address order */
    size_t block = idx >= behind ? idx - behind : 0, lo = idx;
    uint8_t *back = buf + (size_t)ahead * PAGE_SZ;
    while (lo > block) {
        struct pte *q = pte_get(&r->ptes, lo - 1);
        if (!q || q->prot != prot || !claim(q, PTE_COMPRESSED))
            break;
        if (!neighbour_ok(r, q) || store_get(q->slot, back + (lo - 1 - block) * PAGE_SZ) != 0) {
            set_state(q, PTE_COMPRESSED);
            break;
        }
        lo--;
    }
    install_neighbours(r, idx + 1, hi, buf);
    install_neighbours(r, lo, idx, back + (lo - block) * PAGE_SZ);
}

/* A page in the compressed store touched again: decompressed into this
 * thread's page-in buffer and installed in one UFFDIO_COPY, no I/O, all
 * under as_lock shared with the page claimed (its entry cannot go).  Read,
 * it goes back clean (write-protected) and keeps its entry as its copy
 * (PTE_SLOT_STORE), so that trimming it again costs no compression and no
 * write; written (or predicted to be), it goes back dirty, and the entry
 * goes.  An entry that does not decompress (library memory corrupted)
 * falls back to its page-file copy, or is an in-page error. */
static void compressed_fault(struct region *r, size_t idx, int write, size_t *room, int *woke)
{
    struct pte *p = pte_get(&r->ptes, idx);
    if (!claim(p, PTE_COMPRESSED))
        return;
    uint32_t e = p->slot, pf_slot = store_entry(e)->pf_slot;
    int stale = store_entry(e)->stale;
    uint8_t *buf = pagefile_bounce();
    uint64_t t0 = fault_cost_now();
    int err = buf ? store_get(e, buf) : ENOMEM;
    fault_cost_since(FC_DECOMPRESS, t0);
    if (err == ENOMEM) {
        set_state(p, PTE_COMPRESSED); /* nothing lost: retried */
        return;
    }
    if (err) {
        p->slot = store_release(e);
        if (stale)
            pf_slot = 0; /* its slot holds older content: no fallback */
        static int told;
        if (!__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
            vmem_log("a page of the compressed store at %#lx does not decompress%s",
                     (unsigned long)region_addr(r, idx),
                     pf_slot ? ": read from the page file instead" : "");
        if (pf_slot && p->slot)
            set_state(p, PTE_PAGEDOUT); /* the retry is a hard fault */
        else
            inpage_error(r, idx, EIO);
        return;
    }
    int keep_entry = !write && !store_entry(e)->busy && keeps_store_copy(r, p);
    int dirty = !keep_entry && (!pf_slot || stale || !paging_tracks_dirty() ||
                                predict_write(r, p));
    int wp = !write && (is_watch(r) || !dirty);
    uint8_t had = 0;
    if (write && is_watch(r))
        had = __atomic_fetch_or(&p->flags, PTE_F_WRITTEN, __ATOMIC_ACQ_REL);
    size_t done = 0;
    t0 = fault_cost_now();
    err = uffd_copy(vmem_rt.uffd, region_addr(r, idx), buf, PAGE_SZ, wp, &done);
    fault_cost_since(FC_INSTALL_COMPRESSED, t0);
    if (err && err != EEXIST) {
        if (write && is_watch(r) && !(had & PTE_F_WRITTEN))
            __atomic_fetch_and(&p->flags, (uint8_t)~PTE_F_WRITTEN, __ATOMIC_ACQ_REL);
        set_state(p, PTE_COMPRESSED);
        static int told;
        if (!__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
            vmem_log("cannot install a page from the compressed store (%s); the access will "
                     "be retried", err == ENOMEM ? "out of memory" : strerror(err));
        return;
    }
    *woke = err == 0;
    if (err == EEXIST) {
        /* mapped already, perhaps writable: dirty, no copy kept */
        dirty = 1;
        keep_entry = 0;
    }
    if (keep_entry) {
        store_hit(&e, 1);
        p->slot = PTE_SLOT_STORE | e;
    } else {
        p->slot = store_release_hit(e);
        if (!p->slot)
            dirty = 1; /* the writer had its slot: no copy on disk */
    }
    if (predict_write(r, p) && !write)
        consume_prediction(p);
    made_resident(r, idx, p, dirty, write, &vmem_ctr.compress_hits);
    /* not under VirtualLock's populate (room NULL); nor where prefetched
     * pages are kept on standby to be counted (VMEM_PREFETCH_INSTALL=
     * standby): a page in the store is already in RAM, a frame saves it
     * nothing */
    if (room && !write && vmem_rt.cfg.prefetch_install != VMEM_PREFETCH_STANDBY)
        compressed_neighbours(r, idx, room);
}

static int pagedout_next_to(const struct region *r, size_t i, uint32_t slot, uint16_t prot)
{
    const struct pte *p = pte_get(&r->ptes, i);
    return p && pte_load_state(p) == PTE_PAGEDOUT && p->slot == slot && p->prot == prot;
}

/* Reads of a page before it is declared lost: the cluster once, then the
 * faulting page alone. */
#define READ_ATTEMPTS 3

static size_t hook_stop_pages;
static int hook_stop_err;

int fault_test_stop_install(size_t pages, int err)
{
    __atomic_store_n(&hook_stop_pages, pages, __ATOMIC_RELAXED);
    return __atomic_exchange_n(&hook_stop_err, err, __ATOMIC_ACQ_REL);
}

/* Whether a hard fault on page idx installs page i of its read writable:
 * predicted to be written, or idx itself on a write (no write-protect
 * fault to follow).  Not where the write-protect fault is wanted: write
 * watch, or no dirty tracking (every page is dirty then anyway). */
static int installs_writable(const struct region *r, size_t i, size_t idx, int write)
{
    return predict_write(r, pte_get(&r->ptes, i)) ||
           (i == idx && write && paging_tracks_dirty() && !is_watch(r));
}

/* Installs the pages read by a hard fault; the test hook may cut it short
 * as a cgroup limit (ENOMEM) would. */
static int install_read(uintptr_t dst, const void *src, size_t len, int wp, size_t *done)
{
    int herr = __atomic_exchange_n(&hook_stop_err, 0, __ATOMIC_ACQ_REL);
    size_t stop = __atomic_load_n(&hook_stop_pages, __ATOMIC_RELAXED) * PAGE_SZ;
    if (herr && stop < len) {
        int err = stop ? uffd_copy(vmem_rt.uffd, dst, src, stop, wp, done) : 0;
        if (!stop)
            *done = 0;
        return err ? err : herr;
    }
    if (herr)
        __atomic_store_n(&hook_stop_err, herr, __ATOMIC_RELEASE); /* not this one */
    return uffd_copy(vmem_rt.uffd, dst, src, len, wp, done);
}

/* The page idx (claimed) could not be read back: an in-page error, as
 * Windows raises STATUS_IN_PAGE_ERROR.  The page is poisoned, so the
 * faulting thread (and every later access) gets SIGBUS with BUS_MCEERR_AR
 * and the address (see fault_sigbus_claim), until a decommit or release
 * zaps it.  In signal mode without UFFDIO_POISON the page stays missing,
 * which raises SIGBUS all the same; thread mode without it has no way to
 * signal the faulting thread, so the page goes back to paged out and is
 * retried. */
static void inpage_error(struct region *r, size_t idx, int err)
{
    struct pte *p = pte_get(&r->ptes, idx);
    uintptr_t at = region_addr(r, idx);
    int poisoned = 0;
    /* the state first: poisoning wakes the faulting thread, whose SIGBUS
     * handler looks at it */
    set_state(p, PTE_INPAGE_ERROR);
    if (vmem_rt.uffd_have & UFFD_HAVE_POISON)
        poisoned = uffd_poison(vmem_rt.uffd, at, PAGE_SZ) == 0;
    if (!poisoned && vmem_rt.mode != VMEM_FAULT_SIGNAL) {
        static int told;
        if (!__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
            vmem_log("page-in failed (%s) and this kernel cannot poison a page "
                     "(UFFDIO_POISON, Linux 6.6): the access will be retried", strerror(err));
        set_state(p, PTE_PAGEDOUT);
        return;
    }
    uint32_t slot = p->slot;
    p->slot = 0;
    pagefile_free(slot, 1); /* its content is lost */
    ctr_add(&vmem_ctr.inpage_errors, 1);
    static int told;
    if (!__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
        vmem_log("in-page error: a page at %#lx cannot be read back from the page file (%s); "
                 "accessing it raises SIGBUS until it is decommitted", (unsigned long)at,
                 strerror(err));
}

/* Keeps prefetched pages [first, first + n) of r (claimed, INSTALLING;
 * their content at data) in clean standby frames, a run of frames at a
 * time: one copy (or, in move mode, one UFFDIO_COPY: frame memory is
 * registered and filled by ioctl only) per run; each frame flagged
 * FRAME_PREFETCHED and `flags`, the first also `mark`.  Pages that find no frame go
 * back to PAGEDOUT: their read is simply dropped.  Returns the pages kept. */
size_t fault_stash_prefetched(struct region *r, size_t first, size_t n, const uint8_t *data,
                              uint32_t flags, uint32_t mark)
{
    size_t kept = 0;
    while (n) {
        size_t got = 0, done = 0;
        uint32_t f = standby_take_run(r, first, n, &got);
        if (f && !standby_moves())
            memcpy(standby_data(f), data, got * PAGE_SZ);
        else if (f && uffd_copy(vmem_rt.uffd, standby_addr(f), data, got * PAGE_SZ, 0, &done)) {
            for (size_t k = 0; k < got; k++)
                standby_drop(f + (uint32_t)k);
            f = 0;
        }
        if (!f) {
            for (size_t i = first; i < first + n; i++)
                set_state(pte_get(&r->ptes, i), PTE_PAGEDOUT);
            return kept;
        }
        for (size_t k = 0; k < got; k++) {
            struct pte *q = pte_get(&r->ptes, first + k);
            struct frame *fr = standby_frame(f + (uint32_t)k);
            fr->slot = q->slot;
            standby_keep_prefetched(f + (uint32_t)k, flags | (k == 0 ? mark : 0));
            q->slot = f + (uint32_t)k;
            set_state(q, PTE_STANDBY);
        }
        mark = 0;
        kept += got;
        first += got;
        data += got * PAGE_SZ;
        n -= got;
    }
    return kept;
}

/* A hard fault.  The read is done with as_lock released, so trimming,
 * other faults and API calls go on meanwhile: the pages are claimed
 * (INSTALLING) first, and afterwards installed only if the region is the
 * same one and each page is still claimed (a decommit or release in between
 * discards the read).  Returns with as_lock shared held again; *r_io is
 * NULL if the region went away.  With keep_lock (a caller holding as_lock
 * exclusive), the lock stays held through the read.  A read that keeps
 * failing ends in an in-page error (inpage_error). */
static void hard_fault(struct region **r_io, size_t idx, int write, size_t *room, int *woke,
                       int keep_lock)
{
    struct region *r = *r_io;
    struct pte *p = pte_get(&r->ptes, idx);
    if (!claim(p, PTE_PAGEDOUT))
        return;
    /* The prefetch policy (VMEM_PREFETCH) gives the window around the
     * page; the read takes the paged-out pages of it whose slots follow
     * the faulting page's, so it stays one sequential read. */
    unsigned behind, ahead;
    prefetch_window(region_addr(r, idx) >> PAGE_SHIFT, &behind, &ahead);
    /* one read fits the bounce buffer */
    if (behind > PF_BOUNCE_PAGES - 1)
        behind = PF_BOUNCE_PAGES - 1;
    if (ahead > PF_BOUNCE_PAGES - 1 - behind)
        ahead = PF_BOUNCE_PAGES - 1 - behind;
    /* and the room the cap leaves (the neighbours read, installed or kept
     * in standby frames, are RAM too): a window wider than the room taken
     * takes more if there is some, without waiting; else it shrinks, ahead
     * last, the way a scan goes */
    if ((size_t)behind + ahead + 1 > *room && paging_enabled())
        *room += cap_take((size_t)behind + ahead + 1 - *room, 1);
    if (ahead > *room - 1)
        ahead = (unsigned)(*room - 1);
    if (behind > *room - 1 - ahead)
        behind = (unsigned)(*room - 1 - ahead);
    size_t block = idx >= behind ? idx - behind : 0, block_end = idx + (size_t)ahead + 1;
    if (block_end > r->npages || block_end <= idx)
        block_end = r->npages;
    size_t lo = idx, hi = idx + 1;
    uint16_t prot = p->prot;
    while (lo > block && pagedout_next_to(r, lo - 1, pte_get(&r->ptes, lo)->slot - 1, prot) &&
           claim(pte_get(&r->ptes, lo - 1), PTE_PAGEDOUT))
        lo--;
    while (hi < block_end && pagedout_next_to(r, hi, pte_get(&r->ptes, hi - 1)->slot + 1, prot) &&
           claim(pte_get(&r->ptes, hi), PTE_PAGEDOUT))
        hi++;
    size_t count = hi - lo;
    uint32_t slot = pte_get(&r->ptes, lo)->slot;
    uintptr_t base = r->base;
    uint64_t id = r->id;

    uint8_t *bounce = pagefile_bounce();
    __atomic_add_fetch(&r->inflight, 1, __ATOMIC_ACQ_REL);
    if (!keep_lock)
        as_unlock();
    uint64_t t = fault_cost_now();
    /* [rlo, rhi) is what was read; a failed cluster read is retried for the
     * faulting page alone, a bounded number of times */
    size_t rlo = lo, rhi = hi;
    int err = bounce ? pagefile_read(slot, bounce, count) : ENOMEM;
    for (int attempt = 1; err && attempt < READ_ATTEMPTS; attempt++) {
        rlo = idx;
        rhi = idx + 1;
        if (!bounce)
            bounce = pagefile_bounce();
        err = bounce ? pagefile_read(slot + (uint32_t)(idx - lo), bounce + (idx - lo) * PAGE_SZ, 1)
                     : ENOMEM;
    }
    t = fault_cost_since(FC_READ, t);
    if (!keep_lock)
        as_lock_shared();
    fault_cost_since(FC_RELOCK, t);

    /* Decommit and release wait for inflight to drop, so the region and
     * the claimed pages are still there; checked all the same. */
    struct region *now = region_find(base);
    __atomic_sub_fetch(&r->inflight, 1, __ATOMIC_ACQ_REL);
    if (now != r || r->id != id) {
        *r_io = NULL;
        return;
    }
    /* keep only the pages still claimed, with the slots that were read */
    size_t a = lo, b = hi;
    for (size_t i = lo; i < hi; i++) {
        const struct pte *q = pte_get(&r->ptes, i);
        if (!q || pte_load_state(q) != PTE_INSTALLING || q->slot != slot + (i - lo)) {
            if (i <= idx)
                a = i + 1;
            else if (b == hi)
                b = i;
        }
    }
    if (a < rlo)
        a = rlo;
    if (b > rhi)
        b = rhi;
    if (a > idx || b <= idx || err) {
        /* the faulting page itself was decommitted, or could not be read:
         * give back the rest */
        for (size_t i = lo; i < hi; i++) {
            struct pte *q = pte_get(&r->ptes, i);
            if (q && (i != idx || a > idx || b <= idx) && pte_load_state(q) == PTE_INSTALLING &&
                q->slot == slot + (i - lo))
                set_state(q, PTE_PAGEDOUT);
        }
        if (err && a <= idx && idx < b) {
            if (bounce) {
                inpage_error(r, idx, err);
            } else {
                /* no memory for a buffer: nothing was read, nothing is
                 * lost; the access is retried */
                set_state(p, PTE_PAGEDOUT);
                static int told;
                if (!__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
                    vmem_log("no memory for a page-in buffer; the access will be retried");
            }
        }
        return;
    }
    ctr_add(&vmem_ctr.read_ios, 1);
    ctr_add(&vmem_ctr.pages_read, rhi - rlo);
    /* Pages read beyond the faulting one are installed with it (map), or,
     * with VMEM_PREFETCH_INSTALL=standby, kept on the standby list as
     * Windows does: a touch is then a transition fault, which shows whether
     * the prefetch was used. */
    int stash = vmem_rt.cfg.prefetch_install == VMEM_PREFETCH_STANDBY && b - a > 1;
    size_t ia = stash ? idx : a, ib = stash ? idx + 1 : b, ie = ia;
    int wp_all = paging_tracks_dirty() || is_watch(r), opened = 0, cerr = 0;
    t = fault_cost_now();
    /* Runs of pages alike, one copy each: write-protected (clean copies of
     * their slots), or writable and dirty from now on (predicted to be
     * written, or this fault's write).  The install may stop part-way
     * (ENOMEM under a cgroup limit): the pages installed, [ia, ie), are
     * resident; the rest go back. */
    while (ie < ib && !cerr) {
        int w = installs_writable(r, ie, idx, write);
        size_t e = ie + 1, done = 0;
        while (e < ib && installs_writable(r, e, idx, write) == w)
            e++;
        cerr = install_read(region_addr(r, ie), bounce + (ie - lo) * PAGE_SZ, (e - ie) * PAGE_SZ,
                            wp_all && !w, &done);
        size_t end = ie + done / PAGE_SZ;
        if (w) {
            /* dirty before the lock goes: no trim sees it clean */
            for (size_t i = ie; i < end; i++) {
                if (i == idx && write) {
                    set_flags(pte_get(&r->ptes, i), PTE_F_DIRTY | PTE_F_REWRITTEN);
                } else {
                    consume_prediction(pte_get(&r->ptes, i));
                    set_flags(pte_get(&r->ptes, i), PTE_F_DIRTY);
                }
            }
            opened |= idx >= ie && idx < end;
        }
        ie = end;
        if (ie < e)
            break; /* stopped part-way */
    }
    fault_cost_since(FC_INSTALL, t);
    int got = idx < ie;
    for (size_t i = lo; i < hi; i++) {
        struct pte *q = pte_get(&r->ptes, i);
        int installed = i >= ia && i < ie;
        int stashed = got && stash && i >= a && i < b && i != idx;
        if (!installed && !stashed && q && pte_load_state(q) == PTE_INSTALLING &&
            q->slot == slot + (i - lo))
            set_state(q, PTE_PAGEDOUT);
    }
    for (size_t i = ia; i < ie; i++)
        set_state(pte_get(&r->ptes, i), PTE_RESIDENT);
    /* the policy hears of the installed run in three calls at most */
    size_t below = got ? idx : ie;
    replacement_admit(r, ia, below - ia, POLICY_PREFETCHED);
    if (got) {
        replacement_admit(r, idx, 1, 0);
        replacement_admit(r, idx + 1, ie - idx - 1, POLICY_PREFETCHED);
    }
    ctr_gauge_add(&vmem_ctr.working_set, &vmem_ctr.peak_working_set, ie - ia);
    if (cerr) {
        static int told;
        if (!__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
            vmem_log("cannot install paged-in pages (%s); the access will be retried",
                     cerr == ENOMEM ? "out of memory" : strerror(cerr));
    }
    if (!got)
        return;
    if (stash) {
        const uint8_t *data = bounce + (a - lo) * PAGE_SZ;
        fault_stash_prefetched(r, a, idx - a, data, 0, 0);
        fault_stash_prefetched(r, idx + 1, b - idx - 1, data + (idx + 1 - a) * PAGE_SZ, 0, 0);
    }
    *woke = 1;
    p = pte_get(&r->ptes, idx);
    set_flags(p, PTE_F_ACCESSED);
    if (write && !opened)
        open_for_write(r, idx, woke);
    ctr_add(&vmem_ctr.hard_faults, 1);
    ctr_add(&vmem_ctr.prefetched_pages, stash ? b - a - 1 : ie - ia - 1);
    /* a stream of hard faults is read ahead of (fault/readahead.c) */
    readahead_note(r, idx, stash ? b : ie);
}

int fault_populate(struct region *r, size_t first, size_t end)
{
    /* VirtualLock's pages: no room is taken (locked pages cannot be
     * trimmed; the working set holds them) */
    size_t unbounded = SIZE_MAX;
    int woke = 0;
    int wp = is_watch(r);
    size_t i = first;
    while (i < end) {
        const struct pte *p = pte_get(&r->ptes, i);
        uint8_t st = p ? pte_load_state(p) : PTE_RESERVED;
        if (st == PTE_STANDBY || st == PTE_PAGEDOUT || st == PTE_COMPRESSED) {
            /* as_lock is held exclusive here: the read keeps it */
            if (st == PTE_STANDBY)
                transition(r, i, 0, &woke);
            else if (st == PTE_COMPRESSED)
                compressed_fault(r, i, 0, NULL, &woke);
            else
                hard_fault(&r, i, 0, &unbounded, &woke, 1);
            if (pte_load_state(p) != PTE_RESIDENT)
                return pte_load_state(p) == PTE_INPAGE_ERROR ? EIO : ENOMEM;
            i++;
            continue;
        }
        if (st == PTE_INPAGE_ERROR)
            return EIO; /* lost: it cannot be made resident */
        if (st != PTE_COMMITTED) {
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < end && committed_with(r, j, p->prot))
            j++;
        size_t n = install_zero(r, i, j, 0, wp, wp ? 0 : PTE_F_DIRTY, SIZE_MAX, &woke);
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

/* A fault on page idx, RESIDENT in the table, with nothing mapped there
 * (not present, not swapped out): the page was dropped behind the table's
 * back (the application's own MADV_DONTNEED, a kernel answer that was
 * wrong).  Woken, the access would fault for ever.  A clean page with a
 * page-file copy is read back from it (nothing is lost); any other is an
 * in-page error, as a page the page file cannot give back: poisoned, so
 * the access raises SIGBUS (BUS_MCEERR_AR).  Where it cannot be poisoned
 * because something is mapped there after all (EEXIST), it stays resident;
 * where it cannot be poisoned at all (no UFFDIO_POISON, thread mode) it is
 * said and the access faults on. */
static void lost_resident(struct region *r, size_t idx)
{
    struct pte *p = pte_get(&r->ptes, idx);
    uintptr_t at = region_addr(r, idx);
    int poison = (vmem_rt.uffd_have & UFFD_HAVE_POISON) != 0;
    static int told_lost, told_stuck;
    if (!poison && vmem_rt.mode != VMEM_FAULT_SIGNAL) {
        if (!__atomic_exchange_n(&told_stuck, 1, __ATOMIC_RELAXED))
            vmem_log("a page at %#lx is resident in libvmem's table but not mapped: its "
                     "contents are lost, and without UFFDIO_POISON (Linux 6.6) the access "
                     "cannot be failed: it faults again", (unsigned long)at);
        return;
    }
    if (!claim(p, PTE_RESIDENT))
        return;
    /* taken from a write-protect fault freeing a store copy at once (it
     * marks the slot PTE_SLOT_STORE alone while it does: release.c) */
    uint32_t s = __atomic_load_n(&p->slot, __ATOMIC_ACQUIRE);
    while (s == PTE_SLOT_STORE ||
           !__atomic_compare_exchange_n(&p->slot, &s, 0, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        if (s == PTE_SLOT_STORE) {
            os_yield();
            s = __atomic_load_n(&p->slot, __ATOMIC_ACQUIRE);
        }
    }
    int clean = !(pte_load_flags(p) & PTE_F_DIRTY) && paging_tracks_dirty();
    if (pte_slot_stored(s)) {
        uint32_t e = s & ~PTE_SLOT_STORE;
        if (clean) {
            /* its store entry has the content */
            p->slot = e;
            replacement_forget(r, idx);
            ctr_sub(&vmem_ctr.working_set, 1);
            set_state(p, PTE_COMPRESSED);
            return;
        }
        s = store_release(e);
    }
    p->slot = s;
    if (s && clean) {
        /* clean: the page file has the same content */
        replacement_forget(r, idx);
        ctr_sub(&vmem_ctr.working_set, 1);
        set_state(p, PTE_PAGEDOUT);
        return;
    }
    /* the state first: poisoning wakes the thread, whose SIGBUS handler
     * looks at it */
    set_state(p, PTE_INPAGE_ERROR);
    if (poison && uffd_poison(vmem_rt.uffd, at, PAGE_SZ) != 0) {
        set_state(p, PTE_RESIDENT); /* mapped meanwhile (EEXIST): not lost */
        return;
    }
    replacement_forget(r, idx);
    ctr_sub(&vmem_ctr.working_set, 1);
    uint32_t slot = p->slot;
    p->slot = 0;
    if (slot)
        pagefile_free(slot, 1);
    ctr_add(&vmem_ctr.inpage_errors, 1);
    if (!__atomic_exchange_n(&told_lost, 1, __ATOMIC_RELAXED))
        vmem_log("in-page error: a page at %#lx is resident in libvmem's table but not "
                 "mapped (dropped behind its back): its contents are lost; accessing it "
                 "raises SIGBUS until it is decommitted", (unsigned long)at);
}

/* A resident page that faulted as missing: the kernel dropped it (a
 * MEM_RESET page it reclaimed), another thread installed it meanwhile, or
 * it was dropped behind the table's back; or, present and write-protected,
 * a write in signal mode. */
static void refault_resident(struct region *r, size_t idx, int write, int kind, int *woke)
{
    struct pte *p = pte_get(&r->ptes, idx);
    /* not a write-protect fault (or, in signal mode, perhaps not): is the
     * page there?  One mincore when it is.  A MEM_RESET page the kernel
     * reclaimed is handled below. */
    if (kind != FAULT_WP && !(pte_load_flags(p) & PTE_F_RESET) &&
        vm_page_unmapped(region_addr(r, idx))) {
        lost_resident(r, idx);
        return;
    }
    if (!(pte_load_flags(p) & PTE_F_RESET)) {
        if (kind == FAULT_WP_UNKNOWN && write)
            open_for_write(r, idx, woke);
        return;
    }
    size_t done = 0;
    uintptr_t at = region_addr(r, idx);
    int err = uffd_copy(vmem_rt.uffd, at, vmem_rt.zero_buf, PAGE_SZ, is_watch(r), &done);
    if (err == EEXIST) {
        if (kind == FAULT_WP_UNKNOWN && write)
            open_for_write(r, idx, woke);
        return;
    }
    if (done) {
        *woke = 1;
        set_flags(p, PTE_F_RESET_LOST | PTE_F_DIRTY);
        if (is_watch(r) && write)
            open_for_write(r, idx, woke);
    }
}

/* The pages a fault on a page in state st may make resident: room it
 * takes under the cap first.  0 for a page that is not brought in. */
static size_t pages_wanted(uint8_t st)
{
    switch (st) {
    case PTE_COMMITTED:
        return vmem_rt.cfg.zero_cluster;
    case PTE_PAGEDOUT: /* a wider prefetch window takes more (hard_fault) */
        return vmem_rt.cfg.cluster > 1 ? vmem_rt.cfg.cluster : 1;
    case PTE_STANDBY:    /* its frame is freed, unless the page writer has it */
    case PTE_COMPRESSED: /* its entry is smaller than a page */
        return 1;
    default:
        return 0;
    }
}

/* VMEM_FAULT_COST: the kind a fault on a page in state st is counted
 * under. */
static enum fault_cost_part cost_kind(uint8_t st, int write, int kind)
{
    switch (st) {
    case PTE_PAGEDOUT:
        return FC_HARD;
    case PTE_COMMITTED:
        return FC_ZERO;
    case PTE_STANDBY:
        return FC_TRANSITION;
    case PTE_COMPRESSED:
        return FC_COMPRESSED;
    case PTE_RESIDENT:
        return kind == FAULT_WP || (kind == FAULT_WP_UNKNOWN && write) ? FC_WP : FC_OTHER;
    default:
        return FC_OTHER;
    }
}

/* VMEM_FAULT_COST: a fault that began at t0 took as_lock at `locked` and
 * waited room_ns for room. */
static void cost_fault(enum fault_cost_part kind, uint64_t t0, uint64_t locked,
                       uint64_t room_ns)
{
    if (kind == FC_HARD || kind == FC_WP || kind == FC_COMPRESSED)
        fault_cost_add(kind == FC_HARD ? FC_LOCK_HARD
                       : kind == FC_WP ? FC_LOCK_WP : FC_LOCK_COMPRESSED, locked - t0);
    if ((kind == FC_HARD || kind == FC_COMPRESSED) && room_ns)
        fault_cost_add(kind == FC_HARD ? FC_ROOM_HARD : FC_ROOM_COMPRESSED, room_ns);
    fault_cost_since(kind, t0);
}

int fault_resolve(uintptr_t addr, int write, int kind)
{
    addr = round_down(addr, PAGE_SZ);
    int woke = 0, ours = 1, waits = 0;
    size_t room = 0, unbounded = SIZE_MAX; /* room taken under the cap (none
                                               without a cap), given back at the end */
    uint64_t t0 = fault_cost_now(), locked = 0, room_ns = 0;
    as_lock_shared();
    if (t0)
        locked = fault_cost_clock();
    struct region *r = region_find(addr);
    if (r && (r->flags & REGION_VIEW))
        r = NULL; /* a section's view: the kernel serves it, a SIGBUS is the program's */
    if (r && paging_enabled() && uses_uffd()) {
        /* A fault that will bring pages in first takes room for them under
         * the cap; without room it makes some (without the lock, which
         * trimming needs exclusive).  The room taken keeps other faults
         * from installing into it meanwhile.  A write-protect fault on a
         * resident page brings nothing in. */
        const struct pte *p = pte_get(&r->ptes, region_page(r, addr));
        size_t n = pages_wanted(p ? pte_load_state(p) : PTE_RESERVED);
        if (n && !(room = cap_take(n, cap_least(n)))) {
            as_unlock();
            uint64_t tr = fault_cost_now();
            room = paging_make_room(n);
            if (tr)
                room_ns = fault_cost_since(FC_ROOM, tr) - tr;
            as_lock_shared();
            r = region_find(addr);
            if (r && (r->flags & REGION_VIEW))
                r = NULL;
        }
    }
    enum fault_cost_part kind_of = FC_OTHER;
    if (!r && uses_uffd() && standby_fault(addr)) {
        ; /* a standby frame's memory (move mode): woken below to retry */
    } else if (!r || !uses_uffd()) {
        ours = 0;
    } else {
        size_t idx = region_page(r, addr);
        const struct pte *p = pte_get(&r->ptes, idx);
        uint8_t st = p ? pte_load_state(p) : PTE_RESERVED;
        if (t0)
            kind_of = cost_kind(st, write, kind);
        /* a page that changed state under another fault meanwhile may need
         * room this one did not take: retried */
        int go = room || !paging_enabled() || !pages_wanted(st);
        if (kind == FAULT_WP && st == PTE_RESIDENT)
            open_for_write(r, idx, &woke);
        else if (!go)
            ; /* woken below, to fault again and take room */
        else if (st == PTE_COMMITTED)
            demand_zero(r, idx, write, room ? room : SIZE_MAX, &woke);
        else if (st == PTE_STANDBY)
            transition(r, idx, write, &woke);
        else if (st == PTE_PAGEDOUT)
            hard_fault(&r, idx, write, room ? &room : &unbounded, &woke, 0);
        else if (st == PTE_COMPRESSED)
            compressed_fault(r, idx, write, room ? &room : NULL, &woke);
        else if (st == PTE_RESIDENT)
            refault_resident(r, idx, write, kind, &woke);
        else if (st == PTE_INSTALLING && (pte_load_flags(p) & PTE_F_READAHEAD) &&
                 vmem_rt.mode == VMEM_FAULT_THREAD) {
            /* readahead is reading it and wakes it when done (state and
             * flag are changed before that wake-up): the fault waits, and
             * the stream has caught up with the reads in flight */
            waits = 1;
            readahead_note(r, idx, idx);
        }
        /* PTE_RESERVED: decommitted while the fault was in flight; the
         * retry meets PROT_NONE and raises SIGSEGV, as on Windows.
         * PTE_INSTALLING: another fault is bringing it in; retry. */
    }
    /* the pages installed are in the working set now */
    cap_give_back(room);
    /* A waiter not woken by an install must be woken to retry. */
    if (!woke && !waits && vmem_rt.mode == VMEM_FAULT_THREAD && uses_uffd())
        uffd_wake(vmem_rt.uffd, addr, PAGE_SZ);
    as_unlock();
    if (t0)
        cost_fault(kind_of, t0, locked, room_ns);
    return ours;
}

/* 1 if addr is a page lost to an in-page error. */
static int inpage_error_at(uintptr_t addr)
{
    if (as_lock_depth)
        return 0; /* not a fault on managed memory: the library touches none under the lock */
    as_lock_shared();
    struct region *r = region_find(addr);
    const struct pte *p = r ? pte_get(&r->ptes, region_page(r, addr)) : NULL;
    int lost = p && pte_load_state(p) == PTE_INPAGE_ERROR;
    as_unlock();
    return lost;
}

static int (*view_inpage)(uintptr_t); /* atomic */

void fault_set_view_inpage(int (*lost)(uintptr_t addr))
{
    __atomic_store_n(&view_inpage, lost, __ATOMIC_RELEASE);
}

/* A SIGBUS of userfaultfd (signal mode) for a page whose reservation went
 * away between the fault and its handler -- released, or the runtime shut
 * down, which unmaps every reservation: the access is retried, and meets
 * what is there now (SIGSEGV at an unmapped address, as on Windows an
 * access violation).  An address still mapped is not ours: its SIGBUS is
 * the program's.  An unmapped address cannot raise SIGBUS again, so the
 * retry cannot loop. */
static enum sigchain_verdict gone_or_not_ours(uintptr_t addr)
{
    unsigned char v;
    return vm_resident(addr, 1, &v) == ENOMEM ? SIGCHAIN_HANDLED : SIGCHAIN_NOT_OURS;
}

enum sigchain_verdict fault_sigbus_claim(int sig, siginfo_t *si, void *uctx)
{
    (void)sig;
    if (si->si_code != BUS_ADRERR)
        return SIGCHAIN_NOT_OURS;
    if (!runtime_ready())
        return gone_or_not_ours(round_down((uintptr_t)si->si_addr, PAGE_SZ));
    /* A poisoned page (UFFDIO_POISON) raises BUS_ADRERR where the kernel is
     * built without CONFIG_MEMORY_FAILURE, and in signal mode a lost page
     * not poisoned raises it too: the application is told what it is, an
     * in-page error, as the kernel says it of a page lost to a memory
     * error.  With no handler of its own it dies of SIGBUS. */
    uintptr_t addr = round_down((uintptr_t)si->si_addr, PAGE_SZ);
    int (*view_lost)(uintptr_t) = __atomic_load_n(&view_inpage, __ATOMIC_ACQUIRE);
    if (inpage_error_at(addr) || (view_lost && view_lost(addr))) {
        si->si_code = BUS_MCEERR_AR;
        si->si_addr_lsb = PAGE_SHIFT;
        return SIGCHAIN_NOT_OURS;
    }
    if (vmem_rt.mode != VMEM_FAULT_SIGNAL)
        return SIGCHAIN_NOT_OURS;
    int write = 1;
#if defined(__x86_64__)
    if (uctx) /* page-fault error code: bit 1 = write access */
        write = (((ucontext_t *)uctx)->uc_mcontext.gregs[REG_ERR] & 2) != 0;
#endif
    return fault_resolve((uintptr_t)si->si_addr, write, FAULT_WP_UNKNOWN)
               ? SIGCHAIN_HANDLED : gone_or_not_ours(addr);
}
