/*
 * managed_heap.h -- the application's heap under libvmem: small objects
 * from a span heap over one 64 GiB libvmem reservation (committed 1 MiB at
 * a time as it is carved), large ones (> 64 KiB) each a libvmem
 * reservation of their own, committed to the block's size, with room to
 * grow in place on realloc.
 */
#ifndef PRELOAD_MANAGED_HEAP_H
#define PRELOAD_MANAGED_HEAP_H

#include "span_heap.h"

#include <stddef.h>

extern struct span_heap managed_heap;

/* Reserves the heap (libvmem must be running).  0 or an errno. */
int managed_heap_start(void);

/* Nonzero once the heap serves the application. */
static inline int managed_heap_ready(void)
{
    extern int managed_heap_is_ready;
    return __atomic_load_n(&managed_heap_is_ready, __ATOMIC_ACQUIRE);
}

/* Large blocks: align is a power of two. */
void *large_alloc(size_t align, size_t size);
/* p is a large block (ranges.h, RANGE_LARGE) */
void large_free(void *p);
/* Resizes in place if the reservation allows: 1 on success, 0 if not. */
int large_resize(void *p, size_t size);
size_t large_usable(void *p);

#endif
