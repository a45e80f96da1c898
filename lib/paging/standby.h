/*
 * standby.h -- standby frames: pages trimmed from the working set, their
 * contents held in the library's own memory until touched again
 * (a transition fault) or released to the page file.  The standby list is
 * kept in trim order, oldest first; dirty frames on it form Windows'
 * modified list.
 */
#ifndef VMEM_STANDBY_H
#define VMEM_STANDBY_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct region;

#define FRAME_DIRTY   0x1 /* content not yet in the page file */
#define FRAME_WRITING 0x2 /* the page writer is saving it: content frozen */
#define FRAME_ORPHAN  0x4 /* its page was decommitted while being written */
#define FRAME_PREFETCHED 0x8 /* read by a hard fault for a neighbour, not
                                touched since (VMEM_PREFETCH_INSTALL=standby) */
#define FRAME_STORED  0x10 /* its content is also in the compressed store,
                              entry `centry`: freeing the frame leaves the
                              page COMPRESSED, no write needed */
#define FRAME_SLOT_STALE 0x40 /* with FRAME_STORED: `slot` is the page's
                              but holds older content (rewritten in place
                              when the page leaves the store) */
#define FRAME_RA_MARK 0x80 /* with FRAME_PREFETCHED: the first page of a
                              readahead window; its touch tells readahead
                              the stream has reached it */
#define FRAME_READAHEAD 0x100 /* with FRAME_PREFETCHED: read by readahead,
                              whose gate hears whether it was touched */
#define FRAME_NOSTORE 0x20 /* the store refused it (reject, full, no
                              memory): the page file takes it */

struct frame {
    struct region *region;
    size_t page;          /* page index in region */
    uint32_t slot;        /* page-file slot of this content, 0 = none */
    uint32_t flags;       /* FRAME_* */
    uint32_t prev, next;  /* standby list links (0 = none) */
    uint32_t centry;      /* compressed-store entry (FRAME_STORED) */
};

/* Sets up a pool that may grow to `n` frames: address space only, a first
 * small chunk usable.  0 or errno.  Under the runtime's init lock. */
int standby_init(size_t n);
void standby_fini(void);

/* Makes room for `free_wanted` more frames than are in use, if the pool
 * has not reached its limit: at least that, in chunks.  0 or errno (the
 * pool stays as it was).  Never in a signal handler; one caller at a time
 * (paging start, then the working-set manager thread); no lock held. */
int standby_grow(size_t free_wanted);

size_t standby_capacity(void);      /* the limit: frames it may grow to */
size_t standby_usable(void);        /* frames grown so far */
size_t standby_count(void);         /* frames in use */
/* Frames in use that hold prefetched pages (FRAME_PREFETCHED): clean, and
 * kept until touched or freed, whether or not the standby list is on. */
size_t standby_prefetched(void);

/* Frame f (just taken, its page's content in it) holds a prefetched page:
 * flags FRAME_PREFETCHED | flags, counted in standby_prefetched() until
 * dropped. */
void standby_keep_prefetched(uint32_t f, uint32_t flags);

/* Move mode: registers frame memory with userfaultfd `uffd` so pages can be
 * moved into frames with UFFDIO_MOVE (see standby.c).  0 or errno. */
int standby_use_move(int uffd);
int standby_moves(void);

/* Move mode: a userfaultfd fault at addr in the frames' memory, which
 * libvmem never touches: the kernel populating it for the application
 * (mlockall(MCL_CURRENT), or a chunk made writable after mlockall) or a
 * stray access.  A free frame gets a zero page (and is emptied before it
 * is used), so the access completes instead of faulting for ever.  1 if
 * addr is in the frames' memory (the caller wakes the fault), else 0.
 * Caller holds as_lock shared. */
int standby_fault(uintptr_t addr);

/* Up to `want` neighbouring free frames for pages page, page+1, ... of r,
 * appended to the standby list in that order (slot 0, flags 0); *got says
 * how many (0: none free).  In move mode they are empty.  Returns the
 * first.  Caller holds as_lock: exclusive, or shared by a fault for pages
 * it has claimed (INSTALLING); frame_lock keeps the list consistent, and
 * the frames are reached through those pages only once they are STANDBY. */
uint32_t standby_take_run(struct region *r, size_t page, size_t want, size_t *got);

/* Move mode: gives back the memory of freed frames (so it leaves the
 * process's RSS), one MADV_DONTNEED per run. */
void standby_empty_free(void);

/* The address of frame f's memory. */
uintptr_t standby_addr(uint32_t f);

/* A free frame appended to the standby list for (r, page), or 0 if none is
 * free.  Caller holds as_lock exclusive. */
uint32_t standby_take(struct region *r, size_t page, uint32_t slot, uint32_t flags);

/* Unlinks and frees frame f. */
void standby_drop(uint32_t f);

/* The frame record and its 4 KiB of data. */
struct frame *standby_frame(uint32_t f);
void *standby_data(uint32_t f);

/* The oldest frame on the list, and the next after f (0 at the end). */
uint32_t standby_oldest(void);
uint32_t standby_next(uint32_t f);

/* Its lock, for the fork handlers only (fork_paging.c: the order). */
pthread_mutex_t *standby_fork_lock(void);

#endif
