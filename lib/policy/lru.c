/*
 * lru.c -- exact LRU: the page referenced longest ago goes first.  In
 * simulation that is every reference; live it can only be the order of
 * admissions and write-protect faults, since reads of resident pages are
 * invisible, so live it is an approximation.
 */
#include "pagelist.h"
#include "policy.h"
#include "../internal_alloc.h"

struct policy {
    struct pagelist pl;
    struct pl_list order; /* least recent at the head */
};

static struct policy *lru_create(size_t frames, size_t universe, uint64_t seed)
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

static void lru_destroy(struct policy *p)
{
    pl_fini(&p->pl);
    ifree_pages(p, sizeof(*p));
}

static void lru_touch(struct policy *p, policy_page page)
{
    uint32_t n = pl_find(&p->pl, page);
    if (!n)
        return;
    pl_unlink(&p->pl, &p->order, n);
    pl_push_tail(&p->pl, &p->order, n, 1);
}

static void lru_admit(struct policy *p, policy_page page, unsigned flags)
{
    (void)flags;
    if (pl_find(&p->pl, page)) {
        lru_touch(p, page);
        return;
    }
    uint32_t n = pl_new(&p->pl, page);
    if (n)
        pl_push_tail(&p->pl, &p->order, n, 1);
}

static int lru_victim(struct policy *p, policy_page *page)
{
    uint32_t n = pl_head(&p->order);
    if (!n)
        return -1;
    *page = pl_at(&p->pl, n)->page;
    pl_unlink(&p->pl, &p->order, n);
    pl_free(&p->pl, n);
    return 0;
}

static void lru_forget(struct policy *p, policy_page page)
{
    uint32_t n = pl_find(&p->pl, page);
    if (!n)
        return;
    pl_unlink(&p->pl, &p->order, n);
    pl_free(&p->pl, n);
}

static size_t lru_size(const struct policy *p) { return p->order.len; }

const struct policy_ops policy_lru = {
    .name = "lru",
    .about = "least recently used, exact in simulation; live, by faults only",
    .create = lru_create, .destroy = lru_destroy, .admit = lru_admit,
    .touch = lru_touch, .victim = lru_victim, .forget = lru_forget, .size = lru_size,
};
