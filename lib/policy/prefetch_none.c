/* prefetch_none.c -- brings in only the page that faulted. */
#include "policy/policies.h"

static struct prefetcher *none_create(unsigned n, const struct policy_alloc *mem)
{
    (void)n;
    (void)mem;
    /* stateless: any non-NULL handle will do */
    static char handle;
    return (struct prefetcher *)&handle;
}

static void none_destroy(struct prefetcher *pf)
{
    (void)pf;
}

static void none_window(struct prefetcher *pf, policy_page page, unsigned *behind,
                        unsigned *ahead)
{
    (void)pf;
    (void)page;
    *behind = *ahead = 0;
}

static void none_feedback(struct prefetcher *pf, int used)
{
    (void)pf;
    (void)used;
}

const struct prefetch_ops prefetch_none = {
    .name = "none",
    .about = "no prefetch: only the faulting page",
    .create = none_create,
    .destroy = none_destroy,
    .window = none_window,
    .feedback = none_feedback,
};
