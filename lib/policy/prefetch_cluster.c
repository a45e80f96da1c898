/*
 * prefetch_cluster.c -- a fixed cluster, as Windows reads: the aligned
 * block of N pages (default 8) that holds the faulting page.
 */
#include "policy.h"
#include "../internal_alloc.h"

#define DEFAULT_N 8

struct prefetcher {
    unsigned n;
};

static struct prefetcher *cluster_create(unsigned n)
{
    struct prefetcher *p = ialloc_pages(sizeof(*p));
    if (p)
        p->n = n ? n : DEFAULT_N;
    return p;
}

static void cluster_destroy(struct prefetcher *p) { ifree_pages(p, sizeof(*p)); }

static void cluster_window(struct prefetcher *p, policy_page page, unsigned *behind,
                           unsigned *ahead)
{
    *behind = (unsigned)(page % p->n);
    *ahead = p->n - 1 - *behind;
}

static void cluster_feedback(struct prefetcher *p, int used)
{
    (void)p;
    (void)used;
}

const struct prefetch_ops prefetch_cluster = {
    .name = "cluster",
    .about = "the aligned block of N pages around the miss (default 8)",
    .create = cluster_create, .destroy = cluster_destroy, .window = cluster_window,
    .feedback = cluster_feedback,
};
