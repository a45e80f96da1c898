/*
 * fifo.c -- FIFO: the page resident longest goes first; references do not
 * matter.  Live and simulated it sees the same thing (admissions), so its
 * live fault count can be checked against the simulator's.
 */
#include "pagelist.h"
#include "policy.h"
#include "../internal_alloc.h"

struct policy {
    struct pagelist pl;
    struct pl_list q;
};

static struct policy *fifo_create(size_t frames, size_t universe, uint64_t seed)
{
    (void)frames;
    (void)seed;
    struct policy *p = ialloc_pages(sizeof(*p));
    if (p && pl_init(&p->pl, universe) != 0) {
        ifree_pages(p, sizeof(*p));
        p = NULL;
    }
    return p;
}

static void fifo_destroy(struct policy *p)
{
    pl_fini(&p->pl);
    ifree_pages(p, sizeof(*p));
}

static void fifo_admit(struct policy *p, policy_page page, unsigned flags)
{
    (void)flags;
    if (pl_find(&p->pl, page))
        return;
    uint32_t n = pl_new(&p->pl, page);
    if (n)
        pl_push_tail(&p->pl, &p->q, n, 1);
}

static void fifo_touch(struct policy *p, policy_page page)
{
    (void)p;
    (void)page;
}

static int fifo_victim(struct policy *p, policy_page *page)
{
    uint32_t n = pl_head(&p->q);
    if (!n)
        return -1;
    *page = pl_at(&p->pl, n)->page;
    pl_unlink(&p->pl, &p->q, n);
    pl_free(&p->pl, n);
    return 0;
}

static void fifo_forget(struct policy *p, policy_page page)
{
    uint32_t n = pl_find(&p->pl, page);
    if (!n)
        return;
    pl_unlink(&p->pl, &p->q, n);
    pl_free(&p->pl, n);
}

static size_t fifo_size(const struct policy *p) { return p->q.len; }

const struct policy_ops policy_fifo = {
    .name = "fifo",
    .about = "first in, first out; references ignored (live = simulated)",
    .create = fifo_create, .destroy = fifo_destroy, .admit = fifo_admit,
    .touch = fifo_touch, .victim = fifo_victim, .forget = fifo_forget, .size = fifo_size,
};
