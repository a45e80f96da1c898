/*
 * trim.h -- trimming: victims the replacement policy chooses leave the
 * working set for standby frames (by UFFDIO_MOVE, or write-protect and
 * copy).
 */
#ifndef VMEM_TRIM_H
#define VMEM_TRIM_H

#include <stddef.h>
#include <stdint.h>

#define TRIM_BATCH 64 /* pages trimmed or freed per round */

/* Trims up to n (<= TRIM_BATCH) pages, and at most limit(arg) (asked with
 * as_lock held exclusive, so it sees every trim before; NULL: no limit);
 * returns how many left the working set.  The working-set manager thread,
 * or a fault making room (reclaim.c); takes as_lock, so never with it
 * held. */
size_t trim_working_set(size_t n, size_t (*limit)(size_t), size_t arg);

/* Victims the replacement policy named that stayed resident (locked,
 * pinned for a moment, no frame free for them): each is trimmed later, or
 * given back to the policy as its newest page, so the live order is not
 * the policy's from then on.  Since the process started. */
uint64_t trim_victims_left(void);

/* Opens the /proc/self files the trimmer reads (paging_start; either may be
 * unavailable), and closes them (paging_stop, and in a forked child: they
 * are the parent's memory). */
void trim_open_files(void);
void trim_close_files(void);

#endif
