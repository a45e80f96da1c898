/*
 * cap.h -- the resident-memory cap (working set + standby frames, both
 * RAM): room under it for faults, its water marks for the working-set
 * manager, and the commit limit it makes.
 */
#ifndef VMEM_CAP_H
#define VMEM_CAP_H

#include <stddef.h>
#include <stdint.h>

#define PAGING_MIN_CAP_PAGES 64

/* 1 when a cap is in force. */
int paging_enabled(void);

/* Changes the cap (SetProcessWorkingSetSize); ENOTSUP if paging is off,
 * EINVAL if the cap is smaller than 64 pages. */
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

/* ---- view pages (section/vpage.c) ---------------------------------------- */

/* Views' pages this process maps count in its working set and under the
 * cap like private pages: the section layer counts them here (n may be
 * negative), and registers the function the working-set manager calls to
 * trim up to n of them (it returns how many left). */
void paging_view_pages_add(int64_t n);
uint64_t paging_view_pages(void);
void paging_set_view_trimmer(size_t (*trim)(size_t n));
size_t cap_trim_views(size_t n);

/* ---- for the paging layer ---------------------------------------------- */

/* Puts a cap in force (start.c), or none (0). */
void cap_set(uint64_t cap_pages);

/* Pages in RAM: working set + standby frames. */
uint64_t cap_in_ram(void);
/* Trimming starts at VMEM_HIGH_WATER % of the cap, stops at VMEM_LOW_WATER %. */
uint64_t cap_high_water(void);
uint64_t cap_low_water(void);
/* Pages faults wait to install (announced in paging_wait_for_room). */
uint64_t cap_wanted(void);
/* Room is short: faults are waiting for more than the cap leaves. */
int cap_short_of_room(void);

/* The working-set manager reports a round: `done` pages trimmed or freed;
 * stalled: nothing can go now, so faults stop waiting for room until a
 * round makes progress again. */
void cap_progress(size_t done);
void cap_stalled(int stalled);

#endif
