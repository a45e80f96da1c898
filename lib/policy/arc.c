/*
 * arc.c -- Adaptive Replacement Cache (Megiddo and Modha, FAST 2003).
 * T1 holds pages referenced once recently, T2 pages referenced at least
 * twice; B1 and B2 remember (as ghosts, no data) pages evicted from each.
 * A miss on a B1 ghost says T1 is too small and raises the target p for
 * |T1|; a miss on a B2 ghost lowers it.  Simulated, every hit promotes to
 * T2; live only write-protect faults do, so live ARC learns mostly from
 * ghost hits (a page faulting back in after eviction).
 *
 * The interface asks for the victim before it names the missing page, so
 * REPLACE cannot use the paper's "x in B2 and |T1| == p" tie-break, and p
 * adapts when the page is admitted, one eviction after the paper would.
 * Prefetched pages go to T1 and do not adapt p.
 */
#include "policy/policies.h"

#include "policy/alloc.h"
#include "policy/nodepool.h"

enum { ARC_T1 = 1, ARC_T2, ARC_B1, ARC_B2 };

struct arc {
    struct nodepool np;
    struct policy_alloc mem; /* where all of it comes from */
    struct plist list[5]; /* indexed by state; head: least recent */
    size_t c;             /* frames */
    size_t p;             /* target size of T1 */
};

static struct policy *arc_create(size_t frames, size_t universe, uint64_t seed,
                                  const struct policy_alloc *mem)
{
    (void)seed;
    struct arc *a = pmem_alloc(mem, sizeof *a);
    if (!a)
        return NULL;
    a->mem = *mem;
    if (nodepool_init(&a->np, universe, 2 * frames + 2, mem) < 0) {
        pmem_free(mem, a, sizeof *a);
        return NULL;
    }
    for (int s = 0; s < 5; s++)
        plist_init(&a->list[s]);
    a->c = frames ? frames : 1;
    return (struct policy *)a;
}

static void arc_destroy(struct policy *p)
{
    struct arc *a = (struct arc *)p;
    struct policy_alloc mem = a->mem; /* a itself goes last */
    nodepool_fini(&a->np);
    pmem_free(&mem, a, sizeof *a);
}

static void move_to(struct arc *a, uint32_t i, int state)
{
    struct pnode *n = pnode(&a->np, i);
    if (n->state)
        plist_remove(&a->np, &a->list[n->state], i);
    n = pnode(&a->np, i);
    n->state = (uint8_t)state;
    plist_push_tail(&a->np, &a->list[state], i);
}

static void drop_oldest(struct arc *a, int state)
{
    uint32_t i = plist_pop_head(&a->np, &a->list[state]);
    if (i != PNODE_NIL)
        nodepool_put(&a->np, i);
}

static size_t ratio_at_least_1(size_t num, size_t den)
{
    size_t r = den ? num / den : num;
    return r ? r : 1;
}

static void arc_admit(struct policy *p, policy_page page, unsigned flags)
{
    struct arc *a = (struct arc *)p;
    size_t b1 = a->list[ARC_B1].len, b2 = a->list[ARC_B2].len;
    uint32_t i = nodepool_find(&a->np, page);
    int state = i == PNODE_NIL ? 0 : pnode(&a->np, i)->state;
    int prefetched = flags & POLICY_PREFETCHED;

    switch (state) {
    case ARC_T1:
    case ARC_T2: /* already resident: count it as a reference */
        move_to(a, i, ARC_T2);
        return;
    case ARC_B1:
        if (!prefetched) {
            size_t step = ratio_at_least_1(b2, b1);
            a->p = a->p + step > a->c ? a->c : a->p + step;
        }
        move_to(a, i, prefetched ? ARC_T1 : ARC_T2);
        return;
    case ARC_B2:
        if (!prefetched) {
            size_t step = ratio_at_least_1(b1, b2);
            a->p = a->p > step ? a->p - step : 0;
        }
        move_to(a, i, prefetched ? ARC_T1 : ARC_T2);
        return;
    default:
        break;
    }
    /* a new page: keep the directory at 2c, L1 (T1 + B1) at c */
    size_t t1 = a->list[ARC_T1].len, t2 = a->list[ARC_T2].len;
    if (t1 + b1 >= a->c && b1)
        drop_oldest(a, ARC_B1);
    else if (t1 + t2 + b1 + b2 >= 2 * a->c && b2)
        drop_oldest(a, ARC_B2);
    i = nodepool_get(&a->np, page);
    if (i == PNODE_NIL)
        return;
    move_to(a, i, ARC_T1);
}

static void arc_touch(struct policy *p, policy_page page)
{
    struct arc *a = (struct arc *)p;
    uint32_t i = nodepool_find(&a->np, page);
    if (i == PNODE_NIL)
        return;
    int state = pnode(&a->np, i)->state;
    if (state == ARC_T1 || state == ARC_T2)
        move_to(a, i, ARC_T2);
}

static size_t arc_size(const struct policy *p);

static int arc_victim(struct policy *p, policy_page *page)
{
    struct arc *a = (struct arc *)p;
    size_t t1 = a->list[ARC_T1].len, t2 = a->list[ARC_T2].len;
    if (!t1 && !t2)
        return -1;
    int from = t1 && (t1 > a->p || !t2) ? ARC_T1 : ARC_T2;
    uint32_t i = a->list[from].head;
    *page = nodepool_page(&a->np, i);
    move_to(a, i, from == ARC_T1 ? ARC_B1 : ARC_B2);
    /* a directory beyond 2c pages (possible live, over the cap) */
    while (a->list[ARC_B1].len + a->list[ARC_B2].len &&
           arc_size(p) + a->list[ARC_B1].len + a->list[ARC_B2].len > 2 * a->c) {
        if (a->list[ARC_B1].len > a->list[ARC_B2].len)
            drop_oldest(a, ARC_B1);
        else
            drop_oldest(a, ARC_B2);
    }
    return 0;
}

static void arc_forget(struct policy *p, policy_page page)
{
    struct arc *a = (struct arc *)p;
    uint32_t i = nodepool_find(&a->np, page);
    if (i == PNODE_NIL)
        return;
    plist_remove(&a->np, &a->list[pnode(&a->np, i)->state], i);
    nodepool_put(&a->np, i);
}

static size_t arc_size(const struct policy *p)
{
    const struct arc *a = (const struct arc *)p;
    return a->list[ARC_T1].len + a->list[ARC_T2].len;
}

const struct policy_ops policy_arc = {
    .name = "arc",
    .about = "adaptive replacement cache: recency and frequency lists with ghosts",
    .create = arc_create,
    .destroy = arc_destroy,
    .admit = arc_admit,
    .touch = arc_touch,
    .victim = arc_victim,
    .forget = arc_forget,
    .size = arc_size,
};
