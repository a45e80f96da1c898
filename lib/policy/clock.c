/*
 * clock.c -- CLOCK (second chance): pages in a circle with a reference
 * bit, set when the page comes in (not for prefetched pages) and on each
 * reference; the hand clears set bits and evicts the first page found
 * clear.  Live, a reference is a write-protect fault (a page's first write
 * since it was saved); in simulation, every reference.
 */
#include "pagelist.h"
#include "policy.h"
#include "../internal_alloc.h"

struct policy {
    struct pagelist pl;
    struct pl_list ring; /* the head is the hand */
};

static struct policy *clock_create(size_t frames, size_t universe, uint64_t seed)
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

static void clock_destroy(struct policy *p)
{
    pl_fini(&p->pl);
    ifree_pages(p, sizeof(*p));
}

/* A new page goes just behind the hand: the last the hand will reach. */
static void clock_admit(struct policy *p, policy_page page, unsigned flags)
{
    uint32_t n = pl_find(&p->pl, page);
    if (n) {
        pl_at(&p->pl, n)->bits = 1;
        return;
    }
    n = pl_new(&p->pl, page);
    if (!n)
        return;
    pl_push_tail(&p->pl, &p->ring, n, 1);
    pl_at(&p->pl, n)->bits = (flags & POLICY_PREFETCHED) ? 0 : 1;
}

static void clock_touch(struct policy *p, policy_page page)
{
    uint32_t n = pl_find(&p->pl, page);
    if (n)
        pl_at(&p->pl, n)->bits = 1;
}

static int clock_victim(struct policy *p, policy_page *page)
{
    for (;;) {
        uint32_t n = pl_head(&p->ring);
        if (!n)
            return -1;
        struct pl_node *x = pl_at(&p->pl, n);
        pl_unlink(&p->pl, &p->ring, n);
        if (x->bits) {
            x->bits = 0; /* second chance: the hand moves past it */
            pl_push_tail(&p->pl, &p->ring, n, 1);
            continue;
        }
        *page = x->page;
        pl_free(&p->pl, n);
        return 0;
    }
}

static void clock_forget(struct policy *p, policy_page page)
{
    uint32_t n = pl_find(&p->pl, page);
    if (!n)
        return;
    pl_unlink(&p->pl, &p->ring, n);
    pl_free(&p->pl, n);
}

static size_t clock_size(const struct policy *p) { return p->ring.len; }

const struct policy_ops policy_clock = {
    .name = "clock",
    .about = "second chance: a reference bit per page, cleared by the hand",
    .create = clock_create, .destroy = clock_destroy, .admit = clock_admit,
    .touch = clock_touch, .victim = clock_victim, .forget = clock_forget, .size = clock_size,
};
