/*
 * lru.c -- exact least recently used: a doubly linked list in order of last
 * reference; a reference moves the page to the newest end.  Simulated it
 * sees every reference; live only faults and write-protect faults, so it
 * degrades towards FIFO ordered by last fault.
 */
#include "policy/policies.h"

#include "policy/alloc.h"
#include "policy/nodepool.h"

struct lru {
    struct nodepool np;
    struct policy_alloc mem; /* where all of it comes from */
    struct plist order; /* head: least recently used */
};

static struct policy *lru_create(size_t frames, size_t universe, uint64_t seed,
                                  const struct policy_alloc *mem)
{
    (void)seed;
    struct lru *l = pmem_alloc(mem, sizeof *l);
    if (!l)
        return NULL;
    l->mem = *mem;
    if (nodepool_init(&l->np, universe, frames + 1, mem) < 0) {
        pmem_free(mem, l, sizeof *l);
        return NULL;
    }
    plist_init(&l->order);
    return (struct policy *)l;
}

static void lru_destroy(struct policy *p)
{
    struct lru *l = (struct lru *)p;
    struct policy_alloc mem = l->mem; /* l itself goes last */
    nodepool_fini(&l->np);
    pmem_free(&mem, l, sizeof *l);
}

static void lru_touch(struct policy *p, policy_page page)
{
    struct lru *l = (struct lru *)p;
    uint32_t i = nodepool_find(&l->np, page);
    if (i == PNODE_NIL || i == l->order.tail)
        return;
    plist_remove(&l->np, &l->order, i);
    plist_push_tail(&l->np, &l->order, i);
}

static void lru_admit(struct policy *p, policy_page page, unsigned flags)
{
    (void)flags;
    struct lru *l = (struct lru *)p;
    uint32_t i = nodepool_get(&l->np, page);
    if (i == PNODE_NIL)
        return;
    if (pnode(&l->np, i)->state) { /* already resident: a reference */
        lru_touch(p, page);
        return;
    }
    pnode(&l->np, i)->state = 1;
    plist_push_tail(&l->np, &l->order, i);
}

static int lru_victim(struct policy *p, policy_page *page)
{
    struct lru *l = (struct lru *)p;
    uint32_t i = plist_pop_head(&l->np, &l->order);
    if (i == PNODE_NIL)
        return -1;
    *page = nodepool_page(&l->np, i);
    nodepool_put(&l->np, i);
    return 0;
}

static void lru_forget(struct policy *p, policy_page page)
{
    struct lru *l = (struct lru *)p;
    uint32_t i = nodepool_find(&l->np, page);
    if (i == PNODE_NIL)
        return;
    plist_remove(&l->np, &l->order, i);
    nodepool_put(&l->np, i);
}

static size_t lru_size(const struct policy *p)
{
    return ((const struct lru *)p)->order.len;
}

const struct policy_ops policy_lru = {
    .name = "lru",
    .about = "exact least recently used; live it sees faults only (LRU by last fault)",
    .create = lru_create,
    .destroy = lru_destroy,
    .admit = lru_admit,
    .touch = lru_touch,
    .victim = lru_victim,
    .forget = lru_forget,
    .size = lru_size,
};
