/*
 * compress_out.h -- the page writer's work for the compressed store:
 * standby frames into the store, and the store's oldest pages out to the
 * page file when it is nearly full.
 */
#ifndef VMEM_COMPRESS_OUT_H
#define VMEM_COMPRESS_OUT_H

#include <stddef.h>

/* Compresses up to a batch of standby frames not yet in the store (dirty
 * or clean) into it.  Returns the frames handled (stored or refused); *found
 * whether any was waiting.  The page writer thread; takes as_lock. */
size_t compress_out_pass(int *found);

/* Paging started (the cap set): the page writer takes its reserve of
 * room for the store's growth. */
void compress_out_start(void);

/* While the store is above its eviction mark, moves a batch of its oldest
 * pages to the page file (those with a page-file copy without a write).
 * Returns the pages moved out.  The page writer thread; takes as_lock. */
size_t compress_evict_pass(void);

#endif
