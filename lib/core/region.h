/*
 * region.h -- reservations and the table that finds them by address (the
 * counterpart of Windows' VAD tree).  All calls need the address-space lock:
 * lookups shared, insert/remove exclusive.
 */
#ifndef VMEM_REGION_H
#define VMEM_REGION_H

#include "core/pte.h"

#include <stddef.h>
#include <stdint.h>

#define REGION_WRITE_WATCH 0x1u
#define REGION_VIEW        0x2u /* a view of a section (section/view.h): not
                                   registered with userfaultfd, the kernel
                                   serves its pages */

struct region {
    uintptr_t base;          /* 64 KiB aligned */
    size_t size;             /* bytes, page-rounded: what VirtualQuery shows */
    size_t span;             /* bytes mapped: size rounded up to 64 KiB */
    size_t npages;
    uint32_t alloc_protect;  /* AllocationProtect */
    unsigned flags;          /* REGION_* */
    size_t locked_pages;     /* pages with PTE_F_LOCKED */
    uint32_t inflight;       /* hard faults reading for it with as_lock
                                released (atomic); decommit and release
                                wait for 0 */
    uint64_t id;             /* unique for the process's lifetime: tells a
                                region from a later one at the same base */
    void *owner;             /* REGION_VIEW: its struct view */
    struct pte_table ptes;
};

static inline size_t region_page(const struct region *r, uintptr_t addr)
{
    return (addr - r->base) >> 12;
}
static inline uintptr_t region_addr(const struct region *r, size_t idx)
{
    return r->base + (idx << 12);
}

/* The reservation whose pages [base, base+size) contain addr, or NULL. */
struct region *region_find(uintptr_t addr);

/* The reservation whose mapped span (size rounded to 64 KiB) contains addr. */
struct region *region_find_span(uintptr_t addr);

/* The first reservation with base > addr, or NULL. */
struct region *region_next_above(uintptr_t addr);

/* Adds r to the table; ENOMEM if the table cannot grow. */
int region_insert(struct region *r);
void region_remove(struct region *r);

/* Calls fn on every region (exclusive lock held); for shutdown. */
void region_for_each(void (*fn)(struct region *r));


#endif
