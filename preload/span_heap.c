/*
 * span_heap.c -- size-class heap over one reserved range (see span_heap.h).
 */
#include "span_heap.h"

#include <string.h>

/* Commit ahead in 1 MiB steps: few commit calls, little unused commit. */
#define COMMIT_STEP ((size_t)1 << 20)

void span_heap_init(struct span_heap *h, uintptr_t base, size_t size, uint8_t *chunk_class,
                    int (*commit)(uintptr_t, size_t))
{
    memset(h, 0, sizeof(*h));
    h->base = base;
    h->end = base + size;
    h->front = base;
    h->committed = commit ? base : base + size;
    h->commit = commit;
    h->chunk_class = chunk_class;
    pthread_mutex_init(&h->grow_lock, NULL);
    for (unsigned c = 0; c < SC_COUNT; c++)
        pthread_mutex_init(&h->cls[c].lock, NULL);
}

/* A new span for class c: [*start, *start + bytes), usable.  0 on success. */
static int new_span(struct span_heap *h, unsigned c, uintptr_t *start, size_t bytes)
{
    int err = 0;
    pthread_mutex_lock(&h->grow_lock);
    uintptr_t s = h->front;
    if (bytes > h->end - s) {
        err = 1;
    } else if (s + bytes > h->committed) {
        uintptr_t want = (s + bytes + COMMIT_STEP - 1) & ~(COMMIT_STEP - 1);
        if (want > h->end)
            want = h->end;
        if (h->commit(h->committed, want - h->committed) != 0)
            err = 1;
        else
            h->committed = want;
    }
    if (!err) {
        h->front = s + bytes;
        size_t first = (s - h->base) >> CHUNK_SHIFT, n = bytes >> CHUNK_SHIFT;
        memset(h->chunk_class + first, (int)(c + 1), n);
        *start = s;
    }
    pthread_mutex_unlock(&h->grow_lock);
    return err;
}

unsigned span_heap_take(struct span_heap *h, unsigned c, unsigned n, void **head)
{
    struct sc_central *k = &h->cls[c];
    size_t size = sc_size(c);
    unsigned got = 0;
    void *first = NULL, **link = &first;
    pthread_mutex_lock(&k->lock);
    while (got < n && k->free) {
        void *o = k->free;
        k->free = *(void **)o;
        *link = o;
        link = (void **)o;
        got++;
    }
    while (got < n) {
        if (k->carve_end - k->carve < size) {
            size_t bytes = sc_span_bytes(c);
            uintptr_t s;
            if (new_span(h, c, &s, bytes))
                break;
            k->carve = s;
            k->carve_end = s + bytes / size * size;
        }
        void *o = (void *)k->carve;
        k->carve += size;
        *link = o;
        link = (void **)o;
        got++;
    }
    pthread_mutex_unlock(&k->lock);
    *link = NULL;
    *head = first;
    return got;
}

void span_heap_give(struct span_heap *h, unsigned c, void *head, void *tail)
{
    struct sc_central *k = &h->cls[c];
    pthread_mutex_lock(&k->lock);
    *(void **)tail = k->free;
    k->free = head;
    pthread_mutex_unlock(&k->lock);
}

void span_heap_lock_all(struct span_heap *h)
{
    for (unsigned c = 0; c < SC_COUNT; c++)
        pthread_mutex_lock(&h->cls[c].lock);
    pthread_mutex_lock(&h->grow_lock);
}

void span_heap_unlock_all(struct span_heap *h)
{
    pthread_mutex_unlock(&h->grow_lock);
    for (unsigned c = SC_COUNT; c-- > 0;)
        pthread_mutex_unlock(&h->cls[c].lock);
}
