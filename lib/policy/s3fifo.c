/*
 * s3fifo.c -- S3-FIFO (Yang et al., SOSP 2023): three FIFO queues.  New
 * pages enter a small queue S (a tenth of the frames); a page leaving S
 * moves to the main queue M if it was referenced while in S, else it is
 * evicted and remembered in a ghost queue G.  A page admitted while in G
 * goes straight to M.  M is evicted CLOCK-like, with a 2-bit frequency: a
 * page at the head with frequency > 0 is reinserted with one less.  Most
 * pages referenced once leave from S quickly.  Simulated every reference
 * counts; live only faults and write-protect faults, so S3-FIFO learns
 * mostly from ghost hits.
 */
#include "policy/policies.h"

#include "policy/alloc.h"
#include "policy/nodepool.h"

enum { S3_SMALL = 1, S3_MAIN, S3_GHOST };
#define S3_FREQ_MAX 3

struct s3fifo {
    struct nodepool np; /* node ref: the frequency, 0..3 */
    struct policy_alloc mem; /* where all of it comes from */
    struct plist q[4];  /* by state; head: oldest */
    size_t small_target;
    size_t ghost_max;
};

static struct policy *s3fifo_create(size_t frames, size_t universe, uint64_t seed,
                                     const struct policy_alloc *mem)
{
    (void)seed;
    struct s3fifo *s = pmem_alloc(mem, sizeof *s);
    if (!s)
        return NULL;
    s->mem = *mem;
    if (nodepool_init(&s->np, universe, 2 * frames + 2, mem) < 0) {
        pmem_free(mem, s, sizeof *s);
        return NULL;
    }
    for (int k = 0; k < 4; k++)
        plist_init(&s->q[k]);
    s->small_target = frames / 10 ? frames / 10 : 1;
    s->ghost_max = frames ? frames : 1;
    return (struct policy *)s;
}

static void s3fifo_destroy(struct policy *p)
{
    struct s3fifo *s = (struct s3fifo *)p;
    struct policy_alloc mem = s->mem; /* s itself goes last */
    nodepool_fini(&s->np);
    pmem_free(&mem, s, sizeof *s);
}

static void move_to(struct s3fifo *s, uint32_t i, int state)
{
    struct pnode *n = pnode(&s->np, i);
    if (n->state)
        plist_remove(&s->np, &s->q[n->state], i);
    n = pnode(&s->np, i);
    n->state = (uint8_t)state;
    n->ref = 0;
    plist_push_tail(&s->np, &s->q[state], i);
}

static void s3fifo_touch(struct policy *p, policy_page page)
{
    struct s3fifo *s = (struct s3fifo *)p;
    uint32_t i = nodepool_find(&s->np, page);
    if (i == PNODE_NIL)
        return;
    struct pnode *n = pnode(&s->np, i);
    if (n->state != S3_GHOST && n->ref < S3_FREQ_MAX)
        n->ref++;
}

static void s3fifo_admit(struct policy *p, policy_page page, unsigned flags)
{
    (void)flags;
    struct s3fifo *s = (struct s3fifo *)p;
    uint32_t i = nodepool_get(&s->np, page);
    if (i == PNODE_NIL)
        return;
    switch (pnode(&s->np, i)->state) {
    case S3_SMALL:
    case S3_MAIN:
        s3fifo_touch(p, page);
        return;
    case S3_GHOST:
        move_to(s, i, S3_MAIN);
        return;
    default:
        move_to(s, i, S3_SMALL);
    }
}

static void remember_ghost(struct s3fifo *s, uint32_t i)
{
    move_to(s, i, S3_GHOST);
    while (s->q[S3_GHOST].len > s->ghost_max) {
        uint32_t g = plist_pop_head(&s->np, &s->q[S3_GHOST]);
        nodepool_put(&s->np, g);
    }
}

static int s3fifo_victim(struct policy *p, policy_page *page)
{
    struct s3fifo *s = (struct s3fifo *)p;
    /* every pass either evicts or lowers a count, so this ends */
    for (;;) {
        struct plist *small = &s->q[S3_SMALL], *main = &s->q[S3_MAIN];
        if (!small->len && !main->len)
            return -1;
        if (small->len && (small->len >= s->small_target || !main->len)) {
            uint32_t i = small->head;
            if (pnode(&s->np, i)->ref) { /* referenced while in S */
                move_to(s, i, S3_MAIN);
                continue;
            }
            *page = nodepool_page(&s->np, i);
            remember_ghost(s, i);
            return 0;
        }
        uint32_t i = main->head;
        struct pnode *n = pnode(&s->np, i);
        if (n->ref) {
            uint8_t freq = (uint8_t)(n->ref - 1);
            plist_remove(&s->np, main, i);
            plist_push_tail(&s->np, main, i);
            pnode(&s->np, i)->ref = freq;
            continue;
        }
        *page = nodepool_page(&s->np, i);
        plist_remove(&s->np, main, i);
        nodepool_put(&s->np, i);
        return 0;
    }
}

static void s3fifo_forget(struct policy *p, policy_page page)
{
    struct s3fifo *s = (struct s3fifo *)p;
    uint32_t i = nodepool_find(&s->np, page);
    if (i == PNODE_NIL)
        return;
    plist_remove(&s->np, &s->q[pnode(&s->np, i)->state], i);
    nodepool_put(&s->np, i);
}

static size_t s3fifo_size(const struct policy *p)
{
    const struct s3fifo *s = (const struct s3fifo *)p;
    return s->q[S3_SMALL].len + s->q[S3_MAIN].len;
}

const struct policy_ops policy_s3fifo = {
    .name = "s3fifo",
    .about = "S3-FIFO: small, main and ghost FIFO queues; one-hit pages leave early",
    .create = s3fifo_create,
    .destroy = s3fifo_destroy,
    .admit = s3fifo_admit,
    .touch = s3fifo_touch,
    .victim = s3fifo_victim,
    .forget = s3fifo_forget,
    .size = s3fifo_size,
};
