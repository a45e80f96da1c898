/*
 * clock.c -- second chance (CLOCK): pages sit in admission order; the hand
 * looks at the oldest, and a page referenced since the hand last passed it
 * has its bit cleared and goes round again instead of being evicted.  A
 * page admitted by a reference starts with its bit set (the fault was a
 * reference); a prefetched one without.  Simulated, every reference sets
 * the bit; live only faults and write-protect faults do, as in evict.c.
 *
 * The clock face is a list: "move the hand past a page" is "move the page
 * from the head to the tail", the same order as a circular array and hand.
 */
#include "policy/policies.h"

#include "internal_alloc.h"
#include "policy/nodepool.h"

struct clock {
    struct nodepool np;
    struct plist face; /* head: under the hand */
};

static struct policy *clock_create(size_t frames, size_t universe, uint64_t seed)
{
    (void)seed;
    struct clock *c = ialloc_pages(sizeof *c);
    if (!c)
        return NULL;
    if (nodepool_init(&c->np, universe, frames + 1) < 0) {
        ifree_pages(c, sizeof *c);
        return NULL;
    }
    plist_init(&c->face);
    return (struct policy *)c;
}

static void clock_destroy(struct policy *p)
{
    struct clock *c = (struct clock *)p;
    nodepool_fini(&c->np);
    ifree_pages(c, sizeof *c);
}

static void clock_admit(struct policy *p, policy_page page, unsigned flags)
{
    struct clock *c = (struct clock *)p;
    uint32_t i = nodepool_get(&c->np, page);
    if (i == PNODE_NIL)
        return;
    struct pnode *n = pnode(&c->np, i);
    if (n->state) {
        n->ref = 1;
        return;
    }
    n->state = 1;
    n->ref = !(flags & POLICY_PREFETCHED);
    plist_push_tail(&c->np, &c->face, i);
}

static void clock_touch(struct policy *p, policy_page page)
{
    struct clock *c = (struct clock *)p;
    uint32_t i = nodepool_find(&c->np, page);
    if (i != PNODE_NIL)
        pnode(&c->np, i)->ref = 1;
}

static int clock_victim(struct policy *p, policy_page *page)
{
    struct clock *c = (struct clock *)p;
    /* at most one full turn clears every bit */
    for (;;) {
        uint32_t i = plist_pop_head(&c->np, &c->face);
        if (i == PNODE_NIL)
            return -1;
        struct pnode *n = pnode(&c->np, i);
        if (n->ref) {
            n->ref = 0;
            plist_push_tail(&c->np, &c->face, i);
            continue;
        }
        *page = nodepool_page(&c->np, i);
        nodepool_put(&c->np, i);
        return 0;
    }
}

static void clock_forget(struct policy *p, policy_page page)
{
    struct clock *c = (struct clock *)p;
    uint32_t i = nodepool_find(&c->np, page);
    if (i == PNODE_NIL)
        return;
    plist_remove(&c->np, &c->face, i);
    nodepool_put(&c->np, i);
}

static size_t clock_size(const struct policy *p)
{
    return ((const struct clock *)p)->face.len;
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
