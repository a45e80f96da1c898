/*
 * pte.h -- software page-table entries: one small record per page of a
 * reservation, in a two-level table allocated as pages are committed.
 *
 * This comment is the page-state machine of the whole library: every
 * state, every transition, who makes it and under which mode of the
 * address-space lock (as_lock, core/runtime.h).  docs/architecture.md
 * points here.
 *
 * Page states (the `state` field), with Windows' names where they have one:
 *   PTE_RESERVED   not committed; the page is PROT_NONE, access faults.
 *                  Absent leaves mean every page of the leaf is reserved.
 *   PTE_COMMITTED  committed, content zero, no RAM: the next touch is a
 *                  demand-zero fault.
 *   PTE_RESIDENT   installed in the application's address space (in the
 *                  working set).  `slot` is its page-file copy, valid
 *                  unless PTE_F_DIRTY.  A page installed writable is
 *                  PTE_F_DIRTY from its install on (a write needs no fault
 *                  to be seen), so it is never dropped clean.  A page read
 *                  back from the compressed store keeps its entry there
 *                  while it is clean: `slot` is then PTE_SLOT_STORE | the
 *                  entry (which keeps the page-file slot, if any), and the
 *                  trimmer drops the page to PTE_COMPRESSED with nothing
 *                  compressed or written.  Its first write (the write-
 *                  protect fault, or anything that makes it dirty) frees
 *                  the entry first (paging/release.c: paging_unstore).
 *   PTE_STANDBY    trimmed from the working set, content kept in a standby
 *                  frame (paging/standby.c; `slot` holds the frame number,
 *                  the frame holds the page-file slot): the next touch is a
 *                  transition (soft) fault.  A dirty frame is on the
 *                  modified list until the page writer saves it.
 *   PTE_PAGEDOUT   content only in the page file at `slot`: the next touch
 *                  is a hard fault.
 *   PTE_INSTALLING a fault is bringing the page back from STANDBY or
 *                  PAGEDOUT.  It claimed the page with a compare-and-swap
 *                  under as_lock shared, so two faults never both take a
 *                  frame or both read a slot (and none installs zeros over
 *                  it); other faults on the page just retry.  `slot` is
 *                  unchanged while it is claimed.  A claim from STANDBY
 *                  lasts only while the fault holds as_lock.  A claim from
 *                  PAGEDOUT (a hard fault, fault/fault.c) lasts through the
 *                  page-file read, which is done with as_lock released:
 *                  exclusive holders may meet the page then (the trimmer,
 *                  the page writer, commit, protect, lock, reset, write-watch
 *                  reset, guard pages, fork's prepare) and leave its state
 *                  and slot alone.  Decommit and release never meet it:
 *                  they take the lock only while no read is in flight in
 *                  the region (region.inflight, api/addrspace.c).  A forked
 *                  child inherits it with no fault to finish it and treats
 *                  it as PAGEDOUT (fault/fork_paging.c).  Under VirtualLock
 *                  (fault_populate, as_lock exclusive) the hard fault keeps
 *                  the lock through the read.
 *   PTE_COMPRESSED content in the compressed store (compress/store.h) at
 *                  entry `slot`; the entry keeps the page-file slot that
 *                  has the same content, if any.  The next touch is a fault
 *                  served from the store, with no I/O (fault.c), claimed
 *                  like a transition fault and done under as_lock shared.
 *   PTE_INPAGE_ERROR  its page-file copy could not be read back (or a
 *                  resident page was dropped behind the table's back): the page
 *                  is poisoned, each access raises SIGBUS (BUS_MCEERR_AR)
 *                  until it is decommitted or released.  No slot, not in
 *                  the working set, never trimmed.
 *
 * Transitions; who makes them; as_lock's mode:
 *   RESERVED -> COMMITTED        commit (api/addrspace.c)           exclusive
 *   COMMITTED -> RESIDENT        demand-zero fault (fault.c)        shared (a)
 *                                VirtualLock's populate (fault.c)   exclusive
 *   RESIDENT -> STANDBY          trim to a frame (the working-set
 *                                manager, paging/)                  exclusive
 *   RESIDENT -> COMMITTED        trim of a page that reads all zeros,
 *                                was never saved, or is a MEM_RESET
 *                                page the kernel reclaimed          exclusive
 *   RESIDENT -> PAGEDOUT         trim of a clean page when no frame
 *                                is had or the standby list is off  exclusive
 *   RESIDENT -> COMPRESSED       trim of a clean page whose store
 *                                entry it kept (PTE_SLOT_STORE)     exclusive
 *   STANDBY -> RESIDENT          trim undone (its discard failed)   exclusive
 *   STANDBY -> PAGEDOUT          a clean frame freed (the working-set
 *                                manager; the page writer with the
 *                                standby list off)                  exclusive
 *   STANDBY -> COMPRESSED        a frame whose content the page
 *                                writer put in the store freed
 *                                (release.c)                        exclusive
 *   COMPRESSED -> PAGEDOUT       the store's oldest entries leave
 *                                for the page file (the page
 *                                writer, paging/compress_out.c)     exclusive
 *   COMPRESSED -> INSTALLING     a fault on it claims it, or a read
 *                                fault on a neighbour (fault.c)     shared (b)
 *   COMPRESSED -> COMMITTED      MEM_RESET: content not wanted, its
 *                                entry and slot freed (RESET_LOST)  exclusive
 *   INSTALLING -> COMPRESSED     its install failed                 shared (b)
 *   STANDBY -> INSTALLING        transition fault's claim (fault.c) shared (b)
 *   PAGEDOUT -> INSTALLING       hard fault's claim of the page and
 *                                of neighbours read with it         shared (b)
 *                                readahead's claim of a window
 *                                ahead of a stream, PTE_F_READAHEAD
 *                                set with it (fault/readahead.c)    shared
 *   INSTALLING -> RESIDENT       the claiming fault's install       shared (b)
 *   INSTALLING -> STANDBY        transition whose install failed;
 *                                a prefetched page kept on standby
 *                                (VMEM_PREFETCH_INSTALL=standby)    shared (b)
 *   INSTALLING -> PAGEDOUT       hard fault giving back pages it did
 *                                not install                        shared (b)
 *                                readahead dropping a window (read
 *                                failed, no room, region changed)   shared
 *   INSTALLING -> RESIDENT|STANDBY  readahead installing its window,
 *                                or keeping it (a page of it) on
 *                                standby; PTE_F_READAHEAD cleared
 *                                first, the page's waiters woken
 *                                after                              shared
 *   INSTALLING -> INPAGE_ERROR   hard fault whose read of the
 *                                faulting page kept failing         shared (b)
 *   RESIDENT -> INSTALLING -> INPAGE_ERROR  a fault on a resident page
 *                                that nothing maps (dropped behind the
 *                                table's back, fault.c)             shared
 *   INPAGE_ERROR -> PAGEDOUT     at once, where the page cannot be
 *                                poisoned in thread mode (retried)  shared (b)
 *   STANDBY|PAGEDOUT|COMPRESSED|INSTALLING -> RESIDENT | INPAGE_ERROR
 *                                a forked child's first touch of a
 *                                page (fork_paging.c)               exclusive
 *   any -> RESERVED              decommit, release (addrspace.c),
 *                                never while a read is in flight    exclusive
 * (a) Several faults may race to install the same zero pages: the kernel
 *     arbitrates (UFFDIO_COPY/ZEROPAGE fail with EEXIST on a page already
 *     there) and each counts only the pages it installed.
 * (b) Exclusive when the fault runs under VirtualLock (fault_populate).
 *
 * A page claimed by readahead is never installed by anyone else: a fault
 * on it (thread mode) waits, unwoken, for readahead's install or drop,
 * which wakes it; the read is done with as_lock released under the same
 * rules as a hard fault's (region.inflight, the claim, the slot checked
 * after).
 *
 * Flags change under the exclusive lock, except PTE_F_WRITTEN, PTE_F_DIRTY,
 * PTE_F_ACCESSED, PTE_F_READAHEAD, PTE_F_REWRITTEN and PTE_F_RESET_LOST,
 * which faults (and readahead) set (and the trimmer's scan clears PTE_F_ACCESSED) with
 * atomic operations under the shared lock.
 * `prot` changes under the exclusive lock only; `slot` changes with the
 * state, or by the one fault that claimed the page.
 */
#ifndef VMEM_PTE_H
#define VMEM_PTE_H

#include <stddef.h>
#include <stdint.h>

enum { PTE_RESERVED = 0, PTE_COMMITTED = 1, PTE_RESIDENT = 2, PTE_STANDBY = 3,
       PTE_PAGEDOUT = 4, PTE_INSTALLING = 5, PTE_INPAGE_ERROR = 6,
       PTE_COMPRESSED = 7 };

#define PTE_F_WRITTEN    0x01 /* written since the last write-watch reset */
#define PTE_F_LOCKED     0x02 /* VirtualLock */
#define PTE_F_RESET      0x04 /* MEM_RESET: the kernel may drop the contents */
#define PTE_F_RESET_LOST 0x08 /* ...and did: the page came back zero-filled */
#define PTE_F_DIRTY      0x10 /* written since last saved (or installed writable) */
#define PTE_F_ACCESSED   0x20 /* faulted in since the trimmer last looked */
#define PTE_F_READAHEAD  0x40 /* INSTALLING, claimed by readahead
                                 (fault/readahead.c): it wakes the page's
                                 waiters when it lets the claim go */
#define PTE_F_REWRITTEN  0x80 /* written after a clean page-in (a write-
                                 protect fault saw it): its next page-in
                                 installs it writable and dirty, and clears
                                 it (fault/fault.c) */

struct pte {
    uint8_t state;
    uint8_t flags;
    uint16_t prot;   /* Win32 PAGE_* value; 0 while reserved */
    uint32_t slot;   /* page-file slot (RESIDENT, PAGEDOUT), standby frame
                        (STANDBY) or store entry (COMPRESSED); 0 = none */
};

/* A RESIDENT page's `slot` with this bit: the rest is its entry in the
 * compressed store, not a page-file slot (page-file slots stay below it:
 * PAGEFILE_MAX_BYTES). */
#define PTE_SLOT_STORE 0x80000000u

static inline int pte_slot_stored(uint32_t slot)
{
    return (slot & PTE_SLOT_STORE) != 0;
}

#define LEAF_SHIFT 9
#define LEAF_PAGES ((size_t)1 << LEAF_SHIFT)   /* 512 entries = 4 KiB */

struct pte_table {
    struct pte **dir;   /* one pointer per leaf; NULL = all reserved */
    size_t nleaves;
    size_t dir_bytes;
};

/* The directory is mmap'd, so a huge reservation costs address space for it
 * but RAM only for the parts touched.  Returns 0 or ENOMEM. */
int pte_table_init(struct pte_table *t, size_t npages);
void pte_table_destroy(struct pte_table *t);

/* The entry of page idx, or NULL if its leaf was never allocated. */
static inline struct pte *pte_get(const struct pte_table *t, size_t idx)
{
    struct pte *leaf = t->dir[idx >> LEAF_SHIFT];
    return leaf ? &leaf[idx & (LEAF_PAGES - 1)] : NULL;
}

/* The entry of page idx, allocating its leaf; NULL if out of memory. */
struct pte *pte_get_alloc(struct pte_table *t, size_t idx);

/* Allocates every leaf covering [first, end); ENOMEM leaves the table as
 * it was usable (some leaves may stay allocated). */
int pte_alloc_range(struct pte_table *t, size_t first, size_t end);

/* The first page index >= idx (and < end) whose leaf exists, or end. */
size_t pte_next_present(const struct pte_table *t, size_t idx, size_t end);

static inline uint8_t pte_load_state(const struct pte *p)
{
    return __atomic_load_n(&p->state, __ATOMIC_ACQUIRE);
}
static inline uint8_t pte_load_flags(const struct pte *p)
{
    return __atomic_load_n(&p->flags, __ATOMIC_ACQUIRE);
}

#endif
