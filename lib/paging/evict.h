/*
 * evict.h -- the working-set manager: the resident-memory cap, the trimmer
 * that moves cold pages to standby, and the page writer that saves dirty
 * standby pages to the page file.
 */
#ifndef VMEM_EVICT_H
#define VMEM_EVICT_H

#include "core/pte.h"
#include "core/region.h"

#include <stddef.h>
#include <stdint.h>

/* Starts paging with a cap of `cap_pages` (working set + standby), opening
 * the page file (`where`, `max_bytes` as for pagefile_open).  Returns 0 or
 * errno, with a message in err. */
int paging_start(uint64_t cap_pages, const char *where, uint64_t max_bytes, char *err,
                 size_t errlen);
void paging_stop(void);

/* Frees standby frame f, whose content is in the page file: its page is
 * now PAGEDOUT.  as_lock exclusive. */
void paging_page_out(uint32_t f);

/* Wakes the working-set manager thread (async-signal-safe). */
void paging_kick(void);

/* In a forked child: paging is off (the thread was the parent's), the
 * standby frames are kept as they are. */
void paging_leave_in_child(void);

/* 1 when a cap is in force. */
int paging_enabled(void);

/* Changes the cap (SetProcessWorkingSetSize); EINVAL if paging is off or
 * the cap is smaller than 64 pages. */
int paging_set_cap(uint64_t cap_pages);
uint64_t paging_cap(void);

/* The commit limit in pages: the cap plus the page file, or UINT64_MAX
 * without paging. */
uint64_t paging_commit_limit(void);

/* Called by a fault before it installs up to `npages` pages, without
 * as_lock: waits (bounded) for the trimmer to make room under the cap.
 * Safe in a signal handler. */
void paging_wait_for_room(size_t npages);

/* 1 if npages more fit under the cap now (no waiting needed). */
int paging_has_room(size_t npages);

/* A page leaves the address space (decommit, release): frees its standby
 * frame and returns its page-file slot (0 if none) for the caller to free,
 * so that runs are freed (and punched) together.  as_lock exclusive. */
uint32_t paging_forget(struct pte *p);

/* Every page is written out regardless of dirtiness when the kernel has no
 * userfaultfd write-protect; else 1. */
int paging_tracks_dirty(void);

/* 1 if trimming moves pages out with UFFDIO_MOVE (VMEM_TRIM). */
int paging_trims_by_move(void);

#endif
