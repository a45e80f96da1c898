/*
 * fault_cost.h -- where a fault's time goes, part by part (VMEM_FAULT_COST=1):
 * the wait for as_lock, the wait for room under the cap (and within it the
 * wait for the working-set manager, freeing standby frames, trimming, the
 * wait for the page writer), the page-file read, the relock after it and
 * the install; by kind of fault; and how long each holder of as_lock
 * exclusive on the paging path keeps it.  Printed on stderr at exit.  Off, each
 * probe is one load and a branch.
 */
#ifndef VMEM_FAULT_COST_H
#define VMEM_FAULT_COST_H

#include <stdint.h>

enum fault_cost_part {
    /* per kind of fault: count and total time in fault_resolve */
    FC_HARD, FC_WP, FC_ZERO, FC_TRANSITION, FC_COMPRESSED, FC_OTHER,
    /* parts, time only (count: how many faults had the part) */
    FC_LOCK_HARD,     /* as_lock shared, a hard fault's first take */
    FC_LOCK_WP,       /* the same for a write-protect fault */
    FC_ROOM,          /* paging_make_room, a fault short of room (all kinds) */
    FC_ROOM_HARD,     /* the same, for hard faults */
    FC_ROOM_MANAGER,  /* in it: naps waiting for the working-set manager */
    FC_ROOM_RELEASE,  /* in it: freeing clean standby frames */
    FC_ROOM_TRIM,     /* in it: trimming the working set */
    FC_ROOM_WRITER,   /* in it: naps waiting for the page writer */
    FC_ROOM_STALL,    /* in it: naps with nothing leaving RAM */
    FC_READ,          /* a hard fault's page-file read (retries included) */
    FC_RELOCK,        /* as_lock shared again after the read */
    FC_INSTALL,       /* UFFDIO_COPY of what was read */
    /* as_lock held exclusive by the paging threads and faults making room,
     * per holder: what faults wait behind */
    FC_LOCK_COMPRESSED, /* as_lock shared, a compressed fault's first take */
    FC_ROOM_COMPRESSED, /* paging_make_room, for compressed faults */
    FC_DECOMPRESS,    /* a compressed fault's store_get */
    FC_INSTALL_COMPRESSED, /* its UFFDIO_COPY */
    FC_HOLD_TRIM,     /* trim_working_set: choose victims and trim them */
    FC_HOLD_RELEASE,  /* release_standby: free clean standby frames */
    FC_HOLD_CHOOSE,   /* the page writer choosing frames to write */
    FC_HOLD_SETTLE,   /* the page writer settling what it wrote */
    FC_PARTS
};

extern int fault_cost_on; /* set once at paging start */

/* Any thread, async-signal-safe: now in ns when the costs are kept, else 0. */
uint64_t fault_cost_clock(void);
static inline uint64_t fault_cost_now(void)
{
    return __builtin_expect(__atomic_load_n(&fault_cost_on, __ATOMIC_RELAXED), 0)
               ? fault_cost_clock() : 0;
}

/* Adds the time since t0 (a fault_cost_now() reading; nothing if 0) to
 * `part`, one more of it; returns now (or 0). */
uint64_t fault_cost_since(enum fault_cost_part part, uint64_t t0);

/* Adds ns to `part`, one more of it. */
void fault_cost_add(enum fault_cost_part part, uint64_t ns);

/* At paging start: keeps the costs if VMEM_FAULT_COST=1, printing them at
 * exit. */
void fault_cost_start(void);

#endif
