/*
 * internal_alloc.h -- the library's own memory.  It never comes from malloc,
 * so it is never managed memory, even when the heap is (LD_PRELOAD).
 */
#ifndef VMEM_INTERNAL_ALLOC_H
#define VMEM_INTERNAL_ALLOC_H

#include <pthread.h>
#include <stddef.h>

/* Zeroed memory straight from mmap, rounded up to pages; NULL on failure.
 * For large or long-lived objects (region records, directories). */
void *ialloc_pages(size_t bytes);
void ifree_pages(void *p, size_t bytes);

/* Zeroed 4 KiB blocks from a pooled slab (page-table leaves). */
void *ialloc_block(void);
void ifree_block(void *p);

/* Its lock, for the fork handlers only (fork_paging.c: the order). */
pthread_mutex_t *ialloc_fork_lock(void);

#endif
