/*
 * prefetch_adaptive.c -- a window that follows the miss stream.
 *
 * A miss just past the previous miss's window (forward or backward) continues
 * a sequential run: the window doubles, up to N, in the run's direction.  A
 * miss at the same distance from the previous one as that one was from its
 * predecessor continues a strided run: the window covers the next few
 * strides (the window is contiguous, so it also brings the pages between;
 * only strides up to N qualify).  Any other miss prefetches nothing and
 * halves the window.  Feedback tunes the size: prefetched pages used grow
 * it, pages evicted unused shrink it.
 */
#include "policy/policies.h"

#include "policy/alloc.h"

#define ADAPTIVE_DEFAULT_MAX 64
#define ADAPTIVE_START 2
#define STRIDES_AHEAD 4

struct adaptive {
    struct policy_alloc mem; /* where it came from */
    unsigned max;
    unsigned win;            /* current window size */
    int have_last;
    policy_page last;        /* previous miss */
    int64_t stride;          /* previous miss - the one before */
    unsigned last_behind, last_ahead;
    int credit;              /* used minus unused since the last resize */
};

static struct prefetcher *adaptive_create(unsigned n, const struct policy_alloc *mem)
{
    struct adaptive *a = pmem_alloc(mem, sizeof *a);
    if (!a)
        return NULL;
    a->mem = *mem;
    a->max = n ? n : ADAPTIVE_DEFAULT_MAX;
    a->win = ADAPTIVE_START < a->max ? ADAPTIVE_START : a->max;
    return (struct prefetcher *)a;
}

static void adaptive_destroy(struct prefetcher *pf)
{
    struct adaptive *a = (struct adaptive *)pf;
    struct policy_alloc mem = a->mem;
    pmem_free(&mem, a, sizeof *a);
}

static unsigned grown(const struct adaptive *a)
{
    unsigned w = a->win ? a->win * 2 : 1;
    return w < a->max ? w : a->max;
}

static void adaptive_window(struct prefetcher *pf, policy_page page, unsigned *behind,
                            unsigned *ahead)
{
    struct adaptive *a = (struct adaptive *)pf;
    int64_t d = a->have_last ? (int64_t)(page - a->last) : 0;
    *behind = *ahead = 0;
    if (a->have_last && d >= 1 && d <= (int64_t)a->last_ahead + 1) {
        a->win = grown(a);
        *ahead = a->win;
    } else if (a->have_last && d < 0 && -d <= (int64_t)a->last_behind + 1) {
        a->win = grown(a);
        *behind = a->win;
    } else if (a->have_last && d == a->stride && d != 0 &&
               (d < 0 ? -d : d) <= (int64_t)a->max) {
        uint64_t span = (uint64_t)(d < 0 ? -d : d) * STRIDES_AHEAD;
        unsigned w = span < a->max ? (unsigned)span : a->max;
        if (d > 0)
            *ahead = w;
        else
            *behind = w;
    } else {
        a->win /= 2;
    }
    a->stride = d;
    a->last = page;
    a->have_last = 1;
    a->last_behind = *behind;
    a->last_ahead = *ahead;
}

static void adaptive_feedback(struct prefetcher *pf, int used)
{
    struct adaptive *a = (struct adaptive *)pf;
    int threshold = (int)(a->win / 2) + 1;
    a->credit += used ? 1 : -1;
    if (a->credit >= threshold) {
        a->win = grown(a);
        a->credit = 0;
    } else if (a->credit <= -threshold) {
        a->win /= 2;
        a->credit = 0;
    }
}

const struct prefetch_ops prefetch_adaptive = {
    .name = "adaptive",
    .about = "follows sequential and strided miss runs; window up to N (default 64)",
    .create = adaptive_create,
    .destroy = adaptive_destroy,
    .window = adaptive_window,
    .feedback = adaptive_feedback,
};
