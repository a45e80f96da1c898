/*
 * cap.h -- the resident-memory cap (working set + standby frames, both
 * RAM): room under it taken by faults, its water marks for the
 * working-set manager, and the commit limit it makes.
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

/* ---- room for faults (reclaim.h makes it when there is none) ----------- */

/* Takes room under the cap for up to `want` pages a fault is about to make
 * resident (installed, or kept in standby frames), at least `least`;
 * returns how many (0: not `least` free).  Lock-free, async-signal-safe. */
size_t cap_take(size_t want, size_t least);
/* The room a fault for `want` pages waits to have whole: all of it, up to
 * a quarter of the cap (a cluster wider than that shrinks). */
size_t cap_least(size_t want);
/* Takes n pages over the cap, counted in cap_overruns: for a fault when
 * nothing can leave RAM.  Returns n. */
size_t cap_take_over(size_t n);
/* Takes n pages of room whatever RAM holds now, for frames the caller
 * frees next under as_lock: the room they make is the caller's, not a
 * racing fault's.  Not an overrun; what is not freed is given back. */
void cap_hold(size_t n);
/* Gives back room taken, once the pages installed are counted in the
 * working set (or were not installed). */
void cap_give_back(size_t n);

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

/* Pages in RAM: working set + standby frames + the compressed store. */
uint64_t cap_in_ram(void);
/* What trimming and freeing reduce: the pages in RAM, or with the standby
 * list off the working set, the frames of prefetched pages and the
 * compressed store (a trimmed page's frame is freed once written: room on
 * its way). */
uint64_t cap_held(void);
/* Pages faults have taken room for and not yet installed. */
uint64_t cap_taken(void);
/* How many pages must leave so that `extra` more fit beside what is held
 * and taken (0: they fit, or will once frames in flight are freed). */
uint64_t cap_excess(uint64_t extra);
/* Trimming starts at VMEM_HIGH_WATER % of the cap, stops at VMEM_LOW_WATER %. */
uint64_t cap_high_water(void);
uint64_t cap_low_water(void);

/* Pages trimmed or freed so far, by the working-set manager or by faults
 * (progress for a fault waiting for room). */
void cap_progress(size_t done);
uint64_t cap_progress_count(void);

#endif
