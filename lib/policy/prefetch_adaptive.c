/*
 * prefetch_adaptive.c -- prefetch that follows runs.
 *
 * It remembers a few streams of misses (the last miss of each, its
 * direction and window).  A miss near a stream's last one (within twice
 * its window) continues that stream: the window doubles, up to N (default
 * 8), and extends in the stream's direction, ahead for ascending runs,
 * behind for descending ones; a stride no wider than the window is covered
 * the same way.  A miss far from every stream starts a new one and brings
 * in its page alone, so random access neither wastes reads nor pushes out
 * useful pages.  Feedback on prefetched pages tunes the window a new stream
 * starts with: mostly unused halves it, mostly used doubles it.
 */
#include "policy.h"
#include "../internal_alloc.h"

#define DEFAULT_N 8
#define STREAMS 8
#define JUDGE 64 /* feedback verdicts per adjustment */

struct stream {
    policy_page last;
    int dir;          /* +1 ascending, -1 descending, 0 not known yet */
    unsigned window;
    unsigned long stamp;
    int live;
};

struct prefetcher {
    unsigned max, start;
    struct stream s[STREAMS];
    unsigned long clock;
    unsigned used, unused;
};

static struct prefetcher *adaptive_create(unsigned n)
{
    struct prefetcher *p = ialloc_pages(sizeof(*p));
    if (!p)
        return NULL;
    p->max = n ? n : DEFAULT_N;
    p->start = p->max < 2 ? p->max : 2;
    return p;
}

static void adaptive_destroy(struct prefetcher *p) { ifree_pages(p, sizeof(*p)); }

static uint64_t distance(policy_page a, policy_page b) { return a > b ? a - b : b - a; }

static void adaptive_window(struct prefetcher *p, policy_page page, unsigned *behind,
                            unsigned *ahead)
{
    *behind = *ahead = 0;
    struct stream *near = NULL, *oldest = &p->s[0];
    for (int i = 0; i < STREAMS; i++) {
        struct stream *s = &p->s[i];
        if (s->live && distance(page, s->last) <= 2 * (uint64_t)s->window + 1 &&
            (!near || distance(page, s->last) < distance(page, near->last)))
            near = s;
        if (!s->live || s->stamp < oldest->stamp)
            oldest = s;
    }
    p->clock++;
    if (!near) {
        *oldest = (struct stream){ .last = page, .window = p->start, .stamp = p->clock,
                                   .live = 1 };
        return;
    }
    int dir = page > near->last ? 1 : page < near->last ? -1 : near->dir;
    if (dir == near->dir && near->window < p->max)
        near->window = near->window * 2 > p->max ? p->max : near->window * 2;
    near->dir = dir;
    near->last = page;
    near->stamp = p->clock;
    unsigned w = near->window > 1 ? near->window - 1 : 0;
    if (dir >= 0)
        *ahead = w;
    else
        *behind = w > page ? (unsigned)page : w;
}

static void adaptive_feedback(struct prefetcher *p, int used)
{
    if (used)
        p->used++;
    else
        p->unused++;
    if (p->used + p->unused < JUDGE)
        return;
    if (p->unused > 2 * p->used && p->start > 1)
        p->start /= 2;
    else if (p->used > 2 * p->unused && p->start < p->max)
        p->start = p->start * 2 > p->max ? p->max : p->start * 2;
    p->used = p->unused = 0;
}

const struct prefetch_ops prefetch_adaptive = {
    .name = "adaptive",
    .about = "follows ascending and descending runs of misses, window up to N (default 8)",
    .create = adaptive_create, .destroy = adaptive_destroy, .window = adaptive_window,
    .feedback = adaptive_feedback,
};
