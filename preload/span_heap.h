/*
 * span_heap.h -- a size-class heap over one reserved address range.
 *
 * The range is cut into 64 KiB chunks; a span (one or more chunks) holds
 * objects of one class, carved on demand.  A side table outside the range
 * gives each chunk's class, so free() never reads the object's neighbours.
 * Freed objects go on the class's central free list (their first word links
 * them).  Memory is made usable by an optional commit hook in steps of
 * COMMIT_STEP as the carving front advances; freed objects are reused, not
 * returned.  Two heaps exist: the managed one (commit = vmem_commit) and
 * the fallback one over plain anonymous memory (no hook).
 *
 * Locks: one mutex per class for its free list and carving span; grow_lock
 * for the chunk front and commits.  Class locks may be held while taking
 * grow_lock, never the reverse.
 */
#ifndef PRELOAD_SPAN_HEAP_H
#define PRELOAD_SPAN_HEAP_H

#include "size_class.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define CHUNK_SHIFT 16
#define CHUNK_SIZE  ((size_t)1 << CHUNK_SHIFT)

struct sc_central {
    pthread_mutex_t lock;
    void *free;            /* linked through each object's first word */
    uintptr_t carve, carve_end;
} __attribute__((aligned(64)));

struct span_heap {
    uintptr_t base, end;   /* the reserved range */
    uintptr_t front;       /* first chunk never used */
    uintptr_t committed;   /* [base, committed) is usable */
    int (*commit)(uintptr_t addr, size_t len);
    uint8_t *chunk_class;  /* per chunk: class + 1, 0 = not in use */
    pthread_mutex_t grow_lock;
    struct sc_central cls[SC_COUNT];
};

/* Sets up h over [base, base+size); chunk_class is a zeroed array of
 * size/CHUNK_SIZE bytes. */
void span_heap_init(struct span_heap *h, uintptr_t base, size_t size, uint8_t *chunk_class,
                    int (*commit)(uintptr_t, size_t));

static inline int span_heap_owns(const struct span_heap *h, const void *p)
{
    return (uintptr_t)p - h->base < h->end - h->base;
}

/* The class of an object of h (p must be one). */
static inline unsigned span_heap_class(const struct span_heap *h, const void *p)
{
    return h->chunk_class[((uintptr_t)p - h->base) >> CHUNK_SHIFT] - 1u;
}

/* Takes up to n objects of class c, linked; returns how many (0: out of
 * memory).  *head gets the first. */
unsigned span_heap_take(struct span_heap *h, unsigned c, unsigned n, void **head);

/* Gives back a linked list of objects of class c, head..tail. */
void span_heap_give(struct span_heap *h, unsigned c, void *head, void *tail);

/* fork: take every lock / release them (parent and child). */
void span_heap_lock_all(struct span_heap *h);
void span_heap_unlock_all(struct span_heap *h);

#endif
