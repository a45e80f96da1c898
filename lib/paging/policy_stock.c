/*
 * policy_stock.c -- the live replacement policy's memory (policy_stock.h).
 *
 * A policy allocates when it grows, inside admit(), which runs under
 * policy_lock and, in signal mode, in the SIGBUS handler: neither may make
 * a kernel call.  So its allocator only takes blocks from a stock, which
 * replacement.c fills beforehand, outside the lock and outside any signal
 * handler.  Blocks come in power-of-two classes (4 KiB << k).  A policy
 * grows an array by doubling it, so for every block handed out the stock
 * keeps blocks for two doublings (stock_plan): everything the policy holds
 * can double twice between refills.  A request the stock cannot
 * serve fails: the policy then leaves the page untracked, and
 * replacement.c has the working-set manager admit every resident page
 * again once the stock is refilled.
 *
 * New blocks are mapped and left untouched (no RAM until the policy uses
 * them); blocks the policy frees are kept, and those beyond the target are
 * unmapped at the next refill.
 */
#include "paging/policy_stock.h"

#include "core/internal_alloc.h"

#include <string.h>

#define BLOCK_MIN 4096u

struct stock_block {
    struct stock_block *next;
    unsigned char fresh; /* never handed out: still all zero past this header */
    unsigned char cls;
};

static size_t class_bytes(unsigned k)
{
    return (size_t)BLOCK_MIN << k;
}

/* the smallest class that holds `bytes`, or STOCK_CLASSES if none does */
static unsigned class_of(size_t bytes)
{
    unsigned k = 0;
    while (k < STOCK_CLASSES && class_bytes(k) < bytes)
        k++;
    return k;
}

static void push(struct stock_block **list, struct stock_block *b)
{
    b->next = *list;
    *list = b;
}

static void mark_low(struct policy_stock *s)
{
    __atomic_store_n(&s->low, 1, __ATOMIC_RELEASE);
}

static void *stock_alloc(void *ctx, size_t bytes)
{
    struct policy_stock *s = ctx;
    unsigned k = class_of(bytes);
    if (k >= STOCK_CLASSES) {
        s->misses++;
        return NULL;
    }
    struct stock_block *b = s->free[k];
    void *p;
    if (b) {
        s->free[k] = b->next;
        s->have[k]--;
        if (b->fresh)
            memset(b, 0, sizeof *b);
        else
            memset(b, 0, bytes);
        p = b;
    } else if (s->direct) {
        p = ialloc_pages(class_bytes(k));
    } else {
        p = NULL;
    }
    mark_low(s);
    if (!p) {
        s->misses++;
        return NULL;
    }
    s->out[k]++;
    s->served++;
    return p;
}

static void stock_free(void *ctx, void *p, size_t bytes)
{
    struct policy_stock *s = ctx;
    unsigned k = class_of(bytes);
    struct stock_block *b = p;
    b->fresh = 0;
    b->cls = (unsigned char)k;
    push(&s->free[k], b);
    s->have[k]++;
    s->out[k]--;
    mark_low(s);
}

struct policy_alloc stock_allocator(struct policy_stock *s)
{
    return (struct policy_alloc){ .alloc = stock_alloc, .free = stock_free, .ctx = s };
}

int stock_low(const struct policy_stock *s)
{
    return __atomic_load_n(&s->low, __ATOMIC_ACQUIRE);
}

int stock_plan(struct policy_stock *s, struct stock_order *o)
{
    memset(o, 0, sizeof *o);
    __atomic_store_n(&s->low, 0, __ATOMIC_RELEASE);
    /* A block of class k >= 1 holds more than half its class: doubled, it
     * needs class k + 1, then k + 2.  One of class 0 may double within
     * class 0 (twice, from 1 KiB or less). */
    size_t target[STOCK_CLASSES] = {0};
    target[0] = 2 * s->out[0];
    for (unsigned k = 0; k + 1 < STOCK_CLASSES; k++) {
        target[k + 1] += s->out[k];
        if (k + 2 < STOCK_CLASSES)
            target[k + 2] += s->out[k];
    }
    int work = 0;
    for (unsigned k = 0; k < STOCK_CLASSES; k++) {
        if (s->have[k] < target[k]) {
            o->want[k] = target[k] - s->have[k];
            work = 1;
        }
        while (s->have[k] > target[k]) {
            struct stock_block *b = s->free[k];
            s->free[k] = b->next;
            s->have[k]--;
            push(&o->surplus, b);
            work = 1;
        }
    }
    return work;
}

void stock_drain(struct policy_stock *s, struct stock_order *o)
{
    memset(o, 0, sizeof *o);
    for (unsigned k = 0; k < STOCK_CLASSES; k++) {
        while (s->free[k]) {
            struct stock_block *b = s->free[k];
            s->free[k] = b->next;
            push(&o->surplus, b);
        }
        s->have[k] = 0;
    }
    __atomic_store_n(&s->low, 0, __ATOMIC_RELEASE);
}

void stock_fetch(struct stock_order *o)
{
    while (o->surplus) {
        struct stock_block *b = o->surplus;
        o->surplus = b->next;
        ifree_pages(b, class_bytes(b->cls));
    }
    for (unsigned k = 0; k < STOCK_CLASSES; k++)
        for (; o->want[k]; o->want[k]--) {
            struct stock_block *b = ialloc_pages(class_bytes(k));
            if (!b)
                return; /* what was mapped still goes in */
            b->fresh = 1;
            b->cls = (unsigned char)k;
            push(&o->got[k], b);
        }
}

void stock_take(struct policy_stock *s, struct stock_order *o)
{
    for (unsigned k = 0; k < STOCK_CLASSES; k++)
        while (o->got[k]) {
            struct stock_block *b = o->got[k];
            o->got[k] = b->next;
            push(&s->free[k], b);
            s->have[k]++;
        }
}
