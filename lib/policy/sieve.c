/*
 * sieve.c -- SIEVE (Zhang et al., NSDI 2024): a FIFO queue with a visited
 * bit and a hand that moves from the oldest page towards the newest.  The
 * hand clears visited bits and evicts the first unvisited page, then stays
 * there; pages that survive keep their place (unlike CLOCK, no page moves),
 * so new pages that are never reused leave quickly.  New pages start
 * unvisited.  Simulated every reference sets the bit; live only faults and
 * write-protect faults.
 */
#include "policy/policies.h"

#include "policy/alloc.h"
#include "policy/nodepool.h"

struct sieve {
    struct nodepool np;
    struct policy_alloc mem; /* where all of it comes from */
    struct plist queue; /* head: oldest */
    uint32_t hand;      /* next page to look at; PNODE_NIL: the head */
};

static struct policy *sieve_create(size_t frames, size_t universe, uint64_t seed,
                                    const struct policy_alloc *mem)
{
    (void)seed;
    struct sieve *s = pmem_alloc(mem, sizeof *s);
    if (!s)
        return NULL;
    s->mem = *mem;
    if (nodepool_init(&s->np, universe, frames + 1, mem) < 0) {
        pmem_free(mem, s, sizeof *s);
        return NULL;
    }
    plist_init(&s->queue);
    s->hand = PNODE_NIL;
    return (struct policy *)s;
}

static void sieve_destroy(struct policy *p)
{
    struct sieve *s = (struct sieve *)p;
    struct policy_alloc mem = s->mem; /* s itself goes last */
    nodepool_fini(&s->np);
    pmem_free(&mem, s, sizeof *s);
}

static void sieve_admit(struct policy *p, policy_page page, unsigned flags)
{
    (void)flags;
    struct sieve *s = (struct sieve *)p;
    uint32_t i = nodepool_get(&s->np, page);
    if (i == PNODE_NIL)
        return;
    struct pnode *n = pnode(&s->np, i);
    if (n->state) {
        n->ref = 1;
        return;
    }
    n->state = 1;
    n->ref = 0;
    plist_push_tail(&s->np, &s->queue, i);
}

static void sieve_touch(struct policy *p, policy_page page)
{
    struct sieve *s = (struct sieve *)p;
    uint32_t i = nodepool_find(&s->np, page);
    if (i != PNODE_NIL)
        pnode(&s->np, i)->ref = 1;
}

static void unlink_page(struct sieve *s, uint32_t i)
{
    if (s->hand == i)
        s->hand = pnode(&s->np, i)->next;
    plist_remove(&s->np, &s->queue, i);
    nodepool_put(&s->np, i);
}

static int sieve_victim(struct policy *p, policy_page *page)
{
    struct sieve *s = (struct sieve *)p;
    if (!s->queue.len)
        return -1;
    uint32_t i = s->hand != PNODE_NIL ? s->hand : s->queue.head;
    for (;;) {
        struct pnode *n = pnode(&s->np, i);
        if (!n->ref)
            break;
        n->ref = 0;
        i = n->next != PNODE_NIL ? n->next : s->queue.head;
    }
    *page = nodepool_page(&s->np, i);
    s->hand = i; /* unlink_page moves the hand on to the next newer page */
    unlink_page(s, i);
    return 0;
}

static void sieve_forget(struct policy *p, policy_page page)
{
    struct sieve *s = (struct sieve *)p;
    uint32_t i = nodepool_find(&s->np, page);
    if (i != PNODE_NIL)
        unlink_page(s, i);
}

static size_t sieve_size(const struct policy *p)
{
    return ((const struct sieve *)p)->queue.len;
}

const struct policy_ops policy_sieve = {
    .name = "sieve",
    .about = "SIEVE: FIFO with visited bits and a hand that never moves pages",
    .create = sieve_create,
    .destroy = sieve_destroy,
    .admit = sieve_admit,
    .touch = sieve_touch,
    .victim = sieve_victim,
    .forget = sieve_forget,
    .size = sieve_size,
};
