/* prefetch_none.c -- no prefetch: a miss brings in its page alone. */
#include "policy.h"

static struct prefetcher *none_create(unsigned n)
{
    (void)n;
    static char token;
    return (struct prefetcher *)&token; /* stateless */
}

static void none_destroy(struct prefetcher *p) { (void)p; }

static void none_window(struct prefetcher *p, policy_page page, unsigned *behind,
                        unsigned *ahead)
{
    (void)p;
    (void)page;
    *behind = *ahead = 0;
}

static void none_feedback(struct prefetcher *p, int used)
{
    (void)p;
    (void)used;
}

const struct prefetch_ops prefetch_none = {
    .name = "none",
    .about = "the faulting page only",
    .create = none_create, .destroy = none_destroy, .window = none_window,
    .feedback = none_feedback,
};
