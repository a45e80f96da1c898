/*
 * start.h -- starting and stopping paging: the page file, the standby
 * frames, the policies and the two threads, and how trimming is done.
 */
#ifndef VMEM_START_H
#define VMEM_START_H

#include <stddef.h>
#include <stdint.h>

/* Starts paging with a cap of `cap_pages` (working set + standby), opening
 * the page file (`where`, `max_bytes` as for pagefile_open).  Returns 0 or
 * errno, with a message in err.  Under the runtime's init lock. */
int paging_start(uint64_t cap_pages, const char *where, uint64_t max_bytes, char *err,
                 size_t errlen);
void paging_stop(void);

/* In a forked child: paging is off (the threads were the parent's), the
 * standby frames are kept as they are. */
void paging_leave_in_child(void);

/* Every page is written out regardless of dirtiness when the kernel has no
 * userfaultfd write-protect; else 1. */
int paging_tracks_dirty(void);

/* 1 if trimming moves pages out with UFFDIO_MOVE (VMEM_TRIM). */
int paging_trims_by_move(void);

#endif
