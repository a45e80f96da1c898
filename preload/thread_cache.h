/*
 * thread_cache.h -- per-thread free lists in front of the managed heap, so
 * most mallocs and frees take no lock.  A thread keeps at most twice a
 * class's batch; beyond that a batch goes back to the central list.  A
 * thread's cache is returned when it exits.
 */
#ifndef PRELOAD_THREAD_CACHE_H
#define PRELOAD_THREAD_CACHE_H

#include "span_heap.h"

/* Once, before the first use: the thread-exit hook.  0 or an errno. */
int tcache_setup(struct span_heap *h);

void *tcache_alloc(unsigned c);
void tcache_free(unsigned c, void *p);

#endif
