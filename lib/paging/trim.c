/*
 * trim.c -- trimming: pages leave the working set for standby frames.
 *
 * Victims come from the replacement policy (replacement.c), which hears of
 * every resident page (the pages resident when paging starts included).
 * A clean victim (write-protected since a clean page-in) alone or in a
 * short run is copied to a standby frame and dropped with the others of
 * the hold in one vectored MADV_DONTNEED: one TLB shoot-down for them all
 * (trim_clean).  Other victims adjacent in a region are taken as runs,
 * under as_lock exclusive:
 * moved into a run of standby frames with one UFFDIO_MOVE (atomic per
 * page, so a write either travels with the page or faults after it), or,
 * where a page cannot be moved (shared with a forked child, a protection
 * other than read-write) or VMEM_TRIM=copy, write-protected (an application
 * write then waits in the fault handler, which needs the lock), read
 * through /proc/self/mem (whatever its protection), copied to a frame and
 * dropped (MADV_DONTNEED).  A page that reads all zeros goes back to
 * COMMITTED instead; a MEM_RESET page the kernel reclaimed (the read
 * fails: it was not written since) is discarded; a clean page with the
 * standby list off goes straight to PAGEDOUT.  A page the move refuses as
 * pinned (io_uring fixed buffer, direct I/O in flight) stays: a copy would
 * miss what the device writes.  Victims that stay resident (pinned, no
 * frame for a dirty page) are the next trim's first victims, in the
 * policy's order; locked ones, or ones left again and again, go back to
 * the policy.  A touch of a standby page is a transition fault.
 *
 * The trimmer never touches managed memory itself: runs of the copy path
 * are read into a buffer of its own.  It runs on the working-set manager
 * thread, or on a fault's thread (fault thread or SIGBUS handler) making
 * room under the cap (reclaim.c): nothing here grows memory or blocks but
 * on as_lock, policy_lock and frame_lock, which a fault takes anyway.
 *
 * Locks: as_lock exclusive to choose victims and trim them, let go and
 * taken again between groups of runs.
 */
#include "paging/trim.h"
#include "os/self.h"
#include "os/uffd.h"
#include "os/vm.h"
#include "compress/store.h"
#include "pagefile/pagefile.h"
#include "paging/fault_cost.h"
#include "paging/release.h"
#include "paging/replacement.h"
#include "paging/standby.h"
#include "paging/start.h"
#include "core/prot.h"
#include "core/pte.h"
#include "core/region.h"
#include "core/runtime.h"
#include "core/stats.h"
#include "core/vmem_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

/* /proc/self files kept open: mem for the copy path's reads, pagemap to
 * tell pinned from shared.  Either may be unavailable (-1): a process that
 * changed its user ids is not dumpable, and its /proc/self files are
 * root's.  Then the copy path reads only what is safe to read directly, and
 * EBUSY means pinned.  Used under as_lock exclusive only (the working-set
 * manager, or a fault making room). */
static struct os_self_file mem_file = OS_SELF_FILE("mem"), pagemap_file = OS_SELF_FILE("pagemap");

/* A victim is named by its region's base and id, never by pointer: the
 * region may be released between choosing and trimming (the trimmer lets
 * as_lock go between runs). */
struct victim { uintptr_t base; uint64_t id; size_t page; unsigned left; };

/* Victims chosen and left resident (no standby frame free for them, or
 * pinned): the next trim takes them first, before asking the policy for
 * more, so the policy's order holds.  Given back to the policy at once they
 * would come back as its newest pages, and FIFO, say, would then trim pages
 * newer than them first (under load, when the page writer is behind and the
 * frames run out).  One left LEFT_MAX times (pinned, most likely) goes back
 * to the policy.  as_lock exclusive. */
#define LEFT_MAX 8
static struct victim left_over[TRIM_BATCH];
static size_t nleft_over;
static uint64_t victims_left; /* atomic: named victims that stayed resident */

uint64_t trim_victims_left(void)
{
    return __atomic_load_n(&victims_left, __ATOMIC_RELAXED);
}

void trim_open_files(void)
{
    nleft_over = 0; /* paging starts: none from an earlier run */
    os_self_fd(&mem_file);
    os_self_fd(&pagemap_file);
}

void trim_close_files(void)
{
    os_self_close(&mem_file);
    os_self_close(&pagemap_file);
}


/* Runs of victims trimmed per hold of as_lock: the trimmer lets the lock
 * go between groups of runs, so a fault waits behind a few UFFDIO_MOVEs
 * rather than a batch's (bench/RESULTS.md, "A hard fault of `sort`"). */
#define TRIM_RUNS_PER_HOLD 8
/* ...or clean pages (each a read and a copy, dropped together at the end
 * of the hold) */
#define CLEAN_PER_HOLD 32
/* Clean victims leave by the clean path when alone or in short runs: a
 * longer run of neighbours moves with one UFFDIO_MOVE and one shoot-down,
 * no copy (a scan's pages) */
#define CLEAN_RUN_MAX 4

/* Runs of the copy path are read here, so the trimmer never touches
 * managed memory itself; one trimmer at a time (as_lock exclusive). */
static uint8_t bounce[TRIM_BATCH * PAGE_SZ] __attribute__((aligned(64)));

/* Without /proc/self/mem: the pages of [i, i + n) that can be read
 * directly into buf, from i until the first that cannot -- one the
 * application cannot read (the read would kill this thread, which blocks
 * every signal), or a MEM_RESET page, which the kernel may reclaim at any
 * moment (the read would then fault with as_lock held).  A resident page
 * of any other kind is there (write-protected by the caller), so the read
 * cannot fault; ThreadSanitizer cannot know the ordering (the kernel's), so
 * the read is not instrumented, and the barrier keeps the compiler from
 * making it a (sanitizer-intercepted) memcpy. */
__attribute__((no_sanitize_thread, noinline))
static size_t read_direct(const struct region *r, size_t i, size_t n, uint8_t *buf)
{
    size_t k = 0;
    for (; k < n; k++) {
        const struct pte *p = pte_get(&r->ptes, i + k);
        if ((p->flags & PTE_F_RESET) || !(prot_to_posix(p->prot) & PROT_READ))
            break;
        uint64_t *d = (uint64_t *)(buf + k * PAGE_SZ);
        const uint64_t *s = (const uint64_t *)region_addr(r, i + k);
        for (size_t w = 0; w < PAGE_SZ / 8; w += 8) {
            for (size_t x = 0; x < 8; x++)
                d[w + x] = s[w + x];
            __asm__ volatile("" ::: "memory");
        }
    }
    return k;
}

static int all_zero(const void *page)
{
    const uint64_t *w = page;
    uint64_t acc = 0;
    for (size_t i = 0; i < PAGE_SZ / 8; i++)
        acc |= w[i];
    return acc == 0;
}

/* Settles page i of r as it leaves the working set, its content saved in
 * frame f (0: no frame could be had) and readable at `content` (library
 * memory; NULL: a MEM_RESET page the kernel reclaimed).  Returns 1 if it
 * left, and whether the frame is kept (*keep).  as_lock exclusive. */
static int settle(struct region *r, size_t i, uint32_t f, const void *content, int *keep)
{
    struct pte *p = pte_get(&r->ptes, i);
    *keep = 0;
    if (pte_slot_stored(p->slot)) {
        if ((p->flags & (PTE_F_DIRTY | PTE_F_RESET)) || !paging_tracks_dirty()) {
            paging_unstore(p); /* not so (core/pte.h), but then its copy is stale */
        } else {
            /* read back from the compressed store and clean: its entry
             * has the content, with the page-file slot if any */
            uint32_t e = p->slot & ~PTE_SLOT_STORE;
            store_requeue(e);
            if (f && vmem_rt.cfg.standby) {
                struct frame *fr = standby_frame(f);
                const struct store_entry *x = store_entry(e);
                fr->slot = x->pf_slot;
                fr->flags = FRAME_STORED | (x->stale ? FRAME_SLOT_STALE : 0);
                fr->centry = e;
                p->slot = f;
                p->state = PTE_STANDBY;
                *keep = 1;
            } else {
                p->slot = e;
                p->state = PTE_COMPRESSED;
            }
            return 1;
        }
    }
    if ((p->flags & PTE_F_RESET) && !content) {
        /* MEM_RESET, and the kernel reclaimed it: it was not written since
         * (a write keeps it), so its contents are not wanted */
        if (p->slot)
            pagefile_free(p->slot, 1);
        p->slot = 0;
        p->flags = (uint8_t)((p->flags | PTE_F_RESET_LOST) & ~PTE_F_DIRTY);
        p->state = PTE_COMMITTED;
        return 1;
    }
    int dirty = (p->flags & PTE_F_DIRTY) || !paging_tracks_dirty();
    if (dirty && all_zero(content)) {
        if (p->slot)
            pagefile_free(p->slot, 1);
        p->slot = 0;
        p->flags &= (uint8_t)~PTE_F_DIRTY;
        p->state = PTE_COMMITTED; /* reads as zeros again: no I/O ever */
        return 1;
    }
    if (!dirty && !p->slot) {
        p->state = PTE_COMMITTED; /* clean and never saved: still zero */
        return 1;
    }
    if (!f || (!dirty && !vmem_rt.cfg.standby)) {
        if (dirty)
            return 0; /* nowhere to put it yet: stays resident */
        p->state = PTE_PAGEDOUT; /* clean: its slot has the content */
        return 1;
    }
    if (dirty && p->slot && pagefile_held()) {
        /* a forked child may still read the old content from this slot:
         * the new content goes to a fresh one */
        pagefile_free(p->slot, 1);
        p->slot = 0;
    }
    struct frame *fr = standby_frame(f);
    fr->slot = p->slot;
    fr->flags = dirty ? FRAME_DIRTY : 0;
    p->slot = f;
    p->flags &= (uint8_t)~PTE_F_DIRTY;
    p->state = PTE_STANDBY;
    *keep = 1;
    return 1;
}

/* Move path: the run [first, first + n) of r (resident, unlocked, read-write
 * like the frames: UFFDIO_MOVE wants both mappings alike) goes to
 * neighbouring standby frames with one UFFDIO_MOVE.  The move is atomic per
 * page, so no write-protect is needed: a write before it is moved with the
 * page, one after it faults (missing) and waits for as_lock.  Returns the
 * pages handled, a prefix of the run: fewer when frames run out (*err 0) or
 * a page cannot be moved (*err: EBUSY when shared with a forked child or
 * pinned).  as_lock exclusive. */
static size_t trim_run_move(struct region *r, size_t first, size_t n, size_t *trimmed,
                            int *err)
{
    size_t got, bytes = 0;
    *err = 0;
    uint32_t f = standby_take_run(r, first, n, &got);
    if (!f)
        return 0;
    *err = uffd_move(vmem_rt.uffd, standby_addr(f), region_addr(r, first), got * PAGE_SZ,
                     &bytes);
    size_t moved = bytes / PAGE_SZ;
    ctr_add(&vmem_ctr.trimmed_by_move, moved);
    for (size_t k = 0; k < got; k++) {
        uint32_t g = (uint32_t)(f + k);
        int keep = 0;
        if (k < moved) {
            settle(r, first + k, g, standby_data(g), &keep);
            (*trimmed)++;
        }
        if (!keep)
            standby_drop(g);
    }
    return moved;
}

/* Undoes settle() for pages [first, first + n) whose discard failed: they
 * are still mapped (write-protected, their content intact), so they are
 * resident again, dirty if their frame was.  as_lock exclusive. */
static void unsettle(struct region *r, size_t first, size_t n, size_t *trimmed)
{
    for (size_t j = first; j < first + n; j++) {
        struct pte *p = pte_get(&r->ptes, j);
        if (p->state == PTE_COMMITTED && (p->flags & PTE_F_RESET_LOST))
            continue; /* reclaimed by the kernel: not mapped any more */
        if (p->state == PTE_STANDBY) {
            struct frame *fr = standby_frame(p->slot);
            if (fr->flags & FRAME_DIRTY)
                p->flags |= PTE_F_DIRTY;
            uint32_t f = p->slot;
            /* a frame in the store now was a page that kept its entry */
            p->slot = (fr->flags & FRAME_STORED) ? PTE_SLOT_STORE | fr->centry : fr->slot;
            standby_drop(f);
        } else if (p->state == PTE_COMPRESSED) {
            p->slot |= PTE_SLOT_STORE; /* kept its entry (settle) */
        }
        p->state = PTE_RESIDENT;
        (*trimmed)--;
    }
}

/* Copy path: write-protect the run (an application write now waits in the
 * fault handler, which needs as_lock) and read it through /proc/self/mem:
 * whatever its protection, so a PAGE_NOACCESS or PAGE_GUARD page is no
 * fault in this thread, which blocks every signal; and a MEM_RESET page the
 * kernel reclaimed fails the read instead of faulting with as_lock held
 * (without /proc/self/mem, see read_direct).  Then copy each page to a
 * frame and drop the run from the address space, one MADV_DONTNEED per run
 * of pages that left.  A page that stays (no frame for it, or unreadable)
 * is left write-protected: its next write takes a write-protect fault that
 * marks it dirty and opens it.  n <= TRIM_BATCH; as_lock exclusive. */
static void trim_run_copy(struct region *r, size_t first, size_t n, size_t *trimmed)
{
    uintptr_t a = region_addr(r, first);
    int e = uffd_writeprotect(vmem_rt.uffd, a, n * PAGE_SZ, 1);
    if (e) {
        /* without the protection a write could race with the copy: all stay */
        static int told;
        if (!told++)
            vmem_log("cannot write-protect pages to trim them (%s)", strerror(e));
        return;
    }
    size_t run = 0, run_len = 0, read_to = 0; /* bounce holds [.., read_to) */
    for (size_t j = first; j < first + n; j++) {
        size_t at = j - first;
        if (at >= read_to) {
            /* the read stops before a page that is not there */
            size_t bytes = 0;
            int mem_fd = os_self_fd(&mem_file);
            if (mem_fd >= 0)
                vm_read_forced(mem_fd, a + at * PAGE_SZ, bounce + at * PAGE_SZ,
                               (n - at) * PAGE_SZ, &bytes);
            else
                bytes = read_direct(r, j, n - at, bounce + at * PAGE_SZ) * PAGE_SZ;
            read_to = at + bytes / PAGE_SZ;
        }
        const struct pte *p = pte_get(&r->ptes, j);
        int keep = 0, ok = 0;
        if (at < read_to) {
            const void *content = bounce + at * PAGE_SZ;
            uint32_t f = standby_take(r, j, 0, 0);
            size_t done = 0;
            if (f && !paging_trims_by_move()) {
                memcpy(standby_data(f), content, PAGE_SZ);
            } else if (f && uffd_copy(vmem_rt.uffd, standby_addr(f), content, PAGE_SZ, 0, &done)) {
                standby_drop(f); /* frame memory is registered: filled by ioctl only */
                f = 0;
            }
            ok = settle(r, j, f, content, &keep);
            if (f && !keep)
                standby_drop(f);
        } else {
            unsigned char in = 1;
            if ((p->flags & PTE_F_RESET) && vm_resident(region_addr(r, j), 1, &in) == 0 &&
                !(in & 1))
                ok = settle(r, j, 0, NULL, &keep); /* reclaimed */
            read_to = at + 1; /* the next read starts after it */
        }
        if (ok) {
            if (!run_len)
                run = j;
            run_len++;
            (*trimmed)++;
        }
        if (run_len && (!ok || j + 1 == first + n)) {
            if ((e = vm_discard(region_addr(r, run), run_len * PAGE_SZ)) != 0) {
                /* e.g. the application mlock()ed some: the kernel drops a
                 * run mapping by mapping, so the pages before the one that
                 * failed may be gone already.  Page by page, the ones that
                 * cannot be dropped stay. */
                static int told;
                if (!told++)
                    vmem_log("cannot discard trimmed pages (%s): they stay resident",
                             strerror(e));
                for (size_t q = run; q < run + run_len; q++)
                    if (vm_discard(region_addr(r, q), PAGE_SZ) != 0)
                        unsettle(r, q, 1, trimmed);
            }
            run_len = 0;
        }
    }
}

/* Moves the run [first, first + n) where it can.  A page the move refuses
 * with EBUSY is pinned or shared: pagemap's "exclusively mapped" bit tells
 * them apart (fork copies a pinned page for the child, so a shared page is
 * never pinned).  A pinned page stays resident: a copy would not stop a
 * device writing into the page, and what it wrote would land in the page
 * dropped.  Shared pages, and a page refused for another reason, are
 * copied.
 *
 * A page mapped once again after a fork (the child exited or exec'd;
 * glibc's system() and popen() use vfork-like spawning, which shares no
 * page) is refused too until it is written: the kernel no
 * longer knows it for this process's alone ("anon exclusive").  pagemap
 * shows it as a pinned page, mapped once.  A write fault that writes
 * nothing (MADV_POPULATE_WRITE) makes it this process's alone again, and
 * the move is tried once more; a pinned page is refused again and stays.
 * Only a page not write-protected by userfaultfd is faulted so: its write
 * fault is the kernel's, never a userfault this thread would wait for
 * with as_lock held.  A page write-protected for dirty tracking (clean
 * since its page-in) cannot hold a write pin, as taking one would have
 * faulted for write and opened it: it is copied.  One under write watch
 * may have been pinned before the watch was reset: it stays as if pinned
 * until it is written.  n <= TRIM_BATCH; as_lock exclusive. */
static void trim_run_moving(struct region *r, size_t first, size_t n, size_t *trimmed)
{
    size_t pos = first, end = first + n, pop_lo = 0, pop_hi = 0; /* faulted for write */
    while (pos < end) {
        int err;
        size_t moved = trim_run_move(r, pos, end - pos, trimmed, &err);
        pos += moved;
        if (pos < end && !err && moved)
            continue; /* the free frames were not all neighbours */
        if (pos >= end || !err)
            break; /* all moved, or no frame left: the rest stays */
        size_t left = end - pos, copy = 1;
        if (err == EBUSY) {
            uint64_t pm[TRIM_BATCH];
            int pagemap_fd = os_self_fd(&pagemap_file);
            if (pagemap_fd < 0 || vm_pagemap(pagemap_fd, region_addr(r, pos), left, pm) ||
                !(pm[0] & VM_PM_PRESENT)) {
                pos++; /* cannot tell: stays */
                continue;
            }
            const uint64_t clean_once = VM_PM_EXCLUSIVE | VM_PM_UFFD_WP;
            if ((pm[0] & clean_once) == clean_once && !(r->flags & REGION_WRITE_WATCH)) {
                /* write-protected to see its first write since a clean
                 * page-in: no write pin either (taking one faults for
                 * write, which opens the page), and a read pin loses
                 * nothing when the page is copied and dropped */
                while (copy < left && (pm[copy] & VM_PM_PRESENT) &&
                       (pm[copy] & clean_once) == clean_once)
                    copy++;
                trim_run_copy(r, pos, copy, trimmed);
                pos += copy;
                continue;
            }
            if (pm[0] & VM_PM_EXCLUSIVE) {
                size_t k = 0;
                while (k < left && (pm[k] & VM_PM_PRESENT) && (pm[k] & VM_PM_EXCLUSIVE) &&
                       !(pm[k] & VM_PM_UFFD_WP))
                    k++;
                if ((pos >= pop_lo && pos < pop_hi) || !k ||
                    vm_populate(region_addr(r, pos), k * PAGE_SZ, 1) != 0) {
                    pos++; /* pinned (refused after the write fault): stays */
                    continue;
                }
                pop_lo = pos; /* once: a page refused again is pinned */
                pop_hi = pos + k;
                continue;
            }
            while (copy < left && (pm[copy] & VM_PM_PRESENT) && !(pm[copy] & VM_PM_EXCLUSIVE))
                copy++;
        }
        trim_run_copy(r, pos, copy, trimmed);
        pos += copy;
    }
}

/* Pages that left by the clean path, still mapped until their one
 * vectored MADV_DONTNEED (clean_flush), which comes before as_lock is let
 * go; as_lock exclusive. */
static struct victim clean_left[VM_DISCARD_MAX];
static size_t nclean_left;

/* Whether page i of r leaves by the clean path: write-protected since a
 * clean page-in (dirty tracking marks every page installed writable, or
 * opened by a write, PTE_F_DIRTY until it leaves), so while as_lock is held
 * no write changes it -- a write faults and waits for the lock -- and the
 * page file has its content (or none is needed: it never left).  Not
 * MEM_RESET: the kernel may drop it meanwhile. */
static int clean(const struct region *r, size_t i)
{
    const struct pte *p = pte_get(&r->ptes, i);
    return paging_tracks_dirty() && !(p->flags & (PTE_F_DIRTY | PTE_F_RESET));
}

/* Drops the pages of clean_left from the address space with one vectored
 * MADV_DONTNEED: one TLB shoot-down for them all, where a move or a
 * madvise costs one per run -- 45 us a page here with the application
 * running on the other vCPU, against 1.6 us a page for 64 together
 * (bench/RESULTS.md, "Trimming: clean pages dropped together").  A page
 * whose drop failed (mlock()ed by the application) and those after it are
 * resident again.  as_lock exclusive, held since the pages settled. */
static void clean_flush(size_t *trimmed)
{
    if (!nclean_left)
        return;
    uintptr_t addrs[VM_DISCARD_MAX];
    for (size_t k = 0; k < nclean_left; k++)
        addrs[k] = clean_left[k].base + clean_left[k].page * PAGE_SZ;
    size_t done = 0;
    int e = vm_discard_pages(addrs, nclean_left, &done);
    if (e) {
        static int told;
        if (!told++)
            vmem_log("cannot discard trimmed pages (%s): they stay resident", strerror(e));
    }
    for (size_t k = done; k < nclean_left; k++) {
        /* not dropped (the one that failed, and those after it, not tried):
         * still mapped, write-protected, their content intact */
        struct region *r = region_find(clean_left[k].base);
        if (r && r->id == clean_left[k].id)
            unsettle(r, clean_left[k].page, 1, trimmed);
    }
    nclean_left = 0;
}

/* Clean path, page i of r: its content goes to a standby frame (read
 * through /proc/self/mem, or directly where that is not open and the page
 * is readable; none with the standby list off or no frame free: the page
 * file has it), the page settles, and it joins clean_left to be dropped.
 * Returns 1 if it settled; 0 leaves it resident for the other paths.
 * as_lock exclusive. */
static int trim_clean(struct region *r, size_t i, size_t *trimmed)
{
    const struct pte *p = pte_get(&r->ptes, i);
    uint32_t f = 0;
    const void *content = NULL;
    if (nclean_left == VM_DISCARD_MAX)
        clean_flush(trimmed);
    /* one that kept its store entry leaves for it: nothing read or copied */
    if (vmem_rt.cfg.standby && p->slot && !pte_slot_stored(p->slot)) {
        uint8_t *buf = bounce; /* the content is in its frame before the next use */
        size_t bytes = 0;
        int mem_fd = os_self_fd(&mem_file);
        if (mem_fd >= 0)
            vm_read_forced(mem_fd, region_addr(r, i), buf, PAGE_SZ, &bytes);
        else
            bytes = read_direct(r, i, 1, buf) * PAGE_SZ;
        if (bytes == PAGE_SZ) {
            content = buf;
            f = standby_take(r, i, 0, 0);
            size_t done = 0;
            if (f && !paging_trims_by_move()) {
                memcpy(standby_data(f), content, PAGE_SZ);
            } else if (f && uffd_copy(vmem_rt.uffd, standby_addr(f), content, PAGE_SZ, 0,
                                      &done)) {
                standby_drop(f);
                f = 0;
            }
        }
        /* unread: no frame, the page file has it */
    }
    int keep = 0;
    if (!settle(r, i, f, content, &keep)) {
        if (f)
            standby_drop(f);
        return 0;
    }
    if (f && !keep)
        standby_drop(f);
    clean_left[nclean_left++] = (struct victim){ r->base, r->id, i, 0 };
    (*trimmed)++;
    return 1;
}

/* Whether a trimmable page can be moved: read-write like the frames, and
 * not MEM_RESET (the kernel may have reclaimed it: a move stops at the
 * hole; the copy path tells a hole from a page). */
static int movable(const struct region *r, size_t i)
{
    const struct pte *p = pte_get(&r->ptes, i);
    return paging_trims_by_move() && !(p->flags & PTE_F_RESET) &&
           prot_to_posix(p->prot) == (PROT_READ | PROT_WRITE);
}

static int trimmable(struct region *r, size_t i)
{
    const struct pte *p = pte_get(&r->ptes, i);
    return p && pte_load_state(p) == PTE_RESIDENT && !(p->flags & PTE_F_LOCKED);
}

/* Victims from the replacement policy, named by region (as_lock held). */
static size_t policy_victims(struct victim *v, size_t n)
{
    uint64_t vpn[TRIM_BATCH];
    size_t got = 0, k = replacement_victims(vpn, n);
    for (size_t j = 0; j < k; j++) {
        uintptr_t a = (uintptr_t)vpn[j] << PAGE_SHIFT;
        struct region *r = region_find(a);
        if (r) /* else released meanwhile */
            v[got++] = (struct victim){ r->base, r->id, region_page(r, a), 0 };
    }
    return got;
}

size_t trim_working_set(size_t n, size_t (*limit)(size_t), size_t arg)
{
    struct victim v[TRIM_BATCH];
    if (n > TRIM_BATCH)
        n = TRIM_BATCH;
    /* The victims are chosen under the lock that trims them, and how many
     * are needed is asked then: the working-set manager and faults making
     * room trim one after the other, each seeing what the other did, so
     * together they never trim more than is needed. */
    as_lock_exclusive();
    uint64_t held = fault_cost_now();
    if (limit) {
        size_t l = limit(arg);
        if (l < n)
            n = l;
    }
    size_t got = 0;
    if (n && nleft_over) {
        got = nleft_over < n ? nleft_over : n;
        memcpy(v, left_over, got * sizeof *v);
        memmove(left_over, left_over + got, (nleft_over - got) * sizeof *v);
        nleft_over -= got;
    }
    if (got < n)
        got += policy_victims(v + got, n - got);
    if (!got) {
        fault_cost_since(FC_HOLD_TRIM, held);
        as_unlock();
        return 0;
    }

    size_t trimmed = 0, counted = 0, runs = 0;
    for (size_t k = 0; k < got;) {
        /* a run of victims adjacent in one region */
        size_t e = k + 1;
        while (e < got && v[e].id == v[k].id && v[e].page == v[e - 1].page + 1)
            e++;
        if (runs >= TRIM_RUNS_PER_HOLD || nclean_left >= CLEAN_PER_HOLD) {
            /* let waiting faults in between runs: each run is looked up
             * and checked again below, and the victims are no longer the
             * policy's, so no other trimmer takes them meanwhile */
            /* what left so far leaves the working set's count now: no
             * page counted twice (working set and standby) meanwhile */
            clean_flush(&trimmed);
            ctr_sub(&vmem_ctr.working_set, trimmed - counted);
            counted = trimmed;
            runs = 0;
            fault_cost_since(FC_HOLD_TRIM, held);
            as_unlock();
            as_lock_exclusive();
            held = fault_cost_now();
        }
        struct region *r = region_find(v[k].base);
        if (!r || r->id != v[k].id) { /* released meanwhile */
            k = e;
            continue;
        }
        /* within it, runs of pages still trimmable (a fault or API call may
         * have changed some between choosing and now) that leave alike */
        for (size_t j = k; j < e;) {
            if (!trimmable(r, v[j].page)) {
                j++;
                continue;
            }
            /* a victim left resident before (its drop refused: an
             * mlockall() that also locks the frames lets it move) moves */
            if (e - k < CLEAN_RUN_MAX && !v[j].left && clean(r, v[j].page) &&
                trim_clean(r, v[j].page, &trimmed)) {
                j++;
                continue;
            }
            size_t s = j;
            int move = movable(r, v[j].page);
            j++;
            while (j < e && trimmable(r, v[j].page) &&
                   (e - k >= CLEAN_RUN_MAX || v[j].left || !clean(r, v[j].page)) &&
                   movable(r, v[j].page) == move)
                j++;
            size_t first = v[s].page, len = j - s;
            if (move)
                trim_run_moving(r, first, len, &trimmed);
            else
                trim_run_copy(r, first, len, &trimmed);
            runs++;
        }
        k = e;
    }
    clean_flush(&trimmed);
    /* victims that stay resident are the next trim's first (a locked one,
     * or one left too often, goes back to the policy) */
    if (replacement_active()) {
        for (size_t k = 0; k < got; k++) {
            struct region *r = region_find(v[k].base);
            const struct pte *p = r && r->id == v[k].id ? pte_get(&r->ptes, v[k].page) : NULL;
            if (!p || p->state != PTE_RESIDENT)
                continue;
            __atomic_add_fetch(&victims_left, 1, __ATOMIC_RELAXED);
            if (!(p->flags & PTE_F_LOCKED) && ++v[k].left < LEFT_MAX &&
                nleft_over < TRIM_BATCH)
                left_over[nleft_over++] = v[k];
            else
                replacement_readmit(region_addr(r, v[k].page) >> PAGE_SHIFT);
        }
    }
    ctr_sub(&vmem_ctr.working_set, trimmed - counted);
    ctr_add(&vmem_ctr.trimmed_pages, trimmed);
    fault_cost_since(FC_HOLD_TRIM, held);
    as_unlock();
    return trimmed;
}
