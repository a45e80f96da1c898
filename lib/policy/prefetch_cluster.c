/*
 * prefetch_cluster.c -- a fixed window: the aligned block of N pages that
 * holds the faulting page (Windows clusters page-ins the same way), so the
 * same block comes in whichever of its pages faults first.
 */
#include "policy/policies.h"

#include "policy/alloc.h"

#define CLUSTER_DEFAULT 8

struct cluster {
    struct policy_alloc mem; /* where it came from */
    unsigned n;
};

static struct prefetcher *cluster_create(unsigned n, const struct policy_alloc *mem)
{
    struct cluster *c = pmem_alloc(mem, sizeof *c);
    if (!c)
        return NULL;
    c->mem = *mem;
    c->n = n ? n : CLUSTER_DEFAULT;
    return (struct prefetcher *)c;
}

static void cluster_destroy(struct prefetcher *pf)
{
    struct cluster *c = (struct cluster *)pf;
    struct policy_alloc mem = c->mem;
    pmem_free(&mem, c, sizeof *c);
}

static void cluster_window(struct prefetcher *pf, policy_page page, unsigned *behind,
                           unsigned *ahead)
{
    const struct cluster *c = (const struct cluster *)pf;
    unsigned offset = (unsigned)(page % c->n);
    *behind = offset;
    *ahead = c->n - 1 - offset;
}

static void cluster_feedback(struct prefetcher *pf, int used)
{
    (void)pf;
    (void)used;
}

const struct prefetch_ops prefetch_cluster = {
    .name = "cluster",
    .about = "the aligned block of N pages around the fault (default 8)",
    .create = cluster_create,
    .destroy = cluster_destroy,
    .window = cluster_window,
    .feedback = cluster_feedback,
};
