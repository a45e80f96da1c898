/*
 * fifo.c -- first in, first out: evicts the page resident longest, whatever
 * its use.  Sees only admissions, so it behaves the same live and simulated.
 *
 * The queue is a ring of node indices; a forgotten page leaves a hole
 * (PNODE_NIL) that the head skips.  A ring full of holes is compacted in
 * place, one full of pages doubled: like every policy's array, it only
 * ever grows by doubling (the live runtime's stock counts on it).
 */
#include "policy/policies.h"

#include "policy/alloc.h"
#include "policy/nodepool.h"

struct fifo {
    struct nodepool np; /* node aux: the page's ring position */
    struct policy_alloc mem; /* where all of it comes from */
    uint32_t *ring;
    size_t cap;        /* a power of two */
    size_t head, tail; /* positions, taken modulo cap */
    size_t resident;
};

static int alloc_ring(struct fifo *f, size_t cap)
{
    uint32_t *ring = pmem_alloc(&f->mem, cap * sizeof *ring);
    if (!ring)
        return -1;
    size_t n = 0;
    for (size_t pos = f->head; pos != f->tail; pos++) {
        uint32_t i = f->ring[pos & (f->cap - 1)];
        if (i == PNODE_NIL)
            continue;
        pnode(&f->np, i)->aux = (uint32_t)n;
        ring[n++] = i;
    }
    if (f->ring)
        pmem_free(&f->mem, f->ring, f->cap * sizeof *f->ring);
    f->ring = ring;
    f->cap = cap;
    f->head = 0;
    f->tail = n;
    return 0;
}

/* Closes the holes, keeping the order; no allocation. */
static void compact(struct fifo *f)
{
    size_t n = 0;
    for (size_t pos = f->head; pos != f->tail; pos++) {
        uint32_t i = f->ring[pos & (f->cap - 1)];
        if (i == PNODE_NIL)
            continue;
        /* at or behind pos: a slot already read */
        size_t to = (f->head + n++) & (f->cap - 1);
        pnode(&f->np, i)->aux = (uint32_t)to;
        f->ring[to] = i;
    }
    f->tail = f->head + n;
}

static struct policy *fifo_create(size_t frames, size_t universe, uint64_t seed,
                                   const struct policy_alloc *mem)
{
    (void)seed;
    struct fifo *f = pmem_alloc(mem, sizeof *f);
    if (!f)
        return NULL;
    f->mem = *mem;
    size_t cap = 64;
    while (cap < policy_start_size(frames + 1, universe))
        cap <<= 1;
    if (nodepool_init(&f->np, universe, frames + 1, mem) < 0) {
        pmem_free(mem, f, sizeof *f);
        return NULL;
    }
    if (alloc_ring(f, cap) < 0) {
        nodepool_fini(&f->np);
        pmem_free(mem, f, sizeof *f);
        return NULL;
    }
    return (struct policy *)f;
}

static void fifo_destroy(struct policy *p)
{
    struct fifo *f = (struct fifo *)p;
    struct policy_alloc mem = f->mem; /* f itself goes last */
    nodepool_fini(&f->np);
    pmem_free(&f->mem, f->ring, f->cap * sizeof *f->ring);
    pmem_free(&mem, f, sizeof *f);
}

static void fifo_admit(struct policy *p, policy_page page, unsigned flags)
{
    (void)flags;
    struct fifo *f = (struct fifo *)p;
    /* full of holes: compact; full of pages: grow */
    if (f->tail - f->head == f->cap) {
        if (f->resident * 2 < f->cap)
            compact(f);
        else if (alloc_ring(f, 2 * f->cap) < 0)
            return;
    }
    uint32_t i = nodepool_get(&f->np, page);
    if (i == PNODE_NIL || pnode(&f->np, i)->state)
        return;
    struct pnode *n = pnode(&f->np, i);
    n->state = 1;
    n->aux = (uint32_t)(f->tail & (f->cap - 1));
    f->ring[f->tail++ & (f->cap - 1)] = i;
    f->resident++;
}

static void fifo_touch(struct policy *p, policy_page page)
{
    (void)p;
    (void)page;
}

static int fifo_victim(struct policy *p, policy_page *page)
{
    struct fifo *f = (struct fifo *)p;
    if (!f->resident)
        return -1;
    uint32_t i;
    while ((i = f->ring[f->head++ & (f->cap - 1)]) == PNODE_NIL)
        ;
    *page = nodepool_page(&f->np, i);
    nodepool_put(&f->np, i);
    f->resident--;
    return 0;
}

static void fifo_forget(struct policy *p, policy_page page)
{
    struct fifo *f = (struct fifo *)p;
    uint32_t i = nodepool_find(&f->np, page);
    if (i == PNODE_NIL)
        return;
    f->ring[pnode(&f->np, i)->aux] = PNODE_NIL;
    nodepool_put(&f->np, i);
    f->resident--;
}

static size_t fifo_size(const struct policy *p)
{
    return ((const struct fifo *)p)->resident;
}

const struct policy_ops policy_fifo = {
    .name = "fifo",
    .about = "first in, first out; sees only admissions (same live and simulated)",
    .create = fifo_create,
    .destroy = fifo_destroy,
    .admit = fifo_admit,
    .touch = fifo_touch,
    .victim = fifo_victim,
    .forget = fifo_forget,
    .size = fifo_size,
};
