/*
 * reclaim.h -- direct reclaim: a fault that finds no room under the cap
 * makes it on its own thread.
 */
#ifndef VMEM_RECLAIM_H
#define VMEM_RECLAIM_H

#include <stddef.h>

/* Called by a fault that found no room for `want` pages (cap_take gave 0),
 * without as_lock: frees clean standby frames and trims on the calling
 * thread, waits for the page writer while it saves frames, and takes the
 * room (cap.h) as soon as there is cap_least(want).  Returns the pages
 * taken, 1 to `want`; give them back with cap_give_back.  Only when nothing can leave
 * RAM (every page locked or pinned, the page file full or failing) is the
 * one page taken over the cap (cap_overruns).  A fault thread or the
 * faulting thread's SIGBUS handler: nothing here grows memory, and what it
 * waits for never waits for it. */
size_t paging_make_room(size_t want);

/* For readahead (fault/readahead.c), no lock held: room for up to `want`
 * pages, from what is free, then from clean standby frames freed (pages
 * already trimmed, their copy in the page file) and the replacement
 * policy's victims trimmed (the pages it evicts next anyway), a bounded
 * number of rounds.  Never waits, never passes the cap.  Returns the pages
 * taken (0: none); give them back with cap_give_back. */
size_t paging_room_ahead(size_t want);

#endif
