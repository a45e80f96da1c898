/*
 * share.h -- the compressed store's adaptive share of the cap: how much of
 * VMEM_COMPRESS_MAX the store may hold now, following what it earns.
 *
 * The store's RAM counts in the cap, so every frame it holds is a frame the
 * working set does not have.  It pays only when the pages offered to it
 * compress and when it serves faults: the page writer reports each page it
 * offers (share_offered) and, every window of pages, the share is decided
 * again (share.c says the rule).  While the share is 0 only one page in
 * SHARE_SAMPLE_EVERY is compressed, as a sample of what the program's pages
 * look like now; the others go to the page file without costing CPU.
 *
 * The page writer thread calls share_want_compress and share_offered; any
 * thread reads the limit (store.c) and reports hits (share_hit).  The
 * limit and its changes are also counters (core/stats.h), which
 * vmem_get_stats and the reports show.
 */
#ifndef VMEM_SHARE_H
#define VMEM_SHARE_H

#include <stdint.h>

/* While the share is 0, one page offered in this many is compressed. */
#define SHARE_SAMPLE_EVERY 16

/* Starts with the whole of max_bytes (store_init). */
void share_init(uint64_t max_bytes);

/* The store is off (store_fini): its share is 0. */
void share_stop(void);

/* The store's RAM at most now, in bytes: 0 .. VMEM_COMPRESS_MAX. */
uint64_t share_limit(void);

/* Whether the next page offered is to be compressed: always while the
 * share is above 0, one in SHARE_SAMPLE_EVERY at 0. */
int share_want_compress(void);

/* What became of a page compressed for the store: it compressed under the
 * threshold (whether or not there was room) or not.  At the end of a
 * window the share is decided again. */
void share_offered(int compressed);

/* A fault served from the store, from an entry `age` puts old, the store
 * taking `charged` pages: whether the working set would have kept the page
 * had the store's frames been its own (share.c).  Any thread. */
void share_hit(uint32_t age, uint64_t charged);

/* Share changes so far, each way (tests and reports). */
uint64_t share_shrinks(void);
uint64_t share_grows(void);

#endif
