/*
 * fifo.c -- first in, first out: evicts the page resident longest, whatever
 * its use.  Sees only admissions, so it behaves the same live and simulated.
 */
#include "policy/policies.h"

#include "internal_alloc.h"
#include "policy/nodepool.h"

struct fifo {
    struct nodepool np;
    struct plist queue; /* head: admitted first */
};

static struct policy *fifo_create(size_t frames, size_t universe, uint64_t seed)
{
    (void)seed;
    struct fifo *f = ialloc_pages(sizeof *f);
    if (!f)
        return NULL;
    if (nodepool_init(&f->np, universe, frames + 1) < 0) {
        ifree_pages(f, sizeof *f);
        return NULL;
    }
    plist_init(&f->queue);
    return (struct policy *)f;
}

static void fifo_destroy(struct policy *p)
{
    struct fifo *f = (struct fifo *)p;
    nodepool_fini(&f->np);
    ifree_pages(f, sizeof *f);
}

static void fifo_admit(struct policy *p, policy_page page, unsigned flags)
{
    (void)flags;
    struct fifo *f = (struct fifo *)p;
    uint32_t i = nodepool_get(&f->np, page);
    if (i == PNODE_NIL || pnode(&f->np, i)->state)
        return;
    pnode(&f->np, i)->state = 1;
    plist_push_tail(&f->np, &f->queue, i);
}

static void fifo_touch(struct policy *p, policy_page page)
{
    (void)p;
    (void)page;
}

static int fifo_victim(struct policy *p, policy_page *page)
{
    struct fifo *f = (struct fifo *)p;
    uint32_t i = plist_pop_head(&f->np, &f->queue);
    if (i == PNODE_NIL)
        return -1;
    *page = nodepool_page(&f->np, i);
    nodepool_put(&f->np, i);
    return 0;
}

static void fifo_forget(struct policy *p, policy_page page)
{
    struct fifo *f = (struct fifo *)p;
    uint32_t i = nodepool_find(&f->np, page);
    if (i == PNODE_NIL)
        return;
    plist_remove(&f->np, &f->queue, i);
    nodepool_put(&f->np, i);
}

static size_t fifo_size(const struct policy *p)
{
    return ((const struct fifo *)p)->queue.len;
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
