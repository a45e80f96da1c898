/*
 * thread_cache.c -- per-thread free lists over the managed heap.
 */
#include "thread_cache.h"

#include <pthread.h>

struct tcache {
    void *head[SC_COUNT];
    unsigned count[SC_COUNT];
    int registered; /* the exit hook knows this thread */
    int gone;       /* returned at thread exit: bypass from now on */
};

static __thread struct tcache tc __attribute__((tls_model("initial-exec")));
static struct span_heap *heap;
static pthread_key_t exit_key;

static unsigned batch(unsigned c)
{
    size_t b = 65536 / sc_size(c);
    return b < 2 ? 2 : b > 64 ? 64 : (unsigned)b;
}

static void give_back_all(void *unused)
{
    (void)unused;
    for (unsigned c = 0; c < SC_COUNT; c++) {
        void *h = tc.head[c];
        if (!h)
            continue;
        void *t = h;
        while (*(void **)t)
            t = *(void **)t;
        span_heap_give(heap, c, h, t);
        tc.head[c] = NULL;
        tc.count[c] = 0;
    }
    tc.gone = 1;
}

int tcache_setup(struct span_heap *h)
{
    heap = h;
    return pthread_key_create(&exit_key, give_back_all);
}

static void note_thread(void)
{
    tc.registered = 1;
    /* Any non-NULL value: the destructor runs at thread exit. */
    pthread_setspecific(exit_key, &tc);
}

void *tcache_alloc(unsigned c)
{
    void *p = tc.head[c];
    if (p) {
        tc.head[c] = *(void **)p;
        tc.count[c]--;
        return p;
    }
    if (tc.gone)
        return span_heap_take(heap, c, 1, &p) ? p : NULL;
    if (!tc.registered)
        note_thread();
    unsigned n = span_heap_take(heap, c, batch(c), &p);
    if (!n)
        return NULL;
    tc.head[c] = *(void **)p;
    tc.count[c] = n - 1;
    return p;
}

void tcache_free(unsigned c, void *p)
{
    if (tc.gone) {
        span_heap_give(heap, c, p, p);
        return;
    }
    *(void **)p = tc.head[c];
    tc.head[c] = p;
    unsigned b = batch(c);
    if (++tc.count[c] <= 2 * b)
        return;
    /* Return the b most recently freed objects but the first. */
    void *first = *(void **)p, *last = first;
    for (unsigned i = 1; i < b; i++)
        last = *(void **)last;
    *(void **)p = *(void **)last;
    tc.count[c] -= b;
    span_heap_give(heap, c, first, last);
}
