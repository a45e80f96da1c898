/*
 * pagefile/hold.c -- the page file across fork: the parent's hold, the
 * child's borrowed file.
 *
 * Forked children (see fork_paging.c): while a child may still read the
 * parent's slots, the parent holds the file: freed slots are set aside,
 * not reused or punched, until the hold ends.  The child borrows the file
 * read-only: it reads with pread (the parent's rings are not its own) and
 * never frees, allocates or removes anything.
 *
 * The hold and the set-aside list are guarded by slot_lock (slots.c).
 */
#include "pagefile/pagefile.h"
#include "pagefile/hold.h"
#include "pagefile/io.h"
#include "pagefile/slots.h"
#include "core/internal_alloc.h"

#include <string.h>

struct slot_run { uint32_t first, n; };
static int held;                    /* frees are set aside (a child reads) */
static struct slot_run *set_aside;  /* runs freed while held */
static size_t set_aside_n, set_aside_cap;
static int borrowed;                /* in a forked child: read-only */
static int ending;                  /* atomic: hold ends freeing their runs */

void pf_hold_set_aside_locked(uint32_t first, size_t n)
{
    if (set_aside_n == set_aside_cap) {
        size_t cap = set_aside_cap ? 2 * set_aside_cap : 512;
        struct slot_run *a = ialloc_pages(cap * sizeof(*a));
        if (a) {
            if (set_aside_n)
                memcpy(a, set_aside, set_aside_n * sizeof(*a));
            ifree_pages(set_aside, set_aside_cap * sizeof(*set_aside));
            set_aside = a;
            set_aside_cap = cap;
        }
    }
    if (set_aside_n < set_aside_cap)
        set_aside[set_aside_n++] = (struct slot_run){ first, (uint32_t)n };
}

void pf_hold_reset_locked(void)
{
    borrowed = 0;
    held = 0;
    ifree_pages(set_aside, set_aside_cap * sizeof(*set_aside));
    set_aside = NULL;
    set_aside_n = set_aside_cap = 0;
}

void pagefile_hold(int on)
{
    /* counted ending before the hold is seen over, so that a thread seeing
     * neither has nothing more to wait for */
    if (!on)
        __atomic_add_fetch(&ending, 1, __ATOMIC_ACQ_REL);
    pf_slot_lock();
    held = on;
    if (on) {
        pf_slot_unlock();
        return;
    }
    struct slot_run *runs = set_aside;
    size_t n = set_aside_n, cap = set_aside_cap;
    set_aside = NULL;
    set_aside_n = set_aside_cap = 0;
    pf_slot_unlock();
    for (size_t k = 0; k < n; k++)
        pagefile_free(runs[k].first, runs[k].n);
    ifree_pages(runs, cap * sizeof(*runs));
    __atomic_sub_fetch(&ending, 1, __ATOMIC_ACQ_REL);
}

int pagefile_hold_ending(void)
{
    return __atomic_load_n(&ending, __ATOMIC_ACQUIRE) != 0;
}

int pagefile_held(void)
{
    return __atomic_load_n(&held, __ATOMIC_RELAXED);
}

void pagefile_borrow(void)
{
    /* The rings' memory is shared with the parent's: forget ours without
     * touching them. */
    pf_io_forget_ring();
    borrowed = 1;
    held = 0;
    set_aside = NULL; /* the parent's list: leave it be */
    set_aside_n = set_aside_cap = 0;
}

int pagefile_is_borrowed(void)
{
    return borrowed;
}
