/*
 * random.c -- evicts a resident page chosen uniformly at random (xorshift64*
 * seeded at creation, so runs repeat).  Needs no reference information at
 * all: the baseline any policy using references should beat.
 */
#include "policy/policies.h"

#include "policy/alloc.h"
#include "policy/nodepool.h"

#include <string.h>

struct random_policy {
    struct nodepool np;
    struct policy_alloc mem; /* where all of it comes from */
    uint32_t *slots; /* resident nodes; node aux: its slot */
    size_t n, cap;
    uint64_t state;
};

static uint64_t next_random(struct random_policy *r)
{
    r->state ^= r->state >> 12;
    r->state ^= r->state << 25;
    r->state ^= r->state >> 27;
    return r->state * 0x2545F4914F6CDD1Dull;
}

static struct policy *random_create(size_t frames, size_t universe, uint64_t seed,
                                     const struct policy_alloc *mem)
{
    struct random_policy *r = pmem_alloc(mem, sizeof *r);
    if (!r)
        return NULL;
    r->mem = *mem;
    r->cap = policy_start_size(frames + 1, universe);
    r->slots = pmem_alloc(&r->mem, r->cap * sizeof *r->slots);
    if (!r->slots || nodepool_init(&r->np, universe, frames + 1, mem) < 0) {
        if (r->slots)
            pmem_free(&r->mem, r->slots, r->cap * sizeof *r->slots);
        pmem_free(mem, r, sizeof *r);
        return NULL;
    }
    /* xorshift must not start at 0 */
    r->state = seed ^ 0x9E3779B97F4A7C15ull;
    if (!r->state)
        r->state = 1;
    return (struct policy *)r;
}

static void random_destroy(struct policy *p)
{
    struct random_policy *r = (struct random_policy *)p;
    struct policy_alloc mem = r->mem; /* r itself goes last */
    nodepool_fini(&r->np);
    pmem_free(&r->mem, r->slots, r->cap * sizeof *r->slots);
    pmem_free(&mem, r, sizeof *r);
}

static void random_admit(struct policy *p, policy_page page, unsigned flags)
{
    (void)flags;
    struct random_policy *r = (struct random_policy *)p;
    if (r->n == r->cap) {
        uint32_t *slots = pmem_alloc(&r->mem, 2 * r->cap * sizeof *slots);
        if (!slots)
            return;
        memcpy(slots, r->slots, r->n * sizeof *slots);
        pmem_free(&r->mem, r->slots, r->cap * sizeof *r->slots);
        r->slots = slots;
        r->cap *= 2;
    }
    uint32_t i = nodepool_get(&r->np, page);
    if (i == PNODE_NIL || pnode(&r->np, i)->state)
        return;
    pnode(&r->np, i)->state = 1;
    pnode(&r->np, i)->aux = (uint32_t)r->n;
    r->slots[r->n++] = i;
}

static void random_touch(struct policy *p, policy_page page)
{
    (void)p;
    (void)page;
}

static void remove_node(struct random_policy *r, uint32_t i)
{
    uint32_t slot = pnode(&r->np, i)->aux;
    uint32_t last = r->slots[--r->n];
    r->slots[slot] = last;
    pnode(&r->np, last)->aux = slot;
    nodepool_put(&r->np, i);
}

static int random_victim(struct policy *p, policy_page *page)
{
    struct random_policy *r = (struct random_policy *)p;
    if (!r->n)
        return -1;
    uint32_t i = r->slots[next_random(r) % r->n];
    *page = nodepool_page(&r->np, i);
    remove_node(r, i);
    return 0;
}

static void random_forget(struct policy *p, policy_page page)
{
    struct random_policy *r = (struct random_policy *)p;
    uint32_t i = nodepool_find(&r->np, page);
    if (i != PNODE_NIL)
        remove_node(r, i);
}

static size_t random_size(const struct policy *p)
{
    return ((const struct random_policy *)p)->n;
}

const struct policy_ops policy_random = {
    .name = "random",
    .about = "evicts a random resident page (seeded); uses no reference information",
    .create = random_create,
    .destroy = random_destroy,
    .admit = random_admit,
    .touch = random_touch,
    .victim = random_victim,
    .forget = random_forget,
    .size = random_size,
};
