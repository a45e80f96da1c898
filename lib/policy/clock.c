/*
 * clock.c -- second chance (CLOCK): resident pages sit on a clock face; the
 * hand looks at one page after another, and a page referenced since the
 * hand last passed it has its bit cleared and is passed over instead of
 * being evicted.  A page admitted by a reference starts with its bit set
 * (the fault was a reference); a prefetched one without.  Simulated, every
 * reference sets the bit; live only faults and write-protect faults do, as
 * in paging/ (the trimmer).
 *
 * The face is an array of slots and the hand an index: a victim search
 * reads slots in order, and a new page takes the slot just freed, right
 * behind the hand, which is where the textbook clock puts it.
 */
#include "policy/policies.h"

#include "policy/alloc.h"
#include "policy/nodepool.h"

#include <string.h>

struct clock {
    struct nodepool np; /* node aux: the page's slot */
    struct policy_alloc mem; /* where all of it comes from */
    uint32_t *face;     /* slot -> node, PNODE_NIL if empty */
    uint32_t *free;     /* empty slots below used, last freed on top */
    size_t nfree;
    size_t used;        /* slots ever filled: the face is face[0..used) */
    size_t cap;
    size_t hand;
    size_t resident;
};

static int alloc_face(struct clock *c, size_t cap)
{
    uint32_t *face = pmem_alloc(&c->mem, cap * sizeof *face);
    uint32_t *free = pmem_alloc(&c->mem, cap * sizeof *free);
    if (!face || !free) {
        pmem_free(&c->mem, face, cap * sizeof *face);
        pmem_free(&c->mem, free, cap * sizeof *free);
        return -1;
    }
    if (c->face) {
        memcpy(face, c->face, c->used * sizeof *face);
        memcpy(free, c->free, c->nfree * sizeof *free);
        pmem_free(&c->mem, c->face, c->cap * sizeof *c->face);
        pmem_free(&c->mem, c->free, c->cap * sizeof *c->free);
    }
    c->face = face;
    c->free = free;
    c->cap = cap;
    return 0;
}

static struct policy *clock_create(size_t frames, size_t universe, uint64_t seed,
                                    const struct policy_alloc *mem)
{
    (void)seed;
    struct clock *c = pmem_alloc(mem, sizeof *c);
    if (!c)
        return NULL;
    c->mem = *mem;
    if (nodepool_init(&c->np, universe, frames + 1, mem) < 0) {
        pmem_free(mem, c, sizeof *c);
        return NULL;
    }
    if (alloc_face(c, policy_start_size(frames + 1, universe)) < 0) {
        nodepool_fini(&c->np);
        pmem_free(mem, c, sizeof *c);
        return NULL;
    }
    return (struct policy *)c;
}

static void clock_destroy(struct policy *p)
{
    struct clock *c = (struct clock *)p;
    struct policy_alloc mem = c->mem; /* c itself goes last */
    nodepool_fini(&c->np);
    pmem_free(&c->mem, c->face, c->cap * sizeof *c->face);
    pmem_free(&c->mem, c->free, c->cap * sizeof *c->free);
    pmem_free(&mem, c, sizeof *c);
}

static void clock_admit(struct policy *p, policy_page page, unsigned flags)
{
    struct clock *c = (struct clock *)p;
    if (!c->nfree && c->used == c->cap && alloc_face(c, 2 * c->cap) < 0)
        return;
    uint32_t i = nodepool_get(&c->np, page);
    if (i == PNODE_NIL)
        return;
    struct pnode *n = pnode(&c->np, i);
    if (n->state) {
        n->ref = 1;
        return;
    }
    size_t slot = c->nfree ? c->free[--c->nfree] : c->used++;
    c->face[slot] = i;
    n->state = 1;
    n->ref = !(flags & POLICY_PREFETCHED);
    n->aux = (uint32_t)slot;
    c->resident++;
}

static void clock_touch(struct policy *p, policy_page page)
{
    struct clock *c = (struct clock *)p;
    uint32_t i = nodepool_find(&c->np, page);
    if (i != PNODE_NIL)
        pnode(&c->np, i)->ref = 1;
}

static void free_slot(struct clock *c, uint32_t i)
{
    size_t slot = pnode(&c->np, i)->aux;
    c->face[slot] = PNODE_NIL;
    c->free[c->nfree++] = (uint32_t)slot;
    nodepool_put(&c->np, i);
    c->resident--;
}

static int clock_victim(struct policy *p, policy_page *page)
{
    struct clock *c = (struct clock *)p;
    if (!c->resident)
        return -1;
    /* at most one full turn clears every bit */
    for (;;) {
        size_t h = c->hand;
        c->hand = h + 1 < c->used ? h + 1 : 0;
        uint32_t i = c->face[h];
        if (i == PNODE_NIL)
            continue;
        struct pnode *n = pnode(&c->np, i);
        if (n->ref) {
            n->ref = 0;
            continue;
        }
        *page = nodepool_page(&c->np, i);
        free_slot(c, i);
        return 0;
    }
}

static void clock_forget(struct policy *p, policy_page page)
{
    struct clock *c = (struct clock *)p;
    uint32_t i = nodepool_find(&c->np, page);
    if (i != PNODE_NIL)
        free_slot(c, i);
}

static size_t clock_size(const struct policy *p)
{
    return ((const struct clock *)p)->resident;
}

const struct policy_ops policy_clock = {
    .name = "clock",
    .about = "second chance; live the bit is set by faults and write-protect faults",
    .create = clock_create,
    .destroy = clock_destroy,
    .admit = clock_admit,
    .touch = clock_touch,
    .victim = clock_victim,
    .forget = clock_forget,
    .size = clock_size,
};
