/*
 * evict.c -- the working-set manager thread: trimming and freeing.
 *
 * The cap bounds working set + standby frames (both are RAM).  When they
 * pass the high-water mark, or faults are waiting for room, the thread
 * trims to the low-water mark (and makes the room asked for):
 *
 *   trim (working set -> standby): victims come from the replacement
 *   policy (replacement.c; when it knows of no resident page, a CLOCK scan
 *   over the page tables, where a page faulted in since the hand last
 *   passed (PTE_F_ACCESSED) gets a second chance).  Victims adjacent in a
 *   region are taken as runs, under as_lock exclusive: moved into a run of
 *   standby frames with one UFFDIO_MOVE (atomic per page, so a write either
 *   travels with the page or faults after it), or, where a page cannot be
 *   moved (shared with a forked child, a protection other than read-write)
 *   or VMEM_TRIM=copy, write-protected (an application write then waits in
 *   the fault handler, which needs the lock), read through /proc/self/mem
 *   (whatever its protection), copied to a frame and dropped
 *   (MADV_DONTNEED).  A page that reads all zeros goes back to COMMITTED
 *   instead; a MEM_RESET page the kernel reclaimed (the read fails: it was
 *   not written since) is discarded; a clean page with the standby list off
 *   goes straight to PAGEDOUT.  A page the move refuses as pinned (io_uring
 *   fixed buffer, direct I/O in flight) stays: a copy would miss what the
 *   device writes.  Victims that stay resident (locked or pinned, no frame
 *   for a dirty page) go back to the policy.  A touch of a standby page is
 *   a transition fault.
 *
 *   freeing (standby -> page file): the oldest clean standby frames (their
 *   page-file copy valid) are freed and their pages become PAGEDOUT, with
 *   no I/O.  Dirty frames are saved ahead of need by the modified page
 *   writer, a thread of its own (page_writer.c), which this thread wakes.
 *
 * Faults that will install pages wait (bounded) in paging_wait_for_room
 * when the cap is reached, announcing how many pages they need, so the
 * working set stays under the cap plus what faults in flight install.
 *
 * Locks: as_lock as above; the cap and counters are atomics; the thread is
 * woken through an eventfd (async-signal-safe from a SIGBUS handler).
 */
#include "paging/evict.h"
#include "fault/fork_paging.h"
#include "os/thread.h"
#include "os/uffd.h"
#include "os/vm.h"
#include "paging/page_writer.h"
#include "pagefile/pagefile.h"
#include "paging/prefetch.h"
#include "core/prot.h"
#include "paging/replacement.h"
#include "core/runtime.h"
#include "paging/standby.h"
#include "core/stats.h"
#include "core/vmem_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64                 /* pages trimmed or written per round */
#define MIN_CAP_PAGES 64

static uint64_t cap_pages;       /* atomic; 0 = paging off */
static uint64_t progress;        /* atomic: pages trimmed or released */
static int stalled;              /* atomic: the last trim made no progress
                                    (page file full or failing, all locked) */
static uint64_t wanted;          /* atomic: pages faults wait to install */
static int kick_fd = -1;
static int stop_flag;            /* atomic */
static pthread_t thread;
static int running;

/* CLOCK hand: the base of the region and the page it points at. */
static uintptr_t hand_base;
static size_t hand_page;

static uint64_t ws(void) { return __atomic_load_n(&vmem_ctr.working_set, __ATOMIC_RELAXED); }
static uint64_t in_ram(void) { return ws() + standby_count(); }
static uint64_t cap(void) { return __atomic_load_n(&cap_pages, __ATOMIC_RELAXED); }
/* trimming starts at VMEM_HIGH_WATER % of the cap and stops at VMEM_LOW_WATER % */
static uint64_t high_water(void) { return cap() * vmem_rt.cfg.high_water / 100; }
static uint64_t low_water(void) { return cap() * vmem_rt.cfg.low_water / 100; }

/* Room is short: faults are waiting for more than the cap leaves. */
static int short_of_room(void)
{
    return in_ram() + __atomic_load_n(&wanted, __ATOMIC_ACQUIRE) > cap();
}

int paging_enabled(void) { return cap() != 0; }
uint64_t paging_cap(void) { return cap(); }

static int tracks_dirty;         /* write-protect tells clean from dirty */
static int trim_moves;           /* trimming uses UFFDIO_MOVE */
/* /proc/self files kept open: mem for the copy path's reads, pagemap to
 * tell pinned from shared.  Either may be unavailable (-1): a process that
 * changed its user ids is not dumpable, and its /proc/self files are
 * root's.  Then the copy path reads only what is safe to read directly, and
 * EBUSY means pinned. */
struct self_file {
    const char *what;
    int fd;
    uint64_t id; /* vm_file_id at open */
};
static struct self_file mem_file = { "mem", -1, 0 }, pagemap_file = { "pagemap", -1, 0 };

/* The descriptor of f, checked before each use: the application may have
 * closed it and reused the number for a file of its own, which must never
 * be read as our memory (nor closed by us).  Reopened then.  -1 if none. */
static int self_fd(struct self_file *f)
{
    if (f->fd == -2)
        return -1; /* could not be opened: not tried again on every run */
    if (f->fd >= 0 && vm_file_id(f->fd) == f->id)
        return f->fd;
    f->fd = -1;
    if (vm_self_open(f->what, &f->fd) != 0) {
        f->fd = -2;
        return -1;
    }
    f->id = vm_file_id(f->fd);
    return f->fd;
}

int paging_tracks_dirty(void)
{
    return tracks_dirty;
}

int paging_trims_by_move(void)
{
    return trim_moves;
}

uint64_t paging_commit_limit(void)
{
    return paging_enabled() ? cap() + pagefile_capacity() : UINT64_MAX;
}

void paging_kick(void)
{
    uint64_t one = 1;
    if (kick_fd >= 0 && write(kick_fd, &one, sizeof(one)) < 0)
        return; /* the counter is full: the thread is awake anyway */
}

int paging_has_room(size_t npages)
{
    return !paging_enabled() || in_ram() + npages <= cap();
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
    struct timespec nap = { 0, 50 * 1000 };
    uint64_t seen = __atomic_load_n(&progress, __ATOMIC_ACQUIRE);
    int idle = 0;
    for (int i = 0; i < 4000 && in_ram() + npages > cap() && idle < 1000 &&
                    !__atomic_load_n(&stalled, __ATOMIC_ACQUIRE); i++) {
        nanosleep(&nap, NULL);
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

/* ---- trimming ---------------------------------------------------------- */

/* A victim is named by its region's base and id, never by pointer: the
 * region may be released between choosing (shared lock) and trimming
 * (exclusive lock). */
struct victim { uintptr_t base; uint64_t id; size_t page; };

/* Advances the CLOCK hand, collecting up to n victims (as_lock shared). */
static size_t pick_victims(struct victim *v, size_t n)
{
    size_t got = 0, steps = 0, limit = 4 * (size_t)ws() + 2 * LEAF_PAGES;
    struct region *r = region_find(hand_base);
    if (!r || r->base != hand_base) {
        r = region_next_above(hand_base);
        hand_page = 0;
    }
    if (!r) {
        r = region_next_above(0);
        hand_page = 0;
    }
    while (r && got < n && steps < limit) {
        size_t i = pte_next_present(&r->ptes, hand_page, r->npages);
        for (; i < r->npages && got < n && steps < limit; i++, steps++) {
            struct pte *p = pte_get(&r->ptes, i);
            if (!p) {
                i = pte_next_present(&r->ptes, i, r->npages) - 1;
                continue;
            }
            if (pte_load_state(p) != PTE_RESIDENT || (pte_load_flags(p) & PTE_F_LOCKED))
                continue;
            uint8_t old = __atomic_fetch_and(&p->flags, (uint8_t)~PTE_F_ACCESSED, __ATOMIC_ACQ_REL);
            if (old & PTE_F_ACCESSED)
                continue; /* second chance */
            v[got++] = (struct victim){ r->base, r->id, i };
        }
        hand_base = r->base;
        hand_page = i;
        if (i >= r->npages) {
            r = region_next_above(r->base);
            if (!r)
                r = region_next_above(0);
            hand_page = 0;
            steps += 16;
        }
    }
    if (r)
        hand_base = r->base;
    return got;
}

/* Runs of the copy path are read here, so the working-set manager never
 * touches managed memory itself. */
static uint8_t bounce[BATCH * PAGE_SZ] __attribute__((aligned(64)));

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
            p->slot = fr->slot;
            standby_drop(f);
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
 * marks it dirty and opens it.  n <= BATCH; as_lock exclusive. */
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
            int mem_fd = self_fd(&mem_file);
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
            if (f && !trim_moves) {
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
                /* e.g. the application mlock()ed them: they stay */
                static int told;
                if (!told++)
                    vmem_log("cannot discard trimmed pages (%s): they stay resident",
                             strerror(e));
                unsettle(r, run, run_len, trimmed);
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
 * copied.  n <= BATCH; as_lock exclusive. */
static void trim_run_moving(struct region *r, size_t first, size_t n, size_t *trimmed)
{
    size_t pos = first, end = first + n;
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
            uint64_t pm[BATCH];
            int pagemap_fd = self_fd(&pagemap_file);
            if (pagemap_fd < 0 || vm_pagemap(pagemap_fd, region_addr(r, pos), left, pm) ||
                (pm[0] & VM_PM_EXCLUSIVE) || !(pm[0] & VM_PM_PRESENT)) {
                pos++; /* pinned (or cannot tell): stays */
                continue;
            }
            while (copy < left && (pm[copy] & VM_PM_PRESENT) && !(pm[copy] & VM_PM_EXCLUSIVE))
                copy++;
        }
        trim_run_copy(r, pos, copy, trimmed);
        pos += copy;
    }
}

/* Whether a trimmable page can be moved: read-write like the frames, and
 * not MEM_RESET (the kernel may have reclaimed it: a move stops at the
 * hole; the copy path tells a hole from a page). */
static int movable(const struct region *r, size_t i)
{
    const struct pte *p = pte_get(&r->ptes, i);
    return trim_moves && !(p->flags & PTE_F_RESET) &&
           prot_to_posix(p->prot) == (PROT_READ | PROT_WRITE);
}

static int trimmable(struct region *r, size_t i)
{
    const struct pte *p = pte_get(&r->ptes, i);
    return p && pte_load_state(p) == PTE_RESIDENT && !(p->flags & PTE_F_LOCKED);
}

/* Victims from the replacement policy, named by region (as_lock shared). */
static size_t policy_victims(struct victim *v, size_t n)
{
    uint64_t vpn[BATCH];
    size_t got = 0, k = replacement_victims(vpn, n);
    for (size_t j = 0; j < k; j++) {
        uintptr_t a = (uintptr_t)vpn[j] << PAGE_SHIFT;
        struct region *r = region_find(a);
        if (r) /* else released meanwhile */
            v[got++] = (struct victim){ r->base, r->id, region_page(r, a) };
    }
    return got;
}

static size_t trim_working_set(size_t n)
{
    struct victim v[BATCH];
    if (n > BATCH)
        n = BATCH;
    as_lock_shared();
    size_t got = replacement_active() ? policy_victims(v, n) : 0;
    if (!got) /* no policy, or pages it does not know of */
        got = pick_victims(v, n);
    as_unlock();
    if (!got)
        return 0;

    size_t trimmed = 0;
    as_lock_exclusive();
    for (size_t k = 0; k < got;) {
        /* a run of victims adjacent in one region */
        size_t e = k + 1;
        while (e < got && v[e].id == v[k].id && v[e].page == v[e - 1].page + 1)
            e++;
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
            size_t s = j;
            int move = movable(r, v[j].page);
            while (j < e && trimmable(r, v[j].page) && movable(r, v[j].page) == move)
                j++;
            size_t first = v[s].page, len = j - s;
            if (move)
                trim_run_moving(r, first, len, &trimmed);
            else
                trim_run_copy(r, first, len, &trimmed);
        }
        k = e;
    }
    /* victims that stay resident go back to the policy */
    if (replacement_active()) {
        for (size_t k = 0; k < got; k++) {
            struct region *r = region_find(v[k].base);
            const struct pte *p = r && r->id == v[k].id ? pte_get(&r->ptes, v[k].page) : NULL;
            if (p && p->state == PTE_RESIDENT)
                replacement_readmit(region_addr(r, v[k].page) >> PAGE_SHIFT);
        }
    }
    ctr_sub(&vmem_ctr.working_set, trimmed);
    ctr_add(&vmem_ctr.trimmed_pages, trimmed);
    as_unlock();
    return trimmed;
}

/* ---- page writer ---------------------------------------------------------- */

/* Gives frame f's page its slot back and frees the frame: the page is now
 * only in the page file.  as_lock exclusive. */
void paging_page_out(uint32_t f)
{
    struct frame *fr = standby_frame(f);
    struct pte *p = pte_get(&fr->region->ptes, fr->page);
    if (fr->flags & FRAME_PREFETCHED) {
        ctr_add(&vmem_ctr.prefetch_unused, 1);
        prefetch_feedback(0);
    }
    p->slot = fr->slot;
    p->state = PTE_PAGEDOUT;
    standby_drop(f);
}

/* Frees up to n clean, idle frames from the oldest (as_lock exclusive).
 * *dirty says whether dirty frames were passed over: the page writer's
 * work. */
static size_t release_standby(size_t n, int *dirty)
{
    size_t freed = 0, seen = 0, look = standby_count();
    *dirty = 0;
    as_lock_exclusive();
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
    as_unlock();
    return freed;
}

/* ---- the thread ------------------------------------------------------------- */

static int trim_round(void)
{
    size_t done = 0;
    /* down to the low-water mark, and what waiting faults need.  With the
     * standby list off every frame goes once written, so only the working
     * set counts: frames already trimmed are room on its way. */
    uint64_t held = vmem_rt.cfg.standby ? in_ram() : ws();
    uint64_t need = held > low_water() ? held - low_water() : 0;
    uint64_t room = held + __atomic_load_n(&wanted, __ATOMIC_ACQUIRE);
    if (room > cap() && room - cap() > need)
        need = room - cap();
    size_t sb_room = standby_capacity() - standby_count();
    size_t n = need < BATCH ? (size_t)need : BATCH;
    if (n > sb_room)
        n = sb_room;
    if (n && ws() > 0)
        done += trim_working_set(n);
    int dirty = 0;
    if (in_ram() > low_water() || short_of_room() || standby_count() > standby_capacity() / 2)
        done += release_standby(BATCH, &dirty);
    if (dirty)
        page_writer_kick();
    standby_empty_free();
    __atomic_add_fetch(&progress, done, __ATOMIC_RELEASE);
    return done > 0;
}

static void *evict_main(void *arg)
{
    (void)arg;
    struct pollfd pfd = { .fd = kick_fd, .events = POLLIN };
    while (!__atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE)) {
        poll(&pfd, 1, 50);
        fork_paging_reap();
        uint64_t v;
        if (read(kick_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
            break;
        if (in_ram() <= high_water() && !short_of_room() &&
            standby_count() <= standby_capacity() / 2)
            continue;
        int idle_rounds = 0;
        while (!__atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE) &&
               (in_ram() > low_water() || short_of_room() ||
                standby_count() > standby_capacity() / 2)) {
            if (trim_round()) {
                idle_rounds = 0;
                __atomic_store_n(&stalled, 0, __ATOMIC_RELEASE);
            } else if (page_writer_busy() && !page_writer_stuck()) {
                /* frames are being saved: wait for the writer's kick */
                poll(&pfd, 1, 10);
                if (read(kick_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                    return NULL;
            } else if (++idle_rounds > 3) {
                /* nothing can go now: faults stop waiting for room until a
                 * later round makes progress */
                __atomic_store_n(&stalled, 1, __ATOMIC_RELEASE);
                break;
            }
        }
    }
    return NULL;
}

static void close_self_fds(void)
{
    struct self_file *all[] = { &mem_file, &pagemap_file };
    for (size_t k = 0; k < 2; k++) {
        if (all[k]->fd >= 0 && vm_file_id(all[k]->fd) == all[k]->id)
            close(all[k]->fd);
        all[k]->fd = -1;
    }
}

int paging_start(uint64_t pages, const char *where, uint64_t max_bytes, char *err,
                 size_t errlen)
{
    if (pages < MIN_CAP_PAGES) {
        snprintf(err, errlen, "a working-set cap below %d pages (256 KiB) is too small",
                 MIN_CAP_PAGES);
        return EINVAL;
    }
    if (vmem_rt.uffd < 0) {
        snprintf(err, errlen, "paging needs userfaultfd (fault mode thread or signal)");
        return ENOTSUP;
    }
    const struct vmem_config *c = &vmem_rt.cfg;
    int have_wp = (vmem_rt.uffd_have & UFFD_HAVE_WP) != 0;
    int have_move = (vmem_rt.uffd_have & UFFD_HAVE_MOVE) != 0;
    if (!have_wp) {
        /* the copy path needs it to hold writers off while a page is saved */
        snprintf(err, errlen, "paging needs userfaultfd write-protect for anonymous "
                 "memory (Linux 5.7+)");
        return ENOTSUP;
    }
    if (c->trim == VMEM_TRIM_MOVE && !have_move) {
        snprintf(err, errlen, "VMEM_TRIM=move: this kernel has no UFFDIO_MOVE (6.8+)");
        return ENOTSUP;
    }
    tracks_dirty = have_wp && c->dirty_tracking != VMEM_DIRTY_OFF;
    self_fd(&mem_file);
    self_fd(&pagemap_file);
    int e = pagefile_open(where, max_bytes, err, errlen);
    if (e) {
        close_self_fds();
        return e;
    }
    pagefile_set_spin(c->io_spin_us);
    pagefile_set_checksum(c->pagefile_checksum);
    /* standby holds up to an eighth of the cap */
    if ((e = standby_init(pages / 8 > BATCH ? pages / 8 : BATCH)) != 0) {
        pagefile_close();
        close_self_fds();
        snprintf(err, errlen, "no memory for the standby list");
        return e;
    }
    trim_moves = 0;
    if (have_move && c->trim != VMEM_TRIM_COPY) {
        if ((e = standby_use_move(vmem_rt.uffd)) == 0) {
            trim_moves = 1;
        } else if (c->trim == VMEM_TRIM_MOVE) {
            standby_fini();
            pagefile_close();
            close_self_fds();
            snprintf(err, errlen, "VMEM_TRIM=move: cannot register the standby frames "
                     "(%s)", strerror(e));
            return e;
        }
    }
    kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (kick_fd < 0) {
        e = errno;
        standby_fini();
        pagefile_close();
        close_self_fds();
        snprintf(err, errlen, "eventfd: %s", strerror(e));
        return e;
    }
    __atomic_store_n(&cap_pages, pages, __ATOMIC_RELEASE);
    __atomic_store_n(&stop_flag, 0, __ATOMIC_RELEASE);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    e = os_thread_start(&thread, evict_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e) {
        paging_stop();
        snprintf(err, errlen, "cannot start the working-set manager thread");
        return e;
    }
    running = 1;
    as_lock_exclusive();
    e = replacement_start(c->policy, (size_t)pages, err, errlen);
    as_unlock();
    if (e || (e = prefetch_start(c->prefetch, c->cluster, err, errlen)) != 0) {
        paging_stop();
        return e;
    }
    if ((e = page_writer_start()) != 0) {
        paging_stop();
        snprintf(err, errlen, "cannot start the page writer thread");
        return e;
    }
    return 0;
}

void paging_stop(void)
{
    if (running) {
        __atomic_store_n(&stop_flag, 1, __ATOMIC_RELEASE);
        paging_kick();
        pthread_join(thread, NULL);
        running = 0;
    }
    page_writer_stop();
    replacement_stop();
    prefetch_stop();
    __atomic_store_n(&cap_pages, 0, __ATOMIC_RELEASE);
    if (kick_fd >= 0)
        close(kick_fd);
    kick_fd = -1;
    standby_fini();
    pagefile_close();
    close_self_fds();
    hand_base = 0;
    hand_page = 0;
}

void paging_leave_in_child(void)
{
    /* The thread is the parent's; the standby frames stay: the child reads
     * its pages from them (fork_paging.c). */
    running = 0;
    page_writer_leave_in_child();
    close_self_fds(); /* the parent's memory, not ours */
    __atomic_store_n(&cap_pages, 0, __ATOMIC_RELEASE);
    if (kick_fd >= 0)
        close(kick_fd);
    kick_fd = -1;
}

int paging_set_cap(uint64_t pages)
{
    if (!paging_enabled())
        return ENOTSUP;
    if (pages < MIN_CAP_PAGES)
        return EINVAL;
    __atomic_store_n(&cap_pages, pages, __ATOMIC_RELEASE);
    paging_kick();
    return 0;
}

uint32_t paging_forget(struct pte *p)
{
    uint32_t slot = 0;
    switch (p->state) {
    case PTE_RESIDENT: /* the working-set counter is the caller's */
    case PTE_PAGEDOUT:
        slot = p->slot;
        break;
    case PTE_STANDBY: {
        struct frame *fr = standby_frame(p->slot);
        if (fr->flags & FRAME_PREFETCHED) {
            ctr_add(&vmem_ctr.prefetch_unused, 1);
            prefetch_feedback(0);
        }
        if (fr->flags & FRAME_WRITING) {
            fr->flags |= FRAME_ORPHAN; /* the page writer frees it */
        } else {
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
